// CBOR decoder: values, indefinite lengths, tag 258, limits, truncation and
// every error message with its byte offset.
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <string>

#include "framing/cbor.hpp"
#include "tests/support/test_support.hpp"

using namespace hgrpc::framing;
using hgrpc::test::unhex;

namespace {

json decode_one(std::string_view h, CborLimits limits = {}) {
  auto r = cbor_decode_all(unhex(h), limits);
  REQUIRE_MESSAGE(r, (r ? "" : r.error().message));
  REQUIRE(r->size() == 1);
  return (*r)[0];
}

std::string decode_error(std::string_view h, CborLimits limits = {}) {
  auto r = cbor_decode_all(unhex(h), limits);
  REQUIRE(!r);
  return r.error().message;
}

std::string repeat(std::string_view s, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += s;
  return out;
}

}  // namespace

TEST_CASE("cbor decode: integers at every length boundary") {
  CHECK(decode_one("00") == json(0u));
  CHECK(decode_one("17") == json(23u));
  CHECK(decode_one("1818") == json(24u));
  CHECK(decode_one("18ff") == json(255u));
  CHECK(decode_one("190100") == json(256u));
  CHECK(decode_one("19ffff") == json(65535u));
  CHECK(decode_one("1a00010000") == json(65536u));
  CHECK(decode_one("1b0000000100000000") == json(std::uint64_t{1} << 32));
  CHECK(decode_one("1bffffffffffffffff") == json(std::numeric_limits<std::uint64_t>::max()));
  CHECK(decode_one("20") == json(-1));
  CHECK(decode_one("37") == json(-24));
  CHECK(decode_one("3818") == json(-25));
  CHECK(decode_one("390100") == json(-257));
  CHECK(decode_one("3a00010000") == json(-65537));
  CHECK(decode_one("3b7fffffffffffffff") == json(std::numeric_limits<std::int64_t>::min()));
  // Non-shortest heads are valid CBOR.
  CHECK(decode_one("1b0000000000000005") == json(5u));
  CHECK(decode_one("00").is_number_unsigned());
  CHECK(decode_one("20").is_number_integer());
}

TEST_CASE("cbor decode: strings, simple values, containers") {
  CHECK(decode_one("40") == cbor_bytes(""));
  CHECK(decode_one("5818" + repeat("61", 24)) == cbor_bytes(std::string(24, 'a')));
  CHECK(decode_one("590100" + repeat("62", 256)) == cbor_bytes(std::string(256, 'b')));
  CHECK(decode_one("6368c3a9") == json("h\xc3\xa9"));
  CHECK(decode_one("f4") == json(false));
  CHECK(decode_one("f5") == json(true));
  CHECK(decode_one("f6") == json(nullptr));
  CHECK(decode_one("80") == json::array());
  CHECK(decode_one("a0") == json::object());
  CHECK(decode_one("a14161840124f6f5") == json{{"a", json::array({1, -5, nullptr, true})}});
  // Text-string keys are accepted too.
  CHECK(decode_one("a1616101") == json{{"a", 1}});
  const Bytes name = to_bytes("\xa1" "DnameNcustomreadonly");
  auto r = cbor_decode_all(name);
  REQUIRE(r);
  CHECK((*r)[0] == json{{"name", cbor_bytes("customreadonly")}});
}

TEST_CASE("cbor decode: indefinite-length strings, arrays and maps") {
  CHECK(decode_one("5fff") == cbor_bytes(""));
  CHECK(decode_one("5f4261624043636363ff") == cbor_bytes("abccc"));
  // A UTF-8 sequence split across chunks is checked after joining.
  CHECK(decode_one("7f61c361a9ff") == json("\xc3\xa9"));
  CHECK(decode_one("9fff") == json::array());
  CHECK(decode_one("9f01829f02ff03ff") == json::array({1, json::array({json::array({2}), 3})}));
  CHECK(decode_one("bf4161014162bf416202ffff") == json{{"a", 1}, {"b", json{{"b", 2}}}});
  // Indefinite-length key.
  CHECK(decode_one("a15f41614162ff01") == json{{"ab", 1}});
}

TEST_CASE("cbor decode: tag 258 (set) becomes an array") {
  CHECK(decode_one("d90102820102") == json::array({1, 2}));
  CHECK(decode_one("d901029f4161ff") == json::array({cbor_bytes("a")}));
  CHECK(decode_one("a14173d9010280") == json{{"s", json::array()}});
}

