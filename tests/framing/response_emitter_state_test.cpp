// ResponseEmitter's transition table (framing/response_emitter.hpp): each
// state's legal moves, and each illegal call with its named error.
#include <doctest/doctest.h>

#include <functional>
#include <string>

#include "framing/response_emitter.hpp"
#include "tests/framing/reactor_test_util.hpp"

using namespace hgrpc::framing;
using S = EmitterState;
using E = EmitterError;

namespace {

Bytes joined(const PlannedFrames& p, std::size_t from = 0) {
  Bytes all;
  for (std::size_t i = from; i < p.size(); ++i) append(all, p[i].payload);
  return all;
}

// Puts a fresh emitter into state s.
ResponseEmitter in_state(S s, PlannedFrames& p) {
  ResponseEmitter e(1, 2);
  switch (s) {
    case S::Fresh: break;
    case S::Values: e.value(json(1), p); break;
    case S::IndefiniteBytes: e.bytes_begin(p); break;
    case S::DefiniteBytes: e.bytes_begin(10, p); break;
    case S::PreEncoded: e.pre_encoded(to_bytes("x"), p); break;
    case S::Finished: e.end(p); break;
  }
  REQUIRE(e.state() == s);
  return e;
}

using Call = std::function<void(ResponseEmitter&, PlannedFrames&)>;
struct Named {
  const char* name;
  Call call;
};
const Named kCalls[] = {
    {"value", [](ResponseEmitter& e, PlannedFrames& p) { e.value(json(2), p); }},
    {"encoded_value", [](ResponseEmitter& e, PlannedFrames& p) { e.encoded_value(cbor_encode(json(2)), p); }},
    {"bytes_begin", [](ResponseEmitter& e, PlannedFrames& p) { e.bytes_begin(p); }},
    {"bytes_begin(n)", [](ResponseEmitter& e, PlannedFrames& p) { e.bytes_begin(3, p); }},
    {"bytes_chunk", [](ResponseEmitter& e, PlannedFrames& p) { e.bytes_chunk(to_bytes("ab"), p); }},
    {"bytes_end", [](ResponseEmitter& e, PlannedFrames& p) { e.bytes_end(p); }},
    {"pre_encoded", [](ResponseEmitter& e, PlannedFrames& p) { e.pre_encoded(to_bytes("yz"), p); }},
    {"end", [](ResponseEmitter& e, PlannedFrames& p) { e.end(p); }},
    {"command_error", [](ResponseEmitter& e, PlannedFrames& p) { e.command_error("no", {}, p); }},
    {"error_response", [](ResponseEmitter& e, PlannedFrames& p) { e.error_response(ErrorType::Server, "no", p); }},
};

// The table of the header, row by row: the next state, or the error.
struct Cell {
  bool legal;
  S next;
  E error;
};
Cell expected(S state, std::string_view call) {
  const auto ok = [](S n) { return Cell{true, n, E::AfterEnd}; };
  const auto bad = [](E e) { return Cell{false, S::Finished, e}; };
  if (state == S::Finished) return bad(E::AfterEnd);
  if (call == "command_error" || call == "error_response") return ok(S::Finished);
  if (call == "pre_encoded") return state == S::Fresh || state == S::PreEncoded ? ok(S::PreEncoded) : bad(E::MixedPreEncoded);
  if (state == S::PreEncoded) return call == "end" ? ok(S::Finished) : bad(E::MixedPreEncoded);
  const bool in_bytes = state == S::IndefiniteBytes || state == S::DefiniteBytes;
  if (call == "value" || call == "encoded_value") return in_bytes ? bad(E::ValueInsideBytes) : ok(S::Values);
  if (call == "bytes_begin") return in_bytes ? bad(E::BytesBeginInsideBytes) : ok(S::IndefiniteBytes);
  if (call == "bytes_begin(n)") return in_bytes ? bad(E::BytesBeginInsideBytes) : ok(S::DefiniteBytes);
  if (call == "bytes_chunk") return in_bytes ? ok(state) : bad(E::ChunkOutsideBytes);
  if (call == "bytes_end") {
    if (state == S::IndefiniteBytes) return ok(S::Values);
    return bad(state == S::DefiniteBytes ? E::BytesEndOfDefinite : E::BytesEndOutsideBytes);
  }
  return in_bytes ? bad(E::EndInsideBytes) : ok(S::Finished);  // end
}

}  // namespace

TEST_CASE("response emitter: every state x call follows the table") {
  for (S state : {S::Fresh, S::Values, S::IndefiniteBytes, S::DefiniteBytes, S::PreEncoded, S::Finished}) {
    for (const auto& c : kCalls) {
      CAPTURE(emitter_state_name(state));
      CAPTURE(c.name);
      PlannedFrames p;
      ResponseEmitter e = in_state(state, p);
      const Cell want = expected(state, c.name);
      const std::size_t frames_before = p.size();
      if (want.legal) {
        c.call(e, p);
        CHECK(e.state() == want.next);
      } else {
        try {
          c.call(e, p);
          FAIL("no error");
        } catch (const EmitterMisuse& m) {
          CHECK(m.code() == want.error);
          CHECK(std::string(m.what()).find(std::string(emitter_error_name(want.error))) != std::string::npos);
        }
        CHECK(e.state() == state);  // an illegal call changes nothing
        CHECK(p.size() == frames_before);
      }
    }
  }
}

