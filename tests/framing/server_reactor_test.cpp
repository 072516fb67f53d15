// ServerReactor: request assembly, settings, limits and every protocol error.
#include <doctest/doctest.h>

#include <string>
#include <variant>
#include <vector>

#include "framing/server_reactor.hpp"
#include "tests/framing/reactor_test_util.hpp"

using namespace hgrpc::framing;
using test::owned;
using T = FrameType;
namespace rf = command_request_flags;
namespace df = command_data_flags;
constexpr std::uint8_t kB = stream_flags::kBegin;

namespace {

Bytes request_cbor(std::string_view name, const json& args = json::object()) {
  json m = json::object();
  m["name"] = cbor_bytes(name);
  if (!args.empty()) m["args"] = args;
  return cbor_encode(m);
}

// Feeds frames; returns the non-WantFrame actions.
std::vector<ServerAction> run(ServerReactor& r, const std::vector<OwnedFrame>& frames) {
  std::vector<ServerAction> out;
  for (const auto& f : frames) {
    auto a = r.on_frame(f.view());
    if (!std::holds_alternative<WantFrame>(a)) out.push_back(std::move(a));
  }
  return out;
}

std::string error_of(const std::vector<OwnedFrame>& frames, ServerReactorOptions o = {}) {
  ServerReactor r(o);
  auto actions = run(r, frames);
  REQUIRE(!actions.empty());
  REQUIRE(std::holds_alternative<ProtocolError>(actions.back()));
  CHECK(r.state() == ServerState::Errored);
  return std::get<ProtocolError>(actions.back()).message;
}

OwnedFrame req(std::uint16_t id, std::uint8_t sflags, std::uint8_t flags, ByteView payload,
               std::uint8_t stream = 1) {
  return owned(id, stream, sflags, T::CommandRequest, flags, payload);
}

}  // namespace

TEST_CASE("server reactor: request spanning three frames with args") {
  json args = json::object();
  args["key"] = cbor_bytes("value");
  args["n"] = 7;
  Bytes cbor = request_cbor("lookup", args);
  REQUIRE(cbor.size() > 10);
  ByteView v = cbor;
  ServerReactor r;
  auto a = run(r, {req(1, kB, rf::kNew | rf::kMore, v.first(4)),
                   req(1, 0, rf::kContinuation | rf::kMore, v.subspan(4, 4)),
                   req(1, 0, rf::kContinuation, v.subspan(8))});
  REQUIRE(a.size() == 1);
  auto& run1 = std::get<RunCommand>(a[0]);
  CHECK(run1.request_id == 1);
  CHECK(run1.name == "lookup");
  CHECK(run1.args == args);
  CHECK(r.is_active(1));
  CHECK(r.state() == ServerState::Idle);
}

TEST_CASE("server reactor: command data over frames, interleaved with another request") {
  Bytes c1 = request_cbor("put");
  Bytes c3 = request_cbor("get");
  ServerReactor r;
  auto a = run(r, {req(1, kB, rf::kNew | rf::kHaveData, c1),
                   owned(1, 1, 0, T::CommandData, df::kContinuation, to_bytes("abc")),
                   req(3, 0, rf::kNew, c3),
                   owned(1, 1, 0, T::CommandData, df::kEos, to_bytes("def"))});
  REQUIRE(a.size() == 2);
  CHECK(std::get<RunCommand>(a[0]).name == "get");
  CHECK(std::get<RunCommand>(a[0]).request_id == 3);
  CHECK_FALSE(std::get<RunCommand>(a[0]).data.has_value());
  const auto& put = std::get<RunCommand>(a[1]);
  CHECK(put.request_id == 1);
  REQUIRE(put.data.has_value());
  CHECK(*put.data == to_bytes("abcdef"));
}

