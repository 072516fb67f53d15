#pragma once
// Mercurial's capabilities handshake: `GET /?cmd=capabilities`.
//
// A client that can speak HTTP version 2 sends `X-HgProto-1` (space-separated
// tokens, among them `cbor`) and `X-HgUpgrade-1` (space-separated API names);
// Mercurial splits a long value over X-HgUpgrade-1, -2, ... which are joined
// back in order. Such a client gets `application/mercurial-cbor`:
//
//   {b'apibase': b'api/',
//    b'apis': {b'exp-http-v2-0003': <capabilities map>},   (only the APIs it named)
//    b'v1capabilities': b'<space-separated names>'}
//
// v1capabilities is one byte string, as Mercurial's own server sends it. Any
// other client gets the version 1 answer: `application/mercurial-0.1` with the
// space-separated names. hgrpcd serves no version 1 command, so the list is
// empty: a version 1 peer learns nothing it could call.
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "framing/bytes.hpp"

namespace hgrpc::server {

class CommandRegistry;
struct CommandLimits;

inline constexpr std::string_view kHttpV2Api = "exp-http-v2-0003";
inline constexpr std::string_view kCborMediaType = "application/mercurial-cbor";
inline constexpr std::string_view kV1MediaType = "application/mercurial-0.1";

// Looks up one request header by name (nullopt when absent).
using HeaderLookup = std::function<std::optional<std::string>(const std::string&)>;

// Mercurial's encoding of a long value: <prefix>-1, <prefix>-2, ... joined
// until the first missing index. nullopt when <prefix>-1 is absent.
std::optional<std::string> joined_header_value(const HeaderLookup& headers, std::string_view prefix);

// True when token is one of the space-separated tokens of value.
bool has_token(std::string_view value, std::string_view token);

struct HandshakeResponse {
  std::string content_type;
  std::string body;
};

HandshakeResponse capabilities_handshake(const HeaderLookup& headers,
                                         const CommandRegistry& registry,
                                         const CommandLimits& limits);

}  // namespace hgrpc::server