TEST_CASE("response emitter: a definite byte string in pieces") {
  ResponseEmitter e(1, 2);
  PlannedFrames p;
  e.bytes_begin(5, p);
  e.bytes_chunk(to_bytes("ab"), p);
  CHECK(e.state() == S::DefiniteBytes);
  CHECK_THROWS_AS(e.bytes_chunk(to_bytes("cdef"), p), EmitterMisuse);  // 4 > 3 left
  try {
    e.bytes_chunk(to_bytes("cdef"), p);
  } catch (const EmitterMisuse& m) {
    CHECK(m.code() == E::ChunkExceedsLength);
  }
  e.bytes_chunk(to_bytes("cde"), p);
  CHECK(e.state() == S::Values);  // the declared length is complete
  e.value(json(7), p);
  e.end(p);
  CHECK(test::hex(joined(p, 1)) == "456162636465" "07");
  // The same bytes as the whole value at once.
  ResponseEmitter whole(1, 2);
  PlannedFrames q;
  whole.value(cbor_bytes("abcde"), q);
  whole.value(json(7), q);
  whole.end(q);
  CHECK(joined(q) == joined(p));
  CHECK(q.size() == p.size());
}

TEST_CASE("response emitter: a zero-length definite byte string is complete at once") {
  ResponseEmitter e(1, 2);
  PlannedFrames p;
  e.bytes_begin(0, p);
  CHECK(e.state() == S::Values);
  e.end(p);
  CHECK(test::hex(joined(p, 1)) == "40");
}

TEST_CASE("response emitter: a large definite string splits at the frame size like a value") {
  EmitterOptions o;
  o.max_frame_size = 100;
  const Bytes big(1000, 0x62);
  ResponseEmitter pieces(1, 2, o);
  PlannedFrames p;
  pieces.bytes_begin(big.size(), p);
  for (std::size_t i = 0; i < big.size(); i += 77)
    pieces.bytes_chunk(ByteView(big).subspan(i, std::min<std::size_t>(77, big.size() - i)), p);
  pieces.end(p);
  ResponseEmitter whole(1, 2, o);
  PlannedFrames q;
  whole.value(cbor_bytes(big), q);
  whole.end(q);
  REQUIRE(p.size() == q.size());
  for (std::size_t i = 0; i < p.size(); ++i) {
    CHECK(p[i].payload == q[i].payload);
    CHECK(p[i].flags == q[i].flags);
  }
}

TEST_CASE("response emitter: an error mid byte string ends the response with an error frame") {
  ResponseEmitter e(3, 2);
  PlannedFrames p;
  e.bytes_begin(1000, p);
  e.bytes_chunk(to_bytes("partial"), p);
  e.command_error("disk gone at %s", {"rev 4"}, p);
  CHECK(e.state() == S::Finished);
  REQUIRE(p.size() == 3);  // status, the partial data, the error
  CHECK(p[2].type == FrameType::ErrorResponse);
  CHECK(test::hex(p[1].payload) == "5903e8" "7061727469616c");
  auto v = cbor_decode_all(p[2].payload);
  REQUIRE(v);
  CHECK(v->at(0) == json{{"type", cbor_bytes("command")},
                         {"message", json::array({{{"msg", cbor_bytes("disk gone at %s")},
                                                   {"args", json::array({cbor_bytes("rev 4")})}}})}});
}

TEST_CASE("response emitter: state and error names") {
  CHECK(emitter_state_name(S::Fresh) == "fresh");
  CHECK(emitter_state_name(S::Values) == "values");
  CHECK(emitter_state_name(S::IndefiniteBytes) == "indefinite-bytes");
  CHECK(emitter_state_name(S::DefiniteBytes) == "definite-bytes");
  CHECK(emitter_state_name(S::Finished) == "finished");
  CHECK(emitter_error_name(E::AfterEnd) == "after-end");
  CHECK(emitter_error_name(E::ChunkOutsideBytes) == "chunk-outside-bytes");
  CHECK(emitter_error_name(E::BytesEndOutsideBytes) == "bytes-end-outside-bytes");
  CHECK(emitter_error_name(E::ValueInsideBytes) == "value-inside-bytes");
  CHECK(emitter_error_name(E::BytesBeginInsideBytes) == "bytes-begin-inside-bytes");
  CHECK(emitter_error_name(E::EndInsideBytes) == "end-inside-bytes");
  CHECK(emitter_error_name(E::BytesEndOfDefinite) == "bytes-end-of-definite");
  CHECK(emitter_error_name(E::ChunkExceedsLength) == "chunk-exceeds-length");
}
