#pragma once
// Helpers for the mpatch tests: building deltas by hand, a naive reference
// patcher independent of the engine, and seeded random texts and edits.
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "mpatch/mpatch.hpp"

namespace hgrpc::mpatch::test {

inline Bytes bytes(std::string_view s) { return Bytes(s.begin(), s.end()); }
inline std::string str(const Bytes& b) { return std::string(b.begin(), b.end()); }
inline ByteView view(const Bytes& b) { return ByteView(b.data(), b.size()); }

inline void put32(Bytes& out, std::int64_t v) {
  const auto u = static_cast<std::uint32_t>(v);
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(u >> shift));
}

struct H {
  std::int64_t start, end;
  std::string data;
  std::int64_t length = INT64_MIN;  // INT64_MIN: data.size()
};

// The wire form, fields written as given (so invalid deltas can be built).
inline Bytes delta(std::initializer_list<H> hunks) {
  Bytes out;
  for (const H& h : hunks) {
    put32(out, h.start);
    put32(out, h.end);
    put32(out, h.length == INT64_MIN ? static_cast<std::int64_t>(h.data.size()) : h.length);
    out.insert(out.end(), h.data.begin(), h.data.end());
  }
  return out;
}

// Applies one delta the slow obvious way; assumes it is valid.
inline Bytes naive_apply(const Bytes& text, const Bytes& d) {
  Bytes out;
  std::size_t pos = 0, off = 0;
  auto get = [&](std::size_t at) {
    return static_cast<std::size_t>((std::uint32_t{d[at]} << 24) | (std::uint32_t{d[at + 1]} << 16) |
                                    (std::uint32_t{d[at + 2]} << 8) | d[at + 3]);
  };
  while (off < d.size()) {
    const std::size_t start = get(off), end = get(off + 4), len = get(off + 8);
    out.insert(out.end(), text.begin() + static_cast<std::ptrdiff_t>(pos),
               text.begin() + static_cast<std::ptrdiff_t>(start));
    out.insert(out.end(), d.begin() + static_cast<std::ptrdiff_t>(off + 12),
               d.begin() + static_cast<std::ptrdiff_t>(off + 12 + len));
    pos = end;
    off += 12 + len;
  }
  out.insert(out.end(), text.begin() + static_cast<std::ptrdiff_t>(pos), text.end());
  return out;
}

inline Bytes naive_chain(Bytes text, const std::vector<Bytes>& deltas) {
  for (const Bytes& d : deltas) text = naive_apply(text, d);
  return text;
}

inline std::vector<ByteView> views(const std::vector<Bytes>& v) {
  return std::vector<ByteView>(v.begin(), v.end());
}

using Rng = std::mt19937_64;

inline std::size_t pick(Rng& rng, std::size_t lo, std::size_t hi) {  // [lo, hi]
  return std::uniform_int_distribution<std::size_t>(lo, hi)(rng);
}

inline Bytes random_binary(Rng& rng, std::size_t n, int alphabet = 256) {
  Bytes out(n);
  for (auto& c : out) c = static_cast<std::uint8_t>(pick(rng, 0, static_cast<std::size_t>(alphabet - 1)));
  return out;
}

// Lines drawn from a small vocabulary, so that repeats and moves occur.
inline Bytes random_lines(Rng& rng, std::size_t lines, std::size_t vocabulary = 40) {
  Bytes out;
  for (std::size_t i = 0; i < lines; ++i) {
    const std::string line = "line " + std::to_string(pick(rng, 0, vocabulary - 1)) +
                             std::string(pick(rng, 0, 6), 'x') + "\n";
    out.insert(out.end(), line.begin(), line.end());
  }
  return out;
}

// A random valid delta for a text of `size` bytes.
inline Bytes random_delta(Rng& rng, std::size_t size, std::size_t max_hunks = 6,
                          std::size_t max_data = 12) {
  Bytes out;
  std::size_t pos = 0;
  const std::size_t hunks = pick(rng, 0, max_hunks);
  for (std::size_t i = 0; i < hunks && pos <= size; ++i) {
    const std::size_t start = pick(rng, pos, std::min(size, pos + size / (hunks + 1) + 2));
    const std::size_t end = pick(rng, start, std::min(size, start + 8));
    const Bytes data = random_binary(rng, pick(rng, 0, max_data), 4);
    put32(out, static_cast<std::int64_t>(start));
    put32(out, static_cast<std::int64_t>(end));
    put32(out, static_cast<std::int64_t>(data.size()));
    out.insert(out.end(), data.begin(), data.end());
    pos = end;
  }
  return out;
}

// A random text with a chain of random deltas over it; returns the texts.
inline std::vector<Bytes> random_chain(Rng& rng, const Bytes& base, std::size_t n,
                                       std::vector<Bytes>& deltas) {
  std::vector<Bytes> texts{base};
  for (std::size_t i = 0; i < n; ++i) {
    deltas.push_back(random_delta(rng, texts.back().size()));
    texts.push_back(naive_apply(texts.back(), deltas.back()));
  }
  return texts;
}

}  // namespace hgrpc::mpatch::test
