// foldpatches: good input, command data layout, validation, invalid deltas.
#include <doctest/doctest.h>

#include "mpatch/mpatch.hpp"
#include "tests/server/command_support.hpp"

using namespace hgrpc::server;
using namespace hgrpc::server::testing;
using hgrpc::framing::ByteView;

namespace {

Bytes apply_to(std::string_view base, const Bytes& d) {
  ByteView views[] = {d};
  auto r = hgrpc::mpatch::apply(hgrpc::framing::as_bytes(base), views);
  REQUIRE(r.has_value());
  return *r;
}

}  // namespace

TEST_CASE("foldpatches of one delta applies like that delta") {
  Bytes d = delta({{0, 5, "HELLO"}});
  json folded = single(run("foldpatches", {{"patches", json::array({bin(d)})}}));
  REQUIRE(folded.is_binary());
  CHECK(apply_to("hello world", raw(folded)) == hgrpc::framing::to_bytes("HELLO world"));
}

TEST_CASE("foldpatches folds deltas into one equivalent delta") {
  // "hello world" -> "hello, world" -> "HELLO, world!"
  Bytes d1 = delta({{5, 5, ","}});
  Bytes d2 = delta({{0, 5, "HELLO"}, {12, 12, "!"}});
  json folded = single(run("foldpatches", {{"patches", json::array({bin(d1), bin(d2)})}}));
  REQUIRE(folded.is_binary());
  // Exactly what the patch engine folds to, and it means the same.
  ByteView views[] = {d1, d2};
  auto expected = hgrpc::mpatch::fold(views);
  REQUIRE(expected.has_value());
  CHECK(raw(folded) == *expected);
  CHECK(apply_to("hello world", raw(folded)) == hgrpc::framing::to_bytes("HELLO, world!"));
}

TEST_CASE("foldpatches of empty deltas is the empty delta") {
  json folded = single(run("foldpatches", {{"patches", json::array({bin(""), bin("")})}}));
  CHECK(folded == bin(""));
}

TEST_CASE("foldpatches rejects an empty list") {
  check_error(run("foldpatches", {{"patches", json::array()}}),
              "argument %s: expected at least %s element(s), got %s", {"patches", "1", "0"});
}

TEST_CASE("foldpatches takes its deltas from command data") {
  Bytes d1 = delta({{0, 0, "ab"}});
  Bytes d2 = delta({{0, 1, "X"}});
  Bytes data = data_of({bin(d1), bin(d2)});
  json folded = single(run("foldpatches", json::object(), ByteView(data)));
  REQUIRE(folded.is_binary());
  CHECK(apply_to("cd", raw(folded)) == hgrpc::framing::to_bytes("Xbcd"));
}

TEST_CASE("foldpatches rejects empty command data") {
  Bytes data;
  check_error(run("foldpatches", json::object(), ByteView(data)),
              "command data: expected at least 1 delta, got no items", {});
}

TEST_CASE("foldpatches rejects patches given both ways") {
  Bytes data = data_of({bin("")});
  check_error(run("foldpatches", {{"patches", json::array({bin("")})}}, ByteView(data)),
              "argument %s: not allowed when the request carries command data", {"patches"});
}

TEST_CASE("foldpatches reports an invalid delta with mpatch's message") {
  Bytes good = delta({{0, 1, "X"}});
  Bytes truncated = delta({{0, 1, "XYZ"}});
  truncated.pop_back();  // data runs past the end
  auto r = run("foldpatches", {{"patches", json::array({bin(good), bin(truncated)})}});
  ByteView views[] = {good, truncated};
  auto expected = hgrpc::mpatch::fold(views);
  REQUIRE_FALSE(expected.has_value());
  check_error(r, "cannot fold patches: %s", {expected.error().message});
}

TEST_CASE("foldpatches rejects a list element of the wrong type") {
  check_error(run("foldpatches", {{"patches", json::array({bin(""), json::array()})}}),
              "argument %s: element %s: expected %s, got %s", {"patches", "1", "bytes", "list"});
}
