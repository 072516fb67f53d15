#pragma once
// The patch engine: Mercurial's binary delta format. A delta is a sequence of
// hunks, each a 12-byte header of three big-endian signed 32-bit integers
// (start, end, length) followed by `length` bytes that replace base[start:end].
// Hunks are sorted by start and do not overlap; the empty delta is valid.
//
// Pure functions over byte spans: no I/O, no protocol. Errors are values whose
// message says what is wrong and where, e.g.
//   "delta 3, hunk 7 (offset 96): end 120 is past the end of the text (100 bytes)"
// Delta and hunk indices count from 0; the offset is that of the hunk's header
// within its delta. decode() of a lone delta omits the "delta N, " part.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "compat/expected.hpp"

namespace hgrpc::mpatch {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

struct Error {
  std::string message;
};
template <class T>
using Result = hgrpc::expected<T, Error>;

struct Hunk {
  std::int32_t start;
  std::int32_t end;
  ByteView data;  // a view into the delta it was decoded from
};

struct Limits {
  // Largest text apply() may produce and largest delta fold() may produce;
  // checked before anything is allocated.
  std::uint64_t max_output_bytes = std::uint64_t{1} << 30;
};

// The hunks of one delta, as views into it. Rejects start < 0, start > end,
// length < 0, a header or data running past the end, and unsorted or
// overlapping hunks.
Result<std::vector<Hunk>> decode(ByteView delta);

// Serialises hunks back to the wire form.
Bytes encode(std::span<const Hunk> hunks);

// Size of the text that applying `deltas` in order to a text of
// `original_size` bytes would produce, without building it. Also rejects a
// hunk whose end is past the text it applies to.
Result<std::uint64_t> patched_size(std::uint64_t original_size, std::span<const ByteView> deltas);

// base with deltas applied in order. A chain is folded first, so intermediate
// texts are never materialised; the output is allocated once.
Result<Bytes> apply(ByteView base, std::span<const ByteView> deltas, const Limits& limits = {});
// Same, into a caller-owned buffer that is reused (resized, not reallocated
// when large enough).
Result<void> apply_into(ByteView base, std::span<const ByteView> deltas, Bytes& out,
                        const Limits& limits = {});

// One delta equivalent to applying `deltas` in order (tree-wise combination).
// An empty list folds to the empty delta. The result is canonical (adjacent
// hunks merged, empty ones dropped), so fold is associative to the byte. The
// base size is unknown here: a hunk past the end of its text surfaces as a
// hunk past the base when the folded delta is applied. Fails if the result
// would need a base offset above 2^31-1.
Result<Bytes> fold(std::span<const ByteView> deltas, const Limits& limits = {});

// A delta that turns a into b: line granularity for text, a compact path for
// binary input. apply(a, {diff(a, b)}) == b always, and the delta is never
// larger than 12 + b.size(). Throws std::length_error if a is longer than a
// hunk offset can address (2^31-1 bytes).
Bytes diff(ByteView a, ByteView b);

// A delta of whole lines only, as Mercurial's bdiff makes them: every hunk
// starts and ends at a line boundary of both texts. Mercurial's manifest
// readers (readdelta, readfast) take a manifest delta's inserted bytes as
// whole manifest lines, so deltas sent or stored for manifests must be of
// this kind. Same limits as diff.
Bytes line_diff(ByteView a, ByteView b);

}  // namespace hgrpc::mpatch
