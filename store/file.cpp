#include "store/file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace hgrpc::store {

ReadOnlyFile::Fd::~Fd() { ::close(fd); }

Result<std::optional<ReadOnlyFile>> ReadOnlyFile::open(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<ReadOnlyFile>();
    return fail(path.string() + ": cannot open: " + std::strerror(errno));
  }
  return std::optional<ReadOnlyFile>(ReadOnlyFile(std::make_shared<Fd>(fd), path.string()));
}

FileStamp file_stamp(const std::filesystem::path& path) {
  struct stat st;
  FileStamp stamp;
  if (::stat(path.c_str(), &st) != 0) {
    stamp.error = errno;
    return stamp;
  }
  stamp.device = st.st_dev;
  stamp.inode = st.st_ino;
  stamp.size = static_cast<std::uint64_t>(st.st_size);
  stamp.mtime_ns = std::int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec;
  stamp.ctime_ns = std::int64_t{st.st_ctim.tv_sec} * 1'000'000'000 + st.st_ctim.tv_nsec;
  return stamp;
}

Result<std::uint64_t> ReadOnlyFile::size() const {
  struct stat st;
  if (::fstat(fd_->fd, &st) != 0) return fail(name_ + ": cannot stat: " + std::strerror(errno));
  return static_cast<std::uint64_t>(st.st_size);
}

Result<Bytes> ReadOnlyFile::read(std::uint64_t offset, std::uint64_t length) const {
  Bytes out(length);
  std::uint64_t done = 0;
  while (done < length) {
    ssize_t n = ::pread(fd_->fd, out.data() + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(name_ + ": read failed: " + std::strerror(errno));
    }
    if (n == 0) {
      return fail(name_ + ": file ends at " + std::to_string(offset + done) + ", expected " +
                  std::to_string(length) + " bytes at offset " + std::to_string(offset));
    }
    done += static_cast<std::uint64_t>(n);
  }
  return out;
}

Result<std::optional<Bytes>> read_file(const std::filesystem::path& path, std::uint64_t max_bytes) {
  auto file = ReadOnlyFile::open(path);
  if (!file) return hgrpc::unexpected<Error>(file.error());
  if (!*file) return std::optional<Bytes>();
  auto size = (*file)->size();
  if (!size) return hgrpc::unexpected<Error>(size.error());
  if (*size > max_bytes) {
    return fail(path.string() + ": " + std::to_string(*size) + " bytes is over the limit of " +
                std::to_string(max_bytes));
  }
  auto bytes = (*file)->read(0, *size);
  if (!bytes) return hgrpc::unexpected<Error>(bytes.error());
  return std::optional<Bytes>(std::move(*bytes));
}

}  // namespace hgrpc::store
