// diff on hand-made inputs: exact deltas for simple cases, size bounds for
// line text and binary data.
#include <doctest/doctest.h>

#include "tests/mpatch/support.hpp"

using namespace hgrpc::mpatch;
using namespace hgrpc::mpatch::test;

namespace {
Bytes roundtrip(const Bytes& a, const Bytes& b) {
  const Bytes d = diff(view(a), view(b));
  auto r = hgrpc::mpatch::apply(view(a), std::vector<ByteView>{view(d)});
  REQUIRE(r.has_value());
  CHECK(*r == b);
  return d;
}
}  // namespace

TEST_CASE("diff: equal texts give the empty delta") {
  CHECK(diff({}, {}).empty());
  const Bytes a = bytes("same\ntext\n");
  CHECK(diff(view(a), view(a)).empty());
}

TEST_CASE("diff: from and to the empty text") {
  const Bytes a = bytes("abc\ndef\n");
  CHECK(roundtrip({}, a) == delta({{0, 0, "abc\ndef\n"}}));
  CHECK(roundtrip(a, {}) == delta({{0, 8, ""}}));
}

TEST_CASE("diff: a changed line is one hunk, trimmed to the changed bytes") {
  const Bytes a = bytes("one\ntwo\nthree\n");
  const Bytes b = bytes("one\ntwO\nthree\n");
  CHECK(roundtrip(a, b) == delta({{6, 7, "O"}}));
}

TEST_CASE("diff: inserted and deleted lines") {
  const Bytes a = bytes("a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\nm\nn\n");
  const Bytes b = bytes("a\nb\nNEW\nc\nd\ne\nf\ng\nh\ni\nj\nk\nm\nn\n");
  // Line diff: insert "NEW\n" at 4; delete "l\n" at [22, 24).
  CHECK(roundtrip(a, b) == delta({{4, 4, "NEW\n"}, {22, 24, ""}}));
}

TEST_CASE("diff: nearby hunks merge when one hunk is smaller") {
  const Bytes a = bytes("xxxxAyyyyBzzzz");
  const Bytes b = bytes("xxxx1yyyy2zzzz");
  // Two 1-byte hunks (2 x 13 bytes) cost more than one 6-byte hunk (18).
  CHECK(roundtrip(a, b) == delta({{4, 10, "1yyyy2"}}));
}

TEST_CASE("diff: a line diff's size for texts with moved blocks") {
  std::string a, b;
  for (int i = 0; i < 200; ++i) a += "line number " + std::to_string(i) + "\n";
  // Move lines 50..59 to the end, change line 120.
  std::string moved;
  for (int i = 0; i < 200; ++i) {
    const std::string line = "line number " + std::to_string(i) + "\n";
    if (i >= 50 && i < 60) {
      moved += line;
    } else if (i == 120) {
      b += "line NUMBER 120\n";
    } else {
      b += line;
    }
  }
  b += moved;
  const Bytes d = roundtrip(bytes(a), bytes(b));
  // Minimal line diff: delete 10 lines (one hunk), change 1 line, insert 10
  // lines (one hunk): 3 hunks, 146 bytes of inserted data at most.
  CHECK(d.size() <= 3 * 12 + moved.size() + 6);
}

TEST_CASE("diff: binary data without newlines gets a compact delta") {
  Rng rng(7);
  CAPTURE(7);
  const Bytes a = random_binary(rng, 64 * 1024);
  Bytes b = a;
  for (int i = 0; i < 20; ++i) {
    const std::size_t at = pick(rng, 0, b.size() - 16);
    for (std::size_t k = 0; k < 16; ++k) b[at + k] = static_cast<std::uint8_t>(pick(rng, 0, 255));
  }
  // Insertions and deletions shift the rest: block matching must resync.
  b.insert(b.begin() + 1000, 37, 'q');
  b.erase(b.begin() + 40000, b.begin() + 40100);
  const Bytes d = roundtrip(a, b);
  CHECK(d.size() < 22 * (12 + 16) + 37 + 200);
}

TEST_CASE("diff: a text with no newline at all") {
  const Bytes a(5000, 'a');
  Bytes b = a;
  b[2500] = 'b';
  CHECK(roundtrip(a, b) == delta({{2500, 2501, "b"}}));
}

TEST_CASE("diff: unrelated texts give one replacement") {
  Rng rng(11);
  const Bytes a = random_binary(rng, 3000);
  const Bytes b = random_binary(rng, 2000);
  const Bytes d = roundtrip(a, b);
  CHECK(d.size() <= 12 + 2000);
}

TEST_CASE("line_diff: hunks cover whole lines, as Mercurial's bdiff (manifest deltas)") {
  // A manifest line whose node changed: diff trims to the changed bytes,
  // line_diff replaces the whole line.
  const Bytes a = bytes(std::string("a.txt\0", 6) + std::string(40, '1') + std::string("\nb.txt\0", 7) + std::string(40, '2') + "\n");
  const Bytes b = bytes(std::string("a.txt\0", 6) + std::string(40, '1') + std::string("\nb.txt\0", 7) + std::string(39, '2') + "3\n");
  const Bytes whole_line = bytes(std::string("b.txt\0", 6) + std::string(39, '2') + "3\n");
  const Bytes d = line_diff(view(a), view(b));
  CHECK(d == delta({{47, 94, std::string(whole_line.begin(), whole_line.end())}}));
  auto r = hgrpc::mpatch::apply(view(a), std::vector<ByteView>{view(d)});
  REQUIRE(r.has_value());
  CHECK(*r == b);
  CHECK(diff(view(a), view(b)).size() < d.size());  // diff narrows the same change
  CHECK(line_diff(view(a), view(a)).empty());
  CHECK(line_diff({}, view(b)) == delta({{0, 0, std::string(b.begin(), b.end())}}));
}
