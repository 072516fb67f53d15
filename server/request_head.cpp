#include "server/request_head.hpp"

#include <cctype>

namespace hgrpc::server {

std::optional<std::size_t> head_size(std::string_view buffer) {
  const auto request_line_end = buffer.find('\n');
  if (request_line_end == std::string_view::npos) return std::nullopt;
  const auto blank = buffer.find("\n\r\n", request_line_end);
  if (blank == std::string_view::npos) return std::nullopt;
  return blank + 3;
}

namespace {

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  return true;
}

}  // namespace

std::string_view head_refusal(std::string_view head) {
  std::size_t pos = head.find('\n');
  while (pos != std::string_view::npos && pos + 1 < head.size()) {
    const auto line_start = pos + 1;
    const auto line_end = head.find('\n', line_start);
    const auto line = head.substr(line_start, line_end == std::string_view::npos
                                                  ? std::string_view::npos
                                                  : line_end - line_start);
    if (starts_with_nocase(line, "range:") && line.size() - 6 > kMaxRangeHeaderBytes)
      return "the Range header is too long (hgrpcd serves no ranges)";
    pos = line_end;
  }
  return {};
}

}  // namespace hgrpc::server
