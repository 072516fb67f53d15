#include "store/tags.hpp"

#include <algorithm>
#include <optional>

#include "store/text.hpp"

namespace hgrpc::store {

namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// binascii.unhexlify: even length, hex digits only.
std::optional<std::string> unhexlify(std::string_view s) {
  if (s.size() % 2 != 0) return std::nullopt;
  std::string out;
  out.reserve(s.size() / 2);
  for (std::size_t i = 0; i < s.size(); i += 2) {
    int hi = hex_digit(s[i]), lo = hex_digit(s[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

bool contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

}  // namespace

TagMap parse_tags(std::string_view text) {
  std::map<std::string, std::vector<std::string>> values;  // every value of a name, in file order
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find_first_of("\r\n", pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (end < text.size() && text[end] == '\r' && pos < text.size() && text[pos] == '\n') ++pos;  // \r\n
    if (line.empty()) continue;
    std::size_t sp = line.find(' ');
    if (sp == std::string_view::npos) continue;
    auto node = unhexlify(line.substr(0, sp));
    if (!node) continue;
    values[std::string(strip(line.substr(sp + 1)))].push_back(std::move(*node));
  }
  TagMap out;
  for (auto& [name, nodes] : values) {
    TagValue v;
    v.node = nodes.back();
    nodes.pop_back();
    v.history = std::move(nodes);
    out.emplace(name, std::move(v));
  }
  return out;
}

void merge_tags(TagMap& all, const TagMap& file) {
  for (const auto& [name, newer] : file) {
    auto it = all.find(name);
    if (it == all.end()) {
      all.emplace(name, newer);
      continue;
    }
    const TagValue& older = it->second;
    TagValue merged = newer;
    // The older value wins only if it supersedes the newer one (the newer
    // node is in its history) and the newer does not supersede it back, or
    // both do and the older has the longer history.
    if (older.node != newer.node && contains(older.history, newer.node) &&
        (!contains(newer.history, older.node) || older.history.size() > newer.history.size())) {
      merged.node = older.node;
    }
    for (const auto& n : older.history) {
      if (!contains(merged.history, n)) merged.history.push_back(n);
    }
    it->second = std::move(merged);
  }
}

}  // namespace hgrpc::store
