// Python literal notation: parsing, printing, escapes, errors with positions.
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>

#include "framing/python_literal.hpp"

using namespace hgrpc::framing;

namespace {

json parse_ok(std::string_view text) {
  auto r = parse_python_literal(text);
  REQUIRE_MESSAGE(r, (r ? "" : r.error().message));
  return *r;
}

std::string parse_error(std::string_view text, std::size_t max_depth = 64) {
  auto r = parse_python_literal(text, max_depth);
  REQUIRE(!r);
  return r.error().message;
}

}  // namespace

TEST_CASE("python literal: Mercurial's human notation payloads") {
  const json v = parse_ok("{b'name': b'capabilities', b'args': {b'x': [1, -2, b'\\x00\\xff']}}");
  const json want = {{"name", cbor_bytes("capabilities")},
                     {"args", {{"x", json::array({1, -2, cbor_bytes(std::string("\0\xff", 2))})}}}};
  CHECK(v == want);
  CHECK(cbor_encode(parse_ok("{b'name': b'customreadonly'}")) ==
        to_bytes("\xa1" "DnameNcustomreadonly"));
  CHECK(format_python_literal(v) ==
        "{b'args': {b'x': [1, -2, b'\\0\\xff']}, b'name': b'capabilities'}");
}

TEST_CASE("python literal: scalars") {
  CHECK(parse_ok("True") == json(true));
  CHECK(parse_ok(" False ") == json(false));
  CHECK(parse_ok("None").is_null());
  CHECK(parse_ok("0") == json(0u));
  CHECK(parse_ok("-0") == json(0u));
  CHECK(parse_ok("0x1F") == json(31u));
  CHECK(parse_ok("-0x10") == json(-16));
  CHECK(parse_ok("18446744073709551615") == json(std::numeric_limits<std::uint64_t>::max()));
  CHECK(parse_ok("-9223372036854775808") == json(std::numeric_limits<std::int64_t>::min()));
  CHECK(parse_ok("b''") == cbor_bytes(""));
  CHECK(parse_ok("B\"it's\"") == cbor_bytes("it's"));
  CHECK(parse_ok("'h\\xe9\\u20ac\\U0001F600'") == json("h\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"));
  CHECK(parse_ok("'h\xc3\xa9'") == json("h\xc3\xa9"));
  CHECK(parse_ok("b'\\\\\\'\\\"\\n\\r\\t\\0\\101\\x7f'") == cbor_bytes(std::string("\\'\"\n\r\t\0A\x7f", 9)));
}

TEST_CASE("python literal: containers") {
  CHECK(parse_ok("[]") == json::array());
  CHECK(parse_ok("{}") == json::object());
  CHECK(parse_ok("()") == json::array());
  CHECK(parse_ok("(1)") == json(1u));  // parentheses, not a tuple
  CHECK(parse_ok("(1,)") == json::array({1}));
  CHECK(parse_ok("(1, b'a')") == json::array({1, cbor_bytes("a")}));
  CHECK(parse_ok("[1, [2, [3]],]") == json::array({1, json::array({2, json::array({3})})}));
  CHECK(parse_ok("{b'a', b'b'}") == json::array({cbor_bytes("a"), cbor_bytes("b")}));
  CHECK(parse_ok("{1,}") == json::array({1}));
  CHECK(parse_ok("{'k': 1, b'l': {},}") == json{{"k", 1}, {"l", json::object()}});
  CHECK(parse_ok("\n{ b'a' :\t[ ] }\r\n") == json{{"a", json::array()}});
}

