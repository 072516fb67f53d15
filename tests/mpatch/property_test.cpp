// Seeded property tests: random texts, random edit chains, random corruption.
// Each case runs a range of seeds and CAPTUREs the one that fails.
#include <doctest/doctest.h>

#include <algorithm>

#include "tests/mpatch/support.hpp"

using namespace hgrpc::mpatch;
using namespace hgrpc::mpatch::test;

namespace {

constexpr std::uint64_t kSeed = 20261125;

Bytes random_text(Rng& rng) {
  switch (pick(rng, 0, 2)) {
    case 0: return random_binary(rng, pick(rng, 0, 400));
    case 1: return random_binary(rng, pick(rng, 0, 400), 3);
    default: return random_lines(rng, pick(rng, 0, 60));
  }
}

// A different text derived from `a` by line and byte edits.
Bytes edited(Rng& rng, const Bytes& a) {
  std::vector<Bytes> ds;
  return random_chain(rng, a, pick(rng, 1, 4), ds).back();
}

// The size of the smallest delta made of whole-line hunks: dynamic
// programming over line alignments, each hunk costing 12 + its data.
std::size_t best_line_diff_size(const Bytes& a, const Bytes& b) {
  auto lines = [](const Bytes& t) {
    std::vector<std::string> out;
    std::string cur;
    for (auto c : t) {
      cur += static_cast<char>(c);
      if (c == '\n') out.push_back(std::move(cur)), cur.clear();
    }
    if (!cur.empty()) out.push_back(cur);
    return out;
  };
  const auto la = lines(a), lb = lines(b);
  const std::size_t n = la.size(), m = lb.size();
  constexpr std::size_t inf = SIZE_MAX / 4;
  // cost[i][j][open]: best for la[i:], lb[j:], open: inside a hunk already paid for.
  std::vector<std::size_t> cost((n + 1) * (m + 1) * 2, inf);
  auto at = [&](std::size_t i, std::size_t j, int open) -> std::size_t& {
    return cost[(i * (m + 1) + j) * 2 + static_cast<std::size_t>(open)];
  };
  for (std::size_t i = n + 1; i-- > 0;) {
    for (std::size_t j = m + 1; j-- > 0;) {
      for (int open = 0; open < 2; ++open) {
        std::size_t best = (i == n && j == m) ? 0 : inf;
        const std::size_t header = open ? 0 : 12;
        if (i < n && j < m && la[i] == lb[j]) best = std::min(best, at(i + 1, j + 1, 0));
        if (i < n) best = std::min(best, header + at(i + 1, j, 1));
        if (j < m) best = std::min(best, header + lb[j].size() + at(i, j + 1, 1));
        at(i, j, open) = best;
      }
    }
  }
  return at(0, 0, 0);
}

}  // namespace

TEST_CASE("property: apply(fold(chain)) == sequential apply, and patched_size == size") {
  for (std::uint64_t seed = kSeed; seed < kSeed + 300; ++seed) {
    CAPTURE(seed);
    Rng rng(seed);
    const Bytes base = random_text(rng);
    std::vector<Bytes> deltas;
    const auto texts = random_chain(rng, base, pick(rng, 0, 24), deltas);
    const auto ds = views(deltas);
    auto size = patched_size(base.size(), ds);
    REQUIRE(size.has_value());
    CHECK(*size == texts.back().size());
    auto direct = hgrpc::mpatch::apply(view(base), ds);
    REQUIRE(direct.has_value());
    CHECK(*direct == texts.back());
    auto folded = fold(ds);
    REQUIRE(folded.has_value());
    CHECK(decode(view(*folded)).has_value());
    auto via_fold = hgrpc::mpatch::apply(view(base), std::vector<ByteView>{view(*folded)});
    REQUIRE(via_fold.has_value());
    CHECK(*via_fold == texts.back());
    // Folding a prefix and a suffix separately, then together.
    const std::size_t cut = pick(rng, 0, deltas.size());
    auto left = fold(std::span<const ByteView>(ds).first(cut));
    auto right = fold(std::span<const ByteView>(ds).subspan(cut));
    REQUIRE(left.has_value());
    REQUIRE(right.has_value());
    CHECK(*fold(std::vector<ByteView>{view(*left), view(*right)}) == *folded);
  }
}

