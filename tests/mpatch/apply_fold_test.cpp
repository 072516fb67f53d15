// apply and fold on hand-made vectors, limits, and a 100,000-delta chain.
#include <doctest/doctest.h>

#include "tests/mpatch/support.hpp"

using namespace hgrpc::mpatch;
using namespace hgrpc::mpatch::test;

TEST_CASE("apply: no deltas and the empty delta change nothing") {
  const Bytes base = bytes("hello");
  CHECK(*hgrpc::mpatch::apply(view(base), {}) == base);
  const std::vector<ByteView> empty{ByteView{}};
  CHECK(*hgrpc::mpatch::apply(view(base), empty) == base);
  CHECK(hgrpc::mpatch::apply(ByteView{}, {})->empty());
}

TEST_CASE("apply: one delta") {
  const Bytes base = bytes("0123456789");
  const Bytes d = delta({{0, 2, "AB"}, {4, 4, "++"}, {8, 10, ""}});
  const std::vector<ByteView> ds{view(d)};
  CHECK(str(*hgrpc::mpatch::apply(view(base), ds)) == "AB23++4567");
}

TEST_CASE("apply: a chain equals sequential application") {
  const Bytes base = bytes("line1\nline2\nline3\n");
  const Bytes d0 = delta({{6, 12, "LINE2\nextra\n"}});  // line1 LINE2 extra line3
  const Bytes d1 = delta({{0, 6, ""}, {24, 24, "tail\n"}});
  const Bytes d2 = delta({{0, 0, "head\n"}, {6, 12, "EXTRA\n"}});
  const std::vector<ByteView> ds{view(d0), view(d1), view(d2)};
  CHECK(str(*hgrpc::mpatch::apply(view(base), ds)) == "head\nLINE2\nEXTRA\nline3\ntail\n");
}

TEST_CASE("apply_into reuses the caller's buffer") {
  const Bytes base = bytes("abcdef");
  const Bytes d = delta({{1, 5, "X"}});
  const std::vector<ByteView> ds{view(d)};
  Bytes out(100, 7);
  const auto* before = out.data();
  REQUIRE(apply_into(view(base), ds, out).has_value());
  CHECK(str(out) == "aXf");
  CHECK(out.data() == before);
}

TEST_CASE("apply: errors name the delta, hunk and offset") {
  const Bytes base = bytes("0123456789");
  const Bytes d0 = delta({{0, 0, "x"}});  // 11 bytes
  const Bytes d1 = delta({{0, 1, ""}, {2, 3, ""}, {5, 12, "y"}});
  const std::vector<ByteView> ds{view(d0), view(d1)};
  auto r = hgrpc::mpatch::apply(view(base), ds);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message ==
        "delta 1, hunk 2 (offset 24): end 12 is past the end of the text (11 bytes)");
}

TEST_CASE("apply: the output limit is checked before allocating") {
  // 12 + 16 bytes of delta inflating by 16 bytes: over a 20-byte limit.
  const Bytes base = bytes("abcdefgh");
  const Bytes d = delta({{0, 0, "0123456789abcdef"}});
  const std::vector<ByteView> ds{view(d)};
  auto r = hgrpc::mpatch::apply(view(base), ds, Limits{20});
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message == "patched text would be 24 bytes, over the limit of 20 bytes");
  CHECK(hgrpc::mpatch::apply(view(base), ds, Limits{24}).has_value());
  // A chain of 20 insertions: the limit trips on the chain's final size.
  std::vector<Bytes> chain;
  for (int i = 0; i < 20; ++i) chain.push_back(delta({{0, 0, std::string(8, 'z')}}));
  auto r2 = hgrpc::mpatch::apply(view(base), views(chain), Limits{100});
  REQUIRE_FALSE(r2.has_value());
  CHECK(r2.error().message == "patched text would be 168 bytes, over the limit of 100 bytes");
}

TEST_CASE("fold: exact bytes of a folded pair") {
  // d0 on "0123456789": replace [2,4) by "ab" -> "01ab456789"
  // d1: replace [3,6) ("b45") by "Z" -> "01aZ6789"
  const Bytes d0 = delta({{2, 4, "ab"}});
  const Bytes d1 = delta({{3, 6, "Z"}});
  const std::vector<ByteView> ds{view(d0), view(d1)};
  auto f = fold(ds);
  REQUIRE(f.has_value());
  CHECK(*f == delta({{2, 6, "aZ"}}));
  CHECK(str(*hgrpc::mpatch::apply(Bytes{'0', '1', '2', '3', '4', '5', '6', '7', '8', '9'}, std::vector<ByteView>{view(*f)})) ==
        "01aZ6789");
}

