// Fragment-list composition: the engine behind fold() and apply().
#include "mpatch/fragments.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

#include "mpatch/compose.hpp"
#include "mpatch/error.hpp"
#include "mpatch/hunk_reader.hpp"

namespace hgrpc::mpatch {
namespace {

using ListRef = FoldScratch::ListRef;

// How far ahead of its reading decode_delta fetches a delta.
constexpr std::size_t kPrefetchAhead = 1024;

// Deltas of a chain are separate allocations, each mostly a few cache lines,
// too short for decode_delta's own prefetching: the fold fetches the start
// of the delta this many ahead.
constexpr std::size_t kDeltasAhead = 4;
constexpr std::size_t kDeltaStartBytes = 1024;

void prefetch_start(ByteView delta) {
  const std::size_t n = std::min(delta.size(), kDeltaStartBytes);
  for (std::size_t k = 0; k < n; k += 64) __builtin_prefetch(delta.data() + k);
}

// Scratch kept between calls is capped: 1 Mi fragments (16 MiB).
constexpr std::size_t kKeptFragments = std::size_t{1} << 20;

// Fragments the decoding of `delta` can make: a kept range before each hunk,
// a literal per hunk with data, and the tail. A bound if it is malformed.
std::size_t decoded_bound(ByteView delta) {
  std::size_t count = 1;
  for (std::size_t off = 0; delta.size() - off >= kHunkHeaderSize;) {
    const auto length = static_cast<std::uint32_t>(read_be32(delta.data() + off + 8));
    count += length == 0 ? 1 : 2;
    if (length > delta.size() - off - kHunkHeaderSize) break;
    off += kHunkHeaderSize + length;
  }
  return count;
}

// Grows a scratch buffer to hold at least `needed` fragments (keeping its
// contents), geometrically so that growing per hunk stays linear.
void ensure(std::vector<Fragment>& buffer, std::size_t needed) {
  if (buffer.size() < needed) buffer.resize(std::max(needed, 2 * buffer.size()));
}

// Appends a fragment, joined to the previous one when it continues it. For
// either kind that is `where` meeting the previous end: the tag bit keeps a
// copy and a literal from ever looking contiguous, and joining two literals
// adjacent in memory views the same bytes. No branch on the kind.
// `first` is where the current list starts: lists never join each other.
inline Fragment* push(Fragment* first, Fragment* o, std::uint64_t where, std::uint64_t length) {
  if (o != first && o[-1].where + o[-1].length == where) {
    o[-1].length += length;
    return o;
  }
  *o = Fragment(where, length);
  return o + 1;
}

// Ends a list with its tail from base offset `tail`, joining a copy that
// runs into it (canonical form). Returns the new end.
inline Fragment* push_open(Fragment* first, Fragment* o, std::uint64_t tail) {
  o = push(first, o, tail, Fragment::kOpen);
  o[-1].length = Fragment::kOpen;
  return o;
}

// The precise error for a delta the fast decoder rejected: HunkReader walks
// it again and names the first bad hunk, exactly as decode() does.
Error delta_error(ByteView delta, std::size_t index, const std::uint64_t* size) {
  HunkReader reader(delta, static_cast<std::ptrdiff_t>(index));
  Hunk hunk{};
  for (;;) {
    auto more = reader.next(hunk);
    if (!more) return std::move(more.error());
    if (!*more) return Error{"internal error: delta " + std::to_string(index) + " rejected"};
    if (size != nullptr && static_cast<std::uint64_t>(hunk.end) > *size)
      return Error{past_end_message(reader.last_location(), hunk.end, *size)};
  }
}

// Appends the list of one delta's hunks (kept ranges, literals, open tail)
// to `buffer` at `used` and returns its end. A warm buffer usually has room:
// only when it runs short are the remaining hunks counted to grow it (a
// second walk over the delta, which costs cache misses on large ones), so
// scratch stays proportional to the delta's actual hunks. With `size`
// (the text's size, updated to the result's), also checks each end against
// the text as patched_size() does. Checks the same conditions as HunkReader
// in one branch per hunk; the rare failure is explained by it.
Result<std::size_t> decode_delta(ByteView delta, std::size_t index, std::vector<Fragment>& buffer,
                                 std::size_t used, std::uint64_t* size) {
  ensure(buffer, used + 1);
  Fragment* first = buffer.data() + used;
  Fragment* o = first;
  Fragment* room_end = buffer.data() + buffer.size();  // room for the tail at least
  const std::uint8_t* p = delta.data();
  const std::uint8_t* const end = p + delta.size();
  const std::uint64_t limit = size != nullptr ? *size : std::numeric_limits<std::uint64_t>::max();
  std::int64_t position = 0;  // end of the previous hunk
  std::uint64_t removed = 0, added = 0;
  while (end - p >= static_cast<std::ptrdiff_t>(kHunkHeaderSize)) {
    // Each header's address depends on the previous one's length: fetching
    // ahead keeps a cold delta's cache misses from adding up one by one.
    // (Integer arithmetic: the address may be past the delta, and a
    // prefetch never faults.)
    __builtin_prefetch(reinterpret_cast<const void*>(reinterpret_cast<std::uintptr_t>(p) +
                                                     kPrefetchAhead));
    const std::int64_t start = read_be32(p);
    const std::int64_t stop = read_be32(p + 4);
    const std::int64_t length = read_be32(p + 8);
    const std::int64_t room = end - p - static_cast<std::ptrdiff_t>(kHunkHeaderSize);
    // start >= position >= 0 covers "negative" and "unsorted or overlapping".
    if ((start < position) | (stop < start) | (length < 0) | (length > room) |
        (static_cast<std::uint64_t>(stop) > limit))
      return hgrpc::unexpected<Error>(delta_error(delta, index, size));
    if (room_end - o < 3) {  // two for this hunk, one for the tail
      const auto at = static_cast<std::size_t>(o - buffer.data());
      const auto rest = delta.subspan(static_cast<std::size_t>(p - delta.data()));
      ensure(buffer, at + std::max<std::size_t>(3, decoded_bound(rest)));
      first = buffer.data() + used;
      o = buffer.data() + at;
      room_end = buffer.data() + buffer.size();
    }
    if (start > position)
      o = push(first, o, static_cast<std::uint64_t>(position),
               static_cast<std::uint64_t>(start - position));
    if (length > 0)
      *o++ = Fragment::literal(p + kHunkHeaderSize, static_cast<std::uint64_t>(length));
    removed += static_cast<std::uint64_t>(stop - start);
    added += static_cast<std::uint64_t>(length);
    position = stop;
    p += kHunkHeaderSize + static_cast<std::size_t>(length);
  }
  if (p != end) return hgrpc::unexpected<Error>(delta_error(delta, index, size));
  if (size != nullptr) *size = *size - removed + added;
  o = push_open(first, o, static_cast<std::uint64_t>(position));
  return static_cast<std::size_t>(o - buffer.data());
}

// Writes the list for "a, then b" at `o`, which has room for |a| + |b|
// fragments (see compose_pieces). One forward walk over each list.
Fragment* compose(const Fragment* a, const Fragment* a_end, const Fragment* b,
                  const Fragment* b_end, Fragment* o) {
  Fragment* const first = o;
  const std::uint64_t tail = compose_pieces(
      a, a_end, b, b_end, [&](std::uint64_t where, std::uint64_t length) { o = push(first, o, where, length); },
      [&](std::uint64_t where, std::uint64_t length) { *o++ = Fragment(where, length); });
  return push_open(first, o, tail);
}

}  // namespace

FoldScratch& thread_scratch() {
  thread_local FoldScratch scratch;
  return scratch;
}

void trim(FoldScratch& s) {
  if (s.current.size() + s.next.size() > kKeptFragments) {
    s.current = {};
    s.next = {};
  }
  if (s.lists.capacity() + s.next_lists.capacity() > kKeptFragments) {
    s.lists = {};
    s.next_lists = {};
  }
}

Result<FoldedPair> fold_to_pair(std::span<const ByteView> deltas, FoldScratch& scratch,
                                std::optional<std::uint64_t> base_size) {
  // Every base offset a fold makes is at most the sum of the deltas' largest
  // hunk ends (each below 2^31), which keeps it clear of Fragment::kLiteral
  // and below Fragment::kOpen.
  if (static_cast<std::uint64_t>(deltas.size()) >= (std::uint64_t{1} << 32))
    return fail("a chain of " + std::to_string(deltas.size()) + " deltas is too long to fold");
  std::vector<Fragment>* current = &scratch.current;
  std::vector<Fragment>* next = &scratch.next;
  std::vector<ListRef>& lists = scratch.lists;
  std::vector<ListRef>& next_lists = scratch.next_lists;
  lists.clear();
  lists.reserve(deltas.size());
  next_lists.clear();
  next_lists.reserve(deltas.size() / 2 + 1);
  std::size_t used = 0;
  for (std::size_t i = 0; i < deltas.size(); ++i) {
    if (i + kDeltasAhead < deltas.size()) prefetch_start(deltas[i + kDeltasAhead]);
    auto end = decode_delta(deltas[i], i, *current, used, base_size ? &*base_size : nullptr);
    if (!end) return hgrpc::unexpected<Error>(std::move(end.error()));
    lists.push_back(ListRef{used, *end});
    used = *end;
  }
  if (lists.empty()) return FoldedPair{{}, {}, base_size.value_or(0)};

  // Bottom-up: pairs, then pairs of pairs. Each level is one pass over the
  // fragments, and there are log2(n) levels, the last left to the caller.
  while (lists.size() > 2) {
    const std::size_t room = lists.back().end - lists.front().begin;  // sum of |a| + |b|
    ensure(*next, room);
    next_lists.clear();
    const Fragment* in = current->data();
    Fragment* const out = next->data();
    Fragment* o = out;
    for (std::size_t i = 0; i < lists.size(); i += 2) {
      const ListRef a = lists[i];
      const std::size_t begin = static_cast<std::size_t>(o - out);
      if (i + 1 == lists.size()) {
        o = std::copy(in + a.begin, in + a.end, o);
      } else {
        const ListRef b = lists[i + 1];
        o = compose(in + a.begin, in + a.end, in + b.begin, in + b.end, o);
      }
      next_lists.push_back(ListRef{begin, static_cast<std::size_t>(o - out)});
    }
    std::swap(current, next);
    std::swap(lists, next_lists);
  }
  scratch.spare = next;
  const Fragment* const in = current->data();
  FoldedPair pair{{in + lists[0].begin, in + lists[0].end}, {}, base_size.value_or(0)};
  if (lists.size() == 2) pair.second = {in + lists[1].begin, in + lists[1].end};
  return pair;
}

std::span<const Fragment> compose_pair(const FoldedPair& pair, FoldScratch& scratch) {
  if (pair.second.empty()) return pair.first;
  std::vector<Fragment>& out = *scratch.spare;
  ensure(out, pair.first.size() + pair.second.size());
  const Fragment* end = compose(pair.first.data(), pair.first.data() + pair.first.size(), pair.second.data(),
                                pair.second.data() + pair.second.size(), out.data());
  return {out.data(), end};
}

Result<FragmentList> fold_fragments(std::span<const ByteView> deltas, FoldScratch& scratch,
                                    std::optional<std::uint64_t> base_size) {
  auto pair = fold_to_pair(deltas, scratch, base_size);
  if (!pair) return hgrpc::unexpected<Error>(std::move(pair.error()));
  if (pair->first.empty()) return FragmentList{{}, 0, pair->size};
  const std::span<const Fragment> list = compose_pair(*pair, scratch);
  // The last fragment is the open tail.
  return FragmentList{list.first(list.size() - 1), list.back().where, pair->size};
}

Result<Bytes> encode_fragments(const FragmentList& list, const Limits& limits) {
  constexpr auto kMaxField = static_cast<std::uint64_t>(std::numeric_limits<std::int32_t>::max());
  // Visits each hunk (start, end, literal pieces [first, last)) in order.
  auto for_each_hunk = [&](auto&& emit) -> Result<void> {
    std::uint64_t kept_end = 0;  // base offset after the last kept range
    std::size_t first = 0;       // first literal of the pending hunk
    auto close = [&](std::size_t i, std::uint64_t next_kept) -> Result<void> {
      if (next_kept == kept_end && first == i) return {};
      if (next_kept > kMaxField)
        return fail("folded delta needs base offset " + std::to_string(next_kept) +
                    ", past what a hunk can hold (" + std::to_string(kMaxField) + ")");
      emit(kept_end, next_kept, first, i);
      return {};
    };
    for (std::size_t i = 0; i < list.fragments.size(); ++i) {
      const Fragment& f = list.fragments[i];
      if (f.is_literal()) continue;
      if (auto r = close(i, f.where); !r) return r;
      kept_end = f.where + f.length;
      first = i + 1;
    }
    return close(list.fragments.size(), list.tail);
  };

  // Pass 1: the encoded size. A literal run longer than a hunk can hold is
  // split into several hunks at the same position.
  std::uint64_t size = 0;
  auto sized = for_each_hunk([&](std::uint64_t, std::uint64_t, std::size_t first, std::size_t last) {
    std::uint64_t data = 0;
    for (std::size_t i = first; i < last; ++i) data += list.fragments[i].length;
    const std::uint64_t hunks = data == 0 ? 1 : (data + kMaxField - 1) / kMaxField;
    size += hunks * kHunkHeaderSize + data;
  });
  if (!sized) return hgrpc::unexpected<Error>(std::move(sized.error()));
  if (size > limits.max_output_bytes)
    return fail("folded delta would be " + std::to_string(size) + " bytes, over the limit of " +
                std::to_string(limits.max_output_bytes) + " bytes");

  // Pass 2: write it.
  Bytes out(static_cast<std::size_t>(size));
  std::uint8_t* p = out.data();
  (void)for_each_hunk([&](std::uint64_t start, std::uint64_t end, std::size_t first,
                          std::size_t last) {
    std::uint64_t data = 0;
    for (std::size_t i = first; i < last; ++i) data += list.fragments[i].length;
    std::size_t i = first;
    std::uint64_t used = 0;  // of fragment i
    bool first_hunk = true;
    do {
      const std::uint64_t n = std::min(data, kMaxField);
      // Only the first of a split run replaces [start, end); the others insert.
      write_be32(p, static_cast<std::int32_t>(first_hunk ? start : end));
      write_be32(p + 4, static_cast<std::int32_t>(end));
      write_be32(p + 8, static_cast<std::int32_t>(n));
      p += kHunkHeaderSize;
      for (std::uint64_t left = n; left > 0;) {
        const Fragment& f = list.fragments[i];
        const std::uint64_t c = std::min(left, f.length - used);
        std::memcpy(p, f.data() + used, c);
        p += c;
        left -= c;
        used += c;
        if (used == f.length) {
          ++i;
          used = 0;
        }
      }
      data -= n;
      first_hunk = false;
    } while (data > 0);
  });
  return out;
}

}  // namespace hgrpc::mpatch
