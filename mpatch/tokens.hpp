#pragma once
// Internal: cutting two texts into tokens (lines, or content-defined chunks
// for binary data) and numbering equal tokens alike, so that diffing compares
// integers.
#include <cstdint>
#include <vector>

#include "mpatch/mpatch.hpp"

namespace hgrpc::mpatch {

struct Tokens {
  std::vector<std::uint32_t> ids;   // equal content <=> equal id (across a and b)
  std::vector<std::size_t> ends;    // end offset of each token in its text
  std::size_t begin(std::size_t i) const { return i == 0 ? 0 : ends[i - 1]; }
};

enum class Cut {
  lines,   // up to and including each '\n'
  chunks,  // content-defined boundaries (gear rolling hash), 8..128 bytes
};

struct TokenPair {
  Tokens a;
  Tokens b;
  std::uint32_t distinct = 0;  // ids are < distinct
};

TokenPair tokenize(ByteView a, ByteView b, Cut cut);

}  // namespace hgrpc::mpatch