TEST_CASE("cbor decode: error messages name the offset") {
  CHECK(decode_error("0000005b8000000000000000") ==
        "CBOR: byte string of 9223372036854775808 bytes at offset 3 exceeds the limit of 268435456");
  CHECK(decode_error("7b8000000000000000") ==
        "CBOR: text string of 9223372036854775808 bytes at offset 0 exceeds the limit of 268435456");
  CHECK(decode_error("9b8000000000000000") ==
        "CBOR: array of 9223372036854775808 items at offset 0 exceeds the limit of 1048576");
  CHECK(decode_error("bbffffffffffffffff") ==
        "CBOR: map of 18446744073709551615 entries at offset 0 exceeds the limit of 1048576");
  CHECK(decode_error("c100") == "CBOR: unsupported tag 1 at offset 0");
  CHECK(decode_error("01d9010301") == "CBOR: unsupported tag 259 at offset 1");
  CHECK(decode_error("d9010201") ==
        "CBOR: tag 258 (set) at offset 0 wraps an unsigned integer at offset 3, not an array");
  CHECK(decode_error("a10102") ==
        "CBOR: map key at offset 1 is an unsigned integer, not a byte or text string");
  CHECK(decode_error("a18001") == "CBOR: map key at offset 1 is an array, not a byte or text string");
  CHECK(decode_error("a2416101416102") ==
        "CBOR: duplicate map key b'a' at offset 4 in the map at offset 0");
  CHECK(decode_error("a2416101616102") ==
        "CBOR: duplicate map key b'a' at offset 4 in the map at offset 0");
  CHECK(decode_error("a2" "5841" + repeat("61", 65) + "01" "5841" + repeat("61", 65) + "02") ==
        "CBOR: duplicate map key b'" + std::string(64, 'a') + "'... at offset 69 in the map at offset 0");
  CHECK(decode_error("f93c00") == "CBOR: half-precision float at offset 0 is not supported");
  CHECK(decode_error("00fa3f800000") == "CBOR: single-precision float at offset 1 is not supported");
  CHECK(decode_error("81fb3ff0000000000000") ==
        "CBOR: double-precision float at offset 1 is not supported");
  CHECK(decode_error("f7") == "CBOR: undefined at offset 0 is not supported");
  CHECK(decode_error("f0") == "CBOR: simple value 16 at offset 0 is not supported");
  CHECK(decode_error("f820") == "CBOR: simple value at offset 0 is not supported");
  CHECK(decode_error("fc") == "CBOR: reserved additional information 28 in byte 0xfc at offset 0");
  CHECK(decode_error("001e") == "CBOR: reserved additional information 30 in byte 0x1e at offset 1");
  CHECK(decode_error("ff") == "CBOR: unexpected break byte at offset 0");
  CHECK(decode_error("8201ff") == "CBOR: unexpected break byte at offset 2");
  CHECK(decode_error("bf4161ff") ==
        "CBOR: break byte at offset 3 ends the map at offset 0 after a key without a value");
  CHECK(decode_error("5f6161ff") ==
        "CBOR: chunk at offset 1 of the indefinite-length byte string at offset 0 is a text "
        "string, not a definite byte string");
  CHECK(decode_error("7f5fffff") ==
        "CBOR: chunk at offset 1 of the indefinite-length text string at offset 0 is a byte "
        "string, not a definite text string");
  CHECK(decode_error("5f5fffff") ==
        "CBOR: chunk at offset 1 of the indefinite-length byte string at offset 0 is itself "
        "indefinite-length, not a definite byte string");
  CHECK(decode_error("1f") == "CBOR: indefinite length is not allowed for an unsigned integer at offset 0");
  CHECK(decode_error("3f") == "CBOR: indefinite length is not allowed for a negative integer at offset 0");
  CHECK(decode_error("df") == "CBOR: indefinite length is not allowed for a tag at offset 0");
  CHECK(decode_error("3b8000000000000000") ==
        "CBOR: negative integer -1-9223372036854775808 at offset 0 is below the 64-bit signed range");
  CHECK(decode_error("4100" "62c328") == "CBOR: text string at offset 2 is not valid UTF-8");
  CHECK(decode_error("63eda080") == "CBOR: text string at offset 0 is not valid UTF-8");  // surrogate
  CHECK(decode_error("62c0af") == "CBOR: text string at offset 0 is not valid UTF-8");    // overlong
  CHECK(decode_error("8201") == "CBOR: input ends at offset 2 inside the value starting at offset 0");
  CHECK(decode_error("00d90102") == "CBOR: input ends at offset 4 inside the value starting at offset 1");
  CHECK(decode_error("0019") == "CBOR: input ends at offset 2 inside the value starting at offset 1");
}