TEST_CASE("property: fold is associative, to the byte") {
  for (std::uint64_t seed = kSeed; seed < kSeed + 300; ++seed) {
    CAPTURE(seed);
    Rng rng(seed);
    const Bytes base = random_text(rng);
    std::vector<Bytes> d;
    const auto texts = random_chain(rng, base, 3, d);
    auto xy = fold(std::vector<ByteView>{view(d[0]), view(d[1])});
    auto yz = fold(std::vector<ByteView>{view(d[1]), view(d[2])});
    REQUIRE(xy.has_value());
    REQUIRE(yz.has_value());
    auto left = fold(std::vector<ByteView>{view(*xy), view(d[2])});
    auto right = fold(std::vector<ByteView>{view(d[0]), view(*yz)});
    REQUIRE(left.has_value());
    REQUIRE(right.has_value());
    CHECK(*left == *right);
    CHECK(*left == *fold(views(d)));
    CHECK(*hgrpc::mpatch::apply(view(base), std::vector<ByteView>{view(*left)}) == texts.back());
  }
}

TEST_CASE("property: apply(a, diff(a, b)) == b, no larger than the best line diff") {
  for (std::uint64_t seed = kSeed; seed < kSeed + 400; ++seed) {
    CAPTURE(seed);
    Rng rng(seed);
    const Bytes a = random_text(rng);
    const Bytes b = pick(rng, 0, 3) == 0 ? random_text(rng) : edited(rng, a);
    const Bytes d = diff(view(a), view(b));
    auto r = hgrpc::mpatch::apply(view(a), std::vector<ByteView>{view(d)});
    REQUIRE(r.has_value());
    CHECK(*r == b);
    CHECK(d.size() <= best_line_diff_size(a, b));
    CHECK(d.size() <= 12 + b.size());
  }
}

