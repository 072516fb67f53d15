#include "server/handshake.hpp"

#include <array>

#include "framing/cbor.hpp"
#include "server/capabilities.hpp"
#include "server/command_registry.hpp"

namespace hgrpc::server {

namespace {

// The version 1 capabilities hgrpcd advertises: none, see handshake.hpp.
constexpr std::array<std::string_view, 0> kV1Capabilities{};

std::string v1_capabilities() {
  std::string out;
  for (auto name : kV1Capabilities) {
    if (!out.empty()) out += ' ';
    out += name;
  }
  return out;
}

}  // namespace

std::optional<std::string> joined_header_value(const HeaderLookup& headers, std::string_view prefix) {
  std::optional<std::string> out;
  for (int i = 1;; ++i) {
    auto part = headers(std::string(prefix) + "-" + std::to_string(i));
    if (!part) break;
    if (!out) out.emplace();
    *out += *part;
  }
  return out;
}

bool has_token(std::string_view value, std::string_view token) {
  std::size_t pos = 0;
  while (pos <= value.size()) {
    auto end = value.find(' ', pos);
    if (end == std::string_view::npos) end = value.size();
    if (value.substr(pos, end - pos) == token) return true;
    pos = end + 1;
  }
  return false;
}

HandshakeResponse capabilities_handshake(const HeaderLookup& headers,
                                         const CommandRegistry& registry,
                                         const CommandLimits& limits) {
  const auto upgrade = joined_header_value(headers, "X-HgUpgrade");
  const auto proto = joined_header_value(headers, "X-HgProto");
  if (!upgrade || !proto || !has_token(*proto, "cbor"))
    return {std::string(kV1MediaType), v1_capabilities()};

  framing::json apis = framing::json::object();
  if (has_token(*upgrade, kHttpV2Api)) apis[std::string(kHttpV2Api)] = capabilities_map(registry, limits);
  framing::json m = framing::json::object();
  m["apibase"] = framing::cbor_bytes("api/");
  m["apis"] = std::move(apis);
  m["v1capabilities"] = framing::cbor_bytes(v1_capabilities());
  const auto bytes = framing::cbor_encode(m);
  return {std::string(kCborMediaType), std::string(framing::as_chars(bytes))};
}

}  // namespace hgrpc::server