TEST_CASE("python literal: errors name the position") {
  CHECK(parse_error("") == "unexpected end of input at position 0");
  CHECK(parse_error("[1, 2") == "expected ',' or ']' but input ends at position 5");
  CHECK(parse_error("[1 2]") == "expected ',' or ']' at position 3, found '2'");
  CHECK(parse_error("{b'a': 1 b'b'}") == "expected ',' or '}' at position 9, found 'b'");
  CHECK(parse_error("{b'a': 1, b'b' 2}") == "expected ':' at position 15, found '2'");
  CHECK(parse_error("{b'a', 1: 2}") == "expected ',' or '}' at position 8, found ':'");
  CHECK(parse_error("{1: 2}") == "dict key at position 1 is number, not bytes or str");
  CHECK(parse_error("{b'a': 1, [2]: 3}") == "dict key at position 10 is array, not bytes or str");
  CHECK(parse_error("{b'a': 1, 'a': 2}") == "duplicate dict key b'a' at position 10");
  CHECK(parse_error("b'abc") == "unterminated bytes literal at position 0");
  CHECK(parse_error("[ 'ab\ncd']") == "unterminated str literal at position 2");
  CHECK(parse_error("b'\\q'") == "unknown escape \\q at position 2");
  CHECK(parse_error("b'\\x4'") == "escape \\x at position 2 needs 2 hex digits");
  CHECK(parse_error("'\\ud800'") == "escape at position 1 is not a valid code point");
  CHECK(parse_error("b'\\u0041'") == "unknown escape \\u at position 2");
  CHECK(parse_error("b'\\777'") == "octal escape above \\377 at position 2 in a bytes literal");
  CHECK(parse_error("b'\xc3\xa9'") == "non-ASCII character in bytes literal at position 2");
  CHECK(parse_error("'\xc3'") == "str literal at position 0 is not valid UTF-8");
  CHECK(parse_error("18446744073709551616") == "integer at position 0 does not fit in 64 bits");
  CHECK(parse_error("[-9223372036854775809]") == "integer at position 1 does not fit in 64 bits");
  CHECK(parse_error("-x") == "malformed integer at position 0");
  CHECK(parse_error("1 2") == "unexpected '2' at position 2");
  CHECK(parse_error("Nonesuch") == "unexpected 's' at position 4");
  CHECK(parse_error("true") == "unexpected 't' at position 0");
}

TEST_CASE("python literal: nesting depth is bounded") {
  CHECK(parse_error(std::string(100000, '['), 64) == "nesting deeper than 64 at position 64");
  CHECK(parse_error("[[[]]]", 2) == "nesting deeper than 2 at position 2");
  CHECK(parse_python_literal("[[]]", 2));
  CHECK(parse_error("{b'a': ({1},)}", 2) == "nesting deeper than 2 at position 8");
}

TEST_CASE("python literal: printing") {
  CHECK(format_python_literal(json(nullptr)) == "None");
  CHECK(format_python_literal(json(true)) == "True");
  CHECK(format_python_literal(json(-5)) == "-5");
  CHECK(format_python_literal(json(std::numeric_limits<std::uint64_t>::max())) == "18446744073709551615");
  CHECK(format_python_literal(json("it's \\ \x01\n\xc3\xa9")) == "'it\\'s \\\\ \\x01\\n\xc3\xa9'");
  CHECK(format_python_literal(json::array()) == "[]");
  CHECK(format_python_literal(json::object()) == "{}");
  CHECK(format_python_literal(json{{"b", 1}, {"a", json::array({cbor_bytes("x"), nullptr})}}) ==
        "{b'a': [b'x', None], b'b': 1}");
}

TEST_CASE("escape_bytes / unescape_bytes") {
  const std::string raw("a'\\\n\r\t\0" "0\0x\x7f\x80\xff\"", 14);
  CHECK(escape_bytes(as_bytes(raw)) == "a\\'\\\\\\n\\r\\t\\x000\\0x\\x7f\\x80\\xff\"");
  auto back = unescape_bytes(escape_bytes(as_bytes(raw)));
  REQUIRE(back);
  CHECK(*back == to_bytes(raw));
  auto unquoted = unescape_bytes("it's\\x41\\101\\0");
  REQUIRE(unquoted);
  CHECK(*unquoted == to_bytes(std::string("it'sAA\0", 7)));
  CHECK(unescape_bytes("ab\\").error().message == "incomplete escape at position 2");
  CHECK(unescape_bytes("\\xZZ").error().message == "escape \\x at position 0 needs 2 hex digits");
  CHECK(unescape_bytes("a\\z").error().message == "unknown escape \\z at position 1");
}

TEST_CASE("python literal: seeded round trips through print and parse") {
  const std::uint64_t seed = std::random_device{}();
  INFO("seed = " << seed);
  std::mt19937_64 rng(seed);
  auto pick = [&](std::uint64_t n) { return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng); };
  for (int iter = 0; iter < 500; ++iter) {
    Bytes b(pick(12));
    for (auto& c : b) c = static_cast<std::uint8_t>(rng());
    const std::string key(as_chars(b));
    const json v = json{{key, json::array({json::binary(b), json(key.size() % 2 ? -static_cast<std::int64_t>(rng() >> 2) : 7),
                                           json("\xc3\xa9'\\" + std::to_string(iter)), nullptr, true, json::object()})}};
    const std::string text = format_python_literal(v);
    CAPTURE(text);
    auto parsed = parse_python_literal(text);
    REQUIRE_MESSAGE(parsed, (parsed ? "" : parsed.error().message));
    CHECK(*parsed == v);
    CHECK(format_python_literal(*parsed) == text);
  }
}
