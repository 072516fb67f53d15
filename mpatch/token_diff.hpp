#pragma once
// Internal: the matching blocks of two token sequences. Common prefix and
// suffix are trimmed; what remains is solved by Myers' O(ND) algorithm
// (a minimal edit script) when the edit distance is small, otherwise split at
// patience anchors (tokens occurring once on each side) and solved piecewise.
// A global work budget bounds the time: regions left when it runs out are
// reported as unmatched, which is still a correct, if larger, diff.
#include <cstdint>
#include <span>
#include <vector>

namespace hgrpc::mpatch {

struct Match {
  std::size_t a;  // first token in a
  std::size_t b;  // first token in b
  std::size_t n;  // number of equal tokens
};

// Sorted, non-overlapping, with adjacent blocks merged. `distinct` bounds the ids.
std::vector<Match> match_tokens(std::span<const std::uint32_t> a, std::span<const std::uint32_t> b,
                                std::uint32_t distinct);

}  // namespace hgrpc::mpatch