TEST_CASE("server reactor: text names, redirect and empty data") {
  json m = json::object();
  m["name"] = "textname";
  m["redirect"] = json::object({{"targets", json::array({cbor_bytes("cdn")})}});
  ServerReactor r;
  auto a = run(r, {req(5, kB, rf::kNew | rf::kHaveData, cbor_encode(m)),
                   owned(5, 1, 0, T::CommandData, df::kEos, {})});
  REQUIRE(a.size() == 1);
  const auto& c = std::get<RunCommand>(a[0]);
  CHECK(c.name == "textname");
  CHECK(c.redirect == m["redirect"]);
  REQUIRE(c.data.has_value());
  CHECK(c.data->empty());
}

TEST_CASE("server reactor: protocol settings choose the output encoding and opt-ins") {
  json s = json::object();
  s["contentencodings"] = json::array({cbor_bytes("zlib"), cbor_bytes("zstd-8mb"), cbor_bytes("identity")});
  s["hgrpc-accept-frames"] = json::array({cbor_bytes("progress"), cbor_bytes("future-thing")});
  s["unknown"] = 1;
  Bytes p = cbor_encode(s);
  ByteView v = p;
  ServerReactor r;
  CHECK(run(r, {owned(1, 1, kB, T::SenderProtocolSettings, settings_flags::kContinuation, v.first(5)),
                owned(1, 1, 0, T::SenderProtocolSettings, settings_flags::kEos, v.subspan(5))})
            .empty());
  CHECK(r.state() == ServerState::Idle);
  CHECK(r.output_encoding() == Encoding::Zstd8mb);  // the server's preference wins
  CHECK(r.client_settings().accept_progress);
  CHECK_FALSE(r.client_settings().accept_text_output);
  auto o = r.emitter_options();
  CHECK(o.progress);
  CHECK_FALSE(o.text_output);
  OutputStream s2 = r.make_output_stream();
  OutputStream s4 = r.make_output_stream();
  CHECK(s2.id() == 2);
  CHECK(s4.id() == 4);
  CHECK(s2.encoding() == Encoding::Zstd8mb);

  ServerReactorOptions only_zlib;
  only_zlib.encoding_preference = {Encoding::Zlib, Encoding::Identity};
  ServerReactor r2(only_zlib);
  run(r2, {owned(1, 1, kB, T::SenderProtocolSettings, settings_flags::kEos, p)});
  CHECK(r2.output_encoding() == Encoding::Zlib);

  ServerReactor r3;  // no settings: identity
  CHECK(r3.output_encoding() == Encoding::Identity);
}

TEST_CASE("server reactor: a response done frees its request id") {
  Bytes c = request_cbor("x");
  ServerReactor r;
  auto a = run(r, {req(1, kB, rf::kNew, c)});
  REQUIRE(a.size() == 1);
  r.on_response_done(1);
  auto b = run(r, {req(1, 0, rf::kNew, c)});
  REQUIRE(b.size() == 1);
  CHECK(std::holds_alternative<RunCommand>(b[0]));
}

TEST_CASE("server reactor: frame validation errors") {
  Bytes c = request_cbor("x");
  CHECK(error_of({owned(1, 1, kB, static_cast<T>(0x0c), 0, c)}) ==
        "frame 0 (type 0x0c, request 1, stream 1): unknown frame type 0x0c");
  CHECK(error_of({owned(1, 1, kB, T::CommandData, 0x04, {})}) ==
        "frame 0 (command-data, request 1, stream 1): undefined flags 0x04 for command-data");
  CHECK(error_of({owned(1, 1, kB, T::ErrorResponse, 0x01, {})}) ==
        "frame 0 (error-response, request 1, stream 1): undefined flags 0x01 for error-response");
  CHECK(error_of({req(1, kB | 0x08, rf::kNew, c)}) ==
        "frame 0 (command-request, request 1, stream 1): undefined stream flags 0x08");
  CHECK(error_of({req(1, kB, rf::kNew, c, 2)}) ==
        "frame 0 (command-request, request 1, stream 2): stream id 2 is even; client streams are odd");
  CHECK(error_of({owned(1, 1, kB, T::CommandResponse, 0x02, {})}) ==
        "frame 0 (command-response, request 1, stream 1): command-response frames are only sent by servers");
  CHECK(error_of({owned(1, 1, kB, T::Progress, 0, {})}) ==
        "frame 0 (progress, request 1, stream 1): progress frames are only sent by servers");
  CHECK(error_of({req(1, 0, rf::kNew, c)}) ==
        "frame 0 (command-request, request 1, stream 1): stream 1 is not open and the frame lacks the stream-begin flag");
  CHECK(error_of({req(1, kB, rf::kNew | rf::kMore, c), req(1, kB, rf::kContinuation, c)}) ==
        "frame 1 (command-request, request 1, stream 1): stream-begin flag on stream 1, which is already open");
  CHECK(error_of({req(1, kB | stream_flags::kEnd, rf::kNew | rf::kMore, c), req(1, 0, rf::kContinuation, c)}) ==
        "frame 1 (command-request, request 1, stream 1): stream 1 is not open and the frame lacks the stream-begin flag");
  CHECK(error_of({req(1, kB | stream_flags::kEncoded, rf::kNew, c)}) ==
        "frame 0 (command-request, request 1, stream 1): encoded flag on stream 1, which has no stream settings");
}

