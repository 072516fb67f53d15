#include "server/client_address.hpp"

#include <arpa/inet.h>

#include <cstring>

#include "server/text.hpp"

namespace hgrpc::server {

std::optional<std::array<std::uint8_t, 16>> parse_ip(std::string_view address) {
  std::string text(trim(address));
  if (text.size() > 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
  std::array<std::uint8_t, 16> out{};
  in_addr v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    out[10] = 0xff;
    out[11] = 0xff;
    std::memcpy(out.data() + 12, &v4, 4);
    return out;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    std::memcpy(out.data(), &v6, 16);
    return out;
  }
  return std::nullopt;
}

hgrpc::expected<Cidr, std::string> Cidr::parse(std::string_view text) {
  const auto bad = [&](std::string_view why) {
    return hgrpc::unexpected<std::string>("bad CIDR '" + std::string(text) + "': " + std::string(why));
  };
  const auto slash = text.find('/');
  const auto host = text.substr(0, slash);
  auto ip = parse_ip(host);
  if (!ip) return bad("not an IPv4 or IPv6 address");
  const bool v4 = host.find(':') == std::string_view::npos;
  const unsigned width = v4 ? 32 : 128;
  unsigned bits = width;
  if (slash != std::string_view::npos) {
    const auto digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3) return bad("bad prefix length");
    bits = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') return bad("bad prefix length");
      bits = bits * 10 + static_cast<unsigned>(c - '0');
    }
    if (bits > width) return bad("prefix length too large");
  }
  Cidr c;
  c.prefix_ = v4 ? bits + 96 : bits;
  c.net_ = *ip;
  for (unsigned i = 0; i < 128; ++i) {
    if (i >= c.prefix_) c.net_[i / 8] &= static_cast<std::uint8_t>(~(0x80u >> (i % 8)));
  }
  return c;
}

bool Cidr::contains(std::string_view address) const {
  auto ip = parse_ip(address);
  if (!ip) return false;
  for (unsigned i = 0; i < prefix_; ++i) {
    const std::uint8_t mask = static_cast<std::uint8_t>(0x80u >> (i % 8));
    if (((*ip)[i / 8] & mask) != (net_[i / 8] & mask)) return false;
  }
  return true;
}

hgrpc::expected<TrustedProxies, std::string> TrustedProxies::parse(
    const std::vector<std::string>& cidrs) {
  TrustedProxies t;
  for (const auto& text : cidrs) {
    auto c = Cidr::parse(trim(text));
    if (!c) return hgrpc::unexpected<std::string>(c.error());
    t.cidrs_.push_back(*c);
  }
  return t;
}

bool TrustedProxies::trusted(std::string_view address) const {
  for (const auto& c : cidrs_)
    if (c.contains(address)) return true;
  return false;
}

std::string TrustedProxies::client_address(std::string_view peer,
                                           std::string_view forwarded_for) const {
  std::string client(peer);
  if (!trusted(peer)) return client;
  std::string_view rest = forwarded_for;
  while (!trim(rest).empty()) {
    const auto comma = rest.rfind(',');
    const auto hop = trim(comma == std::string_view::npos ? rest : rest.substr(comma + 1));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(0, comma);
    if (!parse_ip(hop)) break;
    client = std::string(hop);
    if (!trusted(hop)) break;
  }
  return client;
}

}  // namespace hgrpc::server
