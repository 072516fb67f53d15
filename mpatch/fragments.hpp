#pragma once
// Internal: a text described in terms of another (its base) as a list of
// fragments, each either a range copied from the base or literal bytes viewed
// in a delta, followed by an implicit tail: the rest of the base from `tail`.
// The implicit tail lets deltas be combined without knowing the base size.
//
// Copy fragments are in increasing, non-overlapping base order (a delta can
// only keep text in order), so composing two lists is one merge walk.
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "mpatch/mpatch.hpp"

namespace hgrpc::mpatch {

struct Fragment {
  const std::uint8_t* literal;  // nullptr: copy base[source, source + length)
  std::uint64_t source;
  std::uint64_t length;
};

struct FragmentList {
  std::span<const Fragment> fragments;
  std::uint64_t tail = 0;  // base offset where the implicit tail starts
  std::uint64_t size = 0;  // the text's size, when the base size was given
};

// Working storage of a fold, reused from call to call on one thread so that
// a fold allocates nothing once warm (allocation dominated short chains).
struct FoldScratch {
  struct ListRef {
    std::size_t begin;
    std::size_t end;
    std::uint64_t tail;
  };
  std::vector<Fragment> current, next;
  std::vector<ListRef> lists, next_lists;
};

// This thread's scratch, and giving back memory beyond a modest size.
FoldScratch& thread_scratch();
void trim(FoldScratch& scratch);

// This thread's scratch for one operation, trimmed when it ends.
class ScratchLease {
 public:
  ScratchLease() : scratch_(thread_scratch()) {}
  ~ScratchLease() { trim(scratch_); }
  ScratchLease(const ScratchLease&) = delete;
  ScratchLease& operator=(const ScratchLease&) = delete;
  FoldScratch& get() { return scratch_; }

 private:
  FoldScratch& scratch_;
};

// The composition of `deltas` in order, bottom-up pairwise (no recursion).
// The result views `scratch`; literals stay views into the deltas. Both must
// outlive the result. Given the base size, also checks every hunk against the
// text it applies to, exactly as patched_size() does, and sizes the result:
// apply() needs one pass over the deltas, not two.
Result<FragmentList> fold_fragments(std::span<const ByteView> deltas, FoldScratch& scratch,
                                    std::optional<std::uint64_t> base_size = std::nullopt);

// The canonical wire form of a fragment list: hunks between the kept base
// ranges, empty hunks dropped. Checks the encoded size against the limit
// before allocating.
Result<Bytes> encode_fragments(const FragmentList& list, const Limits& limits);

}  // namespace hgrpc::mpatch
