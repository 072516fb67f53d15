// CBOR encoder: exact bytes for every major type and length boundary, and
// the byte strings Mercurial itself produces (cborutil.streamencode).
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

#include "framing/cbor.hpp"
#include "tests/support/test_support.hpp"

using namespace hgrpc::framing;
using hgrpc::test::hex;

namespace {

std::string enc(const json& v) { return hex(cbor_encode(v)); }

}  // namespace

TEST_CASE("cbor encode: Mercurial reference vectors") {
  CHECK(cbor_encode(json{{"name", cbor_bytes("customreadonly")}}) ==
        to_bytes("\xa1" "DnameNcustomreadonly"));
  CHECK(cbor_encode(json{{"contentencodings", json::array({cbor_bytes("identity")})}}) ==
        to_bytes("\xa1Pcontentencodings\x81Hidentity"));
  CHECK(cbor_encode(json{{"status", cbor_bytes("ok")}}) == to_bytes("\xa1" "FstatusBok"));
  CHECK(cbor_encode(cbor_bytes("customreadonly bytes response")) ==
        to_bytes("X\x1d" "customreadonly bytes response"));
  // {b'a': [1, -5, None, True]}
  CHECK(enc(json{{"a", json::array({1, -5, nullptr, true})}}) == "a14161840124f6f5");
}

TEST_CASE("cbor encode: unsigned integer boundaries") {
  CHECK(enc(json(0u)) == "00");
  CHECK(enc(json(23u)) == "17");
  CHECK(enc(json(24u)) == "1818");
  CHECK(enc(json(255u)) == "18ff");
  CHECK(enc(json(256u)) == "190100");
  CHECK(enc(json(65535u)) == "19ffff");
  CHECK(enc(json(65536u)) == "1a00010000");
  CHECK(enc(json(std::uint64_t{0xFFFFFFFF})) == "1affffffff");
  CHECK(enc(json(std::uint64_t{1} << 32)) == "1b0000000100000000");
  CHECK(enc(json(std::numeric_limits<std::uint64_t>::max())) == "1bffffffffffffffff");
  // Non-negative values stored as signed encode as unsigned.
  CHECK(enc(json(std::int64_t{24})) == "1818");
}

TEST_CASE("cbor encode: negative integer boundaries") {
  CHECK(enc(json(-1)) == "20");
  CHECK(enc(json(-24)) == "37");
  CHECK(enc(json(-25)) == "3818");
  CHECK(enc(json(-256)) == "38ff");
  CHECK(enc(json(-257)) == "390100");
  CHECK(enc(json(-65536)) == "39ffff");
  CHECK(enc(json(-65537)) == "3a00010000");
  CHECK(enc(json(std::int64_t{-4294967296})) == "3affffffff");
  CHECK(enc(json(std::int64_t{-4294967297})) == "3b0000000100000000");
  CHECK(enc(json(std::numeric_limits<std::int64_t>::min())) == "3b7fffffffffffffff");
}

TEST_CASE("cbor encode: string length boundaries") {
  for (std::size_t n : {0u, 23u, 24u, 255u, 256u, 65535u, 65536u}) {
    CAPTURE(n);
    const std::string s(n, 'a');
    const Bytes b = cbor_encode(cbor_bytes(s));
    const Bytes t = cbor_encode(json(s));
    std::string head;
    if (n < 24) head = hex(Bytes{static_cast<std::uint8_t>(0x40 + n)});
    else if (n < 256) head = "58" + hex(Bytes{static_cast<std::uint8_t>(n)});
    else if (n < 65536) head = "59" + hex(Bytes{static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n)});
    else head = "5a00010000";
    CHECK(hex(Bytes(b.begin(), b.end() - static_cast<std::ptrdiff_t>(n))) == head);
    CHECK(Bytes(b.end() - static_cast<std::ptrdiff_t>(n), b.end()) == to_bytes(s));
    // Text strings differ only in the major type bits (2 -> 3).
    REQUIRE(t.size() == b.size());
    CHECK(t[0] == (b[0] | 0x20));
  }
}

TEST_CASE("cbor encode: containers, simple values, text, key order") {
  CHECK(enc(nullptr) == "f6");
  CHECK(enc(true) == "f5");
  CHECK(enc(false) == "f4");
  CHECK(enc(json::array()) == "80");
  CHECK(enc(json::object()) == "a0");
  CHECK(enc(json("h\xc3\xa9")) == "6368c3a9");
  json big = json::array();
  for (int i = 0; i < 24; ++i) big.push_back(i);
  CHECK(enc(big).substr(0, 6) == "981800");
  // Keys are byte strings, in sorted order; nested containers.
  CHECK(enc(json{{"b", 1}, {"a", json::array({cbor_bytes("x"), json::array({cbor_bytes("y")})})}}) ==
        "a24161824178814179416201");
}

TEST_CASE("cbor encode: indefinite-length byte string pieces") {
  Bytes out;
  cbor_append_indefinite_bytes_begin(out);
  cbor_append_bytes_chunk(as_bytes("ab"), out);
  cbor_append_bytes_chunk(as_bytes(std::string(24, 'c')), out);
  cbor_append_bytes_chunk({}, out);
  cbor_append_break(out);
  CHECK(hex(out) == "5f426162" "5818" + hex(to_bytes(std::string(24, 'c'))) + "40ff");
  auto values = cbor_decode_all(out);
  REQUIRE(values);
  REQUIRE(values->size() == 1);
  CHECK((*values)[0] == cbor_bytes("ab" + std::string(24, 'c')));
}

TEST_CASE("cbor encode: floats are a programmer error") {
  CHECK_THROWS_AS(cbor_encode(json(1.5)), std::logic_error);
  CHECK_THROWS_AS(cbor_encode(json::array({1, 2.0})), std::logic_error);
}

TEST_CASE("cbor encode: appends to existing output") {
  Bytes out{0x01};
  cbor_encode(json(24u), out);
  CHECK(hex(out) == "011818");
}

TEST_CASE("cbor encode: sets are tag 258 arrays, pre-encoded values are written verbatim") {
  // Mercurial's vector for fields {parents, revision}.
  json set = cbor_set(json::array({cbor_bytes("parents"), cbor_bytes("revision")}));
  CHECK(hex(cbor_encode(set)) == "d9010282477061726" "56e7473487265766973696f6e");
  CHECK(hex(cbor_encode(cbor_set(json::array()))) == "d9010280");
  json map = {{"default", cbor_set(json::array())}, {"required", false}};
  CHECK(hex(cbor_encode(map)) == "a247" "64656661756c74" "d9010280" "48" "7265717569726564" "f4");
  // A plain binary is still a byte string; the decoder reads the set back as an array.
  CHECK(hex(cbor_encode(cbor_bytes("ok"))) == "426f6b");
  auto decoded = cbor_decode_all(cbor_encode(set));
  REQUIRE(decoded);
  CHECK((*decoded)[0] == json::array({cbor_bytes("parents"), cbor_bytes("revision")}));
}
