#pragma once
// Writing store files: an append-only handle (revlogs, fncache, the
// journal) and whole-file replacement through a temporary file and rename,
// so that a reader never sees half of a rewritten file. Errors name the file
// and the system's reason.
#include <cstdint>
#include <filesystem>
#include <string>

#include "store/error.hpp"

namespace hgrpc::store {

class AppendFile {
 public:
  // Creates the file if missing (and its parent directories).
  static Result<AppendFile> open(const std::filesystem::path& path);

  AppendFile(AppendFile&& other) noexcept : fd_(other.fd_), size_(other.size_), path_(std::move(other.path_)) {
    other.fd_ = -1;
  }
  AppendFile& operator=(AppendFile&& other) noexcept;
  AppendFile(const AppendFile&) = delete;
  ~AppendFile();

  Result<void> write(ByteView bytes);
  std::uint64_t size() const { return size_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  AppendFile(int fd, std::uint64_t size, std::filesystem::path path) : fd_(fd), size_(size), path_(std::move(path)) {}
  int fd_ = -1;
  std::uint64_t size_ = 0;
  std::filesystem::path path_;
};

// Writes `bytes` to a temporary file beside `path`, then renames it over `path`.
Result<void> replace_file(const std::filesystem::path& path, ByteView bytes);

// Truncates (or extends with zeros) to `size`.
Result<void> truncate_file(const std::filesystem::path& path, std::uint64_t size);

// "<path>: <what>: <strerror(errno)>".
std::string system_error(const std::filesystem::path& path, const std::string& what);

}  // namespace hgrpc::store
