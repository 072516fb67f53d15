#pragma once
// ResponseSpool: the framed output of one request while its body is still
// arriving. cpp-httplib 0.11.4 sends a response only after the handler has
// consumed the body, so output produced meanwhile is kept here: the first
// `memory_limit` bytes in memory, the rest in a temporary file that has no
// name (O_TMPFILE, or unlinked right after mkstemp), so it disappears with
// the descriptor whatever happens. Written once, then read sequentially.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "framing/bytes.hpp"
#include "framing/result.hpp"

namespace hgrpc::server {

class ResponseSpool {
 public:
  // temp_dir empty: $TMPDIR, else /tmp.
  explicit ResponseSpool(std::uint64_t memory_limit, std::string temp_dir = {});
  ~ResponseSpool();
  ResponseSpool(const ResponseSpool&) = delete;
  ResponseSpool& operator=(const ResponseSpool&) = delete;

  // Appends data. Errors: the temporary file cannot be created or written
  // (message names the directory and errno text).
  framing::Result<void> write(framing::ByteView data);

  std::uint64_t size() const { return size_; }
  std::uint64_t memory_bytes() const { return memory_size_; }
  bool spilled() const { return fd_ >= 0; }

  // Copies up to n bytes from `offset` into out; returns the count (0 at the
  // end). Reading flushes pending file writes first.
  framing::Result<std::size_t> read(std::uint64_t offset, std::uint8_t* out, std::size_t n);

  // Drops the memory part and the file (after the response went out).
  void release();

 private:
  framing::Result<void> open_file();
  framing::Result<void> flush_file_buffer();

  static constexpr std::size_t kBlock = 64 * 1024;
  static constexpr std::size_t kFileBuffer = 256 * 1024;

  std::uint64_t memory_limit_;
  std::string temp_dir_;
  std::vector<framing::Bytes> blocks_;  // memory part, blocks of kBlock bytes
  std::uint64_t memory_size_ = 0;
  int fd_ = -1;
  framing::Bytes file_buffer_;  // pending writes to the file
  std::uint64_t file_size_ = 0; // bytes in the file (flushed)
  std::uint64_t size_ = 0;
};

}  // namespace hgrpc::server
