#include <doctest/doctest.h>

#include <cstdlib>
#include <random>
#include <string>
#include <string_view>

#include "framing/cbor.hpp"
#include "framing/human_notation.hpp"
#include "tests/support/test_support.hpp"

using namespace hgrpc::framing;
using namespace std::literals;
using hgrpc::test::test_seed;

namespace {

Bytes frame_bytes(std::string_view line) {
  auto f = parse_human_frame(line);
  REQUIRE_MESSAGE(f, (f ? "" : f.error().message));
  Bytes out;
  append_frame(out, f->header, f->payload);
  CHECK(f->header.length == f->payload.size());
  return out;
}

std::string parse_error(std::string_view line) {
  auto f = parse_human_frame(line);
  return f ? std::string("(no error)") : f.error().message;
}

// Built with append: "k" + std::to_string(n) trips g++ 12's -Wrestrict at -O3.
std::string numbered(std::string_view prefix, unsigned n) {
  std::string s(prefix);
  s += std::to_string(n);
  return s;
}

json random_value(std::mt19937& rng, int depth) {
  switch (rng() % (depth > 2 ? 5 : 7)) {
    case 0: {
      Bytes b(rng() % 12);
      for (auto& c : b) c = static_cast<std::uint8_t>(rng() % 4 == 0 ? rng() : 'a' + rng() % 26);
      return cbor_bytes(b);
    }
    case 1:
      return rng() % 2 ? json(static_cast<std::uint64_t>(rng()) << (rng() % 32))
                       : json(-static_cast<std::int64_t>(rng() % 100000) - 1);
    case 2:
      return json(rng() % 2 == 0);
    case 3:
      return json(nullptr);
    case 4:
      return json(numbered("text ", rng() % 100));
    case 5: {
      json a = json::array();
      for (unsigned i = rng() % 4; i > 0; --i) a.push_back(random_value(rng, depth + 1));
      return a;
    }
    default: {
      json o = json::object();
      for (unsigned i = rng() % 4; i > 0; --i) {
        o[numbered("k", rng() % 10)] = random_value(rng, depth + 1);
      }
      return o;
    }
  }
}

Bytes random_payload(std::mt19937& rng) {
  switch (rng() % 6) {
    case 0:
      return {};
    case 1:
      return cbor_encode(random_value(rng, 0));
    case 2:
      return to_bytes(" cbor:\\ '\" #x\x00" "1 "sv);  // edges, escapes, \0 before a digit
    case 3:
      return to_bytes("cbor:{}"sv);  // raw bytes that look like notation
    default: {
      Bytes b(rng() % 64);
      for (auto& c : b) c = static_cast<std::uint8_t>(rng());
      return b;
    }
  }
}

}  // namespace

TEST_CASE("human notation: Mercurial's examples give Mercurial's bytes") {
  CHECK(frame_bytes("1 1 stream-begin command-request new cbor:{b'name': b'customreadonly'}") ==
        to_bytes("\x15\x00\x00\x01\x00\x01\x01\x11\xa1" "DnameNcustomreadonly"sv));
  CHECK(frame_bytes("1 1 stream-begin sender-protocol-settings eos cbor:{b'contentencodings': "
                    "[b'identity']}") ==
        to_bytes("\x1c\x00\x00\x01\x00\x01\x01\x82\xa1Pcontentencodings\x81Hidentity"sv));
  CHECK(frame_bytes("1 2 stream-begin stream-settings eos cbor:b'identity'") ==
        to_bytes("\t\x00\x00\x01\x00\x02\x01\x92Hidentity"sv));
  CHECK(frame_bytes("1 2 encoded command-response continuation cbor:{b'status': b'ok'}") ==
        to_bytes("\x0b\x00\x00\x01\x00\x02\x04\x31\xa1" "FstatusBok"sv));
  CHECK(frame_bytes("1 2 0 command-response eos ") == to_bytes("\x00\x00\x00\x01\x00\x02\x00\x32"sv));
}

