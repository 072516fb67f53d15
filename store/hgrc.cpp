#include "store/hgrc.hpp"

#include <fstream>

#include "store/text.hpp"

namespace hgrpc::store {

std::vector<std::pair<std::string, std::string>> hgrc_section(const std::filesystem::path& hgrc_file,
                                                              std::string_view section) {
  std::vector<std::pair<std::string, std::string>> entries;
  std::ifstream in(hgrc_file);
  std::string line, current;
  while (std::getline(in, line)) {
    const auto t = strip(line);
    if (t.empty() || t.front() == '#' || t.front() == ';') continue;
    if (t.front() == '[') {
      const auto close = t.find(']');
      current = std::string(strip(t.substr(1, close == std::string_view::npos ? t.size() - 1 : close - 1)));
      continue;
    }
    const auto eq = t.find('=');
    if (current != section || eq == std::string_view::npos) continue;
    entries.emplace_back(std::string(strip(t.substr(0, eq))), std::string(strip(t.substr(eq + 1))));
  }
  return entries;
}

}  // namespace hgrpc::store