TEST_CASE("server reactor: protocol settings errors") {
  auto ps = [](std::uint8_t sflags, std::uint8_t flags, ByteView payload) {
    return owned(1, 1, sflags, T::SenderProtocolSettings, flags, payload);
  };
  const std::string at0 = "frame 0 (sender-protocol-settings, request 1, stream 1): ";
  CHECK(error_of({ps(kB, 0x03, {})}) == at0 + "sender-protocol-settings frame has both continuation and eos flags");
  CHECK(error_of({ps(kB, 0, {})}) == at0 + "sender-protocol-settings frame has neither continuation nor eos flag");
  CHECK(error_of({ps(kB, 2, {})}) == at0 + "sender protocol settings hold 0 CBOR values; expected one map");
  Bytes two = cbor_encode(json::object());
  cbor_encode(json::object(), two);
  CHECK(error_of({ps(kB, 2, two)}) == at0 + "sender protocol settings hold 2 CBOR values; expected one map");
  CHECK(error_of({ps(kB, 2, cbor_encode(json::array()))}) == at0 + "sender protocol settings are not a CBOR map");
  CHECK(error_of({ps(kB, 2, to_bytes("\xa1"))}).starts_with(at0 + "sender protocol settings are not valid CBOR: "));
  CHECK(error_of({ps(kB, 2, cbor_encode(json::object({{"contentencodings", cbor_bytes("zlib")}})))}) ==
        at0 + "sender protocol settings: contentencodings is not a list");
  CHECK(error_of({ps(kB, 2, cbor_encode(json::object({{"contentencodings", json::array({cbor_bytes("zlib"), 3})}})))}) ==
        at0 + "sender protocol settings: contentencodings item 1 is not a byte string");
  CHECK(error_of({ps(kB, 2, cbor_encode(json::object({{"hgrpc-accept-frames", 1}})))}) ==
        at0 + "sender protocol settings: hgrpc-accept-frames is not a list");
  Bytes c = request_cbor("x");
  CHECK(error_of({ps(kB, 1, {}), req(1, 0, rf::kNew, c)}) ==
        "frame 1 (command-request, request 1, stream 1): expected a sender-protocol-settings continuation frame");
  CHECK(error_of({req(1, kB, rf::kNew, c), ps(0, 2, cbor_encode(json::object()))}) ==
        "frame 1 (sender-protocol-settings, request 1, stream 1): sender-protocol-settings is only allowed as the first frame(s) of the body");
  CHECK(error_of({req(1, kB, rf::kNew | rf::kMore, c), ps(0, 2, cbor_encode(json::object()))}) ==
        "frame 1 (sender-protocol-settings, request 1, stream 1): sender-protocol-settings is only allowed as the first frame(s) of the body");
  CHECK(error_of({ps(kB, 1, {}), owned(1, 3, kB, T::StreamSettings, 2, cbor_encode(cbor_bytes("identity")))}) ==
        "frame 1 (stream-settings, request 1, stream 3): stream-settings frame inside the sender protocol settings");
  ServerReactorOptions small;
  small.max_protocol_settings_bytes = 4;
  CHECK(error_of({ps(kB, 2, cbor_encode(json::object({{"contentencodings", json::array()}})))}, small) ==
        at0 + "sender protocol settings exceed 4 bytes");
}

