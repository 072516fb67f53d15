// diff: exact deltas, round trips, command data layout, output limit.
#include <doctest/doctest.h>

#include "mpatch/mpatch.hpp"
#include "tests/server/command_support.hpp"

using namespace hgrpc::server;
using namespace hgrpc::server::testing;
using hgrpc::framing::ByteView;

TEST_CASE("diff of equal texts is the empty delta") {
  CHECK(single(run("diff", {{"a", bin("same\n")}, {"b", bin("same\n")}})) == bin(""));
}

TEST_CASE("diff from the empty text is one insertion") {
  CHECK(single(run("diff", {{"a", bin("")}, {"b", bin("abc")}})) == bin(delta({{0, 0, "abc"}})));
}

TEST_CASE("diff returns a delta that turns a into b") {
  std::string a = "line 1\nline 2\nline 3\n";
  std::string b = "line 1\nline two\nline 3\nline 4\n";
  json d = single(run("diff", {{"a", bin(a)}, {"b", bin(b)}}));
  REQUIRE(d.is_binary());
  CHECK(raw(d) == hgrpc::mpatch::diff(hgrpc::framing::as_bytes(a), hgrpc::framing::as_bytes(b)));
  Bytes delta_bytes = raw(d);
  ByteView views[] = {delta_bytes};
  auto applied = hgrpc::mpatch::apply(hgrpc::framing::as_bytes(a), views);
  REQUIRE(applied.has_value());
  CHECK(*applied == hgrpc::framing::to_bytes(b));
}

TEST_CASE("diff takes a and b from command data") {
  Bytes data = data_of({bin(""), bin("xyz")});
  CHECK(single(run("diff", json::object(), ByteView(data))) == bin(delta({{0, 0, "xyz"}})));
}

TEST_CASE("diff command data must hold exactly two items") {
  Bytes one = data_of({bin("a")});
  check_error(run("diff", json::object(), ByteView(one)), "command data: expected 2 items (a, b), got %s", {"1"});
  Bytes three = data_of({bin("a"), bin("b"), bin("c")});
  check_error(run("diff", json::object(), ByteView(three)), "command data: expected 2 items (a, b), got %s",
              {"3"});
}

TEST_CASE("diff rejects arguments and command data together") {
  Bytes data = data_of({bin("a"), bin("b")});
  check_error(run("diff", {{"b", bin("b")}}, ByteView(data)),
              "argument %s: not allowed when the request carries command data", {"b"});
}

TEST_CASE("diff enforces max_output_bytes") {
  CommandLimits limits;
  limits.max_output_bytes = 14;
  check_error(run("diff", {{"a", bin("")}, {"b", bin("abc")}}, std::nullopt, limits),
              "output of %s bytes exceeds the limit of %s bytes", {"15", "14"});
  limits.max_output_bytes = 15;
  CHECK(single(run("diff", {{"a", bin("")}, {"b", bin("abc")}}, std::nullopt, limits)) ==
        bin(delta({{0, 0, "abc"}})));
}

TEST_CASE("diff names a missing argument") {
  check_error(run("diff", {{"a", bin("")}}), "missing required argument: %s", {"b"});
}
