// Seeded property tests: random values, encoded canonically and in random
// alternative forms (indefinite lengths, wide heads, tag 258, text keys),
// decode the same whatever the chunking.
#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <string>

#include "framing/cbor.hpp"

using namespace hgrpc::framing;

namespace {

using Rng = std::mt19937_64;

std::uint64_t pick(Rng& rng, std::uint64_t n) { return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng); }

std::uint64_t random_uint(Rng& rng) {
  static constexpr std::uint64_t edges[] = {0, 23, 24, 255, 256, 65535, 65536,
                                            0xFFFFFFFF, 0x100000000, ~std::uint64_t{0}};
  if (pick(rng, 2) == 0) return edges[pick(rng, std::size(edges))];
  return rng() >> pick(rng, 64);
}

std::string random_text(Rng& rng) {
  static const char* pieces[] = {"a", "Z", "0", " ", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "'", "\\"};
  std::string s;
  const auto n = pick(rng, 6);
  for (std::uint64_t i = 0; i < n; ++i) s += pieces[pick(rng, std::size(pieces))];
  return s;
}

Bytes random_bytes(Rng& rng) {
  const std::uint64_t sizes[] = {0, 1, 23, 24, 255, 256, pick(rng, 40)};
  Bytes b(sizes[pick(rng, std::size(sizes))]);
  for (auto& c : b) c = static_cast<std::uint8_t>(rng());
  return b;
}

json random_value(Rng& rng, int depth) {
  const auto kind = pick(rng, depth > 3 ? 6 : 8);
  switch (kind) {
    case 0: return json(random_uint(rng));
    case 1: {
      const auto m = random_uint(rng) >> 1;  // magnitude - 1 fits in int64
      return json(-1 - static_cast<std::int64_t>(m));
    }
    case 2: return json::binary(random_bytes(rng));
    case 3: return json(random_text(rng));
    case 4: return pick(rng, 2) ? json(true) : json(false);
    case 5: return json(nullptr);
    case 6: {
      json a = json::array();
      const auto n = pick(rng, 5);
      for (std::uint64_t i = 0; i < n; ++i) a.push_back(random_value(rng, depth + 1));
      return a;
    }
    default: {
      json o = json::object();
      const auto n = pick(rng, 5);
      for (std::uint64_t i = 0; i < n; ++i) o[random_text(rng) + std::to_string(i)] = random_value(rng, depth + 1);
      return o;
    }
  }
}

// A head with a possibly wider-than-needed argument.
void head(Rng& rng, std::uint8_t major, std::uint64_t v, Bytes& out) {
  int width = v < 24 ? 0 : v <= 0xFF ? 1 : v <= 0xFFFF ? 2 : v <= 0xFFFFFFFF ? 4 : 8;
  if (width < 8 && pick(rng, 4) == 0) width = width == 0 ? 1 : width * 2;
  if (width == 0) {
    out.push_back(static_cast<std::uint8_t>(major << 5 | v));
    return;
  }
  const std::uint8_t ai = width == 1 ? 24 : width == 2 ? 25 : width == 4 ? 26 : 27;
  out.push_back(static_cast<std::uint8_t>(major << 5 | ai));
  for (int s = 8 * (width - 1); s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
}

void string_alt(Rng& rng, std::uint8_t major, ByteView s, Bytes& out) {
  if (pick(rng, 3) != 0) {
    head(rng, major, s.size(), out);
    append(out, s);
    return;
  }
  out.push_back(static_cast<std::uint8_t>(major << 5 | 31));
  std::size_t pos = 0;
  while (pos < s.size() || pick(rng, 3) == 0) {
    const std::size_t n = std::min<std::size_t>(s.size() - pos, pick(rng, 8));
    head(rng, major, n, out);
    append(out, s.subspan(pos, n));
    pos += n;
  }
  out.push_back(0xFF);
}

void encode_alt(Rng& rng, const json& v, Bytes& out) {
  switch (v.type()) {
    case json::value_t::number_unsigned: head(rng, 0, v.get<std::uint64_t>(), out); return;
    case json::value_t::number_integer: {
      const auto n = v.get<std::int64_t>();
      if (n >= 0) head(rng, 0, static_cast<std::uint64_t>(n), out);
      else head(rng, 1, ~static_cast<std::uint64_t>(n), out);
      return;
    }
    case json::value_t::binary: string_alt(rng, 2, v.get_binary(), out); return;
    case json::value_t::string: string_alt(rng, 3, as_bytes(v.get_ref<const std::string&>()), out); return;
    case json::value_t::array: {
      if (pick(rng, 4) == 0) out.insert(out.end(), {0xd9, 0x01, 0x02});  // tag 258
      const bool indefinite = pick(rng, 2) == 0;
      if (indefinite) out.push_back(0x9f);
      else head(rng, 4, v.size(), out);
      for (const auto& item : v) encode_alt(rng, item, out);
      if (indefinite) out.push_back(0xff);
      return;
    }
    case json::value_t::object: {
      const bool indefinite = pick(rng, 2) == 0;
      if (indefinite) out.push_back(0xbf);
      else head(rng, 5, v.size(), out);
      for (auto it = v.begin(); it != v.end(); ++it) {
        string_alt(rng, pick(rng, 2) ? 2 : 3, as_bytes(it.key()), out);
        encode_alt(rng, it.value(), out);
      }
      if (indefinite) out.push_back(0xff);
      return;
    }
    default: cbor_encode(v, out); return;
  }
}

// Feeds data in random chunks (sizes 0..max_chunk) and collects the values.
std::vector<json> decode_chunked(Rng& rng, const Bytes& data, std::size_t max_chunk) {
  CborDecoder d;
  std::vector<json> out;
  std::size_t pos = 0;
  while (pos < data.size()) {
    const std::size_t n = std::min<std::size_t>(data.size() - pos, pick(rng, max_chunk + 1));
    auto r = d.feed(ByteView(data).subspan(pos, n));
    REQUIRE_MESSAGE(r, (r ? "" : r.error().message));
    pos += n;
    while (auto v = d.next()) out.push_back(std::move(*v));
  }
  CHECK(d.at_boundary());
  CHECK(d.bytes_consumed() == data.size());
  return out;
}

std::uint64_t seed_for(std::uint64_t base) {
  std::random_device rd;
  return base ^ (static_cast<std::uint64_t>(rd()) << 32 | rd());
}

}  // namespace

