#include <doctest/doctest.h>

#include <zstd.h>

#include <algorithm>
#include <cstdlib>
#include <random>
#include <string>
#include <string_view>

#include "framing/content_encoding.hpp"
#include "tests/support/test_support.hpp"

using namespace hgrpc::framing;
using namespace std::literals;
using hgrpc::test::test_seed;

namespace {

// Feeds data to the decoder in random pieces (sizes 0..max_piece).
Result<Bytes> decode_chunked(Decoder& d, ByteView data, std::mt19937& rng, std::size_t max_piece) {
  Bytes out;
  std::size_t pos = 0;
  while (pos < data.size()) {
    std::size_t n = std::min(data.size() - pos, std::uniform_int_distribution<std::size_t>(0, max_piece)(rng));
    auto r = d.decode(data.subspan(pos, n), out);
    if (!r) return hgrpc::unexpected<Error>(r.error());
    pos += n;
  }
  return out;
}

Bytes random_message(std::mt19937& rng, std::size_t size) {
  // Words from a small vocabulary: compressible, like protocol payloads.
  static constexpr std::string_view kWords[] = {"node", "rev", "\x00\x01", "manifest", "delta",
                                                "\xff", "abc", " ", "changeset"};
  Bytes m;
  while (m.size() < size) {
    append(m, as_bytes(kWords[rng() % std::size(kWords)]));
    if (rng() % 8 == 0) m.push_back(static_cast<std::uint8_t>(rng()));
  }
  m.resize(size);
  return m;
}

std::string error_of(const Result<void>& r) { return r ? std::string("(no error)") : r.error().message; }

// Python: c = zlib.compressobj(); c.compress(x) + c.flush(zlib.Z_SYNC_FLUSH), twice.
constexpr auto kPyMessage1 = "hello hello hello hello"sv;
constexpr auto kPySync1 = "\x78\x9c\xca\x48\xcd\xc9\xc9\x57\xc8\x40\x27\x01\x00\x00\x00\xff\xff"sv;
constexpr auto kPyMessage2 = "hello world, hello again"sv;
constexpr auto kPySync2 =
    "\x82\x30\xcb\xf3\x8b\x72\x52\x74\xa0\xe2\x89\xe9\x89\x99\x79\x00\x00\x00\x00\xff\xff"sv;
// Python: zlib.compressobj().compress(b'abc' * 100) + flush() (a finished stream).
constexpr auto kPyFinished = "\x78\x9c\x4b\x4c\x4a\x4e\x1c\x45\xc4\x21\x00\x88\x4d\x72\xd9"sv;

}  // namespace

TEST_CASE("content encoding: names") {
  CHECK(encoding_name(Encoding::Identity) == "identity");
  CHECK(encoding_name(Encoding::Zlib) == "zlib");
  CHECK(encoding_name(Encoding::Zstd8mb) == "zstd-8mb");
  CHECK(encoding_from_name("zstd-8mb") == Encoding::Zstd8mb);
  CHECK(encoding_from_name("zlib") == Encoding::Zlib);
  CHECK(encoding_from_name("identity") == Encoding::Identity);
  CHECK_FALSE(encoding_from_name("zstd").has_value());
  CHECK(make_encoder(Encoding::Zlib)->encoding() == Encoding::Zlib);
  CHECK(make_decoder(Encoding::Zstd8mb)->encoding() == Encoding::Zstd8mb);
}

TEST_CASE("zlib: decodes Python's sync-flushed output frame by frame") {
  auto d = make_decoder(Encoding::Zlib);
  Bytes out;
  REQUIRE(d->decode(as_bytes(kPySync1), out));
  CHECK(out == to_bytes(kPyMessage1));
  out.clear();
  REQUIRE(d->decode(as_bytes(kPySync2), out));
  CHECK(out == to_bytes(kPyMessage2));
}

TEST_CASE("zlib: our encoder writes the bytes Python's compressobj writes") {
  auto e = make_encoder(Encoding::Zlib);
  Bytes out;
  REQUIRE(e->encode(as_bytes(kPyMessage1), out));
  CHECK(out == to_bytes(kPySync1));
  out.clear();
  REQUIRE(e->encode(as_bytes(kPyMessage2), out));
  CHECK(out == to_bytes(kPySync2));
}

