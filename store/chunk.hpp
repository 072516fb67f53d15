#pragma once
// Decompression of one revlog chunk, chosen by its first byte: empty -> empty,
// 'u' -> the bytes after it, '\0' -> the chunk itself, 'x' -> zlib,
// '(' -> a zstd frame (streamed: frames written by Mercurial for large inputs
// carry no content size). The output is limited so that a hostile file cannot
// make us allocate without bound.
#include <cstdint>
#include <optional>

#include "store/error.hpp"

namespace hgrpc::store {

enum class Compression { kZstd, kZlib, kNone };

// The chunk Mercurial 6.3.2 would store for `data` (revlog.compress): empty
// for empty data; a zstd frame (level `zstd_level`, inputs of 50 bytes and
// more) or zlib stream (44 bytes and more) when it is smaller than the data;
// otherwise the data itself if it starts with NUL, else 'u' + the data.
Bytes compress_chunk(ByteView data, Compression compression, int zstd_level = 3);

// Decompresses `chunk`; more than max_output bytes is an error. Messages carry
// no location: the caller prefixes file and revision.
Result<Bytes> decompress_chunk(ByteView chunk, std::uint64_t max_output);

// The decompressed size of `chunk` when the chunk is exactly one zstd frame
// (no dictionary) that declares its size, at most max_output, and needs a
// window of at most max_window bytes: a chunk that a zstd stream can carry as
// it is. nullopt for anything else (then decompress it).
std::optional<std::uint64_t> whole_zstd_frame_size(ByteView chunk, std::uint64_t max_output,
                                                   std::uint64_t max_window);

}  // namespace hgrpc::store
