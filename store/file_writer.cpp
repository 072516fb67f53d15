#include "store/file_writer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace hgrpc::store {

std::string system_error(const std::filesystem::path& path, const std::string& what) {
  return path.string() + ": " + what + ": " + std::strerror(errno);
}

namespace {

Result<void> write_all(int fd, ByteView bytes, const std::filesystem::path& path) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(system_error(path, "write"));
    }
    done += static_cast<std::size_t>(n);
  }
  return {};
}

Result<void> make_parent(const std::filesystem::path& path) {
  if (!path.has_parent_path()) return {};
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) return fail(path.parent_path().string() + ": cannot create directory: " + ec.message());
  return {};
}

}  // namespace

Result<AppendFile> AppendFile::open(const std::filesystem::path& path) {
  if (auto made = make_parent(path); !made) return hgrpc::unexpected<Error>(made.error());
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
  if (fd < 0) return fail(system_error(path, "cannot open for appending"));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    auto message = system_error(path, "fstat");
    ::close(fd);
    return fail(message);
  }
  return AppendFile(fd, static_cast<std::uint64_t>(st.st_size), path);
}

AppendFile& AppendFile::operator=(AppendFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    size_ = other.size_;
    path_ = std::move(other.path_);
    other.fd_ = -1;
  }
  return *this;
}

AppendFile::~AppendFile() {
  if (fd_ >= 0) ::close(fd_);
}

Result<void> AppendFile::write(ByteView bytes) {
  if (auto w = write_all(fd_, bytes, path_); !w) return w;
  size_ += bytes.size();
  return {};
}

Result<void> replace_file(const std::filesystem::path& path, ByteView bytes) {
  if (auto made = make_parent(path); !made) return made;
  std::filesystem::path temp = path;
  temp += ".hgrpc-tmp";
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) return fail(system_error(temp, "cannot create"));
  auto written = write_all(fd, bytes, temp);
  if (::close(fd) != 0 && written) written = fail(system_error(temp, "close"));
  if (!written) {
    ::unlink(temp.c_str());
    return written;
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    auto message = system_error(path, "cannot rename " + temp.filename().string() + " over it");
    ::unlink(temp.c_str());
    return fail(message);
  }
  return {};
}

Result<void> truncate_file(const std::filesystem::path& path, std::uint64_t size) {
  if (::truncate(path.c_str(), static_cast<off_t>(size)) != 0) {
    return fail(system_error(path, "cannot truncate to " + std::to_string(size) + " bytes"));
  }
  return {};
}

}  // namespace hgrpc::store