TEST_CASE("zlib: a finished stream decodes at any split, bytes after its end are an error") {
  const Bytes expected = [] {
    Bytes b;
    for (int i = 0; i < 100; ++i) append(b, as_bytes("abc"sv));
    return b;
  }();
  for (std::size_t split = 0; split <= kPyFinished.size(); ++split) {
    CAPTURE(split);
    auto d = make_decoder(Encoding::Zlib);
    Bytes out;
    REQUIRE(d->decode(as_bytes(kPyFinished.substr(0, split)), out));
    REQUIRE(d->decode(as_bytes(kPyFinished.substr(split)), out));
    CHECK(out == expected);
  }
  auto d = make_decoder(Encoding::Zlib);
  Bytes out;
  std::string trailing = std::string(kPyFinished) + "xy";
  auto r = d->decode(as_bytes(trailing), out);
  CHECK(error_of(r) == "zlib: 2 bytes after the end of the compressed stream");
  CHECK(out.empty());

  auto d2 = make_decoder(Encoding::Zlib);
  REQUIRE(d2->decode(as_bytes(kPyFinished), out));
  CHECK(error_of(d2->decode(as_bytes("z"sv), out)) ==
        "zlib: 1 bytes after the end of the compressed stream");
}

TEST_CASE("content encoding: round trips with random chunking, every encode decodable at once") {
  const unsigned seed = test_seed();
  INFO("seed = " << seed);
  std::mt19937 rng(seed);
  for (Encoding enc : kEncodingPreference) {
    CAPTURE(encoding_name(enc));
    auto e = make_encoder(enc);
    auto eager = make_decoder(enc);
    Bytes wire, plain;
    for (int i = 0; i < 40; ++i) {
      std::size_t size = i == 7 ? 0 : (rng() % 4 == 0 ? rng() % 200000 : rng() % 2000);
      Bytes m = random_message(rng, size);
      Bytes encoded;
      REQUIRE(e->encode(m, encoded));
      // The flush makes this message decodable from this output alone.
      Bytes now;
      REQUIRE(eager->decode(encoded, now));
      CHECK(now == m);
      append(wire, encoded);
      append(plain, m);
    }
    for (std::size_t max_piece : {std::size_t{1}, std::size_t{7}, std::size_t{4096}}) {
      if (max_piece == 1 && wire.size() > 300000) continue;  // keep the test fast
      auto d = make_decoder(enc);
      auto decoded = decode_chunked(*d, wire, rng, max_piece);
      REQUIRE_MESSAGE(decoded, (decoded ? "" : decoded.error().message));
      CHECK(*decoded == plain);
    }
  }
}

TEST_CASE("content encoding: one context per stream compresses later messages against earlier") {
  const unsigned seed = 1234;
  INFO("seed = " << seed);
  std::mt19937 rng(seed);
  std::vector<Bytes> messages;
  Bytes common = random_message(rng, 250);
  for (int i = 0; i < 1000; ++i) {
    Bytes m = common;
    append(m, random_message(rng, 50));
    messages.push_back(std::move(m));
  }
  for (Encoding enc : {Encoding::Zlib, Encoding::Zstd8mb}) {
    CAPTURE(encoding_name(enc));
    auto shared = make_encoder(enc);
    std::size_t shared_bytes = 0, fresh_bytes = 0;
    for (const Bytes& m : messages) {
      Bytes a, b;
      REQUIRE(shared->encode(m, a));
      REQUIRE(make_encoder(enc)->encode(m, b));
      shared_bytes += a.size();
      fresh_bytes += b.size();
    }
    CAPTURE(shared_bytes);
    CAPTURE(fresh_bytes);
    CHECK(static_cast<double>(shared_bytes) / static_cast<double>(fresh_bytes) < 0.5);
  }
}

