#include "client/text_spool.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace hgrpc::client {
namespace {

hgrpc::unexpected<ClientError> spool_error(const std::filesystem::path& dir, const std::string& what) {
  return client_fail(ErrorKind::Protocol, "spool file in " + dir.string() + ": " + what + ": " + std::strerror(errno));
}

void put_u32(framing::Bytes& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

std::uint32_t get_u32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 | std::uint32_t{p[3]} << 24;
}

}  // namespace

ClientResult<TextSpool> TextSpool::open(const std::filesystem::path& dir) {
  TextSpool spool;
  spool.dir_ = dir;
  spool.fd_ = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (spool.fd_ < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
    std::string pattern = (dir / "hgrpc-spool-XXXXXX").string();
    spool.fd_ = ::mkostemp(pattern.data(), O_CLOEXEC);
    if (spool.fd_ >= 0) ::unlink(pattern.c_str());
  }
  if (spool.fd_ < 0) return spool_error(dir, "cannot create it");
  spool.buffer_.reserve(kSpoolBufferBytes);
  return spool;
}

TextSpool::TextSpool(TextSpool&& o) noexcept { *this = std::move(o); }

TextSpool& TextSpool::operator=(TextSpool&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    o.fd_ = -1;
    dir_ = std::move(o.dir_);
    buffer_ = std::move(o.buffer_);
    read_pos_ = o.read_pos_;
    file_bytes_ = o.file_bytes_;
    file_offset_ = o.file_offset_;
    appended_ = o.appended_;
    taken_ = o.taken_;
    reading_ = o.reading_;
  }
  return *this;
}

TextSpool::~TextSpool() {
  if (fd_ >= 0) ::close(fd_);
}

ClientResult<void> TextSpool::flush() {
  std::size_t done = 0;
  while (done < buffer_.size()) {
    ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return spool_error(dir_, "write");
    done += static_cast<std::size_t>(n);
  }
  buffer_.clear();
  return {};
}

ClientResult<void> TextSpool::append(framing::ByteView text) {
  if (reading_) return client_fail(ErrorKind::Protocol, "spool: append after reading began");
  if (text.size() > 0xffffffffu) return client_fail(ErrorKind::Protocol, "spool: a text of 4 GiB or more");
  if (buffer_.size() + 4 + text.size() > kSpoolBufferBytes) {
    if (auto f = flush(); !f) return f;
  }
  put_u32(buffer_, static_cast<std::uint32_t>(text.size()));
  if (text.size() > kSpoolBufferBytes) {  // straight to the file
    if (auto f = flush(); !f) return f;
    buffer_.assign(text.begin(), text.end());
    if (auto f = flush(); !f) return f;
  } else {
    buffer_.insert(buffer_.end(), text.begin(), text.end());
  }
  file_bytes_ += 4 + text.size();
  ++appended_;
  return {};
}

// Makes buffer_[read_pos_ ..] hold at least `wanted` bytes (or what is left).
ClientResult<void> TextSpool::fill(std::size_t wanted) {
  if (buffer_.size() - read_pos_ >= wanted) return {};
  buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(read_pos_));
  read_pos_ = 0;
  const std::size_t target = std::max(wanted, kSpoolBufferBytes);
  while (buffer_.size() < target && file_offset_ < file_bytes_) {
    const std::size_t have = buffer_.size();
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(target - have, file_bytes_ - file_offset_));
    buffer_.resize(have + want);
    ssize_t n = ::pread(fd_, buffer_.data() + have, want, static_cast<off_t>(file_offset_));
    if (n < 0 && errno == EINTR) {
      buffer_.resize(have);
      continue;
    }
    if (n <= 0) {
      buffer_.resize(have);
      if (n == 0) errno = EIO;
      return spool_error(dir_, "read");
    }
    buffer_.resize(have + static_cast<std::size_t>(n));
    file_offset_ += static_cast<std::uint64_t>(n);
  }
  if (buffer_.size() < wanted) return client_fail(ErrorKind::Protocol, "spool file in " + dir_.string() + ": shorter than written");
  return {};
}

ClientResult<framing::ByteView> TextSpool::next() {
  if (!reading_) {
    if (auto f = flush(); !f) return hgrpc::unexpected<ClientError>(f.error());
    reading_ = true;
    buffer_.clear();
    read_pos_ = 0;
  }
  if (taken_ >= appended_) return client_fail(ErrorKind::Protocol, "spool: read past the last text");
  if (auto f = fill(4); !f) return hgrpc::unexpected<ClientError>(f.error());
  const std::uint32_t size = get_u32(buffer_.data() + read_pos_);
  read_pos_ += 4;
  if (auto f = fill(size); !f) return hgrpc::unexpected<ClientError>(f.error());
  framing::ByteView text(buffer_.data() + read_pos_, size);
  read_pos_ += size;
  ++taken_;
  return text;
}

}  // namespace hgrpc::client
