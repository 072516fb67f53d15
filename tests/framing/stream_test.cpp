// InputStreams and OutputStream: stream flags, stream settings, encoding.
#include <doctest/doctest.h>

#include <random>
#include <string>

#include "framing/stream.hpp"
#include "tests/framing/reactor_test_util.hpp"

using namespace hgrpc::framing;
using test::owned;
using T = FrameType;
constexpr std::uint8_t kB = stream_flags::kBegin;
constexpr std::uint8_t kE = stream_flags::kEnd;
constexpr std::uint8_t kEnc = stream_flags::kEncoded;

namespace {

OwnedFrame settings(std::uint8_t sid, std::uint8_t sflags, std::uint8_t flags, ByteView payload) {
  return owned(1, sid, sflags, T::StreamSettings, flags, payload);
}
OwnedFrame data(std::uint8_t sid, std::uint8_t sflags, ByteView payload) {
  return owned(1, sid, sflags, T::CommandData, command_data_flags::kContinuation, payload);
}

std::string error_of(InputStreams& in, const std::vector<OwnedFrame>& frames) {
  for (std::size_t i = 0; i < frames.size(); ++i) {
    auto r = in.accept(i, frames[i].view());
    if (!r) return r.error().message;
  }
  return "none";
}

Bytes encode_with(Encoder& e, std::string_view s) {
  Bytes out;
  REQUIRE(e.encode(as_bytes(s), out));
  return out;
}

}  // namespace

TEST_CASE("input streams: begin, end and parity") {
  InputStreams in(true);
  const OwnedFrame a = data(1, kB, to_bytes("a"));
  auto r = in.accept(0, a.view());
  REQUIRE(r);
  REQUIRE(r->has_value());
  CHECK(as_chars((*r)->payload) == "a");
  REQUIRE(in.accept(1, data(1, kE, to_bytes("b")).view()));
  // Closed by stream-end: may begin again.
  REQUIRE(in.accept(2, data(1, kB, to_bytes("c")).view()));

  InputStreams c(false);
  CHECK(error_of(c, {data(1, kB, {})}) ==
        "frame 0 (command-data, request 1, stream 1): stream id 1 is odd; server streams are even");
  InputStreamLimits lim;
  lim.max_open_streams = 2;
  InputStreams few(true, lim);
  CHECK(error_of(few, {data(1, kB, {}), data(3, kB, {}), data(5, kB, {})}) ==
        "frame 2 (command-data, request 1, stream 5): too many open streams (limit 2)");
}

TEST_CASE("input streams: settings spanning frames install a zlib decoder") {
  auto enc = make_encoder(Encoding::Zlib);
  Bytes name = cbor_encode(cbor_bytes("zlib"));
  ByteView n = name;
  InputStreams in(true);
  auto a = in.accept(0, settings(3, kB, settings_flags::kContinuation, n.first(2)).view());
  REQUIRE(a);
  CHECK_FALSE(a->has_value());
  CHECK(in.stream_with_pending_settings() == std::uint8_t{3});
  REQUIRE(in.accept(1, settings(3, 0, settings_flags::kEos, n.subspan(2)).view()));
  CHECK_FALSE(in.stream_with_pending_settings().has_value());
  CHECK(in.encoding_of(3) == Encoding::Zlib);
  // Encoded and plain frames mix on one stream; the context spans frames.
  auto f1 = in.accept(2, data(3, kEnc, encode_with(*enc, "hello hello ")).view());
  REQUIRE(f1);
  CHECK(as_chars((*f1)->payload) == "hello hello ");
  const OwnedFrame plain = data(3, 0, to_bytes("plain"));  // the result views it
  auto f2 = in.accept(3, plain.view());
  REQUIRE(f2);
  CHECK(as_chars((*f2)->payload) == "plain");
  auto f3 = in.accept(4, data(3, kEnc, encode_with(*enc, "hello again")).view());
  REQUIRE(f3);
  CHECK(as_chars((*f3)->payload) == "hello again");
}

TEST_CASE("input streams: settings errors") {
  const Bytes id = cbor_encode(cbor_bytes("identity"));
  auto err = [](std::vector<OwnedFrame> frames) {
    InputStreams in(true);
    return error_of(in, frames);
  };
  const std::string at0 = "frame 0 (stream-settings, request 1, stream 1): ";
  const std::string at1 = "frame 1 (stream-settings, request 1, stream 1): ";
  CHECK(err({settings(1, kB, 3, id)}) == at0 + "stream-settings frame has both continuation and eos flags");
  CHECK(err({settings(1, kB, 0, id)}) == at0 + "stream-settings frame has neither continuation nor eos flag");
  CHECK(err({settings(1, kB, 2, {})}) == at0 + "stream settings contain no CBOR value");
  CHECK(err({settings(1, kB, 2, cbor_encode(json("zlib")))}) ==
        at0 + "stream settings profile name is not a byte string");
  CHECK(err({settings(1, kB, 2, cbor_encode(cbor_bytes("br")))}) ==
        at0 + "unknown stream encoding profile 'br'");
  Bytes extra = id;
  cbor_encode(json(1), extra);
  CHECK(err({settings(1, kB, 2, extra)}) == at0 + "stream settings for identity have 1 unexpected extra value(s)");
  CHECK(err({settings(1, kB, 2, to_bytes("\x5f"))}).starts_with(at0 + "stream settings are not valid CBOR: "));
  CHECK(err({settings(1, kB | kEnc, 2, id)}) == at0 + "stream-settings frame has the encoded flag");
  CHECK(err({data(1, kB, {}), settings(1, 0, 2, id)}) ==
        at1 + "stream-settings frame on stream 1, which already carried other frames");
  CHECK(err({settings(1, kB, 2, id), settings(1, 0, 2, id)}) ==
        at1 + "stream-settings frame on stream 1, which already carried its stream settings");
  CHECK(err({settings(1, kB, 1, id), data(1, 0, {})}) ==
        "frame 1 (command-data, request 1, stream 1): frame on stream 1 while its stream settings are incomplete");
  CHECK(err({settings(1, kB | kE, 1, id)}) == at0 + "stream ended inside its stream settings");
  CHECK(err({data(1, kB | kEnc, to_bytes("x"))}) ==
        "frame 0 (command-data, request 1, stream 1): encoded flag on stream 1, which has no stream settings");
  InputStreamLimits lim;
  lim.max_settings_bytes = 4;
  InputStreams small(true, lim);
  CHECK(error_of(small, {settings(1, kB, 2, id)}) == at0 + "stream settings exceed 4 bytes");
}

