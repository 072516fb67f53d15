#pragma once
// Byte buffers and views shared by every layer of the framing library.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace hgrpc::framing {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

inline ByteView as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
inline std::string_view as_chars(ByteView b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}
inline Bytes to_bytes(std::string_view s) {
  auto v = as_bytes(s);
  return {v.begin(), v.end()};
}
inline void append(Bytes& out, ByteView in) { out.insert(out.end(), in.begin(), in.end()); }

// "0x2e": a byte as error messages name it.
inline std::string hex_byte(std::uint8_t b) {
  static constexpr char kDigits[] = "0123456789abcdef";
  return {'0', 'x', kDigits[b >> 4], kDigits[b & 0xF]};
}

}  // namespace hgrpc::framing
