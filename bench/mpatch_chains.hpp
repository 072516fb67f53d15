#pragma once
// Seeded inputs of the patch-engine benchmarks: random source-like lines and
// chains of revisions (deltas in Mercurial's format). Fixed seeds make runs
// comparable; mpatch_chain_dump writes the same chains for the reference
// measurement of Mercurial's own C mpatch.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "mpatch/mpatch.hpp"

namespace hgrpc::bench {

using Bytes = hgrpc::mpatch::Bytes;
using ByteView = hgrpc::mpatch::ByteView;
using Rng = std::mt19937_64;

std::size_t pick(Rng& rng, std::size_t lo, std::size_t hi);
std::string random_line(Rng& rng);  // 20-80 characters, ending in '\n'
Bytes join(const std::vector<std::string>& lines);

struct Chain {
  Bytes base;
  std::vector<Bytes> deltas;
  std::vector<ByteView> views;  // of deltas
  std::size_t hunks = 0;
  std::size_t output = 0;  // size of the last revision
};

// A text of about base_bytes, then `revisions` deltas of min..max edits,
// each replacing 0-3 lines by 0-3 new ones.
Chain make_chain(std::uint64_t seed, std::size_t base_bytes, std::size_t revisions,
                 std::size_t min_edits, std::size_t max_edits);

const Chain& chain_1mib();   // 1 MiB, 1000 deltas of 1-8 edits (~4,600 hunks)
const Chain& chain_64mib();  // 64 MiB, 10 deltas of 6,000 edits (~9,000 lines replaced each)

}  // namespace hgrpc::bench
