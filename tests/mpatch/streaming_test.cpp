// The path for large outputs: StreamingCopy on its own, and apply_into when
// the output is large enough to use it. Both are compared byte for byte
// with plain copies / the naive reference patcher. Seeded.
#include <doctest/doctest.h>

#include <cstring>

#include "mpatch/streaming_copy.hpp"
#include "tests/mpatch/support.hpp"

using namespace hgrpc::mpatch;
using namespace hgrpc::mpatch::test;

namespace {
constexpr std::uint64_t kSeed = 20261201;
}  // namespace

TEST_CASE("StreamingCopy: pieces of any size at any destination alignment, exact bytes") {
  for (std::uint64_t seed = kSeed; seed < kSeed + 64; ++seed) {
    CAPTURE(seed);
    Rng rng(seed);
    const Bytes source = random_binary(rng, 64 * 1024);
    // Pieces from short to several staging buffers long, with empty ones.
    std::vector<std::pair<std::size_t, std::size_t>> pieces;  // offset, length
    std::size_t total = 0;
    for (std::size_t i = 0, n = pick(rng, 0, 200); i < n; ++i) {
      const std::size_t length = pick(rng, 0, 3) == 0 ? pick(rng, 0, 20000) : pick(rng, 0, 700);
      pieces.emplace_back(pick(rng, 0, source.size() - length), length);
      total += length;
    }
    const std::size_t misalign = pick(rng, 0, 63);
    Bytes expected(misalign + total + 64, 0xAB), actual = expected;
    std::size_t at = misalign;
    for (auto [offset, length] : pieces) {
      std::memcpy(expected.data() + at, source.data() + offset, length);
      at += length;
    }
    StreamingCopy copy(actual.data() + misalign);
    for (auto [offset, length] : pieces) copy.put(source.data() + offset, length);
    copy.finish();
    CHECK(actual == expected);  // including the untouched bytes around
  }
}

TEST_CASE("apply_into: outputs large enough to stream equal the reference, fresh and reused") {
  for (std::uint64_t seed = kSeed; seed < kSeed + 3; ++seed) {
    CAPTURE(seed);
    Rng rng(seed);
    const Bytes base = random_binary(rng, kStreamingMinBytes + pick(rng, 0, 100000));
    std::vector<Bytes> deltas;
    for (std::size_t i = 0, n = pick(rng, 1, 4); i < n; ++i)
      deltas.push_back(random_delta(rng, naive_chain(base, deltas).size(), 40, 5000));
    const Bytes expected = naive_chain(base, deltas);
    REQUIRE(expected.size() >= kStreamingMinBytes);
    Bytes out;
    REQUIRE(apply_into(view(base), views(deltas), out).has_value());
    CHECK(out == expected);
    out.assign(out.size(), 0);  // reused, with stale contents
    REQUIRE(apply_into(view(base), views(deltas), out).has_value());
    CHECK(out == expected);
  }
}

TEST_CASE("apply_into: a large base with no deltas, or only empty ones, is copied whole") {
  Rng rng(kSeed);
  const Bytes base = random_binary(rng, kStreamingMinBytes + 4097);
  Bytes out(17, 0xee);  // reused, smaller and with stale contents
  REQUIRE(apply_into(view(base), {}, out).has_value());
  CHECK(out == base);
  const std::vector<Bytes> empties(3);
  out.assign(out.size(), 0);
  REQUIRE(apply_into(view(base), views(empties), out).has_value());
  CHECK(out == base);
}
