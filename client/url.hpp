#pragma once
// Server URLs: a repository URL (handshake first: GET <path>?cmd=capabilities)
// or a direct API URL ending in /exp-http-v2-0003 (no handshake).
#include <string>
#include <string_view>

#include "client/errors.hpp"

namespace hgrpc::client {

inline constexpr std::string_view kApiName = "exp-http-v2-0003";
inline constexpr std::string_view kFramingMediaType = "application/mercurial-exp-framing-0006";
inline constexpr std::string_view kCborMediaType = "application/mercurial-cbor";

struct ServerUrl {
  std::string scheme_host_port;  // "http://127.0.0.1:8080", for httplib::Client
  std::string host_port;         // "127.0.0.1:8080", for messages
  std::string path;              // starts and ends with '/'
  bool direct_api = false;       // path is the API base (.../exp-http-v2-0003/)
};

// http:// only (cpp-httplib is built without TLS here); errors are usage errors.
ClientResult<ServerUrl> parse_url(std::string_view url);

}  // namespace hgrpc::client
