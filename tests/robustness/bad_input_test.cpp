// The bad-input catalogue: one test per hostile body, each against the real
// hgrpcd. Each asserts the exact outcome (HTTP status, or the error frame's
// type and message) and that the server then still answers a good request
// correctly with bounded memory.
#include <doctest/doctest.h>

#include <zlib.h>
#include <zstd.h>

#include "framing/content_encoding.hpp"
#include "tests/robustness/robust_support.hpp"

using namespace hgrpc::server::robustness;

namespace {

constexpr long kRssBoundKib = 160 * 1024 * kMemoryFactor;  // the idle server uses ~10 MiB

// A good request afterwards gets the right answer, and memory is bounded.
void still_serving(TestServer& server, long rss_bound_kib = kRssBoundKib) {
  Call call;
  const Bytes body = good_body(call);
  auto c = server.client();
  auto r = post(c, kApi + "/ro/multirequest", body);
  REQUIRE(r.status == 200);
  Decoded d = decode(call.reactor, fr::as_bytes(r.body));
  CHECK_FALSE(d.protocol_error);
  REQUIRE(d.values[call.ids[0]].size() == 1);
  CHECK(str(d.values[call.ids[0]][0]) == "HELLO world");
  const long rss = rss_kib(server);
  CAPTURE(rss);
  CHECK(rss > 0);
  CHECK(rss < rss_bound_kib);
}

// POSTs body; expects 400 whose body is the one protocol error frame.
void expect_protocol_error(TestServer& server, const Bytes& body, const std::string& message,
                           const std::string& path = kApi + "/ro/multirequest") {
  auto c = server.client();
  auto r = post(c, path, body);
  CHECK(r.status == 400);
  CHECK(r.content_type == kMedia);
  CHECK(protocol_error_message(r.body) == message);
  still_serving(server);
}

Bytes request_payload(std::string_view name, const json& args) {
  return fr::cbor_encode({{"name", bin(name)}, {"args", args}});
}

// Stream 1 opened with stream settings naming `profile`.
Bytes encoded_stream_start(std::string_view profile) {
  Bytes body;
  frame(body, 1, 1, fr::stream_flags::kBegin, kStreamSettings, fr::settings_flags::kEos,
        fr::cbor_encode(bin(profile)));
  return body;
}

// Command-request frames on stream 1 (encoded) carrying `payload` split at 60000 bytes.
void encoded_request_frames(Bytes& body, ByteView payload) {
  namespace crf = fr::command_request_flags;
  for (std::size_t pos = 0; pos < payload.size(); pos += 60000) {
    const auto n = std::min<std::size_t>(60000, payload.size() - pos);
    const std::uint8_t flags = (pos == 0 ? crf::kNew : crf::kContinuation) | crf::kMore;
    frame(body, 1, 1, fr::stream_flags::kEncoded, kRequest, flags, payload.subspan(pos, n));
  }
}

// `copies` repetitions of the steady-state output of `encoder` for 1 MiB of
// zeros: each encode() flushes, and once the window is all zeros the output
// for the next MiB of zeros is the same bytes, so repeating it is a valid
// stream of (copies + 2) MiB of zeros.
Bytes zero_bomb(fr::Encoding e, std::size_t copies) {
  auto enc = fr::make_encoder(e);
  const Bytes zeros(1 << 20, 0);
  Bytes first, second, third;
  REQUIRE(enc->encode(zeros, first).has_value());
  REQUIRE(enc->encode(zeros, second).has_value());
  REQUIRE(enc->encode(zeros, third).has_value());
  REQUIRE(second == third);
  Bytes out = first;
  for (std::size_t i = 0; i < copies; ++i) fr::append(out, second);
  return out;
}

}  // namespace

TEST_CASE("bad input: a truncated frame header") {
  TestServer server;
  Bytes body{0x10, 0x00, 0x00};
  expect_protocol_error(server, body, "body ends inside frame 0 at body offset 0: 3 of 8 header bytes");
}

