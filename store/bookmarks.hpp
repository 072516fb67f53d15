#pragma once
// Bookmarks: "<40 hex node> <name>\n" lines in .hg/bookmarks (or
// .hg/store/bookmarks with bookmarksinstore). As Mercurial does, malformed
// lines and bookmarks on nodes the changelog does not have are skipped.
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "store/node.hpp"

namespace hgrpc::store {

// name -> node, sorted by name.
template <class HasNode>
std::map<std::string, Node> parse_bookmarks(std::string_view text, HasNode has_node) {
  std::map<std::string, Node> marks;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = std::min(text.find('\n', pos), text.size());
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    // Mercurial strips surrounding whitespace before splitting at the first space.
    while (!line.empty() && std::string_view(" \t\r\v\f").find(line.back()) != std::string_view::npos) {
      line.remove_suffix(1);
    }
    while (!line.empty() && std::string_view(" \t\r\v\f").find(line.front()) != std::string_view::npos) {
      line.remove_prefix(1);
    }
    if (line.empty()) continue;
    std::size_t sp = line.find(' ');
    if (sp == std::string_view::npos) continue;
    std::optional<Node> node = unhex(line.substr(0, sp));
    if (!node || !has_node(*node)) continue;
    marks[std::string(line.substr(sp + 1))] = *node;
  }
  return marks;
}

// The bookmarks file as Mercurial writes it: "<40 hex> <name>\n" by name.
inline std::string format_bookmarks(const std::map<std::string, Node>& marks) {
  std::string out;
  for (const auto& [name, node] : marks) out += hex(node) + " " + name + "\n";
  return out;
}

}  // namespace hgrpc::store
