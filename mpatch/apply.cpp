// apply: one pass over the base guided by the folded chain.
#include <cstring>

#include "mpatch/compose.hpp"
#include "mpatch/error.hpp"
#include "mpatch/fragments.hpp"
#include "mpatch/mpatch.hpp"
#include "mpatch/streaming_copy.hpp"

namespace hgrpc::mpatch {
namespace {

// How far ahead of its copying the streaming path fetches a literal.
constexpr std::size_t kLiteralsAhead = 32;

// Visits the output's pieces (piece(where, length), a Fragment's where) in
// order, except the tail, whose base offset it returns: the pieces of the
// fold's last composition, made on the way (compose_pieces).
template <class Piece>
std::uint64_t walk_pair(const FoldedPair& fold, Piece&& piece) {
  if (fold.first.empty()) return 0;  // no deltas: all of the base
  if (fold.second.empty()) {  // one list: its pieces, then its tail
    for (const Fragment& f : fold.first.first(fold.first.size() - 1)) piece(f.where, f.length);
    return fold.first.back().where;
  }
  return compose_pieces(fold.first.data(), fold.first.data() + fold.first.size(), fold.second.data(),
                        fold.second.data() + fold.second.size(), piece, piece);
}

// The same for a composed list (ending with its open tail), fetching each
// literal kLiteralsAhead pieces early. A large apply streams the base
// through the caches, which evicts the deltas the literals lie in; the base
// ranges themselves are sequential reads that the hardware fetches ahead.
template <class Piece>
std::uint64_t walk_list(std::span<const Fragment> list, Piece&& piece) {
  if (list.empty()) return 0;  // no deltas: all of the base
  const std::size_t n = list.size() - 1;
  for (std::size_t i = 0; i < n; ++i) {
    if (i + kLiteralsAhead < n && list[i + kLiteralsAhead].is_literal()) {
      // Integer arithmetic: the second line may be past the literal's
      // delta, and a prefetch never faults.
      const auto ahead = reinterpret_cast<std::uintptr_t>(list[i + kLiteralsAhead].data());
      __builtin_prefetch(reinterpret_cast<const void*>(ahead));
      __builtin_prefetch(reinterpret_cast<const void*>(ahead + 64));
    }
    piece(list[i].where, list[i].length);
  }
  return list[n].where;
}

// Passes the output's pieces in order to put(bytes, length): those that
// walk(piece) visits, then the tail at the base offset it returns. Checks
// what the fold guarantees (one well-predicted branch per piece), so that a
// bug cannot read or write out of bounds.
template <class Walk, class Put>
Result<void> copy_out(Walk&& walk, std::uint64_t size, ByteView base, Put&& put) {
  const std::uint8_t* const b = base.data();
  std::uint64_t left = size;
  bool fits = true;
  std::uint64_t bad_where = 0, bad_length = 0;
  auto piece = [&](std::uint64_t where, std::uint64_t n) {
    const Fragment f(where, n);
    const bool ok = n <= left && (f.is_literal() || (where <= base.size() && n <= base.size() - where));
    if (!ok) {
      if (fits) bad_where = where, bad_length = n;
      fits = false;
      return;
    }
    left -= n;
    put(f.is_literal() ? f.data() : b + where, static_cast<std::size_t>(n));
  };
  const std::uint64_t tail = walk(piece);
  if (!fits)
    return fail("internal error: folded fragment [" + std::to_string(bad_where) + ", +" +
                std::to_string(bad_length) + ") does not fit the base (" + std::to_string(base.size()) +
                " bytes) or the output");
  if (tail > base.size() || base.size() - tail != left)
    return fail("internal error: folded tail [" + std::to_string(tail) + ", " +
                std::to_string(base.size()) + ") does not complete the " + std::to_string(size) +
                "-byte output");
  // Pieces are never empty, but the tail may be, with null pointers
  // (an empty base or output), which memcpy must not be given.
  if (tail < base.size()) put(b + tail, static_cast<std::size_t>(base.size() - tail));
  return {};
}

}  // namespace

Result<void> apply_into(ByteView base, std::span<const ByteView> deltas, Bytes& out,
                        const Limits& limits) {
  // One pass over the deltas validates every hunk against the text it
  // applies to (as patched_size does) and sizes the output, which is checked
  // against the limit before it is allocated.
  ScratchLease scratch;
  auto fold = fold_to_pair(deltas, scratch.get(), base.size());
  if (!fold) return hgrpc::unexpected<Error>(std::move(fold.error()));
  const std::uint64_t size = fold->size;
  if (size > limits.max_output_bytes)
    return fail("patched text would be " + std::to_string(size) + " bytes, over the limit of " +
                std::to_string(limits.max_output_bytes) + " bytes");

  if (kStreamingStores && size >= kStreamingMinBytes) {
    // resize only zeroes bytes the buffer never held, so a reused buffer is
    // written once, by the copies below.
    out.resize(static_cast<std::size_t>(size));
    // A large output: the last composition is written out as a list first,
    // so that the copying loop is short and can fetch literals ahead; its
    // mispredicted branches would otherwise stall the copying.
    const std::span<const Fragment> list = compose_pair(*fold, scratch.get());
    StreamingCopy sink(out.data());
    auto done = copy_out([&](auto& piece) { return walk_list(list, piece); }, size, base,
                         [&](const std::uint8_t* p, std::size_t n) { sink.put(p, n); });
    sink.finish();
    return done;
  }
  // Appended into reserved room: a fresh buffer (a writer's every new text)
  // is not zeroed first, which resize would do.
  out.clear();
  out.reserve(static_cast<std::size_t>(size));
  return copy_out([&](auto& piece) { return walk_pair(*fold, piece); }, size, base,
                  [&](const std::uint8_t* p, std::size_t n) { out.insert(out.end(), p, p + n); });
}

Result<Bytes> apply(ByteView base, std::span<const ByteView> deltas, const Limits& limits) {
  Bytes out;
  auto done = apply_into(base, deltas, out, limits);
  if (!done) return hgrpc::unexpected<Error>(std::move(done.error()));
  return out;
}

}  // namespace hgrpc::mpatch
