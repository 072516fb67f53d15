// diff round trip: apply(a, diff(a, b)) == b, and the delta is never larger
// than replacing the whole text. Input: 2-byte length of a, a, then b.
#include "tests/fuzz/mpatch_fuzz_input.hpp"

using namespace hgrpc::mpatch;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  std::size_t a_size = (std::size_t{data[0]} << 8) | data[1];
  if (a_size > size - 2) a_size = size - 2;
  const ByteView a(data + 2, a_size);
  const ByteView b(data + 2 + a_size, size - 2 - a_size);
  const Bytes d = diff(a, b);
  fuzz::check(d.size() <= 12 + b.size());
  auto out = hgrpc::mpatch::apply(a, std::vector<ByteView>{d});
  fuzz::check(out.has_value() && out->size() == b.size() &&
              std::equal(out->begin(), out->end(), b.begin()));
  return 0;
}
