// apply: one pass over the base guided by the folded chain.
#include <cstring>

#include "mpatch/error.hpp"
#include "mpatch/fragments.hpp"
#include "mpatch/mpatch.hpp"
#include "mpatch/streaming_copy.hpp"

namespace hgrpc::mpatch {
namespace {

// Passes the output's pieces in order (the fragments, then the tail) to
// put(bytes, length). Checks what the fold guarantees (one well-predicted
// branch per fragment), so that a bug cannot read or write out of bounds.
template <class Put>
Result<void> copy_out(const FragmentList& list, ByteView base, Put&& put) {
  const std::uint8_t* const b = base.data();
  std::uint64_t left = list.size;
  auto fits = [&](std::uint64_t where, std::uint64_t n, bool literal) {
    const bool ok = n <= left && (literal || (where <= base.size() && n <= base.size() - where));
    left -= ok ? n : 0;
    return ok;
  };
  for (const Fragment& f : list.fragments) {
    if (!fits(f.where, f.length, f.is_literal()))
      return fail("internal error: folded fragment [" + std::to_string(f.where) + ", +" +
                  std::to_string(f.length) + ") does not fit the base (" +
                  std::to_string(base.size()) + " bytes) or the output");
    put(f.is_literal() ? f.data() : b + f.where, static_cast<std::size_t>(f.length));
  }
  if (list.tail > base.size() || !fits(list.tail, base.size() - list.tail, false) || left != 0)
    return fail("internal error: folded tail [" + std::to_string(list.tail) + ", " +
                std::to_string(base.size()) + ") does not complete the " +
                std::to_string(list.size) + "-byte output");
  // Fragments are never empty, but the tail may be, with null pointers
  // (an empty base or output), which memcpy must not be given.
  if (list.tail < base.size()) put(b + list.tail, static_cast<std::size_t>(base.size() - list.tail));
  return {};
}

}  // namespace

Result<void> apply_into(ByteView base, std::span<const ByteView> deltas, Bytes& out,
                        const Limits& limits) {
  // One pass over the deltas validates every hunk against the text it
  // applies to (as patched_size does) and sizes the output, which is checked
  // against the limit before it is allocated.
  ScratchLease scratch;
  auto list = fold_fragments(deltas, scratch.get(), base.size());
  if (!list) return hgrpc::unexpected<Error>(std::move(list.error()));
  const std::uint64_t size = list->size;
  if (size > limits.max_output_bytes)
    return fail("patched text would be " + std::to_string(size) + " bytes, over the limit of " +
                std::to_string(limits.max_output_bytes) + " bytes");

  // resize only zeroes bytes the buffer never held, so a reused buffer is
  // written once, by the copies below.
  out.resize(static_cast<std::size_t>(size));
  if (kStreamingStores && size >= kStreamingMinBytes) {
    StreamingCopy sink(out.data());
    auto done = copy_out(*list, base, [&](const std::uint8_t* p, std::size_t n) { sink.put(p, n); });
    sink.finish();
    return done;
  }
  std::uint8_t* o = out.data();
  return copy_out(*list, base, [&](const std::uint8_t* p, std::size_t n) {
    std::memcpy(o, p, n);
    o += n;
  });
}

Result<Bytes> apply(ByteView base, std::span<const ByteView> deltas, const Limits& limits) {
  Bytes out;
  auto done = apply_into(base, deltas, out, limits);
  if (!done) return hgrpc::unexpected<Error>(std::move(done.error()));
  return out;
}

}  // namespace hgrpc::mpatch
