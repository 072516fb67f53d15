#pragma once
// What the connection pool needs to know about a request head before it hands
// the connection to a worker: where the head ends, and whether cpp-httplib
// could be made to spend unbounded stack on it.
#include <cstddef>
#include <optional>
#include <string_view>

namespace hgrpc::server {

// Largest request head (request line and headers) accepted; a longer one gets
// 431 and the connection is closed.
inline constexpr std::size_t kMaxHeadBytes = 64 * 1024;
// Longest Range header value accepted (cpp-httplib parses it with a recursive
// std::regex: an 8 KiB value needs megabytes of stack). We serve no ranges.
inline constexpr std::size_t kMaxRangeHeaderBytes = 128;

// The size of the head at the start of `buffer` (up to and including the
// blank line that ends it), or nullopt while it is incomplete. Lines may end
// in LF or CRLF; as in cpp-httplib, only a CRLF blank line after the request
// line ends the head.
std::optional<std::size_t> head_size(std::string_view buffer);

// Why cpp-httplib must not parse this complete head (a one-line reason), or
// empty when it may.
std::string_view head_refusal(std::string_view head);

}  // namespace hgrpc::server