TEST_CASE("human notation: more lines checked against Mercurial's makeframefromhumanstring") {
  CHECK(frame_bytes("1 1 stream-begin command-request new|have-data cbor:{b'name': b'x', "
                    "b'args': {b'a': [1, -2, None, True]}}") ==
        to_bytes("\x15\x00\x00\x01\x00\x01\x01\x19\xa2\x44\x61\x72\x67\x73\xa1\x41\x61\x84\x01"
                 "\x21\xf6\xf5\x44\x6e\x61\x6d\x65\x41\x78"sv));
  CHECK(frame_bytes("65535 255 stream-begin|stream-end|encoded command-data continuation|eos "
                    "\\x00\\x01ab\\n\\\\ c") ==
        to_bytes("\x08\x00\x00\xff\xff\xff\x07\x23\x00\x01\x61\x62\x0a\x5c\x20\x63"sv));
  CHECK(frame_bytes("3 1 0 text-output 0 cbor:[{b'formatting': b'hi %s', b'args': [b'x']}]") ==
        to_bytes("\x1b\x00\x00\x03\x00\x01\x00\x60\x81\xa2\x44\x61\x72\x67\x73\x81\x41\x78\x4a\x66"
                 "\x6f\x72\x6d\x61\x74\x74\x69\x6e\x67\x45\x68\x69\x20\x25\x73"sv));
  CHECK(frame_bytes("7 5 8 9 12 abc") == to_bytes("\x03\x00\x00\x07\x00\x05\x08\x9c\x61\x62\x63"sv));
}

TEST_CASE("human notation: integers in hex, blanks between fields, missing payload") {
  CHECK(frame_bytes("0x7 0x5 0x08|stream-begin 0x9 0xc abc") ==
        to_bytes("\x03\x00\x00\x07\x00\x05\x09\x9c\x61\x62\x63"sv));
  CHECK(frame_bytes("  1\t2   0  command-response  eos") ==
        to_bytes("\x00\x00\x00\x01\x00\x02\x00\x32"sv));
  // The payload starts after one blank: further blanks are payload.
  CHECK(frame_bytes("1 2 0 command-response eos  a b ") ==
        to_bytes("\x05\x00\x00\x01\x00\x02\x00\x32 a b "sv));
  CHECK(frame_bytes("1 2 0 command-response 1|2 x") == to_bytes("\x01\x00\x00\x01\x00\x02\x00\x33x"sv));
}

TEST_CASE("human notation: errors name the field") {
  CHECK(parse_error("") ==
        "request id: missing (a frame line has <request-id> <stream-id> <stream-flags> <type> "
        "<flags> <payload>)");
  CHECK(parse_error("1 1 stream-begin command-request").substr(0, 21) == "frame flags: missing ");
  CHECK(parse_error("65536 1 0 progress 0 ") == "request id: '65536' is not an integer from 0 to 65535");
  CHECK(parse_error("x 1 0 progress 0 ") == "request id: 'x' is not an integer from 0 to 65535");
  CHECK(parse_error("1 256 0 progress 0 ") == "stream id: '256' is not an integer from 0 to 255");
  CHECK(parse_error("1 -1 0 progress 0 ") == "stream id: '-1' is not an integer from 0 to 255");
  CHECK(parse_error("1 1 stream-bgin progress 0 ") ==
        "stream flags: unknown flag 'stream-bgin' (expected stream-begin, stream-end, encoded or "
        "an integer from 0 to 255)");
  CHECK(parse_error("1 1 stream-begin|| progress 0 ") ==
        "stream flags: empty flag in 'stream-begin||'");
  CHECK(parse_error("1 1 0 command-reply 0 ") ==
        "frame type: unknown type 'command-reply' (expected a type name or an integer from 0 to 15)");
  CHECK(parse_error("1 1 0 16 0 ") ==
        "frame type: unknown type '16' (expected a type name or an integer from 0 to 15)");
  CHECK(parse_error("1 1 0 command-request eos ") ==
        "frame flags: unknown flag 'eos' (expected new, continuation, more, have-data, or an "
        "integer from 0 to 15)");
  CHECK(parse_error("1 1 0 progress new ") ==
        "frame flags: unknown flag 'new' (expected an integer from 0 to 15)");
  CHECK(parse_error("1 1 0 progress 16 ") ==
        "frame flags: unknown flag '16' (expected an integer from 0 to 15)");
  CHECK(parse_error("1 1 0 progress 0 cbor:{b'a': ").starts_with("payload: "));
  CHECK(parse_error("1 1 0 progress 0 \\xZZ").starts_with("payload: "));
}