TEST_CASE("cbor decode: configured limits") {
  CborLimits limits;
  limits.max_container_items = 2;
  limits.max_string_bytes = 4;
  limits.max_depth = 3;
  CHECK(decode_one("820102", limits) == json::array({1, 2}));
  CHECK(decode_error("83010203", limits) == "CBOR: array of 3 items at offset 0 exceeds the limit of 2");
  CHECK(decode_error("a3", limits) == "CBOR: map of 3 entries at offset 0 exceeds the limit of 2");
  CHECK(decode_error("9f010203ff", limits) ==
        "CBOR: indefinite-length array at offset 0 has more than 2 items");
  CHECK(decode_error("bf416101416202416303ff", limits) ==
        "CBOR: indefinite-length map at offset 0 has more than 2 entries");
  CHECK(decode_one("4461626364", limits) == cbor_bytes("abcd"));
  CHECK(decode_error("45", limits) == "CBOR: byte string of 5 bytes at offset 0 exceeds the limit of 4");
  CHECK(decode_error("5f436162634264", limits) ==
        "CBOR: byte string chunk of 2 bytes at offset 5 grows the string at offset 0 beyond the "
        "limit of 4");
  CHECK(decode_one("818180", limits) == json::array({json::array({json::array()})}));
  CHECK(decode_error("81818180", limits) == "CBOR: array at offset 3 nests deeper than the limit of 3");
  CHECK(decode_error("818181bf", limits) == "CBOR: map at offset 3 nests deeper than the limit of 3");
}

TEST_CASE("cbor decode: 100,000 nested arrays fail cleanly at max_depth") {
  const Bytes deep(100000, 0x81);
  auto r = cbor_decode_all(deep);
  REQUIRE(!r);
  CHECK(r.error().message == "CBOR: array at offset 64 nests deeper than the limit of 64");
  // 64 levels are fine.
  Bytes ok(63, 0x81);
  ok.push_back(0x80);
  auto r2 = cbor_decode_all(ok);
  REQUIRE(r2);
  json v = (*r2)[0];
  for (int i = 0; i < 63; ++i) {
    REQUIRE(v.size() == 1);
    v = json(v[0]);
  }
  CHECK(v == json::array());
}

TEST_CASE("cbor decode: huge declared lengths wait for bytes without allocating") {
  CborDecoder d;
  // 256 MiB - 1 bytes declared: within the limit, so the decoder waits.
  REQUIRE(d.feed(unhex("5a0fffffff616263")));
  CHECK(d.available() == 0);
  CHECK(!d.at_boundary());
  CHECK(d.bytes_consumed() == 0);
  CborDecoder m;
  REQUIRE(m.feed(unhex("9a000fffff00")));  // 1048575 items declared, one given
  CHECK(m.available() == 0);
  CHECK(!m.at_boundary());
}

TEST_CASE("cbor decode: incremental feeding, boundaries and consumed bytes") {
  const Bytes data = unhex("01" "8201a0" "4161" "f6");
  CborDecoder d;
  CHECK(d.at_boundary());
  std::vector<std::pair<std::size_t, bool>> seen;  // (available, at_boundary) after each byte
  for (std::size_t i = 0; i < data.size(); ++i) {
    REQUIRE(d.feed(ByteView(data).subspan(i, 1)));
    seen.emplace_back(d.available(), d.at_boundary());
  }
  const std::vector<std::pair<std::size_t, bool>> want = {
      {1, true}, {1, false}, {1, false}, {2, true}, {2, false}, {3, true}, {4, true}};
  CHECK(seen == want);
  CHECK(d.bytes_consumed() == 7);
  CHECK(d.next() == json(1u));
  CHECK(d.next() == json::array({1, json::object()}));
  CHECK(d.next() == cbor_bytes("a"));
  CHECK(d.next() == json(nullptr));
  CHECK(!d.next());
  CHECK(d.available() == 0);
  // Empty feeds are harmless.
  REQUIRE(d.feed({}));
  CHECK(d.at_boundary());
}

