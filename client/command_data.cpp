#include "client/command_data.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace hgrpc::client {

framing::Bytes cbor_bytes_header(std::uint64_t n) {
  constexpr std::uint8_t kMajorBytes = 2 << 5;
  framing::Bytes h;
  auto be = [&](int count) {
    for (int i = count - 1; i >= 0; --i) h.push_back(static_cast<std::uint8_t>(n >> (8 * i)));
  };
  if (n < 24) {
    h.push_back(static_cast<std::uint8_t>(kMajorBytes | n));
  } else if (n <= 0xFF) {
    h.push_back(kMajorBytes | 24), be(1);
  } else if (n <= 0xFFFF) {
    h.push_back(kMajorBytes | 25), be(2);
  } else if (n <= 0xFFFFFFFF) {
    h.push_back(kMajorBytes | 26), be(4);
  } else {
    h.push_back(kMajorBytes | 27), be(8);
  }
  return h;
}

void CommandData::add_file(std::string path) { parts_.push_back({Kind::File, std::move(path), {}}); }
void CommandData::add_bytes_item_file(std::string path) {
  parts_.push_back({Kind::BytesItemFile, std::move(path), {}});
}
void CommandData::add_literal(framing::Bytes bytes) { parts_.push_back({Kind::Literal, {}, std::move(bytes)}); }

ClientResult<std::uint64_t> CommandData::size() const {
  std::uint64_t total = 0;
  for (const auto& p : parts_) {
    if (p.kind == Kind::Literal) {
      total += p.literal.size();
      continue;
    }
    std::error_code ec;
    auto n = std::filesystem::file_size(p.path, ec);
    if (ec) return client_fail(ErrorKind::Usage, "cannot read " + p.path + ": " + ec.message());
    total += n;
    if (p.kind == Kind::BytesItemFile) total += cbor_bytes_header(n).size();
  }
  return total;
}

framing::Result<std::size_t> CommandData::Reader::read(framing::Bytes& out, std::size_t max) {
  std::size_t produced = 0;
  while (produced < max && part_ < data_->parts_.size()) {
    const Part& p = data_->parts_[part_];
    if (p.kind == Kind::Literal) {
      std::size_t n = std::min(max - produced, p.literal.size() - literal_offset_);
      out.insert(out.end(), p.literal.begin() + static_cast<std::ptrdiff_t>(literal_offset_),
                 p.literal.begin() + static_cast<std::ptrdiff_t>(literal_offset_ + n));
      literal_offset_ += n;
      produced += n;
      if (literal_offset_ == p.literal.size()) {
        ++part_;
        literal_offset_ = 0;
      }
      continue;
    }
    if (!file_) {
      file_.reset(std::fopen(p.path.c_str(), "rb"));
      if (!file_) return framing::fail("cannot open " + p.path + ": " + std::strerror(errno));
      header_done_ = false;
    }
    if (p.kind == Kind::BytesItemFile && !header_done_) {
      // The header needs the length now; the file must not change meanwhile.
      std::error_code ec;
      auto n = std::filesystem::file_size(p.path, ec);
      if (ec) return framing::fail("cannot read " + p.path + ": " + ec.message());
      auto h = cbor_bytes_header(n);
      out.insert(out.end(), h.begin(), h.end());
      produced += h.size();
      header_done_ = true;
      continue;
    }
    std::size_t old = out.size();
    out.resize(old + (max - produced));
    std::size_t n = std::fread(out.data() + old, 1, max - produced, file_.get());
    out.resize(old + n);
    produced += n;
    if (n == 0) {
      if (std::ferror(file_.get())) return framing::fail("cannot read " + p.path + ": " + std::strerror(errno));
      file_.reset();
      ++part_;
    }
  }
  return produced;
}

}  // namespace hgrpc::client
