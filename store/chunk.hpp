#pragma once
// Decompression of one revlog chunk, chosen by its first byte: empty -> empty,
// 'u' -> the bytes after it, '\0' -> the chunk itself, 'x' -> zlib,
// '(' -> a zstd frame (streamed: frames written by Mercurial for large inputs
// carry no content size). The output is limited so that a hostile file cannot
// make us allocate without bound.
#include <cstdint>

#include "store/error.hpp"

namespace hgrpc::store {

// Decompresses `chunk`; more than max_output bytes is an error. Messages carry
// no location: the caller prefixes file and revision.
Result<Bytes> decompress_chunk(ByteView chunk, std::uint64_t max_output);

}  // namespace hgrpc::store
