#pragma once
// Read-only access to store files. Reads use pread on a shared descriptor, so
// any number of threads may read one file at once without a lock; a file
// that grows (revlogs are append-only) is seen up to the size it had when
// the reader looked (callers never read past what their index describes).
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "store/error.hpp"

namespace hgrpc::store {

class ReadOnlyFile {
 public:
  // nullopt if the file does not exist; an error for any other failure.
  static Result<std::optional<ReadOnlyFile>> open(const std::filesystem::path& path);

  ReadOnlyFile(ReadOnlyFile&&) noexcept = default;
  ReadOnlyFile& operator=(ReadOnlyFile&&) noexcept = default;

  // Current size (fstat).
  Result<std::uint64_t> size() const;
  // Exactly `length` bytes at `offset`, or an error naming the file if it is shorter.
  Result<Bytes> read(std::uint64_t offset, std::uint64_t length) const;
  const std::string& name() const { return name_; }

 private:
  struct Fd {
    explicit Fd(int descriptor) : fd(descriptor) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd();
    int fd;
  };
  ReadOnlyFile(std::shared_ptr<Fd> fd, std::string name) : fd_(std::move(fd)), name_(std::move(name)) {}
  std::shared_ptr<Fd> fd_;
  std::string name_;
};

// What stat says of a file, to tell whether it changed since it was read
// (as Mercurial's filecache does): device, inode, size, mtime and ctime in
// nanoseconds; `error` is stat's errno (ENOENT: the file does not exist).
// A revlog that was appended to, rewritten or replaced gets another stamp.
struct FileStamp {
  std::uint64_t device = 0, inode = 0, size = 0;
  std::int64_t mtime_ns = 0, ctime_ns = 0;
  int error = 0;
  bool operator==(const FileStamp&) const = default;
};
FileStamp file_stamp(const std::filesystem::path& path);

// The whole file, or nullopt if it does not exist. Larger than max_bytes is an error.
Result<std::optional<Bytes>> read_file(const std::filesystem::path& path, std::uint64_t max_bytes);

}  // namespace hgrpc::store
