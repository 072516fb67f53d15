#pragma once
// Helpers every test suite uses: hex <-> bytes, and the seed of randomized
// tests (HGRPC_SEED=<n> in the environment replays a run; tests print it).
#include <cstdint>
#include <cstdlib>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>

#include "framing/bytes.hpp"

namespace hgrpc::test {

// "00ff" for {0x00, 0xff}: lower case, no separators.
inline std::string hex(framing::ByteView b) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(b.size() * 2);
  for (auto c : b) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xF]);
  }
  return out;
}

// The bytes of a hex string (either case). An odd length or a non-hex digit
// is a mistake in the test: std::invalid_argument.
inline framing::Bytes unhex(std::string_view h) {
  auto digit = [&](char c) -> std::uint8_t {
    if (c >= '0' && c <= '9') return static_cast<std::uint8_t>(c - '0');
    if (c >= 'a' && c <= 'f') return static_cast<std::uint8_t>(c - 'a' + 10);
    if (c >= 'A' && c <= 'F') return static_cast<std::uint8_t>(c - 'A' + 10);
    throw std::invalid_argument("unhex: not a hex digit in '" + std::string(h) + "'");
  };
  if (h.size() % 2 != 0) throw std::invalid_argument("unhex: odd length '" + std::string(h) + "'");
  framing::Bytes out;
  out.reserve(h.size() / 2);
  for (std::size_t i = 0; i < h.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>(digit(h[i]) << 4 | digit(h[i + 1])));
  }
  return out;
}

// HGRPC_SEED from the environment, else a fresh random seed.
inline unsigned test_seed() {
  if (const char* s = std::getenv("HGRPC_SEED")) return static_cast<unsigned>(std::stoul(s));
  return std::random_device{}();
}

}  // namespace hgrpc::test
