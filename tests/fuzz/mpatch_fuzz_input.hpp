#pragma once
// Shared by the mpatch fuzz targets: cutting one input into a base text and
// a few deltas, and a naive reference patcher independent of the engine.
//
// Layout: byte 0 = number of deltas (mod 6); then per delta a 2-byte
// big-endian length; then the deltas; the rest is the base.
#include <cstdint>
#include <algorithm>
#include <cstdlib>
#include <vector>

#include "mpatch/mpatch.hpp"

namespace hgrpc::mpatch::fuzz {

struct Input {
  ByteView base;
  std::vector<ByteView> deltas;
};

inline Input split(const std::uint8_t* data, std::size_t size) {
  Input in;
  if (size == 0) return in;
  const std::size_t count = data[0] % 6;
  std::size_t pos = 1;
  std::vector<std::size_t> lengths;
  for (std::size_t i = 0; i < count && pos + 2 <= size; ++i, pos += 2)
    lengths.push_back((std::size_t{data[pos]} << 8) | data[pos + 1]);
  for (std::size_t n : lengths) {
    const std::size_t take = n < size - pos ? n : size - pos;
    in.deltas.emplace_back(data + pos, take);
    pos += take;
  }
  in.base = ByteView(data + pos, size - pos);
  return in;
}

inline std::uint32_t be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

// Applies deltas one by one, checking each hunk the obvious way; false if
// any is invalid.
inline bool naive_apply(ByteView base, const std::vector<ByteView>& deltas, Bytes& out) {
  Bytes text(base.begin(), base.end());
  for (ByteView d : deltas) {
    Bytes next;
    std::size_t pos = 0, off = 0;
    std::int64_t last_end = 0;
    while (off < d.size()) {
      if (d.size() - off < 12) return false;
      const auto start = static_cast<std::int32_t>(be32(d.data() + off));
      const auto end = static_cast<std::int32_t>(be32(d.data() + off + 4));
      const auto len = static_cast<std::int32_t>(be32(d.data() + off + 8));
      if (start < last_end || start > end || len < 0 ||
          static_cast<std::size_t>(end) > text.size() ||
          static_cast<std::size_t>(len) > d.size() - off - 12)
        return false;
      next.insert(next.end(), text.begin() + static_cast<std::ptrdiff_t>(pos), text.begin() + start);
      next.insert(next.end(), d.begin() + static_cast<std::ptrdiff_t>(off + 12),
                  d.begin() + static_cast<std::ptrdiff_t>(off + 12) + len);
      pos = static_cast<std::size_t>(end);
      last_end = end;
      off += 12 + static_cast<std::size_t>(len);
    }
    next.insert(next.end(), text.begin() + static_cast<std::ptrdiff_t>(pos), text.end());
    text = std::move(next);
  }
  out = std::move(text);
  return true;
}

inline void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace hgrpc::mpatch::fuzz
