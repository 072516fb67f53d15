// applypatches: good input, command data layout, invalid deltas, limits.
#include <doctest/doctest.h>

#include "mpatch/mpatch.hpp"
#include "tests/server/command_support.hpp"

using namespace hgrpc::server;
using namespace hgrpc::server::testing;

TEST_CASE("applypatches applies a hand-made delta") {
  json args = {{"base", bin("hello world")}, {"patches", json::array({bin(delta({{0, 5, "HELLO"}}))})}};
  CHECK(single(run("applypatches", args)) == bin("HELLO world"));
}

TEST_CASE("applypatches applies several deltas in order") {
  // "hello world" -> "hello, world" -> "hello, brave world"
  Bytes d1 = delta({{5, 5, ","}});
  Bytes d2 = delta({{7, 7, "brave "}});
  json args = {{"base", bin("hello world")}, {"patches", json::array({bin(d1), bin(d2)})}};
  CHECK(single(run("applypatches", args)) == bin("hello, brave world"));
}

TEST_CASE("applypatches with no deltas returns the base") {
  json args = {{"base", bin("abc")}, {"patches", json::array()}};
  CHECK(single(run("applypatches", args)) == bin("abc"));
}

TEST_CASE("applypatches accepts text strings for byte-string arguments") {
  Bytes d = delta({{0, 1, "X"}});
  std::string d_text(d.begin(), d.end());
  json args = {{"base", "abc"}, {"patches", json::array({d_text})}};
  CHECK(single(run("applypatches", args)) == bin("Xbc"));
}

TEST_CASE("applypatches takes base and deltas from command data") {
  Bytes d1 = delta({{0, 0, ">"}});
  Bytes d2 = delta({{4, 4, "<"}});
  Bytes data = data_of({bin("abc"), bin(d1), bin(d2)});
  CHECK(single(run("applypatches", json::object(), hgrpc::framing::ByteView(data))) == bin(">abc<"));
}

TEST_CASE("applypatches command data may use indefinite-length byte strings") {
  Bytes data;
  hgrpc::framing::cbor_append_indefinite_bytes_begin(data);
  hgrpc::framing::cbor_append_bytes_chunk(hgrpc::framing::as_bytes("ab"), data);
  hgrpc::framing::cbor_append_bytes_chunk(hgrpc::framing::as_bytes("cd"), data);
  hgrpc::framing::cbor_append_break(data);
  hgrpc::framing::cbor_encode(bin(delta({{1, 3, "-"}})), data);
  CHECK(single(run("applypatches", json::object(), hgrpc::framing::ByteView(data))) == bin("a-d"));
}

TEST_CASE("applypatches command data with only the base applies nothing") {
  Bytes data = data_of({bin("base")});
  CHECK(single(run("applypatches", json::object(), hgrpc::framing::ByteView(data))) == bin("base"));
}

TEST_CASE("applypatches rejects arguments and command data together") {
  Bytes data = data_of({bin("abc")});
  check_error(run("applypatches", {{"base", bin("abc")}}, hgrpc::framing::ByteView(data)),
              "argument %s: not allowed when the request carries command data", {"base"});
  check_error(run("applypatches", {{"patches", json::array()}}, hgrpc::framing::ByteView(data)),
              "argument %s: not allowed when the request carries command data", {"patches"});
}

TEST_CASE("applypatches rejects empty command data") {
  Bytes data;
  check_error(run("applypatches", json::object(), hgrpc::framing::ByteView(data)),
              "command data: expected the base text as item 0, got no items", {});
}

TEST_CASE("applypatches rejects a command data item that is not a byte string") {
  Bytes data = data_of({bin("abc"), json(5)});
  check_error(run("applypatches", json::object(), hgrpc::framing::ByteView(data)),
              "command data item %s: expected bytes, got %s", {"1", "int"});
  Bytes text_item = data_of({json("abc")});
  check_error(run("applypatches", json::object(), hgrpc::framing::ByteView(text_item)),
              "command data item %s: expected bytes, got %s", {"0", "text"});
}

TEST_CASE("applypatches rejects malformed command data with the decoder's message") {
  Bytes data = {0x43, 'a', 'b'};  // a 3-byte string cut short
  auto expected = hgrpc::framing::cbor_decode_all(data);
  REQUIRE_FALSE(expected.has_value());
  check_error(run("applypatches", json::object(), hgrpc::framing::ByteView(data)), "command data: %s",
              {expected.error().message});
}

TEST_CASE("applypatches reports an invalid delta with mpatch's message") {
  Bytes good = delta({{0, 1, "X"}});
  Bytes bad = delta({{2, 1, "Y"}});  // start > end
  json args = {{"base", bin("abc")}, {"patches", json::array({bin(good), bin(bad)})}};
  auto r = run("applypatches", args);
  hgrpc::mpatch::ByteView views[] = {good, bad};
  auto expected = hgrpc::mpatch::apply(hgrpc::framing::as_bytes("abc"), views);
  REQUIRE_FALSE(expected.has_value());
  check_error(r, "cannot apply patches: %s", {expected.error().message});
  // mpatch names the delta (index 1, as in `patches`) and the hunk.
  CHECK(format_command_error(r.error()) ==
        "cannot apply patches: delta 1, hunk 0 (offset 0): start 2 is after end 1");
}

TEST_CASE("applypatches rejects a hunk past the end of the base") {
  json args = {{"base", bin("abc")}, {"patches", json::array({bin(delta({{2, 9, "Z"}}))})}};
  check_error(run("applypatches", args), "cannot apply patches: %s",
              {"delta 0, hunk 0 (offset 0): end 9 is past the end of the text (3 bytes)"});
}

TEST_CASE("applypatches enforces max_output_bytes before building the text") {
  CommandLimits limits;
  limits.max_output_bytes = 15;
  json args = {{"base", bin("0123456789")}, {"patches", json::array({bin(delta({{10, 10, "abcdef"}}))})}};
  auto r = run("applypatches", args, std::nullopt, limits);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message == "cannot apply patches: %s");
  CHECK(format_command_error(r.error()) ==
        "cannot apply patches: patched text would be 16 bytes, over the limit of 15 bytes");
  limits.max_output_bytes = 16;
  CHECK(single(run("applypatches", args, std::nullopt, limits)) == bin("0123456789abcdef"));
}

TEST_CASE("applypatches rejects a 12-byte delta that claims 2^31-1 bytes, without allocating") {
  // The header promises a huge insertion whose data is absent.
  Bytes d = delta({{0, 0, "", 0x7fffffff}});
  REQUIRE(d.size() == 12);
  json args = {{"base", bin("")}, {"patches", json::array({bin(d)})}};
  auto r = run("applypatches", args);
  REQUIRE_FALSE(r.has_value());
  CHECK(format_command_error(r.error()) ==
        "cannot apply patches: delta 0, hunk 0 (offset 0): data of 2147483647 bytes runs past the end of "
        "the delta (0 bytes remain)");
}