TEST_CASE("zstd-8mb: a frame that needs a window over 8 MiB is refused") {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  REQUIRE(cctx != nullptr);
  REQUIRE_FALSE(ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_windowLog, 24)));
  const std::string text = "needs a 16 MiB window";
  Bytes wire(ZSTD_compressBound(text.size()) + 64);
  ZSTD_inBuffer input{text.data(), text.size(), 0};
  ZSTD_outBuffer output{wire.data(), wire.size(), 0};
  // Unknown content size: the frame header declares the 2^24 window.
  REQUIRE(ZSTD_compressStream2(cctx, &output, &input, ZSTD_e_flush) == 0);
  wire.resize(output.pos);
  ZSTD_freeCCtx(cctx);

  auto d = make_decoder(Encoding::Zstd8mb);
  Bytes out;
  auto r = d->decode(wire, out);
  CHECK(error_of(r) ==
        "zstd-8mb: frame needs a window larger than 8 MiB (window log max 23): "
        "Frame requires too much memory for decoding (stream input byte 0)");
  CHECK(out.empty());

  DecoderLimits wide;
  wide.zstd_window_log_max = 24;
  auto d24 = make_decoder(Encoding::Zstd8mb, wide);
  REQUIRE(d24->decode(wire, out));
  CHECK(out == to_bytes(text));
}

// Feeds data to a fresh zstd-8mb decoder in pieces of `piece` bytes.
Result<Bytes> zstd_decode_in_pieces(ByteView data, std::size_t piece) {
  auto d = make_decoder(Encoding::Zstd8mb);
  Bytes out;
  for (std::size_t pos = 0; pos < data.size(); pos += piece) {
    auto r = d->decode(data.subspan(pos, std::min(piece, data.size() - pos)), out);
    if (!r) return hgrpc::unexpected<Error>(r.error());
  }
  return out;
}

TEST_CASE("zstd-8mb: pre-1.0 legacy frames are refused however the bytes are split") {
  // The fuzzer's input: a zstd v0.6 magic number (26 b5 2f fd). libzstd took
  // it when the four bytes came in one piece and refused it byte by byte.
  const Bytes legacy = {0x26, 0xb5, 0x2f, 0xfd, 0x00, 0x00, 0x00, 0x30, 0x00, 0x00, 0x00, 0x74};
  for (std::size_t piece : {1u, 2u, 3u, 4u, 12u}) {
    CAPTURE(piece);
    auto r = zstd_decode_in_pieces(legacy, piece);
    REQUIRE_FALSE(r);
    CHECK(r.error().message ==
          "zstd-8mb: not a zstd frame: magic number byte 0 is 0x26 (stream input byte 0); "
          "frames start 28 b5 2f fd, pre-1.0 zstd formats are refused");
  }

  // A bad third magic byte in the second frame is named by its stream offset.
  const std::string first = "first frame";
  Bytes two(ZSTD_compressBound(first.size()));
  const std::size_t second = ZSTD_compress(two.data(), two.size(), first.data(), first.size(), 3);
  REQUIRE_FALSE(ZSTD_isError(second));
  two.resize(second);
  two.insert(two.end(), {0x28, 0xb5, 0x2e, 0xfd, 0x00});
  for (std::size_t piece : {1u, 3u, 64u}) {
    CAPTURE(piece);
    auto r = zstd_decode_in_pieces(two, piece);
    REQUIRE_FALSE(r);
    CHECK(r.error().message == "zstd-8mb: not a zstd frame: magic number byte 2 is 0x2e (stream input byte " +
                                   std::to_string(second + 2) +
                                   "); frames start 28 b5 2f fd, pre-1.0 zstd formats are refused");
  }
}

