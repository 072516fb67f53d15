#include "store/path_validation.hpp"

#include <algorithm>
#include <array>
#include <string>
#include <vector>

namespace hgrpc::store {
namespace {

// HFS+ ignores these code points (UTF-8), so ".h\u200cg" is ".hg" there.
constexpr std::array<std::string_view, 16> kIgnorable{
    "\xe2\x80\x8c", "\xe2\x80\x8d", "\xe2\x80\x8e", "\xe2\x80\x8f", "\xe2\x80\xaa", "\xe2\x80\xab",
    "\xe2\x80\xac", "\xe2\x80\xad", "\xe2\x80\xae", "\xe2\x81\xaa", "\xe2\x81\xab", "\xe2\x81\xac",
    "\xe2\x81\xad", "\xe2\x81\xae", "\xe2\x81\xaf", "\xef\xbb\xbf"};

std::string lower_clean(std::string_view part) {
  std::string s(part);
  std::transform(s.begin(), s.end(), s.begin(), [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; });
  for (auto ignorable : kIgnorable) {
    for (std::size_t at; (at = s.find(ignorable)) != std::string::npos;) s.erase(at, ignorable.size());
  }
  return s;
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

Result<void> validate_tracked_path(std::string_view path) {
  const std::string shown(path);
  auto illegal = [&] { return fail("path contains illegal component: " + shown); };
  if (path.empty()) return fail("path is empty");
  if (path.find_first_of(std::string_view("\0\n\r", 3)) != std::string_view::npos) {
    return fail("path contains a NUL, newline or carriage return: " + shown);
  }
  if (path.back() == '/') return fail("path ends in directory separator: " + shown);
  std::vector<std::string_view> parts;
  for (std::size_t pos = 0;;) {
    std::size_t slash = path.find('/', pos);
    parts.push_back(path.substr(pos, slash == std::string_view::npos ? std::string_view::npos : slash - pos));
    if (slash == std::string_view::npos) break;
    pos = slash + 1;
  }
  for (auto part : parts) {
    if (part.empty() || part == "." || part == "..") return illegal();  // also catches a leading '/'
    if (auto tilde = part.find('~'); tilde != std::string_view::npos) {
      std::string first = lower_clean(part.substr(0, tilde));
      if (all_digits(part.substr(tilde + 1)) && (first == "hg" || first == "hg8b6c")) return illegal();
    }
  }
  std::string first = lower_clean(parts[0]);
  if (first == ".hg" || first == ".hg.") return illegal();
  for (std::size_t i = 1; i < parts.size(); ++i) {
    std::string lowered = lower_clean(parts[i]);
    if (lowered == ".hg" || lowered == ".hg.") {
      std::string base(path.substr(0, static_cast<std::size_t>(parts[i].data() - path.data()) - 1));
      return fail("path '" + shown + "' is inside nested repo '" + base + "'");
    }
  }
  return {};
}

}  // namespace hgrpc::store