TEST_CASE("cbor decode: after an error the decoder stays failed") {
  CborDecoder d;
  REQUIRE(d.feed(unhex("0102")));
  auto r = d.feed(unhex("03ff04"));
  REQUIRE(!r);
  CHECK(r.error().message == "CBOR: unexpected break byte at offset 3");
  CHECK(d.available() == 3);  // values completed before the error stay available
  CHECK(d.bytes_consumed() == 3);
  auto again = d.feed(unhex("05"));
  REQUIRE(!again);
  CHECK(again.error().message == "CBOR: unexpected break byte at offset 3");
  CHECK(d.available() == 3);
}

TEST_CASE("cbor decode: every prefix of a valid encoding is incomplete") {
  const json value = json{{"args", json{{"base", cbor_bytes(std::string(300, 'x'))},
                                        {"n", -70000},
                                        {"patches", json::array({cbor_bytes("p1"), nullptr, true})}}},
                          {"name", cbor_bytes("applypatches")},
                          {"text", "h\xc3\xa9"}};
  Bytes full = cbor_encode(value);
  // Indefinite forms too: 9f <value> 5f 41 61 41 62 ff ff
  Bytes indef{0x9f};
  append(indef, full);
  append(indef, unhex("5f41614162ff" "d9010281" "00" "ff"));
  for (const Bytes& enc : {full, indef}) {
    for (std::size_t n = 0; n < enc.size(); ++n) {
      CAPTURE(n);
      auto r = cbor_decode_all(ByteView(enc).first(n));
      if (n == 0) {
        REQUIRE(r);
        CHECK(r->empty());
        continue;
      }
      REQUIRE(!r);
      CHECK(r.error().message == "CBOR: input ends at offset " + std::to_string(n) +
                                     " inside the value starting at offset 0");
    }
    CborDecoder d;
    for (std::size_t i = 0; i < enc.size(); ++i) {
      REQUIRE(d.available() == 0);
      REQUIRE(d.feed(ByteView(enc).subspan(i, 1)));
    }
    CHECK(d.available() == 1);
    CHECK(d.bytes_consumed() == enc.size());
  }
  auto whole = cbor_decode_all(full);
  REQUIRE(whole);
  CHECK((*whole)[0] == value);
}

TEST_CASE("cbor decode: large byte string fed in chunks") {
  const std::size_t n = 3u << 20;
  Bytes data;
  cbor_append_indefinite_bytes_begin(data);
  Bytes chunk(100000);
  for (std::size_t i = 0; i < chunk.size(); ++i) chunk[i] = static_cast<std::uint8_t>(i * 7);
  std::size_t total = 0;
  while (total + chunk.size() <= n) {
    cbor_append_bytes_chunk(chunk, data);
    total += chunk.size();
  }
  cbor_append_break(data);
  Bytes definite = cbor_encode(json::binary(Bytes(total, 0x5a)));
  for (const Bytes& enc : {data, definite}) {
    CborDecoder d;
    for (std::size_t off = 0; off < enc.size(); off += 32768) {
      REQUIRE(d.feed(ByteView(enc).subspan(off, std::min<std::size_t>(32768, enc.size() - off))));
    }
    auto v = d.next();
    REQUIRE(v);
    REQUIRE(v->is_binary());
    CHECK(v->get_binary().size() == total);
    CHECK(v->get_binary()[total - 1] == (enc[0] == 0x5f ? chunk[(total - 1) % chunk.size()] : 0x5a));
  }
}

TEST_CASE("is_valid_utf8") {
  CHECK(is_valid_utf8(""));
  CHECK(is_valid_utf8("abc\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"));
  CHECK(is_valid_utf8("\xf4\x8f\xbf\xbf"));   // U+10FFFF
  CHECK(!is_valid_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  CHECK(!is_valid_utf8("\xe0\x80\xaf"));      // overlong
  CHECK(!is_valid_utf8("\xed\xb0\x80"));      // surrogate
  CHECK(!is_valid_utf8("\xc3"));              // truncated
  CHECK(!is_valid_utf8("\x80"));
  CHECK(!is_valid_utf8("\xff"));
}
