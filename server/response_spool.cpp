#include "server/response_spool.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace hgrpc::server {

using framing::Bytes;
using framing::ByteView;
using framing::fail;
using framing::Result;

ResponseSpool::ResponseSpool(std::uint64_t memory_limit, std::string temp_dir)
    : memory_limit_(memory_limit), temp_dir_(std::move(temp_dir)) {
  if (temp_dir_.empty()) {
    const char* env = std::getenv("TMPDIR");
    temp_dir_ = env != nullptr && *env != '\0' ? env : "/tmp";
  }
}

ResponseSpool::~ResponseSpool() { release(); }

void ResponseSpool::release() {
  blocks_.clear();
  blocks_.shrink_to_fit();
  file_buffer_ = Bytes{};
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Result<void> ResponseSpool::open_file() {
#ifdef O_TMPFILE
  fd_ = ::open(temp_dir_.c_str(), O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600);
  if (fd_ >= 0) return {};
#endif
  // No O_TMPFILE support in this file system: a named file, unlinked at once.
  std::string path = temp_dir_ + "/hgrpcd-spool-XXXXXX";
  fd_ = ::mkostemp(path.data(), O_CLOEXEC);
  if (fd_ < 0)
    return fail("cannot create a spool file in " + temp_dir_ + ": " + std::strerror(errno));
  ::unlink(path.c_str());
  return {};
}

Result<void> ResponseSpool::flush_file_buffer() {
  std::size_t done = 0;
  while (done < file_buffer_.size()) {
    const auto n = ::pwrite(fd_, file_buffer_.data() + done, file_buffer_.size() - done,
                            static_cast<off_t>(file_size_ + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("cannot write the spool file in " + temp_dir_ + ": " + std::strerror(errno));
    }
    done += static_cast<std::size_t>(n);
  }
  file_size_ += done;
  file_buffer_.clear();
  return {};
}

Result<void> ResponseSpool::write(ByteView data) {
  // Memory first, in fixed blocks so the memory part never exceeds its limit.
  while (!data.empty() && memory_size_ < memory_limit_) {
    if (blocks_.empty() || blocks_.back().size() == kBlock) {
      blocks_.emplace_back();
      blocks_.back().reserve(static_cast<std::size_t>(
          std::min<std::uint64_t>(kBlock, memory_limit_ - memory_size_)));
    }
    Bytes& b = blocks_.back();
    const auto room = std::min<std::uint64_t>(kBlock - b.size(), memory_limit_ - memory_size_);
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(room, data.size()));
    b.insert(b.end(), data.begin(), data.begin() + static_cast<std::ptrdiff_t>(n));
    memory_size_ += n;
    size_ += n;
    data = data.subspan(n);
  }
  if (data.empty()) return {};
  if (fd_ < 0) {
    if (auto r = open_file(); !r) return r;
    file_buffer_.reserve(kFileBuffer);
  }
  size_ += data.size();
  if (file_buffer_.size() + data.size() > kFileBuffer) {
    if (auto r = flush_file_buffer(); !r) return r;
  }
  if (data.size() >= kFileBuffer) {
    file_buffer_.assign(data.begin(), data.end());
    return flush_file_buffer();
  }
  framing::append(file_buffer_, data);
  return {};
}

Result<std::size_t> ResponseSpool::read(std::uint64_t offset, std::uint8_t* out, std::size_t n) {
  if (offset >= size_ || n == 0) return std::size_t{0};
  if (offset < memory_size_) {
    const auto block = static_cast<std::size_t>(offset / kBlock);
    const auto within = static_cast<std::size_t>(offset % kBlock);
    const Bytes& b = blocks_[block];
    const std::size_t count = std::min(n, b.size() - within);
    std::memcpy(out, b.data() + within, count);
    return count;
  }
  if (!file_buffer_.empty()) {
    if (auto r = flush_file_buffer(); !r) return hgrpc::unexpected<framing::Error>(r.error());
  }
  const auto file_offset = offset - memory_size_;
  const std::size_t count = static_cast<std::size_t>(std::min<std::uint64_t>(n, file_size_ - file_offset));
  for (;;) {
    const auto got = ::pread(fd_, out, count, static_cast<off_t>(file_offset));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0)
      return fail("cannot read the spool file in " + temp_dir_ + ": " + std::strerror(errno));
    return static_cast<std::size_t>(got);
  }
}

}  // namespace hgrpc::server
