// patchedsize: good input, huge sizes, command data layout, validation.
#include <doctest/doctest.h>

#include <cstdint>

#include "tests/server/command_support.hpp"

using namespace hgrpc::server;
using namespace hgrpc::server::testing;
using hgrpc::framing::ByteView;

TEST_CASE("patchedsize computes the size after the deltas") {
  // 11 bytes; replace 5 with 3, then insert 4.
  Bytes d1 = delta({{0, 5, "abc"}});
  Bytes d2 = delta({{9, 9, "1234"}});
  json v = single(run("patchedsize", {{"size", 11}, {"patches", json::array({bin(d1), bin(d2)})}}));
  CHECK(v.is_number_unsigned());
  CHECK(v.get<std::uint64_t>() == 13);
}

TEST_CASE("patchedsize with no deltas is the size") {
  json v = single(run("patchedsize", {{"size", 7}, {"patches", json::array()}}));
  CHECK(v.get<std::uint64_t>() == 7);
}

TEST_CASE("patchedsize of 2^40 bytes and a 12-byte delta builds nothing") {
  Bytes d = delta({{0, 0, ""}});
  REQUIRE(d.size() == 12);
  std::uint64_t big = std::uint64_t{1} << 40;
  json v = single(run("patchedsize", {{"size", big}, {"patches", json::array({bin(d)})}}));
  CHECK(v.get<std::uint64_t>() == big);
}

TEST_CASE("patchedsize takes deltas from command data, size from the arguments") {
  Bytes data = data_of({bin(delta({{0, 0, "xy"}})), bin(delta({{0, 1, ""}}))});
  json v = single(run("patchedsize", {{"size", 3}}, ByteView(data)));
  CHECK(v.get<std::uint64_t>() == 4);
}

TEST_CASE("patchedsize with empty command data means no deltas") {
  Bytes data;
  json v = single(run("patchedsize", {{"size", 3}}, ByteView(data)));
  CHECK(v.get<std::uint64_t>() == 3);
}

TEST_CASE("patchedsize still needs size when deltas come as data") {
  Bytes data;
  check_error(run("patchedsize", json::object(), ByteView(data)), "missing required argument: %s", {"size"});
}

TEST_CASE("patchedsize rejects a negative size") {
  check_error(run("patchedsize", {{"size", -1}, {"patches", json::array()}}),
              "argument %s: must not be negative, got %s", {"size", "-1"});
}

TEST_CASE("patchedsize rejects a size of the wrong type") {
  check_error(run("patchedsize", {{"size", bin("3")}, {"patches", json::array()}}),
              "argument %s: expected %s, got %s", {"size", "int", "bytes"});
  check_error(run("patchedsize", {{"size", true}, {"patches", json::array()}}),
              "argument %s: expected %s, got %s", {"size", "int", "bool"});
  check_error(run("patchedsize", {{"size", nullptr}, {"patches", json::array()}}),
              "argument %s: expected %s, got %s", {"size", "int", "null"});
}

TEST_CASE("patchedsize reports a delta beyond the text") {
  auto r = run("patchedsize", {{"size", 2}, {"patches", json::array({bin(delta({{0, 5, ""}}))})}});
  check_error(r, "cannot compute the patched size: %s",
              {"delta 0, hunk 0 (offset 0): end 5 is past the end of the text (2 bytes)"});
}
