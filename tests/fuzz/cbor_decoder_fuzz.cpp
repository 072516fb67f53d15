// CborDecoder: byte 0 seeds the chunk sizes, byte 1 picks small limits or
// the defaults, the rest is CBOR. Feeding in random chunks must agree with
// cbor_decode_all on the whole input (same values or the same error), and
// every decoded value must re-encode to bytes that decode to it again.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "framing/cbor.hpp"

using namespace hgrpc::framing;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  std::uint32_t state = data[0] | 1u;
  CborLimits limits;
  if (data[1] & 1) {
    limits.max_depth = 1 + (data[1] >> 5);
    limits.max_string_bytes = (data[1] >> 1) & 0xF;
    limits.max_container_items = (data[1] >> 3) & 0x7;
  }
  const ByteView body(data + 2, size - 2);

  CborDecoder decoder(limits);
  std::vector<json> values;
  Result<void> fed;
  std::size_t pos = 0;
  while (pos < body.size() && fed) {
    state ^= state << 13, state ^= state >> 17, state ^= state << 5;  // xorshift32
    const std::size_t n = std::min<std::size_t>(body.size() - pos, state % 9);
    fed = decoder.feed(body.subspan(pos, n));
    pos += n;
    while (auto v = decoder.next()) values.push_back(std::move(*v));
  }
  check(decoder.bytes_consumed() <= body.size());

  auto whole = cbor_decode_all(body, limits);
  if (!fed) {
    check(!whole && whole.error().message == fed.error().message);
    check(!decoder.feed(body.first(0)));  // stays failed
  } else if (decoder.at_boundary()) {
    check(whole && *whole == values);
    check(decoder.bytes_consumed() == body.size());
  } else {
    check(!whole);
  }

  for (const auto& v : values) {
    const Bytes again = cbor_encode(v);
    auto back = cbor_decode_all(again, limits);
    check(back && back->size() == 1 && (*back)[0] == v);
    check(cbor_encode((*back)[0]) == again);
  }
  return 0;
}
