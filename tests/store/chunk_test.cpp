// whole_zstd_frame_size: which stored chunks a zstd-8mb-frames stream can
// carry as they are (one whole frame, declared size, no dictionary, window
// within the profile); and that such a chunk decompresses to that size.
#include <doctest/doctest.h>
#include <zstd.h>

#include <string>

#include "store/chunk.hpp"

using namespace hgrpc::store;

namespace {

constexpr std::uint64_t kMax = std::uint64_t{1} << 30;
constexpr std::uint64_t kWindow = std::uint64_t{8} << 20;

Bytes text(std::size_t n) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>("manifest line\n"[i % 14]);
  return b;
}

// A frame as zstd's streaming API writes one without a declared size
// (Mercurial's compressobj path for large revisions): input in two calls.
Bytes streamed_frame(const Bytes& in) {
  ZSTD_CCtx* c = ZSTD_createCCtx();
  Bytes out(ZSTD_compressBound(in.size()) + 64);
  const std::size_t half = in.size() / 2;
  ZSTD_inBuffer first{in.data(), half, 0};
  ZSTD_outBuffer output{out.data(), out.size(), 0};
  REQUIRE_FALSE(ZSTD_isError(ZSTD_compressStream2(c, &output, &first, ZSTD_e_continue)));
  REQUIRE(first.pos == half);
  ZSTD_inBuffer input{in.data() + half, in.size() - half, 0};
  REQUIRE(ZSTD_compressStream2(c, &output, &input, ZSTD_e_end) == 0);
  ZSTD_freeCCtx(c);
  out.resize(output.pos);
  return out;
}

}  // namespace

TEST_CASE("store: whole_zstd_frame_size accepts exactly one whole frame that declares its size") {
  const Bytes data = text(5000);
  const Bytes chunk = compress_chunk(data, Compression::kZstd);
  REQUIRE(chunk.size() < data.size());
  REQUIRE(chunk[0] == 0x28);
  CHECK(whole_zstd_frame_size(chunk, kMax, kWindow) == 5000);
  auto back = decompress_chunk(chunk, kMax);
  REQUIRE(back);
  CHECK(*back == data);

  // Over the caller's size limit or window: not spliceable.
  CHECK_FALSE(whole_zstd_frame_size(chunk, 4999, kWindow));
  CHECK_FALSE(whole_zstd_frame_size(chunk, kMax, 1024));
  // Truncated, or followed by anything: not one whole frame.
  CHECK_FALSE(whole_zstd_frame_size(ByteView(chunk).first(chunk.size() - 1), kMax, kWindow));
  Bytes two = chunk;
  two.insert(two.end(), chunk.begin(), chunk.end());
  CHECK_FALSE(whole_zstd_frame_size(two, kMax, kWindow));
  // No declared size.
  const Bytes streamed = streamed_frame(data);
  CHECK(ZSTD_getFrameContentSize(streamed.data(), streamed.size()) == ZSTD_CONTENTSIZE_UNKNOWN);
  CHECK_FALSE(whole_zstd_frame_size(streamed, kMax, kWindow));
  // Other chunk kinds.
  CHECK_FALSE(whole_zstd_frame_size(compress_chunk(data, Compression::kZlib), kMax, kWindow));
  CHECK_FALSE(whole_zstd_frame_size(compress_chunk(text(10), Compression::kZstd), kMax, kWindow));  // 'u' + text
  CHECK_FALSE(whole_zstd_frame_size(Bytes{}, kMax, kWindow));
  // A skippable frame is not a revision.
  CHECK_FALSE(whole_zstd_frame_size(Bytes{0x50, 0x2a, 0x4d, 0x18, 0, 0, 0, 0}, kMax, kWindow));
}
