// zstd-8mb-frames: stored zstd frames spliced between the encoder's own, from
// the encoder up through OutputStream and ResponseEmitter, decoded back by
// InputStreams (and by libzstd itself, which reads frames in a row).
#include <doctest/doctest.h>
#include <zstd.h>

#include <random>
#include <string>

#include "framing/response_emitter.hpp"
#include "framing/stream.hpp"
#include "tests/framing/reactor_test_util.hpp"

using namespace hgrpc::framing;
using T = FrameType;

namespace {

Bytes zstd_frame(std::string_view text, int level = 3) {
  Bytes out(ZSTD_compressBound(text.size()));
  const std::size_t n = ZSTD_compress(out.data(), out.size(), text.data(), text.size(), level);
  REQUIRE_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

// Every frame of `wire` through a client's InputStreams: the decoded
// command-response payloads, concatenated.
Bytes decode_all(ByteView wire) {
  InputStreams in(false);
  Bytes decoded;
  auto frames = test::split_frames(wire);
  for (std::size_t i = 0; i < frames.size(); ++i) {
    auto r = in.accept(i, frames[i].view());
    REQUIRE_MESSAGE(r, r.error().message);
    if (*r) append(decoded, (**r).payload);
  }
  return decoded;
}

Bytes noise(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  Bytes b(n);
  for (auto& x : b) x = static_cast<std::uint8_t>(rng());
  return b;
}

}  // namespace

TEST_CASE("zstd-8mb-frames: its name, and only it splices") {
  CHECK(encoding_name(Encoding::Zstd8mbFrames) == "zstd-8mb-frames");
  CHECK(encoding_from_name("zstd-8mb-frames") == Encoding::Zstd8mbFrames);
  CHECK(make_encoder(Encoding::Zstd8mbFrames)->splices_frames());
  CHECK(make_decoder(Encoding::Zstd8mbFrames)->encoding() == Encoding::Zstd8mbFrames);
  for (Encoding e : {Encoding::Identity, Encoding::Zlib, Encoding::Zstd8mb}) {
    CAPTURE(encoding_name(e));
    auto enc = make_encoder(e);
    CHECK_FALSE(enc->splices_frames());
    Bytes out;
    auto r = enc->end_frame(as_bytes("x"), out);
    REQUIRE_FALSE(r);
    CHECK(r.error().message == std::string(encoding_name(e)) + ": this profile cannot splice pre-encoded frames");
  }
  // What the capabilities advertise stays Mercurial 5.8's list.
  CHECK(std::size(kMercurialEncodings) == 3);
  CHECK(kEncodingPreference[0] == Encoding::Zstd8mbFrames);
}

TEST_CASE("zstd-8mb-frames: small payloads while no frame is open are raw-block frames") {
  auto enc = make_encoder(Encoding::Zstd8mbFrames);
  Bytes out;
  REQUIRE(enc->encode(as_bytes("ab"), out));
  // magic, single-segment header with a 1-byte content size, one last raw block of 2.
  CHECK(out == Bytes{0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x02, 0x11, 0x00, 0x00, 'a', 'b'});
  Bytes big = noise(300, 1);
  Bytes raw300;
  REQUIRE(enc->end_frame(big, raw300));  // no frame open: raw again, 2-byte size (300 - 256 = 44)
  REQUIRE(raw300.size() == 4 + 3 + 3 + 300);
  CHECK(Bytes(raw300.begin(), raw300.begin() + 10) ==
        Bytes{0x28, 0xb5, 0x2f, 0xfd, 0x60, 44, 0x00, 0x61, 0x09, 0x00});  // 300 << 3 | 1 = 0x961
  unsigned long long size = ZSTD_getFrameContentSize(raw300.data(), raw300.size());
  CHECK(size == 300);
  Bytes back(300);
  CHECK(ZSTD_decompress(back.data(), back.size(), raw300.data(), raw300.size()) == 300);
  CHECK(back == big);
}

TEST_CASE("zstd-8mb-frames: large payloads open a compressed frame, end_frame closes it") {
  auto enc = make_encoder(Encoding::Zstd8mbFrames);
  const std::string text(10000, 'z');
  Bytes stream;
  REQUIRE(enc->encode(as_bytes(text), stream));
  CHECK(stream.size() < 100);  // compressed, not raw
  REQUIRE(enc->encode(as_bytes("tail"), stream));  // the frame is open: compressed into it
  Bytes ended;
  REQUIRE(enc->end_frame(as_bytes("!"), ended));
  append(stream, ended);
  const Bytes stored = zstd_frame("stored chunk text");
  append(stream, stored);
  REQUIRE(enc->encode(as_bytes("after"), stream));  // raw frame: none is open
  // libzstd reads the frames in a row as one stream.
  const std::string want = text + "tail!" + "stored chunk text" + "after";
  Bytes back(want.size() + 10);
  const std::size_t n = ZSTD_decompress(back.data(), back.size(), stream.data(), stream.size());
  REQUIRE_FALSE(ZSTD_isError(n));
  CHECK(std::string(back.begin(), back.begin() + static_cast<std::ptrdiff_t>(n)) == want);
  // So does the profile's decoder, fed a byte at a time.
  auto dec = make_decoder(Encoding::Zstd8mbFrames);
  Bytes decoded;
  for (std::uint8_t b : stream) REQUIRE(dec->decode(ByteView(&b, 1), decoded));
  CHECK(std::string(decoded.begin(), decoded.end()) == want);
}

TEST_CASE("zstd-8mb-frames: end_frame of a large payload while no frame is open is a compressed frame") {
  // A raw frame's header holds at most 65,791 bytes (and a block 128 KiB):
  // the payload before a spliced chunk can be larger (a response's records
  // buffered up to a frame), and once made a corrupt frame here.
  for (std::size_t n : {std::size_t{4095}, std::size_t{4096}, std::size_t{47781}, std::size_t{300000}}) {
    CAPTURE(n);
    auto enc = make_encoder(Encoding::Zstd8mbFrames);
    const Bytes payload = noise(n, 7);
    Bytes out;
    REQUIRE(enc->end_frame(payload, out));
    CHECK(ZSTD_getFrameContentSize(out.data(), out.size()) != ZSTD_CONTENTSIZE_ERROR);
    CHECK(ZSTD_findFrameCompressedSize(out.data(), out.size()) == out.size());  // one whole frame
    auto dec = make_decoder(Encoding::Zstd8mbFrames);
    Bytes back;
    REQUIRE(dec->decode(out, back));
    CHECK(back == payload);
  }
}

TEST_CASE("output stream: spliced bytes follow the payload's encoding, split over frames") {
  OutputStream s(2, make_encoder(Encoding::Zstd8mbFrames), 1000);
  const Bytes noisy = noise(2500, 7);
  const Bytes stored = zstd_frame(std::string(as_chars(noisy)), 1);  // incompressible: > 2500 bytes
  PlannedFrame f{2, 1, T::CommandResponse, command_response_flags::kContinuation, to_bytes("head"), true, stored};
  Bytes wire;
  auto n = s.render(f, wire);
  REQUIRE(n);
  auto frames = test::split_frames(wire);
  CHECK(*n == frames.size());
  REQUIRE(frames.size() == 4);  // settings, then 11 + 2500-odd bytes in frames of at most 1000
  CHECK(as_chars(frames[0].payload) == std::string("\x4fzstd-8mb-frames", 16));
  CHECK(frames[0].header.stream_flags == stream_flags::kBegin);
  for (std::size_t i = 1; i < frames.size(); ++i) {
    CHECK(frames[i].header.stream_flags == stream_flags::kEncoded);
    CHECK(frames[i].payload.size() <= 1000);
  }
  // The stored frame is on the wire as it is.
  Bytes joined;
  for (std::size_t i = 1; i < frames.size(); ++i) append(joined, frames[i].payload);
  CHECK(Bytes(joined.end() - static_cast<std::ptrdiff_t>(stored.size()), joined.end()) == stored);
  Bytes want = to_bytes("head");
  append(want, noisy);
  CHECK(decode_all(wire) == want);
}

TEST_CASE("output stream: spliced bytes are refused where the stream cannot take them") {
  const Bytes stored = zstd_frame("x");
  for (Encoding e : {Encoding::Identity, Encoding::Zlib, Encoding::Zstd8mb}) {
    CAPTURE(encoding_name(e));
    OutputStream s(2, make_encoder(e));
    Bytes wire;
    auto r = s.render(PlannedFrame{2, 1, T::CommandResponse, 0, {}, true, stored}, wire);
    REQUIRE_FALSE(r);
    CHECK(r.error().message == "cannot-splice: output stream 2: " + std::to_string(stored.size()) +
                                   " pre-encoded bytes for a stream encoded as " + std::string(encoding_name(e)) +
                                   ", which cannot take them");
    CHECK(wire.empty());
    CHECK(s.state() == OutputStreamState::Fresh);  // still usable
  }
  OutputStream plain(2, nullptr);
  Bytes wire;
  auto r = plain.render(PlannedFrame{2, 1, T::CommandResponse, 0, {}, true, stored}, wire);
  REQUIRE_FALSE(r);
  CHECK(r.error().message.starts_with("cannot-splice: "));
  OutputStream frames(2, make_encoder(Encoding::Zstd8mbFrames));
  auto wrong_type = frames.render(PlannedFrame{2, 1, T::TextOutput, 0, {}, true, stored}, wire);
  REQUIRE_FALSE(wrong_type);
  CHECK(wrong_type.error().message.starts_with("cannot-splice: "));
}

TEST_CASE("response emitter: a spliced chunk completes a definite byte string") {
  ResponseEmitter e(1, 2);
  PlannedFrames planned;
  e.value(json{{"k", 1}}, planned);
  e.bytes_begin(8, planned);
  e.spliced_chunk(zstd_frame("abc"), 3, planned);
  CHECK(e.state() == EmitterState::DefiniteBytes);
  e.bytes_chunk(as_bytes("de"), planned);
  e.spliced_chunk(zstd_frame("fgh"), 3, planned);
  CHECK(e.state() == EmitterState::Values);
  CHECK_THROWS_AS(e.spliced_chunk(zstd_frame("i"), 1, planned), EmitterMisuse);  // outside a byte string
  e.bytes_begin(2, planned);
  try {
    e.spliced_chunk(zstd_frame("xyz"), 3, planned);
    FAIL("a chunk past the declared length must throw");
  } catch (const EmitterMisuse& m) {
    CHECK(m.code() == EmitterError::ChunkExceedsLength);
  }
  e.bytes_chunk(as_bytes("ok"), planned);
  e.end(planned);

  OutputStream s(2, make_encoder(Encoding::Zstd8mbFrames));
  Bytes wire;
  for (const auto& f : planned) REQUIRE(s.render(f, wire));
  // {status: ok}, {k: 1}, b'abcdefgh', b'ok'
  Bytes want = cbor_encode(json{{"status", cbor_bytes("ok")}});
  append(want, cbor_encode(json{{"k", 1}}));
  append(want, cbor_encode(cbor_bytes("abcdefgh")));
  append(want, cbor_encode(cbor_bytes("ok")));
  CHECK(decode_all(wire) == want);
}
