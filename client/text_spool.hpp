#pragma once
// Texts that must wait, spooled to an unnamed temporary file instead of
// memory: the received changesets' texts wait for the changelog, which is
// written last (client/fetch.hpp), and their sum grows with the repository.
// The file is made with O_TMPFILE in a given directory (the repository's
// .hg, so it is on the destination's file system and vanishes with the
// process, whatever happens); where the file system lacks O_TMPFILE, a
// mkstemp file there, unlinked at once. Texts are appended in order and
// read back in the same order, each once, through buffers of
// kSpoolBufferBytes: memory stays at two buffers whatever the texts' sum.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "client/errors.hpp"
#include "framing/bytes.hpp"

namespace hgrpc::client {

inline constexpr std::size_t kSpoolBufferBytes = std::size_t{1} << 20;

class TextSpool {
 public:
  static ClientResult<TextSpool> open(const std::filesystem::path& dir);
  TextSpool(TextSpool&&) noexcept;
  TextSpool& operator=(TextSpool&&) noexcept;
  ~TextSpool();

  ClientResult<void> append(framing::ByteView text);
  std::uint64_t count() const { return appended_; }
  std::uint64_t bytes() const { return file_bytes_; }

  // Reading, after the last append: the next text in append order (valid
  // until the next call); an error past the last one.
  ClientResult<framing::ByteView> next();

 private:
  TextSpool() = default;
  ClientResult<void> flush();
  ClientResult<void> fill(std::size_t wanted);

  int fd_ = -1;
  std::filesystem::path dir_;       // for messages
  framing::Bytes buffer_;           // writing: pending bytes; reading: bytes read ahead
  std::size_t read_pos_ = 0;        // reading: where the next text starts in buffer_
  std::uint64_t file_bytes_ = 0;    // written to the file (and buffered)
  std::uint64_t file_offset_ = 0;   // reading: the file offset after buffer_'s end
  std::uint64_t appended_ = 0;
  std::uint64_t taken_ = 0;
  bool reading_ = false;
};

}  // namespace hgrpc::client
