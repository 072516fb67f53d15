// decode + patched_size + apply against a naive reference patcher.
#include "tests/fuzz/mpatch_fuzz_input.hpp"

using namespace hgrpc::mpatch;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fuzz::Input in = fuzz::split(data, size);
  bool all_decode = true;
  for (ByteView d : in.deltas) {
    auto hunks = decode(d);
    if (hunks) {
      const Bytes again = encode(*hunks);
      fuzz::check(again.size() == d.size() && std::equal(again.begin(), again.end(), d.begin()));
    } else {
      all_decode = false;
      fuzz::check(!hunks.error().message.empty());
    }
  }
  const Limits limits{1u << 20};
  auto sized = patched_size(in.base.size(), in.deltas);
  auto out = apply(in.base, in.deltas, limits);
  Bytes expected;
  const bool valid = fuzz::naive_apply(in.base, in.deltas, expected);
  fuzz::check(valid == sized.has_value());
  if (!all_decode) fuzz::check(!valid);
  if (valid) {
    fuzz::check(*sized == expected.size());
    fuzz::check(out.has_value() == (expected.size() <= limits.max_output_bytes));
    if (out) fuzz::check(*out == expected);
  } else {
    fuzz::check(!out.has_value());
  }
  return 0;
}
