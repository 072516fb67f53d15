#include <doctest/doctest.h>

#include <string_view>

#include "framing/frame.hpp"

using namespace hgrpc::framing;
using namespace std::literals;

TEST_CASE("frame header: encode gives Mercurial's bytes") {
  FrameHeader h{21, 1, 1, stream_flags::kBegin, 0x01, command_request_flags::kNew};
  std::uint8_t out[kFrameHeaderSize];
  encode_header(h, out);
  CHECK(Bytes(out, out + 8) == to_bytes("\x15\x00\x00\x01\x00\x01\x01\x11"sv));
}

TEST_CASE("frame header: decode reads every field, 24-bit length little-endian") {
  const auto in = to_bytes("\xef\xcd\xab\x34\x12\x07\x05\x93"sv);
  FrameHeader h = decode_header(in.data());
  CHECK(h.length == 0xABCDEF);
  CHECK(h.request_id == 0x1234);
  CHECK(h.stream_id == 7);
  CHECK(h.stream_flags == 5);
  CHECK(h.type == 9);
  CHECK(h.flags == 3);
  std::uint8_t out[kFrameHeaderSize];
  encode_header(h, out);
  CHECK(Bytes(out, out + 8) == in);
}

TEST_CASE("frame header: append_frame sets the length from the payload") {
  Bytes out = to_bytes("x"sv);
  append_frame(out, FrameHeader{999, 1, 2, stream_flags::kEncoded, 0x03,
                                command_response_flags::kContinuation},
               as_bytes("\xa1" "FstatusBok"sv));
  CHECK(out == to_bytes("x\x0b\x00\x00\x01\x00\x02\x04\x31\xa1" "FstatusBok"sv));
  Bytes empty;
  append_frame(empty, FrameHeader{0, 1, 2, 0, 0x03, command_response_flags::kEos}, {});
  CHECK(empty == to_bytes("\x00\x00\x00\x01\x00\x02\x00\x32"sv));
}

TEST_CASE("frame names: types and flags as Mercurial spells them") {
  CHECK(frame_type_from_name("command-request") == FrameType::CommandRequest);
  CHECK(frame_type_from_name("stream-settings") == FrameType::StreamSettings);
  CHECK_FALSE(frame_type_from_name("command-requests").has_value());
  CHECK(frame_type_name(0x05) == "error-response");
  CHECK(frame_type_name(0x04).empty());
  CHECK(is_known_frame_type(0x08));
  CHECK_FALSE(is_known_frame_type(0x00));
  CHECK_FALSE(is_known_frame_type(0x0F));

  CHECK(defined_flags(0x01) == 0x0F);
  CHECK(defined_flags(0x02) == 0x03);
  CHECK(defined_flags(0x03) == 0x03);
  CHECK(defined_flags(0x05) == 0x00);
  CHECK(defined_flags(0x06) == 0x00);
  CHECK(defined_flags(0x07) == 0x00);
  CHECK(defined_flags(0x08) == 0x03);
  CHECK(defined_flags(0x09) == 0x03);
  CHECK(defined_flags(0x0A) == 0x00);

  CHECK(stream_flag_name(0x01) == "stream-begin");
  CHECK(stream_flag_name(0x02) == "stream-end");
  CHECK(stream_flag_name(0x04) == "encoded");
  CHECK(stream_flag_name(0x08).empty());
  CHECK(stream_flag_from_name("encoded") == std::uint8_t{4});
  CHECK_FALSE(stream_flag_from_name("eos").has_value());

  CHECK(type_flag_name(0x01, 0x08) == "have-data");
  CHECK(type_flag_name(0x01, 0x04) == "more");
  CHECK(type_flag_name(0x02, 0x02) == "eos");
  CHECK(type_flag_name(0x05, 0x01).empty());
  CHECK(type_flag_from_name(0x01, "continuation") == std::uint8_t{2});
  CHECK(type_flag_from_name(0x09, "continuation") == std::uint8_t{1});
  CHECK_FALSE(type_flag_from_name(0x01, "eos").has_value());
  CHECK_FALSE(type_flag_from_name(0x06, "eos").has_value());
}
