// ResponseEmitter: planned frames, flags, splitting, errors, side channels.
#include <doctest/doctest.h>

#include <stdexcept>
#include <string>

#include "framing/python_literal.hpp"
#include "framing/response_emitter.hpp"
#include "tests/framing/reactor_test_util.hpp"

using namespace hgrpc::framing;
using T = FrameType;
namespace cf = command_response_flags;

namespace {
Bytes joined(const PlannedFrames& p, std::size_t from = 0) {
  Bytes all;
  for (std::size_t i = from; i < p.size(); ++i) append(all, p[i].payload);
  return all;
}
}  // namespace

TEST_CASE("response emitter: status, coalesced data, eos") {
  ResponseEmitter e(5, 2);
  PlannedFrames p;
  e.value(json(1), p);
  e.value(cbor_bytes("ab"), p);
  CHECK(p.size() == 1);  // status only; data is buffered
  e.end(p);
  REQUIRE(p.size() == 3);
  CHECK(test::hex(p[0].payload) == "a146737461747573426f6b");
  CHECK(p[0].flags == cf::kContinuation);
  CHECK(p[0].encode);
  CHECK(test::hex(p[1].payload) == "01426162");
  CHECK(p[1].flags == cf::kContinuation);
  CHECK(p[2].payload.empty());
  CHECK(p[2].flags == cf::kEos);
  for (auto& f : p) {
    CHECK(f.request_id == 5);
    CHECK(f.stream_id == 2);
    CHECK(f.type == T::CommandResponse);
  }
  CHECK(e.finished());
  CHECK_THROWS_AS(e.value(json(1), p), std::logic_error);
}

TEST_CASE("response emitter: an empty response still carries its status") {
  ResponseEmitter e(1, 2);
  PlannedFrames p;
  e.end(p);
  REQUIRE(p.size() == 2);
  CHECK(test::hex(p[0].payload) == "a146737461747573426f6b");
  CHECK(p[1].flags == cf::kEos);
}

TEST_CASE("response emitter: frames never exceed the max frame size") {
  EmitterOptions o;
  o.max_frame_size = 100;
  ResponseEmitter e(1, 2, o);
  PlannedFrames p;
  const Bytes big(1000, 0x61);
  e.value(cbor_bytes(big), p);
  e.encoded_value(cbor_encode(json(7)), p);
  e.flush(p);
  e.end(p);
  for (std::size_t i = 0; i + 1 < p.size(); ++i) {
    CHECK(p[i].payload.size() <= 100);
    CHECK(p[i].flags == cf::kContinuation);
  }
  Bytes expected = cbor_encode(cbor_bytes(big));
  cbor_encode(json(7), expected);
  CHECK(joined(p, 1) == expected);
  CHECK(p[1].payload.size() == 100);
}

TEST_CASE("response emitter: indefinite byte string in chunks") {
  ResponseEmitter e(1, 2);
  PlannedFrames p;
  e.bytes_begin(p);
  e.bytes_chunk(to_bytes("abc"), p);
  e.bytes_chunk({}, p);
  e.bytes_chunk(to_bytes("de"), p);
  e.bytes_end(p);
  CHECK_THROWS_AS(e.bytes_end(p), std::logic_error);
  e.end(p);
  CHECK(test::hex(joined(p, 1)) == "5f43616263426465ff");
  auto values = cbor_decode_all(joined(p));
  REQUIRE(values);
  REQUIRE(values->size() == 2);
  CHECK((*values)[1] == cbor_bytes("abcde"));
}

TEST_CASE("response emitter: command error before data") {
  ResponseEmitter e(3, 2);
  PlannedFrames p;
  e.command_error("invalid argument: %s", {"rev"}, p);
  REQUIRE(p.size() == 1);
  CHECK(p[0].flags == cf::kEos);
  CHECK_FALSE(p[0].encode);
  auto v = cbor_decode_all(p[0].payload);
  REQUIRE(v);
  CHECK(format_python_literal(v->at(0)) ==
        "{b'error': {b'message': [{b'args': [b'rev'], b'msg': b'invalid argument: %s'}]}, b'status': b'error'}");
  CHECK(e.finished());
}

TEST_CASE("response emitter: command error after data is an error-response frame") {
  ResponseEmitter e(3, 2);
  PlannedFrames p;
  e.value(json(1), p);
  e.command_error("stopped", {}, p);
  REQUIRE(p.size() == 3);  // status, buffered data, error
  CHECK(p[2].type == T::ErrorResponse);
  CHECK(p[2].flags == 0);
  auto v = cbor_decode_all(p[2].payload);
  REQUIRE(v);
  CHECK(format_python_literal(v->at(0)) == "{b'message': [{b'msg': b'stopped'}], b'type': b'command'}");
}

TEST_CASE("response emitter: error-response cut to one frame") {
  EmitterOptions o;
  o.max_frame_size = 64;
  ResponseEmitter e(1, 2, o);
  PlannedFrames p;
  e.error_response(ErrorType::Server, std::string(500, 'x'), p);
  REQUIRE(p.size() == 1);
  CHECK(p[0].payload.size() <= 64);
  auto v = cbor_decode_all(p[0].payload);
  REQUIRE(v);
  CHECK(v->at(0)["type"] == cbor_bytes("server"));
}

TEST_CASE("response emitter: side channels only for clients that opted in") {
  PlannedFrames p;
  ResponseEmitter plain(1, 2);
  CHECK_FALSE(plain.text_output(json::array({message_atom("hi\n")}), p));
  CHECK_FALSE(plain.progress("t", 1, 2, "", "", p));
  CHECK(p.empty());
  EmitterOptions o;
  o.text_output = true;
  o.progress = true;
  ResponseEmitter e(1, 2, o);
  CHECK(e.text_output(json::array({message_atom("hi\n")}), p));
  CHECK(e.progress("t", -1, 2, "", "", p));
  REQUIRE(p.size() == 2);
  CHECK(p[0].type == T::TextOutput);
  CHECK(test::hex(p[0].payload) == "81a1436d7367436869" "0a");
  CHECK(p[1].type == T::Progress);
  auto v = cbor_decode_all(p[1].payload);
  REQUIRE(v);
  CHECK(format_python_literal(v->at(0)) == "{b'pos': -1, b'topic': 't', b'total': 2}");
}

TEST_CASE("response emitter: set_stream flushes to the old stream first") {
  ResponseEmitter e(1, 2);
  PlannedFrames p;
  e.value(json(1), p);
  e.set_stream(4, p);
  e.value(json(2), p);
  e.end(p);
  REQUIRE(p.size() == 4);
  CHECK(p[0].stream_id == 2);
  CHECK(p[1].stream_id == 2);
  CHECK(test::hex(p[1].payload) == "01");
  CHECK(p[2].stream_id == 4);
  CHECK(test::hex(p[2].payload) == "02");
  CHECK(p[3].stream_id == 4);
}
