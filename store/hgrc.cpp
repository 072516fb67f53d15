#include "store/hgrc.hpp"

#include <fstream>

namespace hgrpc::store {

namespace {

std::string_view trim(std::string_view s) {
  constexpr std::string_view ws = " \t\r\n\v\f";
  const auto b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

}  // namespace

std::vector<std::pair<std::string, std::string>> hgrc_section(const std::filesystem::path& hgrc_file,
                                                              std::string_view section) {
  std::vector<std::pair<std::string, std::string>> entries;
  std::ifstream in(hgrc_file);
  std::string line, current;
  while (std::getline(in, line)) {
    const auto t = trim(line);
    if (t.empty() || t.front() == '#' || t.front() == ';') continue;
    if (t.front() == '[') {
      const auto close = t.find(']');
      current = std::string(trim(t.substr(1, close == std::string_view::npos ? t.size() - 1 : close - 1)));
      continue;
    }
    const auto eq = t.find('=');
    if (current != section || eq == std::string_view::npos) continue;
    entries.emplace_back(std::string(trim(t.substr(0, eq))), std::string(trim(t.substr(eq + 1))));
  }
  return entries;
}

}  // namespace hgrpc::store