TEST_CASE("cbor property: encode/decode round trip under any chunking") {
  const std::uint64_t seed = seed_for(0x5eed);
  INFO("seed = " << seed);
  Rng rng(seed);
  for (int iter = 0; iter < 300; ++iter) {
    CAPTURE(iter);
    std::vector<json> values;
    Bytes data;
    const auto count = 1 + pick(rng, 4);
    for (std::uint64_t i = 0; i < count; ++i) {
      values.push_back(random_value(rng, 0));
      cbor_encode(values.back(), data);
    }
    auto whole = cbor_decode_all(data);
    REQUIRE_MESSAGE(whole, (whole ? "" : whole.error().message));
    REQUIRE(*whole == values);
    CHECK(decode_chunked(rng, data, 1) == values);
    CHECK(decode_chunked(rng, data, 17) == values);
    Bytes again;
    for (const auto& v : *whole) cbor_encode(v, again);
    CHECK(again == data);
  }
}

TEST_CASE("cbor property: alternative encodings decode to the same values") {
  const std::uint64_t seed = seed_for(0xa17);
  INFO("seed = " << seed);
  Rng rng(seed);
  for (int iter = 0; iter < 300; ++iter) {
    CAPTURE(iter);
    const json v = random_value(rng, 0);
    Bytes alt;
    encode_alt(rng, v, alt);
    auto whole = cbor_decode_all(alt);
    REQUIRE_MESSAGE(whole, (whole ? "" : whole.error().message));
    REQUIRE(whole->size() == 1);
    CHECK((*whole)[0] == v);
    CHECK(decode_chunked(rng, alt, 1) == std::vector<json>{v});
    CHECK(decode_chunked(rng, alt, 5) == std::vector<json>{v});
    // Every strict prefix is incomplete (or, for corrupted prefixes, never a value).
    const std::size_t cut = pick(rng, alt.size());
    auto prefix = cbor_decode_all(ByteView(alt).first(cut));
    if (cut == 0) CHECK((prefix && prefix->empty()));
    else CHECK(!prefix);
  }
}

TEST_CASE("cbor property: random bytes never crash and errors carry offsets") {
  const std::uint64_t seed = seed_for(0xbad);
  INFO("seed = " << seed);
  Rng rng(seed);
  for (int iter = 0; iter < 2000; ++iter) {
    Bytes data(pick(rng, 40));
    for (auto& c : data) c = static_cast<std::uint8_t>(rng());
    auto whole = cbor_decode_all(data);
    CborDecoder d;
    Result<void> r;
    for (std::size_t i = 0; i < data.size() && r; ++i) r = d.feed(ByteView(data).subspan(i, 1));
    if (!r) {
      REQUIRE(!whole);
      CHECK(whole.error().message == r.error().message);
      CHECK(r.error().message.find(" at offset ") != std::string::npos);
    } else if (whole) {
      CHECK(d.at_boundary());
      CHECK(d.available() == whole->size());
    } else {
      CHECK(!d.at_boundary());
    }
  }
}
