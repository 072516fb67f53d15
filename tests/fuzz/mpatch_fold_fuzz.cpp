// fold: apply(base, fold(ds)) == sequential apply whenever the chain is valid,
// and folding the two halves separately gives the same bytes (when both
// halves can be folded on their own).
#include "tests/fuzz/mpatch_fuzz_input.hpp"

using namespace hgrpc::mpatch;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fuzz::Input in = fuzz::split(data, size);
  const Limits limits{1u << 20};
  auto folded = fold(in.deltas, limits);
  bool all_decode = true;
  for (ByteView d : in.deltas) all_decode = all_decode && decode(d).has_value();
  if (!folded) {
    // Valid deltas fail to fold only when the result needs base offsets
    // past 2^31-1 (the size limit is out of reach of 5 deltas < 64 KiB).
    fuzz::check(!all_decode ||
                folded.error().message.rfind("folded delta needs base offset", 0) == 0);
    return 0;
  }
  fuzz::check(all_decode);
  fuzz::check(decode(*folded).has_value());

  // A half can need base offsets the whole chain does not (a later delta
  // that deletes a long prefix brings them back in range), so a half may
  // fail, but only for that reason.
  const std::size_t half = in.deltas.size() / 2;
  const std::span<const ByteView> all(in.deltas);
  auto left = fold(all.first(half), limits);
  auto right = fold(all.subspan(half), limits);
  auto offsets_too_large = [](const Result<Bytes>& r) {
    return !r && r.error().message.rfind("folded delta needs base offset", 0) == 0;
  };
  fuzz::check(left.has_value() || offsets_too_large(left));
  fuzz::check(right.has_value() || offsets_too_large(right));
  if (left && right) {
    auto joined = fold(std::vector<ByteView>{*left, *right}, limits);
    fuzz::check(joined.has_value() && *joined == *folded);
  }

  Bytes expected;
  if (!fuzz::naive_apply(in.base, in.deltas, expected)) return 0;
  auto out = apply(in.base, std::vector<ByteView>{*folded}, limits);
  fuzz::check(out.has_value() && *out == expected);
  return 0;
}
