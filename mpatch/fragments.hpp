#pragma once
// Internal: a text described in terms of another (its base) as a list of
// fragments, each either a range copied from the base or literal bytes viewed
// in a delta, followed by a tail: the rest of the base from `tail`. The tail
// lets deltas be combined without knowing the base size.
//
// Copy fragments are in increasing, non-overlapping base order (a delta can
// only keep text in order), so composing two lists is one merge walk.
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "mpatch/mpatch.hpp"

namespace hgrpc::mpatch {

// 16 bytes, so that composing lists moves little memory. `where` is a base
// offset for a copy and the address of the bytes for a literal, tagged with
// its top bit (free in both: fold_fragments keeps offsets below 2^63, and
// user-space addresses on x86-64 and AArch64 Linux are below 2^48; a
// top-byte pointer tagging scheme such as HWASan's would need another tag).
// A piece of either kind is then `where + skip`, with no branch, and
// `length` is a plain count for the walks that sum lengths.
struct Fragment {
  static constexpr std::uint64_t kLiteral = std::uint64_t{1} << 63;
  // While a fold works, each list ends with its tail as a copy of this
  // length: longer than any position it is compared with (those stay below
  // 2^63, see fold_fragments), so that walks stop at it without a bounds
  // check. A tail starts at most a delta's size plus 2^31 into its text, so
  // adding kOpen to that start cannot overflow.
  static constexpr std::uint64_t kOpen = std::uint64_t{1} << 63;

  // Left uninitialised, so that sizing scratch buffers does not zero them.
  Fragment() {}
  Fragment(std::uint64_t where_, std::uint64_t length_) : where(where_), length(length_) {}
  static Fragment copy(std::uint64_t source, std::uint64_t length) { return {source, length}; }
  static Fragment literal(const std::uint8_t* data, std::uint64_t length) {
    return {reinterpret_cast<std::uintptr_t>(data) | kLiteral, length};
  }

  bool is_literal() const { return (where & kLiteral) != 0; }
  const std::uint8_t* data() const { return reinterpret_cast<const std::uint8_t*>(where & ~kLiteral); }

  std::uint64_t where;   // base offset (copy) or tagged address (literal)
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
  struct ListRef {  // [begin, end), the last fragment being the open tail
    std::size_t begin;
    std::size_t end;
  };
  // Ping-pong buffers: one level of the fold reads one and writes the other.
  // Their size is their usable capacity; the lists say what is in use.
  std::vector<Fragment> current, next;
  std::vector<ListRef> lists, next_lists;
  std::vector<Fragment>* spare = nullptr;  // after fold_to_pair: the buffer it left free
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

// A fold with its last composition left undone: the chain equals `first`
// (the earlier deltas) followed by `second` (the later ones, describing their
// text in terms of first's), which compose_pieces walks as one. second is
// empty when the chain folded to one list, and both for no deltas. Each list
// ends with its open tail (Fragment::kOpen long). Views scratch. Given the
// base size, every hunk is checked against the text it applies to, exactly
// as patched_size() does, and `size` is the result's size: apply() needs
// one pass over the deltas, not two.
struct FoldedPair {
  std::span<const Fragment> first, second;
  std::uint64_t size = 0;
};
Result<FoldedPair> fold_to_pair(std::span<const ByteView> deltas, FoldScratch& scratch,
                                std::optional<std::uint64_t> base_size = std::nullopt);

// The pair's last composition, written to the buffer fold_to_pair left free
// (scratch.spare): the chain's whole list, ending with its open tail. For a
// chain that folded to one list, that list; empty for no deltas.
std::span<const Fragment> compose_pair(const FoldedPair& pair, FoldScratch& scratch);

// The composition of `deltas` in order, bottom-up pairwise (no recursion):
// fold_to_pair, then its last composition. The result views `scratch`;
// literals stay views into the deltas. Both must outlive the result. Checks
// and sizes as fold_to_pair does.
Result<FragmentList> fold_fragments(std::span<const ByteView> deltas, FoldScratch& scratch,
                                    std::optional<std::uint64_t> base_size = std::nullopt);

// The canonical wire form of a fragment list: hunks between the kept base
// ranges, empty hunks dropped. Checks the encoded size against the limit
// before allocating.
Result<Bytes> encode_fragments(const FragmentList& list, const Limits& limits);

}  // namespace hgrpc::mpatch