TEST_CASE("server reactor: command request errors") {
  Bytes c = request_cbor("x");
  const std::string at1 = "frame 1 (command-request, request 1, stream 1): ";
  CHECK(error_of({req(1, kB, rf::kNew | rf::kContinuation, c)}) ==
        "frame 0 (command-request, request 1, stream 1): command-request frame has both new and continuation flags");
  CHECK(error_of({req(1, kB, 0, c)}) ==
        "frame 0 (command-request, request 1, stream 1): command-request frame has neither new nor continuation flag");
  CHECK(error_of({req(1, kB, rf::kNew | rf::kMore, c), req(3, 0, rf::kMore, c)}) ==
        "frame 1 (command-request, request 3, stream 1): command-request frame has neither new nor continuation flag");
  CHECK(error_of({req(1, kB, rf::kContinuation, c)}) ==
        "frame 0 (command-request, request 1, stream 1): command-request continuation for request 1, which is not being received");
  CHECK(error_of({req(1, kB, rf::kNew | rf::kMore, c), req(1, 0, rf::kNew, c)}) ==
        at1 + "new request 1 while request 1 is still being received");
  CHECK(error_of({req(1, kB, rf::kNew, c), req(1, 0, rf::kNew, c)}) ==
        at1 + "new request 1 while request 1 is still active (its response is not done)");
  CHECK(error_of({req(1, kB, rf::kNew, c), req(1, 0, rf::kContinuation, c)}) ==
        at1 + "command-request continuation for request 1, which was already dispatched");
  CHECK(error_of({req(1, kB, rf::kNew | rf::kHaveData, c), req(1, 0, rf::kContinuation | rf::kHaveData, c)}) ==
        at1 + "command-request continuation for request 1 after its last command-request frame");
  CHECK(error_of({req(1, kB, rf::kNew | rf::kMore | rf::kHaveData, c), req(1, 0, rf::kContinuation, c)}) ==
        at1 + "have-data flag not set but it was set on the first frame of request 1");
  CHECK(error_of({req(1, kB, rf::kNew | rf::kMore, c), req(1, 0, rf::kContinuation | rf::kHaveData, c)}) ==
        at1 + "have-data flag set but it was not set on the first frame of request 1");
}

TEST_CASE("server reactor: command data errors") {
  Bytes c = request_cbor("x");
  auto data = [](std::uint16_t id, std::uint8_t flags) {
    return owned(id, 1, 0, T::CommandData, flags, to_bytes("d"));
  };
  const std::string at1 = "frame 1 (command-data, request 1, stream 1): ";
  CHECK(error_of({owned(1, 1, kB, T::CommandData, df::kEos, {})}) ==
        "frame 0 (command-data, request 1, stream 1): command-data for request 1, which is not being received");
  CHECK(error_of({req(1, kB, rf::kNew | rf::kMore, c), data(1, df::kEos)}) ==
        at1 + "command-data for request 1, which did not announce have-data");
  CHECK(error_of({req(1, kB, rf::kNew | rf::kMore | rf::kHaveData, c), data(1, df::kEos)}) ==
        at1 + "command-data for request 1 before its command-request frames were complete");
  CHECK(error_of({req(1, kB, rf::kNew | rf::kHaveData, c), data(1, df::kEos | df::kContinuation)}) ==
        at1 + "command-data frame has both continuation and eos flags");
  CHECK(error_of({req(1, kB, rf::kNew | rf::kHaveData, c), data(1, 0)}) ==
        at1 + "command-data frame has neither continuation nor eos flag");
  CHECK(error_of({req(1, kB, rf::kNew | rf::kHaveData, c), data(1, df::kEos), data(1, df::kEos)}) ==
        "frame 2 (command-data, request 1, stream 1): command-data for request 1, which was already dispatched");
  CHECK(error_of({req(1, kB, rf::kNew, c), data(3, df::kEos)}) ==
        at1.substr(0, 0) + "frame 1 (command-data, request 3, stream 1): command-data for request 3, which is not being received");
}