TEST_CASE("property: every malformed-delta rule is rejected, naming the hunk") {
  for (std::uint64_t seed = kSeed; seed < kSeed + 300; ++seed) {
    CAPTURE(seed);
    Rng rng(seed);
    const Bytes base = random_binary(rng, pick(rng, 20, 200), 4);
    Bytes d;
    while (true) {
      d = random_delta(rng, base.size(), 6);
      if (!d.empty()) break;
    }
    auto hunks = decode(view(d));
    REQUIRE(hunks.has_value());
    // Offsets of each hunk header.
    std::vector<std::size_t> offsets;
    for (std::size_t off = 0, i = 0; i < hunks->size(); ++i) {
      offsets.push_back(off);
      off += 12 + (*hunks)[i].data.size();
    }
    const std::size_t i = pick(rng, 0, hunks->size() - 1);
    const std::size_t off = offsets[i];
    const int rule = static_cast<int>(pick(rng, 0, 5));
    CAPTURE(rule);
    Bytes bad = d;
    auto set = [&](std::size_t at, std::int64_t v) {
      Bytes field;
      put32(field, v);
      std::copy(field.begin(), field.end(), bad.begin() + static_cast<std::ptrdiff_t>(at));
    };
    const std::int64_t start = (*hunks)[i].start, end = (*hunks)[i].end;
    std::string expect = "hunk " + std::to_string(i) + " (offset " + std::to_string(off) + "): ";
    switch (rule) {
      case 0: set(off, -1 - static_cast<std::int64_t>(pick(rng, 0, 1000))); expect += "start -"; break;
      case 1: set(off, end + 1); expect += "start " + std::to_string(end + 1) + " is after end"; break;
      case 2: set(off + 8, -1); expect += "length -1 is negative"; break;
      case 3: set(off + 8, static_cast<std::int64_t>(bad.size())); expect += "data of "; break;
      case 4: {  // truncate inside this hunk's header
        bad.resize(off + pick(rng, 1, 11));
        expect += "header needs 12 bytes";
        break;
      }
      default: {  // start before the previous hunk's end
        if (i == 0 || (*hunks)[i - 1].end == 0) {
          bad.insert(bad.begin(), 12, 0);  // prepend an empty hunk at 0
          set(0, 0);
          set(4, 5);
          set(8, 0);
          if (start >= 5) set(12 + off, 4);
          expect = "hunk " + std::to_string(i + 1) + " (offset " + std::to_string(off + 12) + "): ";
          if (start >= 5 && (i == 0)) {
            expect += "start 4 is before the end of the previous hunk (5)";
          } else if (i == 0) {
            expect += "start " + std::to_string(start) + " is before the end of the previous hunk (5)";
          } else {
            expect = "hunk ";  // an earlier hunk may fail first; any hunk is named
          }
        } else {
          set(off, (*hunks)[i - 1].end - 1);
          if ((*hunks)[i - 1].end - 1 > end) {
            expect += "start";  // also after end: either message names this hunk
          } else {
            expect += "start " + std::to_string((*hunks)[i - 1].end - 1) +
                      " is before the end of the previous hunk (" +
                      std::to_string((*hunks)[i - 1].end) + ")";
          }
        }
      }
    }
    auto r = decode(view(bad));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().message.rfind(expect, 0) == 0);
    // Every entry point rejects it, with the delta index in front.
    const std::vector<ByteView> chain{view(d), view(bad)};
    const std::string in_chain = "delta 1, " + r.error().message;
    auto size = patched_size(1u << 20, chain);
    REQUIRE_FALSE(size.has_value());
    auto folded = fold(chain);
    REQUIRE_FALSE(folded.has_value());
    CHECK(folded.error().message == in_chain);
    // apply decodes with its own fast path and must explain it the same way.
    static const Bytes big(std::size_t{1} << 20, 'x');
    auto applied = hgrpc::mpatch::apply(view(big), chain);
    REQUIRE_FALSE(applied.has_value());
    CHECK(applied.error().message == in_chain);
    // patched_size may first find hunk past the text of the first delta's
    // output; with a 1 MiB text it sees only the format error.
    CHECK(size.error().message == in_chain);
  }
}

TEST_CASE("property: random bytes decode or are rejected, and accepted ones re-encode exactly") {
  for (std::uint64_t seed = kSeed; seed < kSeed + 2000; ++seed) {
    CAPTURE(seed);
    Rng rng(seed);
    Bytes d = random_delta(rng, 100);
    if (!d.empty()) d[pick(rng, 0, d.size() - 1)] = static_cast<std::uint8_t>(pick(rng, 0, 255));
    auto r = decode(view(d));
    if (r.has_value()) {
      CHECK(encode(*r) == d);
    } else {
      CHECK(r.error().message.rfind("hunk ", 0) == 0);
    }
  }
}

TEST_CASE("property: ends past the text are rejected by patched_size and apply") {
  for (std::uint64_t seed = kSeed; seed < kSeed + 300; ++seed) {
    CAPTURE(seed);
    Rng rng(seed);
    const Bytes base = random_binary(rng, pick(rng, 0, 100), 4);
    const std::size_t end = base.size() + pick(rng, 1, 20);
    const Bytes d = delta({{static_cast<std::int64_t>(pick(rng, 0, end)), static_cast<std::int64_t>(end), "x"}});
    const std::vector<ByteView> ds{view(d)};
    const std::string message = "delta 0, hunk 0 (offset 0): end " + std::to_string(end) +
                                " is past the end of the text (" + std::to_string(base.size()) + " bytes)";
    CHECK(patched_size(base.size(), ds).error().message == message);
    CHECK(hgrpc::mpatch::apply(view(base), ds).error().message == message);
  }
}