TEST_CASE("bad input: a truncated payload") {
  TestServer server;
  const Bytes payload = request_payload("capabilities", json::object());
  Bytes body;
  frame(body, 1, 1, fr::stream_flags::kBegin, kRequest, fr::command_request_flags::kNew, payload);
  body.resize(body.size() - 5);
  expect_protocol_error(server, body,
                        "body ends inside frame 0 at body offset 0: " + std::to_string(payload.size() - 5) +
                            " of " + std::to_string(payload.size()) + " payload bytes");
}

TEST_CASE("bad input: a declared length over the max frame size") {
  TestServer server({"--max-frame-size", "4096"});
  Bytes body;
  frame(body, 1, 1, fr::stream_flags::kBegin, kRequest, fr::command_request_flags::kNew,
        Bytes(4097, 0));
  body.resize(fr::kFrameHeaderSize);  // the header alone is refused
  expect_protocol_error(server, body,
                        "frame 0 at body offset 0 (request 1, stream 1): payload length 4097 exceeds "
                        "the maximum frame size 4096");
}

TEST_CASE("bad input: a frame on a closed stream without stream-begin") {
  TestServer server;
  Bytes body;
  frame(body, 1, 1, 0, kRequest, fr::command_request_flags::kNew,
        request_payload("capabilities", json::object()));
  expect_protocol_error(server, body,
                        "frame 0 (command-request, request 1, stream 1): stream 1 is not open and the "
                        "frame lacks the stream-begin flag");
}

TEST_CASE("bad input: an even stream id from a client") {
  TestServer server;
  Bytes body;
  frame(body, 1, 2, fr::stream_flags::kBegin, kRequest, fr::command_request_flags::kNew,
        request_payload("capabilities", json::object()));
  expect_protocol_error(server, body,
                        "frame 0 (command-request, request 1, stream 2): stream id 2 is even; client "
                        "streams are odd");
}

TEST_CASE("bad input: an unknown frame type") {
  TestServer server;
  Bytes body;
  frame(body, 1, 1, fr::stream_flags::kBegin, 0x0c, 0, {});
  expect_protocol_error(server, body, "frame 0 (type 0x0c, request 1, stream 1): unknown frame type 0x0c");
}

TEST_CASE("bad input: undefined flag bits") {
  TestServer server;
  SUBCASE("stream flags") {
    Bytes body;
    frame(body, 1, 1, fr::stream_flags::kBegin | 0x40, kRequest, fr::command_request_flags::kNew,
          request_payload("capabilities", json::object()));
    expect_protocol_error(server, body,
                          "frame 0 (command-request, request 1, stream 1): undefined stream flags 0x40");
  }
  SUBCASE("type flags") {
    Bytes body;
    frame(body, 1, 1, fr::stream_flags::kBegin, kStreamSettings,
          fr::settings_flags::kEos | 0x08, fr::cbor_encode(bin("identity")));
    expect_protocol_error(server, body,
                          "frame 0 (stream-settings, request 1, stream 1): undefined flags 0x08 for "
                          "stream-settings");
  }
}

TEST_CASE("bad input: continuation without new") {
  TestServer server;
  Bytes body;
  frame(body, 1, 1, fr::stream_flags::kBegin, kRequest, fr::command_request_flags::kContinuation,
        request_payload("capabilities", json::object()));
  expect_protocol_error(server, body,
                        "frame 0 (command-request, request 1, stream 1): command-request continuation "
                        "for request 1, which is not being received");
}

TEST_CASE("bad input: command data for an unknown request") {
  TestServer server;
  Bytes body;
  frame(body, 5, 1, fr::stream_flags::kBegin, kData, fr::command_data_flags::kEos,
        fr::as_bytes("data"));
  expect_protocol_error(server, body,
                        "frame 0 (command-data, request 5, stream 1): command-data for request 5, "
                        "which is not being received");
}

