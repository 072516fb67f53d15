#pragma once
// Small text helpers for header values and config lines, shared by the
// server's parsers (auth, routes, client addresses).
#include <cstddef>
#include <string>
#include <string_view>

namespace hgrpc::server {

// Header whitespace (RFC 9110 OWS: spaces and tabs).
inline constexpr std::string_view kBlanks = " \t";
// Blanks and line ends, for lines read from files.
inline constexpr std::string_view kWhitespace = " \t\r\n";

// s without leading and trailing characters from `chars`.
inline std::string_view trim(std::string_view s, std::string_view chars = kBlanks) {
  const auto first = s.find_first_not_of(chars);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(chars) - first + 1);
}

// ASCII case-insensitive equality (header names, media types, auth schemes).
inline bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// A peer-chosen name made safe for a one-line reason: its first 100 bytes,
// anything outside printable ASCII as '?', "..." when cut.
inline std::string printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 100)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (s.size() > 100) out += "...";
  return out;
}

}  // namespace hgrpc::server
