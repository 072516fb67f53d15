#pragma once
// The data of one command (command-data frames after a have-data request),
// read from files as it is sent so that large inputs never sit in memory.
//
// Parts are concatenated: a file's bytes as they are (--data FILE), or a
// file's bytes as one definite-length CBOR byte string (the CBOR sequence
// layout of applypatches / foldpatches / patchedsize / diff), or literal bytes.
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "client/errors.hpp"
#include "framing/bytes.hpp"
#include "framing/result.hpp"

namespace hgrpc::client {

class CommandData {
 public:
  void add_file(std::string path);             // raw
  void add_bytes_item_file(std::string path);  // one CBOR byte string
  void add_literal(framing::Bytes bytes);

  bool empty() const { return parts_.empty(); }
  // Total bytes; stats the files (usage error for a missing file), so that
  // errors surface before anything is sent.
  ClientResult<std::uint64_t> size() const;

  // Sequential reader over all parts.
  class Reader {
   public:
    explicit Reader(const CommandData& data) : data_(&data) {}
    // Appends up to max bytes to out; returns how many (0 at the end).
    framing::Result<std::size_t> read(framing::Bytes& out, std::size_t max);

   private:
    struct FileCloser {
      void operator()(std::FILE* f) const { std::fclose(f); }
    };
    const CommandData* data_;
    std::size_t part_ = 0;
    bool header_done_ = false;
    std::size_t literal_offset_ = 0;
    std::unique_ptr<std::FILE, FileCloser> file_;
  };

 private:
  enum class Kind { File, BytesItemFile, Literal };
  struct Part {
    Kind kind;
    std::string path;
    framing::Bytes literal;
  };
  std::vector<Part> parts_;
};

// The header of a definite-length CBOR byte string of n bytes (major type 2).
framing::Bytes cbor_bytes_header(std::uint64_t n);

}  // namespace hgrpc::client