TEST_CASE("bad input: a second request with an active id") {
  TestServer server;
  namespace crf = fr::command_request_flags;
  const Bytes payload = request_payload("capabilities", json::object());
  Bytes body;
  frame(body, 1, 1, fr::stream_flags::kBegin, kRequest, crf::kNew | crf::kMore,
        ByteView(payload).first(3));
  frame(body, 1, 1, 0, kRequest, crf::kNew, payload);
  expect_protocol_error(server, body,
                        "frame 1 (command-request, request 1, stream 1): new request 1 while request 1 "
                        "is still being received");
}

TEST_CASE("bad input: stream settings naming an unknown encoding") {
  TestServer server;
  expect_protocol_error(server, encoded_stream_start("brotli"),
                        "frame 0 (stream-settings, request 1, stream 1): unknown stream encoding "
                        "profile 'brotli'");
}

TEST_CASE("bad input: zstd data needing a window over 8 MiB") {
  TestServer server;
  // windowLog 24 (16 MiB) and no content size: the frame header declares the
  // window, whatever the (small) content.
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  REQUIRE(!ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_windowLog, 24)));
  REQUIRE(!ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 0)));
  const Bytes payload = request_payload("capabilities", json::object());
  Bytes z(ZSTD_compressBound(payload.size()) + 64);
  ZSTD_inBuffer in{payload.data(), payload.size(), 0};
  ZSTD_outBuffer out{z.data(), z.size(), 0};
  REQUIRE(ZSTD_compressStream2(cctx, &out, &in, ZSTD_e_flush) == 0);
  ZSTD_freeCCtx(cctx);
  z.resize(out.pos);
  // A decoder allowed 16 MiB windows takes it; the profile's refuses it.
  Bytes plain;
  REQUIRE(fr::make_decoder(fr::Encoding::Zstd8mb, {.zstd_window_log_max = 24})->decode(z, plain).has_value());
  CHECK(plain == payload);
  CHECK_FALSE(fr::make_decoder(fr::Encoding::Zstd8mb)->decode(z, plain).has_value());

  Bytes body = encoded_stream_start("zstd-8mb");
  frame(body, 1, 1, fr::stream_flags::kEncoded, kRequest, fr::command_request_flags::kNew, z);
  expect_protocol_error(server, body,
                        "frame 1 (command-request, request 1, stream 1): zstd-8mb: frame needs a "
                        "window larger than 8 MiB (window log max 23): Frame requires too much memory "
                        "for decoding (stream input byte 0)");
}

TEST_CASE("bad input: zlib and zstd decompression bombs stop at the limit") {
  // 64 MiB per stream here; the bodies would decode to 1 GiB (zlib) and 4 GiB (zstd).
  TestServer server({"--max-stream-decoded-bytes", "64MiB"});
  for (auto [e, copies] : {std::pair{fr::Encoding::Zlib, std::size_t{1022}},
                           std::pair{fr::Encoding::Zstd8mb, std::size_t{4094}}}) {
    const std::string profile(fr::encoding_name(e));
    CAPTURE(profile);
    const Bytes bomb = zero_bomb(e, copies);
    INFO("bomb of " << bomb.size() << " bytes");
    CHECK(bomb.size() < (e == fr::Encoding::Zlib ? 1200000u : 200000u));
    Bytes body = encoded_stream_start(profile);
    encoded_request_frames(body, bomb);
    const long peak_before = peak_kib(server);
    auto c = server.client();
    auto r = post(c, kApi + "/ro/multirequest", body);
    CHECK(r.status == 400);
    const std::string msg = protocol_error_message(r.body);
    CHECK(msg.find(profile + ": decoded size exceeds the limit of 67108864 bytes") != std::string::npos);
    CHECK(msg.rfind("frame ", 0) == 0);
    // The request buffer holds at most the 64 MiB; nothing near the bomb's size.
    const long peak = peak_kib(server);
    CAPTURE(peak_before);
    CAPTURE(peak);
    CHECK(peak < 200 * 1024 * kMemoryFactor);
    still_serving(server);
  }
}