TEST_CASE("zstd-8mb: complete frames and skippable frames decode at every split") {
  // Three whole frames (ZSTD_compress ends each), a skippable frame between.
  Bytes wire;
  const std::string parts[] = {"one frame, ", "then another, ", "and a third"};
  const Bytes skippable = {0x5e, 0x2a, 0x4d, 0x18, 0x03, 0x00, 0x00, 0x00, 'x', 'y', 'z'};
  for (const auto& part : parts) {
    Bytes frame(ZSTD_compressBound(part.size()));
    const std::size_t n = ZSTD_compress(frame.data(), frame.size(), part.data(), part.size(), 3);
    REQUIRE_FALSE(ZSTD_isError(n));
    wire.insert(wire.end(), frame.begin(), frame.begin() + static_cast<std::ptrdiff_t>(n));
    wire.insert(wire.end(), skippable.begin(), skippable.end());
  }
  for (std::size_t piece = 1; piece <= wire.size(); ++piece) {
    CAPTURE(piece);
    auto r = zstd_decode_in_pieces(wire, piece);
    REQUIRE(r);
    CHECK(*r == to_bytes("one frame, then another, and a third"));
  }
}

TEST_CASE("content encoding: decompression bombs stop at the decoded-size limit") {
  const Bytes zeros(4 << 20, 0);  // 4 MiB of zeros: a few KB compressed
  for (Encoding enc : kEncodingPreference) {
    CAPTURE(encoding_name(enc));
    Bytes wire;
    REQUIRE(make_encoder(enc)->encode(zeros, wire));
    if (enc != Encoding::Identity) CHECK(wire.size() < 8192);
    DecoderLimits limits;
    limits.max_decoded_bytes = 100000;
    auto d = make_decoder(enc, limits);
    Bytes out;
    auto r = d->decode(wire, out);
    CHECK(error_of(r) == std::string(encoding_name(enc)) +
                             (enc == Encoding::Identity ? ": decoded size would exceed"
                                                        : ": decoded size exceeds") +
                             " the limit of 100000 bytes for this stream");
    CHECK(out.empty());
    // The decoder stays failed.
    CHECK_FALSE(d->decode(as_bytes("x"sv), out));
  }
}

TEST_CASE("content encoding: the limit counts the whole stream, exactly the limit is fine") {
  for (Encoding enc : kEncodingPreference) {
    CAPTURE(encoding_name(enc));
    auto e = make_encoder(enc);
    DecoderLimits limits;
    limits.max_decoded_bytes = 1000;
    auto d = make_decoder(enc, limits);
    Bytes part(600, 'a'), rest(400, 'b'), wire, out;
    REQUIRE(e->encode(part, wire));
    REQUIRE(d->decode(wire, out));
    wire.clear();
    REQUIRE(e->encode(rest, wire));
    REQUIRE(d->decode(wire, out));
    CHECK(out.size() == 1000);
    wire.clear();
    REQUIRE(e->encode(as_bytes("c"sv), wire));
    CHECK_FALSE(d->decode(wire, out));
    CHECK(out.size() == 1000);
  }
}

TEST_CASE("content encoding: corrupt input names the encoding and the library's reason") {
  Bytes out;
  auto z = make_decoder(Encoding::Zlib);
  CHECK(error_of(z->decode(as_bytes("\x78\x9d\x00\x00"sv), out)) ==
        "zlib: corrupt data at input byte 2: incorrect header check");
  auto z2 = make_decoder(Encoding::Zlib);
  CHECK(error_of(z2->decode(as_bytes("\x78\x9c\xff\xff"sv), out)) ==
        "zlib: corrupt data at input byte 3: invalid block type");
  CHECK(error_of(z2->decode(as_bytes("\x78\x9c"sv), out)) ==
        "zlib: stream already failed to decode");

  auto s = make_decoder(Encoding::Zstd8mb);
  CHECK(error_of(s->decode(as_bytes("garbage!"sv), out)) ==
        "zstd-8mb: not a zstd frame: magic number byte 0 is 0x67 (stream input byte 0); "
        "frames start 28 b5 2f fd, pre-1.0 zstd formats are refused");
  CHECK(out.empty());
  // The right magic number, then a frame header with its reserved bit set.
  auto s2 = make_decoder(Encoding::Zstd8mb);
  CHECK(error_of(s2->decode(as_bytes("\x28\xb5\x2f\xfd\x08\x00\x00\x00\x00"sv), out)) ==
        "zstd-8mb: corrupt data: Unsupported frame parameter (stream input byte 0)");
  CHECK(out.empty());
}
