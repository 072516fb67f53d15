#pragma once
// The client address of a request: the peer's address, or, when the peer is a
// trusted proxy (--trusted-proxy CIDR), the address X-Forwarded-For names.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "compat/expected.hpp"

namespace hgrpc::server {

// An IPv4 or IPv6 network. IPv4 addresses are held as IPv4-mapped IPv6, so
// "10.0.0.0/8" also matches "::ffff:10.1.2.3".
class Cidr {
 public:
  // "10.0.0.0/8", "::1/128", "192.168.1.7" (a single host). Errors name the text.
  static hgrpc::expected<Cidr, std::string> parse(std::string_view text);
  bool contains(std::string_view address) const;

 private:
  std::array<std::uint8_t, 16> net_{};
  unsigned prefix_ = 0;  // in IPv6 bits
};

// Parses an IPv4 or IPv6 address into IPv6 form (IPv4-mapped).
std::optional<std::array<std::uint8_t, 16>> parse_ip(std::string_view address);

class TrustedProxies {
 public:
  TrustedProxies() = default;
  static hgrpc::expected<TrustedProxies, std::string> parse(const std::vector<std::string>& cidrs);

  bool trusted(std::string_view address) const;

  // peer: the socket's remote address. From a trusted peer, walks
  // X-Forwarded-For from the right and returns the first address that is not
  // a trusted proxy (the nearest untrusted hop); the peer otherwise. Malformed
  // entries stop the walk (the last good hop is returned).
  std::string client_address(std::string_view peer, std::string_view forwarded_for) const;

 private:
  std::vector<Cidr> cidrs_;
};

}  // namespace hgrpc::server