TEST_CASE("input streams: corrupt and oversized encoded payloads") {
  InputStreamLimits lim;
  lim.decoder.max_decoded_bytes = 1000;
  InputStreams in(true, lim);
  REQUIRE(in.accept(0, settings(1, kB, 2, cbor_encode(cbor_bytes("zlib"))).view()));
  auto enc = make_encoder(Encoding::Zlib);
  auto r = in.accept(1, data(1, kEnc, encode_with(*enc, std::string(5000, 'a'))).view());
  REQUIRE_FALSE(r);
  CHECK(r.error().message.starts_with("frame 1 (command-data, request 1, stream 1): "));
  InputStreams in2(true);
  REQUIRE(in2.accept(0, settings(1, kB, 2, cbor_encode(cbor_bytes("zstd-8mb"))).view()));
  auto r2 = in2.accept(1, data(1, kEnc, to_bytes("not zstd at all")).view());
  REQUIRE_FALSE(r2);
  CHECK(r2.error().message.starts_with("frame 1 (command-data, request 1, stream 1): "));
}

TEST_CASE("output stream: settings first, begin once, empty payloads plain") {
  OutputStream s(2, make_encoder(Encoding::Identity));
  PlannedFrame f{2, 7, T::CommandResponse, command_response_flags::kContinuation, to_bytes("ab"), true, {}};
  Bytes out;
  REQUIRE(s.render(f, out));
  PlannedFrame eos{2, 7, T::CommandResponse, command_response_flags::kEos, {}, true, {}};
  REQUIRE(s.render(eos, out));
  CHECK(test::hex(out) ==
        "0900000700020192486964656e74697479"  // stream-settings, stream-begin
        "02000007000204316162"                // encoded, continuation
        "0000000700020032");                  // eos, empty, not encoded
  CHECK(s.settings_sent());
  PlannedFrame wrong{4, 7, T::CommandResponse, 0, {}, false, {}};
  CHECK_FALSE(s.render(wrong, out));

  OutputStream plain(1, nullptr);  // no encoder: no settings, no encoded flag
  Bytes p;
  REQUIRE(plain.render(PlannedFrame{1, 1, T::CommandData, command_data_flags::kEos, to_bytes("x"), true, {}}, p));
  CHECK(test::hex(p) == "0100000100010122" "78");
}

TEST_CASE("output stream: encoded payloads larger than a frame are split") {
  std::mt19937 rng(12345);
  Bytes noise(5000);
  for (auto& b : noise) b = static_cast<std::uint8_t>(rng());
  for (Encoding e : {Encoding::Zlib, Encoding::Zstd8mb}) {
    CAPTURE(encoding_name(e));
    OutputStream s(2, make_encoder(e), 1000);
    Bytes out;
    // A raw payload of exactly max size: incompressible, so it grows.
    PlannedFrame f{2, 1, T::CommandResponse, command_response_flags::kEos, Bytes(noise.begin(), noise.begin() + 1000), true, {}};
    REQUIRE(s.render(f, out));
    auto frames = test::split_frames(out);
    REQUIRE(frames.size() == 3);  // settings, 1000 bytes, the rest
    CHECK(frames[1].payload.size() == 1000);
    CHECK(frames[1].header.flags == command_response_flags::kContinuation);
    CHECK(frames[2].header.flags == command_response_flags::kEos);
    CHECK(frames[2].header.stream_flags == kEnc);
    InputStreams in(false);
    Bytes decoded;
    for (std::size_t i = 0; i < frames.size(); ++i) {
      auto r = in.accept(i, frames[i].view());
      REQUIRE(r);
      if (*r) append(decoded, (**r).payload);
    }
    CHECK(decoded == f.payload);

    // A command request split keeps new on the first part only, more on all
    // but the last, continuation on the later parts.
    OutputStream up(3, make_encoder(e), 600);
    Bytes req;
    REQUIRE(up.render(PlannedFrame{3, 1, T::CommandRequest,
                                   command_request_flags::kNew | command_request_flags::kHaveData,
                                   Bytes(noise.begin(), noise.begin() + 1100), true, {}},
                      req));
    auto parts = test::split_frames(req);
    REQUIRE(parts.size() == 3);
    CHECK(parts[1].header.flags == (command_request_flags::kNew | command_request_flags::kHaveData | command_request_flags::kMore));
    CHECK(parts[2].header.flags == (command_request_flags::kContinuation | command_request_flags::kHaveData));
  }
}
