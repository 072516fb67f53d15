// Stream decoders: byte 0 picks the encoding (and whether to round-trip),
// byte 1 seeds the chunk sizes, the rest is decoded with a small
// max_decoded_bytes. Decoding in one piece and in chunks must agree; output
// never exceeds the limit. The same bytes also go through an encoder in
// chunks and must decode back unchanged.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "framing/content_encoding.hpp"

using namespace hgrpc::framing;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

constexpr std::uint64_t kLimit = 256 * 1024;

struct Outcome {
  bool ok = true;
  Bytes out;
};

Outcome decode(Encoding e, ByteView in, std::uint32_t seed, bool chunked) {
  DecoderLimits limits;
  limits.max_decoded_bytes = kLimit;
  auto d = make_decoder(e, limits);
  Outcome o;
  std::uint32_t state = seed | 1;
  std::size_t pos = 0;
  while (pos < in.size()) {
    std::size_t n = in.size() - pos;
    if (chunked) {
      state ^= state << 13, state ^= state >> 17, state ^= state << 5;
      n = std::min<std::size_t>(n, state % 64);
    }
    const std::size_t before = o.out.size();
    auto r = d->decode(in.subspan(pos, n), o.out);
    if (!r) {
      check(o.out.size() == before);  // on error out is unchanged
      check(!r.error().message.empty());
      o.ok = false;
      break;
    }
    check(o.out.size() <= kLimit);
    pos += n;
  }
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const Encoding e = kEncodingPreference[data[0] % std::size(kEncodingPreference)];
  const ByteView in(data + 2, size - 2);
  const Outcome whole = decode(e, in, data[1], false);
  const Outcome chunked = decode(e, in, data[1], true);
  check(whole.ok == chunked.ok);
  if (whole.ok) check(whole.out == chunked.out);

  if (data[0] & 0x80) {  // round trip through an encoder, fed in chunks
    auto enc = make_encoder(e);
    Bytes wire;
    std::uint32_t state = data[1] | 1u;
    for (std::size_t pos = 0; pos < in.size();) {
      state ^= state << 13, state ^= state >> 17, state ^= state << 5;
      const std::size_t n = std::min<std::size_t>(in.size() - pos, state % 512);
      check(enc->encode(in.subspan(pos, n), wire).has_value());
      pos += n;
    }
    const Outcome back = decode(e, wire, data[1], true);
    check(back.ok == (in.size() <= kLimit));
    if (back.ok) check(back.out.size() == in.size() && std::equal(back.out.begin(), back.out.end(), in.begin()));
  }
  return 0;
}
