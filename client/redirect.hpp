#pragma once
// Following content redirects (Mercurial 5.8's wireprotocolrpc "Content
// Redirects"). The client lists, in every command request's `redirect`
// field, the server's advertised targets it can use (http: this build's
// cpp-httplib has no TLS). A response {status: redirect, location} is then
// fetched from location.url into an unlinked temporary file, bounded by
// --max-redirect-bytes (checked against the advertised size before any
// request), its size and sha256 checked against the location's, and only
// then decoded, value by value, as the inline answer would have been: a
// tampered or truncated blob never reaches the repository writer.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "client/errors.hpp"
#include "client/transport.hpp"
#include "framing/cbor.hpp"
#include "framing/result.hpp"

namespace hgrpc::client {

inline constexpr std::uint64_t kDefaultMaxRedirectBytes = std::uint64_t{4} << 30;

// The `redirect` field for command requests, from the server's API
// descriptor: {targets: [names of its http targets], hashes: [sha256]};
// null when it advertises none the client can use.
framing::json supported_redirects(const framing::json& descriptor);

// Fetches, checks and decodes the blob of one redirected response (command
// names it in errors); each value goes to `each`, whose error aborts.
ClientResult<void> follow_redirect(HttpTransport& transport, std::string_view command,
                                   const framing::json& location, std::uint64_t max_bytes,
                                   const std::function<framing::Result<void>(framing::json&&)>& each,
                                   ProgressLine* progress = nullptr);

}  // namespace hgrpc::client