TEST_CASE("human notation: format prints names, 0, integers for unknown bits, cbor: values") {
  OwnedFrame f;
  f.header = FrameHeader{0, 1, 1, stream_flags::kBegin, 0x01, command_request_flags::kNew};
  f.payload = to_bytes("\xa1" "DnameNcustomreadonly"sv);
  CHECK(format_human_frame(f.view()) ==
        "1 1 stream-begin command-request new cbor:{b'name': b'customreadonly'}");
  CHECK(format_human_frame(f.view(), FormatOptions{false}) ==
        "1 1 stream-begin command-request new \\xa1DnameNcustomreadonly");

  f.header = FrameHeader{0, 1, 2, 0, 0x03, command_response_flags::kEos};
  f.payload.clear();
  CHECK(format_human_frame(f.view()) == "1 2 0 command-response eos ");

  f.header = FrameHeader{0, 300, 7, 0x0d, 0x0a, 0x0f};
  f.payload = to_bytes("a b\n\x00\xff "sv);
  CHECK(format_human_frame(f.view()) == "300 7 stream-begin|encoded|8 10 1|2|4|8 a b\\n\\0\\xff\\x20");

  f.header = FrameHeader{0, 1, 1, 0x80, 0x01, 0x08 | 0x02};
  f.payload = to_bytes("cbor:x"sv);
  CHECK(format_human_frame(f.view()) == "1 1 128 command-request continuation|have-data \\x63bor:x");

  // Two CBOR values, a text map key, an indefinite-length string: bytes.
  f.header = FrameHeader{0, 1, 2, 0, 0x03, 0};
  f.payload = to_bytes("\x41" "a\x41" "b"sv);
  CHECK(format_human_frame(f.view()) == "1 2 0 command-response 0 AaAb");
  f.payload = to_bytes("\xa1" "aa\x01"sv);
  CHECK(format_human_frame(f.view()) == "1 2 0 command-response 0 \\xa1aa\\x01");
  f.payload = to_bytes("\x5f\x41x\xff"sv);
  CHECK(format_human_frame(f.view()) == "1 2 0 command-response 0 _Ax\\xff");
}

TEST_CASE("human notation: parse(format(f)) == f for random frames") {
  const unsigned seed = test_seed();
  INFO("seed = " << seed);
  std::mt19937 rng(seed);
  int cbor_lines = 0;
  for (int i = 0; i < 2000; ++i) {
    OwnedFrame f;
    f.header.request_id = static_cast<std::uint16_t>(rng());
    f.header.stream_id = static_cast<std::uint8_t>(rng());
    f.header.stream_flags = static_cast<std::uint8_t>(rng() % 3 == 0 ? 0 : rng());
    f.header.type = static_cast<std::uint8_t>(rng() % 3 == 0 ? rng() % 16 : 1 + rng() % 9);
    f.header.flags = static_cast<std::uint8_t>(rng() % 16);
    f.payload = random_payload(rng);
    f.header.length = static_cast<std::uint32_t>(f.payload.size());
    for (bool decode_cbor : {true, false}) {
      const std::string line = format_human_frame(f.view(), FormatOptions{decode_cbor});
      CAPTURE(line);
      if (line.find(" cbor:") != std::string::npos) ++cbor_lines;
      auto back = parse_human_frame(line);
      REQUIRE_MESSAGE(back, (back ? "" : back.error().message));
      Bytes a, b;
      append_frame(a, f.header, f.payload);
      append_frame(b, back->header, back->payload);
      CHECK(a == b);
    }
  }
  CHECK(cbor_lines > 100);  // the cbor: form was exercised
}

TEST_CASE("human notation: parse_human_frames skips blanks and comments, names the line") {
  auto body = parse_human_frames(
      "# a request\n"
      "1 1 stream-begin command-request new cbor:{b'name': b'customreadonly'}\r\n"
      "\n"
      "   # indented comment\n"
      "1 2 0 command-response eos ");
  REQUIRE(body);
  CHECK(*body == to_bytes("\x15\x00\x00\x01\x00\x01\x01\x11\xa1" "DnameNcustomreadonly"
                          "\x00\x00\x00\x01\x00\x02\x00\x32"sv));
  auto bad = parse_human_frames("1 2 0 command-response eos \n\n1 2 0 nope 0 ");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message ==
        "line 3: frame type: unknown type 'nope' (expected a type name or an integer from 0 to 15)");
  auto empty = parse_human_frames("");
  REQUIRE(empty);
  CHECK(empty->empty());
}