TEST_CASE("bad input: CBOR nested 100000 deep") {
  TestServer server;
  namespace crf = fr::command_request_flags;
  Bytes payload(100000, 0x81);  // [[[[... over two frames
  payload.push_back(0x00);
  Bytes body;
  frame(body, 1, 1, fr::stream_flags::kBegin, kRequest, crf::kNew | crf::kMore, ByteView(payload).first(60000));
  frame(body, 1, 1, 0, kRequest, crf::kContinuation, ByteView(payload).subspan(60000));
  expect_protocol_error(server, body,
                        "frame 1 (command-request, request 1, stream 1): request 1: payload is not valid "
                        "CBOR: CBOR: array at offset 64 nests deeper than the limit of 64");
}

TEST_CASE("bad input: a CBOR length claiming 2^63 bytes") {
  TestServer server;
  Bytes payload{0xA2, 0x44, 'n', 'a', 'm', 'e', 0x5B, 0x80, 0, 0, 0, 0, 0, 0, 0};
  Bytes body;
  frame(body, 1, 1, fr::stream_flags::kBegin, kRequest, fr::command_request_flags::kNew, payload);
  expect_protocol_error(server, body,
                        "frame 0 (command-request, request 1, stream 1): request 1: payload is not valid "
                        "CBOR: CBOR: byte string of 9223372036854775808 bytes at offset 6 exceeds the "
                        "limit of 268435456");
}

TEST_CASE("bad input: 100000 interleaved requests in one body") {
  TestServer server;
  namespace crf = fr::command_request_flags;
  const Bytes head{0xA2};  // the first byte of each request's map: never complete
  Bytes body;
  for (std::uint32_t i = 0; i < 100000; ++i) {
    frame(body, static_cast<std::uint16_t>(1 + i % 65535), 1, i == 0 ? fr::stream_flags::kBegin : 0,
          kRequest, crf::kNew | crf::kMore, head);
  }
  expect_protocol_error(server, body,
                        "frame 1024 (command-request, request 1025, stream 1): more than 1024 requests "
                        "being received at once");
}

TEST_CASE("bad input: a delta whose patched size is 2^40") {
  TestServer server;
  // 512 hunks each inserting 2^31 - 1 bytes (declared, not sent), plus the rest.
  Bytes patch;
  for (int i = 0; i < 512; ++i) fr::append(patch, delta(0, 0, "", 0x7FFFFFFF));
  Call call;
  const auto id = call.add("applypatches", {{"base", bin("x")}, {"patches", json::array({json::binary(patch)})}});
  auto c = server.client();
  auto r = post(c, kApi + "/ro/multirequest", call.body);
  REQUIRE(r.status == 200);
  Decoded d = decode(call.reactor, fr::as_bytes(r.body));
  CHECK_FALSE(d.protocol_error);
  REQUIRE(d.command_errors.count(id) == 1);
  CHECK(error_msg(d.command_errors[id]) == "cannot apply patches: %s");
  CHECK(str(d.command_errors[id].at("message").at(0).at("args").at(0)) ==
        "delta 0, hunk 0 (offset 0): data of 2147483647 bytes runs past the end of the delta (6132 "
        "bytes remain)");
  // patchedsize computes a 2^40 + 1 result from the headers alone.
  Call sized;
  const auto sid = sized.add("patchedsize", {{"size", std::uint64_t{1} << 40},
                                             {"patches", json::array({json::binary(delta(0, 0, "x"))})}});
  auto r2 = post(c, kApi + "/ro/multirequest", sized.body);
  REQUIRE(r2.status == 200);
  Decoded d2 = decode(sized.reactor, fr::as_bytes(r2.body));
  CHECK(d2.values[sid] == std::vector<json>{(std::uint64_t{1} << 40) + 1});
  CHECK(peak_kib(server) < 100 * 1024 * kMemoryFactor);
  still_serving(server);
}
