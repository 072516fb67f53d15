// head_size / head_refusal: where a request head ends, before cpp-httplib parses it.
#include <doctest/doctest.h>

#include <string>

#include "server/request_head.hpp"

using namespace hgrpc::server;

TEST_CASE("head_size: the head ends at the first CRLF blank line after the request line") {
  CHECK(head_size("GET / HTTP/1.1\r\nHost: a\r\n\r\n") == std::optional<std::size_t>(27));
  CHECK(head_size("GET / HTTP/1.1\r\n\r\nBODY") == std::optional<std::size_t>(18));
  // LF-only header lines, then a CRLF blank line (cpp-httplib skips the former).
  CHECK(head_size("GET / HTTP/1.1\nHost: a\n\r\nrest") == std::optional<std::size_t>(25));
}

TEST_CASE("head_size: incomplete heads") {
  CHECK(head_size("") == std::nullopt);
  CHECK(head_size("GET / HTTP/1.1") == std::nullopt);
  CHECK(head_size("GET / HTTP/1.1\r\nHost: a\r\n") == std::nullopt);
  CHECK(head_size("GET / HTTP/1.1\r\nHost: a\r\n\r") == std::nullopt);
  // An LF blank line does not end a head for cpp-httplib.
  CHECK(head_size("GET / HTTP/1.1\nHost: a\n\n") == std::nullopt);
}

TEST_CASE("head_refusal: a long Range header is refused, a short one and others pass") {
  const std::string short_range = "GET / HTTP/1.1\r\nRange: bytes=0-1\r\n\r\n";
  CHECK(head_refusal(short_range).empty());
  const std::string value(kMaxRangeHeaderBytes + 1, '1');
  CHECK(head_refusal("GET / HTTP/1.1\r\nrAnGe:" + value + "\r\n\r\n") ==
        "the Range header is too long (hgrpcd serves no ranges)");
  CHECK(head_refusal("GET / HTTP/1.1\r\nX-Other: " + value + value + "\r\n\r\n").empty());
  // "Range" inside the request line is not a header.
  CHECK(head_refusal("GET /range:" + value + " HTTP/1.1\r\n\r\n").empty());
}
