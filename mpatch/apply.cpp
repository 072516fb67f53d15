// apply: one pass over the base guided by the folded chain.
#include "mpatch/error.hpp"
#include "mpatch/fragments.hpp"
#include "mpatch/mpatch.hpp"

namespace hgrpc::mpatch {

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

  // clear + reserve keeps a large enough buffer and, unlike resize, does not
  // zero it: each output byte is written once, by the copies below.
  out.clear();
  out.reserve(static_cast<std::size_t>(size));
  const std::uint8_t* b = base.data();
  for (const Fragment& f : list->fragments) {
    if (f.literal != nullptr) {
      out.insert(out.end(), f.literal, f.literal + f.length);
    } else {
      // Guaranteed by the checks above; kept so a bug cannot read out of bounds.
      if (f.source > base.size() || f.length > base.size() - f.source)
        return fail("internal error: folded range [" + std::to_string(f.source) + ", " +
                    std::to_string(f.source + f.length) + ") is outside the base (" +
                    std::to_string(base.size()) + " bytes)");
      out.insert(out.end(), b + f.source, b + f.source + f.length);
    }
  }
  if (list->tail > base.size())
    return fail("internal error: folded tail starts at " + std::to_string(list->tail) +
                ", past the base (" + std::to_string(base.size()) + " bytes)");
  out.insert(out.end(), b + list->tail, b + base.size());
  if (out.size() != size)
    return fail("internal error: patched text is " + std::to_string(out.size()) +
                " bytes, expected " + std::to_string(size));
  return {};
}

Result<Bytes> apply(ByteView base, std::span<const ByteView> deltas, const Limits& limits) {
  Bytes out;
  auto done = apply_into(base, deltas, out, limits);
  if (!done) return hgrpc::unexpected<Error>(std::move(done.error()));
  return out;
}

}  // namespace hgrpc::mpatch