TEST_CASE("server reactor: request payload errors") {
  const std::string at0 = "frame 0 (command-request, request 1, stream 1): request 1: ";
  CHECK(error_of({req(1, kB, rf::kNew, to_bytes("\xa1"))}).starts_with(at0 + "payload is not valid CBOR: "));
  CHECK(error_of({req(1, kB, rf::kNew, {})}) == at0 + "payload holds 0 CBOR values; expected one map");
  Bytes two = request_cbor("x");
  append(two, request_cbor("y"));
  CHECK(error_of({req(1, kB, rf::kNew, two)}) == at0 + "payload holds 2 CBOR values; expected one map");
  CHECK(error_of({req(1, kB, rf::kNew, cbor_encode(cbor_bytes("x")))}) == at0 + "payload is not a CBOR map");
  CHECK(error_of({req(1, kB, rf::kNew, cbor_encode(json::object({{"args", json::object()}})))}) ==
        at0 + "payload has no name");
  CHECK(error_of({req(1, kB, rf::kNew, cbor_encode(json::object({{"name", 5}})))}) ==
        at0 + "name is not a byte or text string");
  CHECK(error_of({req(1, kB, rf::kNew, cbor_encode(json::object({{"name", "x"}, {"args", json::array()}})))}) ==
        at0 + "args is not a map");
}

TEST_CASE("server reactor: limits") {
  Bytes c = request_cbor("x");
  ServerReactorOptions o;
  o.max_request_bytes = c.size() + 3;
  CHECK(error_of({req(1, kB, rf::kNew | rf::kHaveData, c),
                  owned(1, 1, 0, T::CommandData, df::kContinuation, to_bytes("abc")),
                  owned(1, 1, 0, T::CommandData, df::kEos, to_bytes("d"))},
                 o) ==
        "frame 2 (command-data, request 1, stream 1): request 1 exceeds the limit of " +
            std::to_string(c.size() + 3) + " bytes (request payload + data)");
  ServerReactorOptions two;
  two.max_receiving_requests = 2;
  CHECK(error_of({req(1, kB, rf::kNew | rf::kMore, c), req(3, 0, rf::kNew | rf::kMore, c),
                  req(5, 0, rf::kNew | rf::kMore, c)},
                 two) ==
        "frame 2 (command-request, request 5, stream 1): more than 2 requests being received at once");
}

TEST_CASE("server reactor: errored state and input end") {
  Bytes c = request_cbor("x");
  ServerReactor r;
  auto a = run(r, {req(1, kB, 0, c), req(3, 0, rf::kNew, c)});
  REQUIRE(a.size() == 2);
  CHECK(std::get<ProtocolError>(a[1]).message ==
        "frame 1 (command-request, request 3, stream 1): already errored after an earlier protocol error");
  CHECK_FALSE(r.on_input_end().has_value());

  ServerReactor r2;
  run(r2, {req(1, kB, rf::kNew, c), req(3, 0, rf::kNew | rf::kHaveData, c)});
  auto e = r2.on_input_end();
  REQUIRE(e.has_value());
  CHECK(e->message == "body ended while request 3 was still being received");

  ServerReactor r3;
  run(r3, {owned(1, 1, kB, T::SenderProtocolSettings, settings_flags::kContinuation, {})});
  CHECK(r3.on_input_end()->message == "body ended inside the sender protocol settings");

  ServerReactor r4;
  run(r4, {owned(1, 3, kB, T::StreamSettings, settings_flags::kContinuation, {})});
  CHECK(r4.on_input_end()->message == "body ended inside the stream settings of stream 3");

  ServerReactor r5;
  run(r5, {req(1, kB, rf::kNew, c)});
  CHECK_FALSE(r5.on_input_end().has_value());
}
