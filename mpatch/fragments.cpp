// Fragment-list composition: the engine behind fold() and apply().
#include "mpatch/fragments.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

#include "mpatch/error.hpp"
#include "mpatch/hunk_reader.hpp"

namespace hgrpc::mpatch {
namespace {

using ListRef = FoldScratch::ListRef;

// Scratch kept between calls is capped: 1 Mi fragments (24 MiB).
constexpr std::size_t kKeptFragments = std::size_t{1} << 20;

// Hunks in a delta, by hopping over headers; a bound if it is malformed.
std::size_t count_hunks(ByteView delta) {
  std::size_t count = 0;
  for (std::size_t off = 0; delta.size() - off >= kHunkHeaderSize; ++count) {
    const auto length = static_cast<std::uint32_t>(read_be32(delta.data() + off + 8));
    if (length > delta.size() - off - kHunkHeaderSize) return count + 1;
    off += kHunkHeaderSize + length;
  }
  return count + 1;
}

void push_copy(std::vector<Fragment>& out, std::uint64_t source, std::uint64_t length) {
  if (length == 0) return;
  if (!out.empty()) {
    Fragment& last = out.back();
    if (last.literal == nullptr && last.source + last.length == source) {
      last.length += length;
      return;
    }
  }
  out.push_back(Fragment{nullptr, source, length});
}

// Copies ending where the tail starts join the tail (canonical form).
std::uint64_t absorb_into_tail(std::vector<Fragment>& out, std::size_t begin, std::uint64_t tail) {
  while (out.size() > begin && out.back().literal == nullptr &&
         out.back().source + out.back().length == tail) {
    tail = out.back().source;
    out.pop_back();
  }
  return tail;
}

// Appends the fragments of one delta's hunks: kept ranges and literals.
// With `size` (the text's size, updated to the result's), also checks each
// end against the text as patched_size() does.
Result<std::uint64_t> append_delta(ByteView delta, std::size_t index, std::vector<Fragment>& out,
                                   std::uint64_t* size) {
  HunkReader reader(delta, static_cast<std::ptrdiff_t>(index));
  const std::size_t begin = out.size();
  std::uint64_t position = 0;
  std::uint64_t removed = 0, added = 0;
  Hunk hunk{};
  for (;;) {
    auto more = reader.next(hunk);
    if (!more) return hgrpc::unexpected<Error>(std::move(more.error()));
    if (!*more) break;
    if (size != nullptr) {
      if (static_cast<std::uint64_t>(hunk.end) > *size)
        return fail(past_end_message(reader.last_location(), hunk.end, *size));
      removed += static_cast<std::uint64_t>(hunk.end - hunk.start);
      added += hunk.data.size();
    }
    push_copy(out, position, static_cast<std::uint64_t>(hunk.start) - position);
    if (!hunk.data.empty()) out.push_back(Fragment{hunk.data.data(), 0, hunk.data.size()});
    position = static_cast<std::uint64_t>(hunk.end);
  }
  if (size != nullptr) *size = *size - removed + added;
  return absorb_into_tail(out, begin, position);
}

// Appends the list for "a, then b": b's copies (ranges of a's text) replaced
// by the pieces of a that make up those ranges. One forward walk over each.
std::uint64_t compose(const std::vector<Fragment>& in, ListRef a, ListRef b,
                      std::vector<Fragment>& out) {
  const std::size_t begin = out.size();
  std::size_t ai = a.begin;
  std::uint64_t a_pos = 0;  // position in a's text of in[ai]

  // Appends a's text [p, p + length); length may be "to the end".
  // Appends piece [skip, skip + n) of a's fragment g.
  auto piece = [&](const Fragment& g, std::uint64_t skip, std::uint64_t n) {
    if (g.literal == nullptr) {
      push_copy(out, g.source + skip, n);
    } else {
      out.push_back(Fragment{g.literal + skip, 0, n});
    }
  };
  // Appends a's text [p, p + length) (length may be "to the end"): a piece
  // of the first fragment, whole fragments copied in bulk, a piece of the
  // last. Returns where it stopped: p + length, or the end of a's fragments.
  auto take = [&](std::uint64_t p, std::uint64_t length) {
    while (ai < a.end && a_pos + in[ai].length <= p) {
      a_pos += in[ai].length;
      ++ai;
    }
    if (length == 0 || ai == a.end) return p;
    const Fragment& g = in[ai];
    const std::uint64_t skip = p - a_pos;
    const std::uint64_t n = std::min(g.length - skip, length);
    piece(g, skip, n);
    p += n;
    length -= n;
    if (skip + n < g.length) return p;  // ended inside g
    a_pos += g.length;
    ++ai;
    std::size_t j = ai;
    std::uint64_t left = length;
    while (j < a.end && in[j].length <= left) left -= in[j].length, ++j;
    out.insert(out.end(), in.begin() + static_cast<std::ptrdiff_t>(ai),
               in.begin() + static_cast<std::ptrdiff_t>(j));
    a_pos += length - left;
    p += length - left;
    ai = j;
    if (left > 0 && ai < a.end) {  // ends inside in[ai]
      piece(in[ai], 0, left);
      p += left;
    }
    return p;
  };

  for (std::size_t bi = b.begin; bi < b.end; ++bi) {
    const Fragment& f = in[bi];
    if (f.literal != nullptr) {
      out.push_back(f);
      continue;
    }
    const std::uint64_t p = take(f.source, f.length);
    const std::uint64_t rest = f.source + f.length - p;
    if (rest > 0) push_copy(out, a.tail + (p - a_pos), rest);  // inside a's tail
  }
  // b's tail: all of a's text from b.tail on.
  const std::uint64_t p = take(b.tail, std::numeric_limits<std::uint64_t>::max());
  const std::uint64_t tail = a.tail + (p - a_pos);
  return absorb_into_tail(out, begin, tail);
}

}  // namespace

FoldScratch& thread_scratch() {
  thread_local FoldScratch scratch;
  return scratch;
}

void trim(FoldScratch& s) {
  if (s.current.capacity() + s.next.capacity() > kKeptFragments) {
    s.current = {};
    s.next = {};
  }
  if (s.lists.capacity() + s.next_lists.capacity() > kKeptFragments) {
    s.lists = {};
    s.next_lists = {};
  }
}

Result<FragmentList> fold_fragments(std::span<const ByteView> deltas, FoldScratch& scratch,
                                    std::optional<std::uint64_t> base_size) {
  std::vector<Fragment>& current = scratch.current;
  std::vector<Fragment>& next = scratch.next;
  std::vector<ListRef>& lists = scratch.lists;
  std::vector<ListRef>& next_lists = scratch.next_lists;
  // Each hunk makes at most a kept range and a literal; composing mostly
  // keeps the count, so one reservation per buffer usually suffices.
  std::size_t hunks = 0;
  for (ByteView d : deltas) hunks += count_hunks(d);
  // Capped: empty hunks make no fragments, and a peer's delta of them must
  // not make us reserve four times its size up front.
  const std::size_t estimate = std::min(2 * hunks + deltas.size(), kKeptFragments);
  current.clear();
  current.reserve(estimate);
  next.clear();
  next.reserve(estimate);
  lists.clear();
  lists.reserve(deltas.size());
  next_lists.clear();
  next_lists.reserve(deltas.size() / 2 + 1);
  for (std::size_t i = 0; i < deltas.size(); ++i) {
    const std::size_t begin = current.size();
    auto tail = append_delta(deltas[i], i, current, base_size ? &*base_size : nullptr);
    if (!tail) return hgrpc::unexpected<Error>(std::move(tail.error()));
    lists.push_back(ListRef{begin, current.size(), *tail});
  }
  if (lists.empty()) return FragmentList{{}, 0, base_size.value_or(0)};

  // Bottom-up: pairs, then pairs of pairs. Each level is one pass over the
  // fragments, and there are log2(n) levels.
  while (lists.size() > 1) {
    next.clear();
    next_lists.clear();
    for (std::size_t i = 0; i < lists.size(); i += 2) {
      const std::size_t begin = next.size();
      std::uint64_t tail;
      if (i + 1 == lists.size()) {
        next.insert(next.end(), current.begin() + static_cast<std::ptrdiff_t>(lists[i].begin),
                    current.begin() + static_cast<std::ptrdiff_t>(lists[i].end));
        tail = lists[i].tail;
      } else {
        tail = compose(current, lists[i], lists[i + 1], next);
      }
      next_lists.push_back(ListRef{begin, next.size(), tail});
    }
    std::swap(current, next);
    std::swap(lists, next_lists);
  }
  // The last list starts at 0 in its level's storage.
  return FragmentList{std::span<const Fragment>(current.data(), lists[0].end), lists[0].tail,
                      base_size.value_or(0)};
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
      if (f.literal != nullptr) continue;
      if (auto r = close(i, f.source); !r) return r;
      kept_end = f.source + f.length;
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
        std::memcpy(p, f.literal + used, c);
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
