// fold: one delta equivalent to a chain of deltas.
#include "mpatch/fragments.hpp"
#include "mpatch/mpatch.hpp"

namespace hgrpc::mpatch {

Result<Bytes> fold(std::span<const ByteView> deltas, const Limits& limits) {
  ScratchLease scratch;
  auto list = fold_fragments(deltas, scratch.get());
  if (!list) return hgrpc::unexpected<Error>(std::move(list.error()));
  return encode_fragments(*list, limits);
}

}  // namespace hgrpc::mpatch
