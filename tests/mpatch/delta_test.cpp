// decode, encode and patched_size on hand-made deltas.
#include <doctest/doctest.h>

#include "tests/mpatch/support.hpp"

using namespace hgrpc::mpatch;
using namespace hgrpc::mpatch::test;

namespace {
std::string decode_error(const Bytes& d) {
  auto r = decode(view(d));
  REQUIRE_FALSE(r.has_value());
  return r.error().message;
}
}  // namespace

TEST_CASE("decode: the empty delta has no hunks") {
  auto r = decode({});
  REQUIRE(r.has_value());
  CHECK(r->empty());
}

TEST_CASE("decode: hunks are views into the delta, in order") {
  const Bytes d = delta({{0, 2, "AB"}, {2, 2, ""}, {5, 9, "xyz"}});
  auto r = decode(view(d));
  REQUIRE(r.has_value());
  REQUIRE(r->size() == 3);
  CHECK((*r)[0].start == 0);
  CHECK((*r)[0].end == 2);
  CHECK((*r)[0].data.data() == d.data() + 12);
  CHECK((*r)[0].data.size() == 2);
  CHECK((*r)[1].start == 2);
  CHECK((*r)[1].data.empty());
  CHECK((*r)[2].start == 5);
  CHECK((*r)[2].end == 9);
  CHECK((*r)[2].data.data() == d.data() + 38);
  CHECK(std::string((*r)[2].data.begin(), (*r)[2].data.end()) == "xyz");
}

TEST_CASE("encode: exact bytes, and decode(encode(h)) == h") {
  const Bytes d = delta({{1, 3, "hi"}, {7, 7, "!"}});
  CHECK(d == Bytes{0, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0, 2, 'h', 'i', 0, 0, 0, 7, 0, 0, 0, 7, 0, 0, 0, 1, '!'});
  auto hunks = decode(view(d));
  REQUIRE(hunks.has_value());
  CHECK(encode(*hunks) == d);
  CHECK(encode({}).empty());
}

TEST_CASE("decode rejects a negative start") {
  CHECK(decode_error(delta({{0, 1, "a"}, {-1, 2, ""}})) ==
        "hunk 1 (offset 13): start -1 is negative");
}

TEST_CASE("decode rejects start after end") {
  CHECK(decode_error(delta({{5, 4, ""}})) == "hunk 0 (offset 0): start 5 is after end 4");
}

TEST_CASE("decode rejects a negative length") {
  CHECK(decode_error(delta({{0, 0, "", -2}})) == "hunk 0 (offset 0): length -2 is negative");
}

TEST_CASE("decode rejects data running past the end") {
  Bytes d = delta({{0, 0, "abc"}, {3, 4, "xy", 5}});
  CHECK(decode_error(d) ==
        "hunk 1 (offset 15): data of 5 bytes runs past the end of the delta (2 bytes remain)");
}

TEST_CASE("decode rejects a partial header (bytes left over)") {
  Bytes d = delta({{0, 0, "abc"}});
  d.insert(d.end(), {0, 0, 0, 9, 0});
  CHECK(decode_error(d) ==
        "hunk 1 (offset 15): header needs 12 bytes but only 5 remain in the delta");
  CHECK(decode_error(Bytes{1}) == "hunk 0 (offset 0): header needs 12 bytes but only 1 remain in the delta");
}

TEST_CASE("decode rejects hunks going backwards or overlapping") {
  CHECK(decode_error(delta({{4, 8, ""}, {2, 3, ""}})) ==
        "hunk 1 (offset 12): start 2 is before the end of the previous hunk (8): hunks must be "
        "sorted and must not overlap");
  CHECK(decode_error(delta({{4, 8, ""}, {7, 9, ""}})) ==
        "hunk 1 (offset 12): start 7 is before the end of the previous hunk (8): hunks must be "
        "sorted and must not overlap");
  // Touching is allowed: start == previous end.
  CHECK(decode(view(delta({{4, 8, ""}, {8, 8, "x"}, {8, 9, ""}}))).has_value());
}

TEST_CASE("decode accepts the largest fields") {
  auto r = decode(view(delta({{0x7fffffff, 0x7fffffff, ""}})));
  REQUIRE(r.has_value());
  CHECK(r->at(0).start == 0x7fffffff);
  CHECK(decode_error(delta({{0x80000000LL, 0x80000000LL, ""}})) ==
        "hunk 0 (offset 0): start -2147483648 is negative");
}

TEST_CASE("patched_size: sizes along a chain") {
  const Bytes d0 = delta({{0, 2, "ABCD"}, {5, 10, ""}});  // 10 -> 7
  const Bytes d1 = delta({{7, 7, "xyz"}});                // 7 -> 10
  const std::vector<ByteView> ds{view(d0), view(d1)};
  auto r = patched_size(10, ds);
  REQUIRE(r.has_value());
  CHECK(*r == 10);
  CHECK(*patched_size(10, {}) == 10);
  CHECK(*patched_size(0, std::vector<ByteView>{ByteView{}}) == 0);
}

TEST_CASE("patched_size rejects an end past the text, naming delta, hunk and offset") {
  const Bytes d0 = delta({{0, 2, "AB"}, {5, 10, ""}});  // 10 -> 5
  const Bytes d1 = delta({{0, 1, "q"}, {4, 6, ""}});
  const std::vector<ByteView> ds{view(d0), view(d1)};
  auto r = patched_size(10, ds);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message ==
        "delta 1, hunk 1 (offset 13): end 6 is past the end of the text (5 bytes)");
  auto r2 = patched_size(9, std::vector<ByteView>{view(d0)});
  REQUIRE_FALSE(r2.has_value());
  CHECK(r2.error().message ==
        "delta 0, hunk 1 (offset 14): end 10 is past the end of the text (9 bytes)");
}

TEST_CASE("patched_size reports malformed deltas with the delta index") {
  const Bytes good = delta({{0, 0, "x"}});
  const Bytes bad = delta({{3, 1, ""}});
  const std::vector<ByteView> ds{view(good), view(good), view(bad)};
  auto r = patched_size(10, ds);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message == "delta 2, hunk 0 (offset 0): start 3 is after end 1");
}
