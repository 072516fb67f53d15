#include "store/chunk.hpp"

#include <zlib.h>
#define ZSTD_STATIC_LINKING_ONLY  // ZSTD_getFrameHeader (exported by Debian's libzstd)
#include <zstd.h>

#include <cstdio>
#include <memory>
#include <stdexcept>

namespace hgrpc::store {
namespace {

std::string too_large(std::uint64_t max_output) {
  return "decompressed chunk is larger than the limit of " + std::to_string(max_output) + " bytes";
}

// Grows the output geometrically, never beyond max_output + 1 (one byte more
// than allowed is enough to know the limit is exceeded).
std::size_t next_capacity(std::size_t current, std::uint64_t max_output) {
  std::uint64_t want = std::max<std::uint64_t>(current * 2, 4096);
  return static_cast<std::size_t>(std::min<std::uint64_t>(want, max_output + 1));
}

// One inflate state per thread, reset per chunk: initialising zlib
// allocates its window, which cost more than inflating a small delta.
struct ThreadInflater {
  z_stream zs{};
  bool ready = false;
  ThreadInflater() { ready = inflateInit(&zs) == Z_OK; }
  ~ThreadInflater() {
    if (ready) inflateEnd(&zs);
  }
};

// Likewise one zstd decompression context per thread.
struct ThreadZstd {
  ZSTD_DCtx* dctx = ZSTD_createDCtx();
  ~ThreadZstd() { ZSTD_freeDCtx(dctx); }
};

// And one zstd compression context per thread (the writer compresses every
// revision it stores; ZSTD_compress would make and free a context each time).
struct ThreadZstdCompressor {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ~ThreadZstdCompressor() { ZSTD_freeCCtx(cctx); }
};

Result<Bytes> inflate_zlib(ByteView in, std::uint64_t max_output) {
  thread_local ThreadInflater inflater;
  if (!inflater.ready || inflateReset(&inflater.zs) != Z_OK) return fail("zlib: cannot initialise");
  z_stream& zs = inflater.zs;
  Bytes out(next_capacity(in.size() * 2, max_output));
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  std::size_t used = 0;
  for (;;) {
    if (used == out.size()) {
      if (out.size() > max_output) return fail(too_large(max_output));
      out.resize(next_capacity(out.size(), max_output));
    }
    zs.next_out = out.data() + used;
    zs.avail_out = static_cast<uInt>(std::min<std::size_t>(out.size() - used, 1u << 30));
    std::size_t before = zs.avail_out;
    int rc = inflate(&zs, Z_NO_FLUSH);
    used += before - zs.avail_out;
    if (used > max_output) return fail(too_large(max_output));
    if (rc == Z_STREAM_END) {
      if (zs.avail_in != 0) {
        return fail("zlib: " + std::to_string(zs.avail_in) + " bytes after the end of the stream");
      }
      out.resize(used);
      return out;
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) return fail("zlib: truncated stream");
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      return fail(std::string("zlib: ") + (zs.msg != nullptr ? zs.msg : "invalid data"));
    }
  }
}

Result<Bytes> decompress_zstd(ByteView in, std::uint64_t max_output) {
  thread_local ThreadZstd context;
  ZSTD_DCtx* dctx = context.dctx;
  if (dctx == nullptr) return fail("zstd: cannot create a context");
  ZSTD_DCtx_reset(dctx, ZSTD_reset_session_only);
  unsigned long long declared = ZSTD_getFrameContentSize(in.data(), in.size());
  std::size_t first = in.size() * 4;
  if (declared != ZSTD_CONTENTSIZE_UNKNOWN && declared != ZSTD_CONTENTSIZE_ERROR) {
    if (declared > max_output) return fail(too_large(max_output));
    first = static_cast<std::size_t>(declared) + 1;  // +1: room to see the end without growing
  }
  // One well-formed frame that says its size: one call into a buffer of
  // exactly that size. Anything else (truncated, trailing bytes, no size)
  // takes the streamed path below, whose errors say what is wrong.
  if (declared != ZSTD_CONTENTSIZE_UNKNOWN && declared != ZSTD_CONTENTSIZE_ERROR &&
      ZSTD_findFrameCompressedSize(in.data(), in.size()) == in.size()) {
    Bytes out(static_cast<std::size_t>(declared));
    std::size_t rc = ZSTD_decompressDCtx(dctx, out.data(), out.size(), in.data(), in.size());
    if (ZSTD_isError(rc)) {
      ZSTD_DCtx_reset(dctx, ZSTD_reset_session_only);
      return fail(std::string("zstd: ") + ZSTD_getErrorName(rc) + " (frame header says " +
                  std::to_string(declared) + " bytes)");
    }
    if (rc != out.size()) return fail("zstd: frame holds " + std::to_string(rc) + " bytes, its header says " +
                                      std::to_string(declared));
    return out;
  }
  // Streamed decompression allocates buffers the size of the frame's window
  // (MiBs for the large revisions that take this path) and a context keeps
  // them: a context of its own, freed after, so that no thread holds them
  // once a burst is over (they kept hgrpcd's RSS 14 MiB above idle).
  std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> streamed(ZSTD_createDCtx(), ZSTD_freeDCtx);
  if (!streamed) return fail("zstd: cannot create a context");
  dctx = streamed.get();
  Bytes out(std::min<std::uint64_t>(std::max<std::size_t>(first, 64), max_output + 1));
  ZSTD_inBuffer input{in.data(), in.size(), 0};
  std::size_t used = 0;
  for (;;) {
    if (used == out.size()) {
      if (out.size() > max_output) return fail(too_large(max_output));
      out.resize(next_capacity(out.size(), max_output));
    }
    ZSTD_outBuffer output{out.data() + used, out.size() - used, 0};
    std::size_t rc = ZSTD_decompressStream(dctx, &output, &input);
    used += output.pos;
    if (ZSTD_isError(rc)) return fail(std::string("zstd: ") + ZSTD_getErrorName(rc));
    if (used > max_output) return fail(too_large(max_output));
    if (rc == 0) {
      if (input.pos != input.size) {
        return fail("zstd: " + std::to_string(input.size - input.pos) +
                    " bytes after the end of the frame");
      }
      out.resize(used);
      return out;
    }
    if (input.pos == input.size && output.pos < output.size) return fail("zstd: truncated frame");
  }
}

Bytes stored_uncompressed(ByteView data) {
  Bytes out;
  out.reserve(data.size() + 1);
  if (data[0] != '\0') out.push_back('u');
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

}  // namespace

Bytes compress_chunk(ByteView data, Compression compression, int zstd_level) {
  if (data.empty()) return {};
  Bytes out;
  if (compression == Compression::kZstd && data.size() >= 50) {
    thread_local ThreadZstdCompressor compressor;
    if (compressor.cctx == nullptr) throw std::runtime_error("zstd: cannot create a compression context");
    out.resize(ZSTD_compressBound(data.size()));
    std::size_t n = ZSTD_compressCCtx(compressor.cctx, out.data(), out.size(), data.data(), data.size(), zstd_level);
    if (ZSTD_isError(n)) throw std::runtime_error(std::string("zstd: ") + ZSTD_getErrorName(n));
    out.resize(n);
  } else if (compression == Compression::kZlib && data.size() >= 44) {
    uLongf length = compressBound(static_cast<uLong>(data.size()));
    out.resize(length);
    if (compress2(out.data(), &length, data.data(), static_cast<uLong>(data.size()), Z_DEFAULT_COMPRESSION) != Z_OK) {
      throw std::runtime_error("zlib: compress2 failed");
    }
    out.resize(length);
  }
  if (!out.empty() && out.size() < data.size()) return out;
  return stored_uncompressed(data);
}

Result<Bytes> decompress_chunk(ByteView chunk, std::uint64_t max_output) {
  if (chunk.empty()) return Bytes{};
  switch (chunk[0]) {
    case 'u':
      if (chunk.size() - 1 > max_output) return fail(too_large(max_output));
      return Bytes(chunk.begin() + 1, chunk.end());
    case '\0':
      if (chunk.size() > max_output) return fail(too_large(max_output));
      return Bytes(chunk.begin(), chunk.end());
    case 'x':
      return inflate_zlib(chunk, max_output);
    case '(':
      return decompress_zstd(chunk, max_output);
    default: {
      char buf[8];
      std::snprintf(buf, sizeof buf, "0x%02x", chunk[0]);
      return fail(std::string("unknown compression type ") + buf);
    }
  }
}

std::optional<std::uint64_t> whole_zstd_frame_size(ByteView chunk, std::uint64_t max_output,
                                                   std::uint64_t max_window) {
  if (chunk.size() < 4 || chunk[0] != 0x28) return std::nullopt;  // '(' : zstd's magic 28 b5 2f fd
  ZSTD_frameHeader header{};
  if (ZSTD_getFrameHeader(&header, chunk.data(), chunk.size()) != 0) return std::nullopt;
  if (header.frameType != ZSTD_frame || header.dictID != 0) return std::nullopt;
  if (header.frameContentSize == ZSTD_CONTENTSIZE_UNKNOWN || header.frameContentSize > max_output) return std::nullopt;
  if (header.windowSize > max_window) return std::nullopt;
  if (ZSTD_findFrameCompressedSize(chunk.data(), chunk.size()) != chunk.size()) return std::nullopt;
  return header.frameContentSize;
}

}  // namespace hgrpc::store