TEST_CASE("fold: empty list, empty deltas and no-op hunks fold to the empty delta") {
  CHECK(fold({})->empty());
  const Bytes noop = delta({{3, 3, ""}, {5, 5, ""}});
  const std::vector<ByteView> ds{ByteView{}, view(noop), ByteView{}};
  CHECK(fold(ds)->empty());
}

TEST_CASE("fold: an insertion then its deletion cancel out") {
  const Bytes d0 = delta({{4, 4, "hello"}});
  const Bytes d1 = delta({{4, 9, ""}});
  const std::vector<ByteView> ds{view(d0), view(d1)};
  CHECK(fold(ds)->empty());
}

TEST_CASE("fold: a single delta is canonicalised") {
  // Adjacent hunks merge into one; empty ones vanish.
  const Bytes d = delta({{1, 2, "a"}, {2, 3, "b"}, {5, 5, ""}});
  const std::vector<ByteView> ds{view(d)};
  CHECK(*fold(ds) == delta({{1, 3, "ab"}}));
}

TEST_CASE("fold: references past the first text's end map beyond the base") {
  // The base size is unknown to fold; such a fold is rejected when applied.
  const Bytes d0 = delta({{5, 10, ""}});  // a 10-byte base becomes 5 bytes
  const Bytes d1 = delta({{5, 7, "x"}});  // invalid on a 5-byte text
  const std::vector<ByteView> ds{view(d0), view(d1)};
  auto f = fold(ds);
  REQUIRE(f.has_value());
  CHECK(*f == delta({{5, 12, "x"}}));
  const Bytes base = bytes("0123456789");
  auto r = hgrpc::mpatch::apply(view(base), std::vector<ByteView>{view(*f)});
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message ==
        "delta 0, hunk 0 (offset 0): end 12 is past the end of the text (10 bytes)");
  // And apply of the chain itself names the delta at fault.
  auto r2 = hgrpc::mpatch::apply(view(base), ds);
  REQUIRE_FALSE(r2.has_value());
  CHECK(r2.error().message ==
        "delta 1, hunk 0 (offset 0): end 7 is past the end of the text (5 bytes)");
}

TEST_CASE("fold: malformed deltas are named") {
  const Bytes good = delta({{0, 0, "x"}});
  Bytes bad = delta({{0, 0, "x"}});
  bad.push_back(0);
  const std::vector<ByteView> ds{view(good), view(bad)};
  auto r = fold(ds);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message ==
        "delta 1, hunk 1 (offset 13): header needs 12 bytes but only 1 remain in the delta");
}

TEST_CASE("fold: the output limit is checked before allocating") {
  const Bytes d0 = delta({{0, 0, std::string(30, 'a')}});
  const Bytes d1 = delta({{0, 0, std::string(30, 'b')}});
  const std::vector<ByteView> ds{view(d0), view(d1)};
  auto r = fold(ds, Limits{50});
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message == "folded delta would be 72 bytes, over the limit of 50 bytes");
  CHECK(fold(ds, Limits{72})->size() == 72);
}

TEST_CASE("fold: offsets past what a hunk holds are an error, not a wrap-around") {
  // Each deletes 2^31-1 bytes from the front: together 2^32-2 bytes.
  const Bytes d = delta({{0, 0x7fffffff, ""}});
  const std::vector<ByteView> ds{view(d), view(d)};
  auto r = fold(ds);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message ==
        "folded delta needs base offset 4294967294, past what a hunk can hold (2147483647)");
}

TEST_CASE("fold and apply: a chain of 100,000 deltas") {
  // Each delta appends its number and a newline, replacing the previous
  // line's first byte by '#': exercises deep folds without recursion.
  std::vector<Bytes> chain;
  std::size_t size = 0;
  std::string expected;
  for (int i = 0; i < 100000; ++i) {
    const std::string line = std::to_string(i) + "\n";
    if (size == 0) {
      chain.push_back(delta({{0, 0, line}}));
    } else {
      const std::size_t last = size - (std::to_string(i - 1).size() + 1);
      chain.push_back(delta({{static_cast<std::int64_t>(last), static_cast<std::int64_t>(last + 1), "#"},
                             {static_cast<std::int64_t>(size), static_cast<std::int64_t>(size), line}}));
      expected[last] = '#';
    }
    expected += line;
    size += line.size();
  }
  const auto ds = views(chain);
  auto text = hgrpc::mpatch::apply(ByteView{}, ds);
  REQUIRE(text.has_value());
  CHECK(str(*text) == expected);
  auto folded = fold(ds);
  REQUIRE(folded.has_value());
  CHECK(*folded == delta({{0, 0, expected}}));
}
