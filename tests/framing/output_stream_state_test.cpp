// OutputStream's transition table (framing/stream.hpp): every row, and each
// illegal render with its named error.
#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "framing/stream.hpp"
#include "tests/framing/reactor_test_util.hpp"

using namespace hgrpc::framing;
using S = OutputStreamState;
using E = OutputStreamError;

namespace {

// An encoder that succeeds `good` times, then fails; output = "<" in ">".
class ScriptedEncoder : public Encoder {
 public:
  explicit ScriptedEncoder(int good, std::size_t grow = 0) : good_(good), grow_(grow) {}
  Encoding encoding() const override { return Encoding::Zlib; }
  Result<void> encode(ByteView in, Bytes& out) override {
    if (good_-- <= 0) return fail("scripted failure");
    out.push_back('<');
    append(out, in);
    out.insert(out.end(), grow_, '+');
    out.push_back('>');
    return {};
  }

 private:
  int good_;
  std::size_t grow_;
};

PlannedFrame frame(std::uint8_t stream, FrameType type, std::string_view payload, bool encode = true) {
  PlannedFrame f;
  f.stream_id = stream;
  f.request_id = 1;
  f.type = type;
  f.flags = command_response_flags::kContinuation;
  f.payload = to_bytes(payload);
  f.encode = encode;
  return f;
}

std::string error_name(const Result<std::size_t>& r) {
  REQUIRE_FALSE(r.has_value());
  return r.error().message.substr(0, r.error().message.find(':'));
}

}  // namespace

TEST_CASE("output stream: fresh -> open, settings first, frame counts reported") {
  OutputStream s(2, std::make_unique<ScriptedEncoder>(10));
  CHECK(s.state() == S::Fresh);
  Bytes out;
  auto r = s.render(frame(2, FrameType::CommandResponse, "ab"), out);
  REQUIRE(r);
  CHECK(*r == 2);  // stream-settings + the frame
  CHECK(s.state() == S::Open);
  // settings: len 5, request 1, stream 2, begin, type 9 (stream-settings)
  // flags 2 (eos), CBOR b"zlib"; then type 3 (command-response) flags 1
  // (continuation), encoded
  CHECK(test::hex(out) == "050000" "0100" "02" "01" "92" "447a6c6962"
                          "040000" "0100" "02" "04" "31" "3c61623e");
  Bytes more;
  r = s.render(frame(2, FrameType::CommandResponse, "c"), more);
  REQUIRE(r);
  CHECK(*r == 1);
  CHECK(s.state() == S::Open);
  CHECK(test::hex(more) == "030000" "0100" "02" "04" "31" "3c633e");
}

TEST_CASE("output stream: a split encoded payload counts every frame") {
  OutputStream s(2, std::make_unique<ScriptedEncoder>(10, 150), 64);
  Bytes out;
  auto r = s.render(frame(2, FrameType::CommandResponse, "x"), out);
  REQUIRE(r);
  CHECK(*r == 1 + 3);  // settings + 153 bytes in frames of 64, 64, 25
  CHECK(out.size() == (8 + 5) + (8 + 64) + (8 + 64) + (8 + 25));
}

TEST_CASE("output stream: illegal renders give their named errors") {
  Bytes out;
  SUBCASE("wrong-stream, state kept") {
    OutputStream s(2, nullptr);
    CHECK(error_name(s.render(frame(4, FrameType::CommandResponse, "a"), out)) == "wrong-stream");
    CHECK(s.last_error() == E::WrongStream);
    CHECK(s.state() == S::Fresh);
    CHECK(out.empty());
    REQUIRE(s.render(frame(2, FrameType::CommandResponse, "a"), out));
    CHECK(s.state() == S::Open);
    CHECK(error_name(s.render(frame(4, FrameType::CommandResponse, "a"), out)) == "wrong-stream");
    CHECK(s.state() == S::Open);
  }
  SUBCASE("frame-too-large, state kept") {
    OutputStream s(2, nullptr, 64);
    auto r = s.render(frame(2, FrameType::CommandResponse, std::string(65, 'a')), out);
    CHECK(error_name(r) == "frame-too-large");
    CHECK(r.error().message ==
          "frame-too-large: output stream 2: planned frame of 65 bytes exceeds the max frame size 64");
    CHECK(s.state() == S::Fresh);
    CHECK(out.empty());
  }
  SUBCASE("unsplittable-frame, state kept") {
    OutputStream s(2, std::make_unique<ScriptedEncoder>(10, 100), 64);
    CHECK(error_name(s.render(frame(2, FrameType::TextOutput, "a"), out)) == "unsplittable-frame");
    CHECK(s.last_error() == E::UnsplittableFrame);
    CHECK(s.state() == S::Fresh);
  }
  SUBCASE("encoder-failed -> failed; then stream-failed") {
    OutputStream s(2, std::make_unique<ScriptedEncoder>(1));
    REQUIRE(s.render(frame(2, FrameType::CommandResponse, "a"), out));
    const auto before = out.size();
    auto r = s.render(frame(2, FrameType::CommandResponse, "b"), out);
    CHECK(error_name(r) == "encoder-failed");
    CHECK(r.error().message == "encoder-failed: output stream 2: scripted failure");
    CHECK(s.state() == S::Failed);
    CHECK(out.size() == before);
    CHECK(error_name(s.render(frame(2, FrameType::CommandResponse, "c", false), out)) == "stream-failed");
    CHECK(s.last_error() == E::StreamFailed);
    CHECK(s.state() == S::Failed);
  }
}

TEST_CASE("output stream: state and error names") {
  CHECK(output_stream_state_name(S::Fresh) == "fresh");
  CHECK(output_stream_state_name(S::Open) == "open");
  CHECK(output_stream_state_name(S::Failed) == "failed");
  CHECK(output_stream_error_name(E::WrongStream) == "wrong-stream");
  CHECK(output_stream_error_name(E::FrameTooLarge) == "frame-too-large");
  CHECK(output_stream_error_name(E::UnsplittableFrame) == "unsplittable-frame");
  CHECK(output_stream_error_name(E::EncoderFailed) == "encoder-failed");
  CHECK(output_stream_error_name(E::StreamFailed) == "stream-failed");
}
