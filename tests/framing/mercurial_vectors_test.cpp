// Byte-exact exchanges produced by Mercurial 5.8's wireprotoframing.
#include <doctest/doctest.h>

#include <string>
#include <variant>

#include "framing/response_emitter.hpp"
#include "framing/server_reactor.hpp"
#include "framing/stream.hpp"
#include "tests/framing/reactor_test_util.hpp"

using namespace hgrpc::framing;
using namespace std::string_literals;

namespace {
Bytes B(const std::string& s) { return to_bytes(s); }
}  // namespace

TEST_CASE("mercurial: a one-frame command request runs the command") {
  const Bytes wire = B("\x15\x00\x00\x01\x00\x01\x01\x11\xa1" "DnameNcustomreadonly"s);
  auto frames = test::split_frames(wire);
  REQUIRE(frames.size() == 1);
  ServerReactor r;
  auto a = r.on_frame(frames[0].view());
  REQUIRE(std::holds_alternative<RunCommand>(a));
  const auto& run = std::get<RunCommand>(a);
  CHECK(run.request_id == 1);
  CHECK(run.name == "customreadonly");
  CHECK(run.args == json::object());
  CHECK_FALSE(run.data.has_value());
  CHECK(run.redirect.is_null());
  CHECK(r.state() == ServerState::Idle);
  CHECK_FALSE(r.on_input_end().has_value());
}

TEST_CASE("mercurial: client protocol settings naming identity") {
  const Bytes wire = B("\x1c\x00\x00\x01\x00\x01\x01\x82\xa1" "Pcontentencodings\x81" "Hidentity"s);
  auto frames = test::split_frames(wire);
  REQUIRE(frames.size() == 1);
  ServerReactor r;
  CHECK(std::holds_alternative<WantFrame>(r.on_frame(frames[0].view())));
  CHECK(r.state() == ServerState::Idle);
  CHECK(r.client_settings().content_encodings == std::vector<std::string>{"identity"});
  CHECK(r.output_encoding() == Encoding::Identity);
}

TEST_CASE("mercurial: identity response to a bytes result, frame by frame") {
  ServerReactor r;
  auto frames = test::split_frames(B("\x15\x00\x00\x01\x00\x01\x01\x11\xa1" "DnameNcustomreadonly"s));
  REQUIRE(std::holds_alternative<RunCommand>(r.on_frame(frames[0].view())));
  OutputStream out = r.make_output_stream();
  CHECK(out.id() == 2);
  ResponseEmitter e = r.make_emitter(1, out.id());
  PlannedFrames planned;
  e.value(cbor_bytes("customreadonly bytes response"), planned);
  e.end(planned);
  r.on_response_done(1);
  CHECK_FALSE(r.is_active(1));
  Bytes wire;
  for (const auto& p : planned) REQUIRE(out.render(p, wire));
  const auto got = test::split_frames(wire);
  const std::string expected[] = {
      "\t\x00\x00\x01\x00\x02\x01\x92Hidentity"s,
      "\x0b\x00\x00\x01\x00\x02\x04\x31\xa1" "FstatusBok"s,
      "\x1f\x00\x00\x01\x00\x02\x04\x31X\x1d" "customreadonly bytes response"s,
      "\x00\x00\x00\x01\x00\x02\x00\x32"s,
  };
  REQUIRE(got.size() == 4);
  for (std::size_t i = 0; i < 4; ++i) {
    CAPTURE(i);
    Bytes one;
    append_frame(one, got[i].header, got[i].payload);
    CHECK(test::hex(one) == test::hex(B(expected[i])));
  }
}
