#include "store/manifest.hpp"

#include <algorithm>

namespace hgrpc::store {

Result<Manifest> Manifest::parse(ByteView bytes) {
  std::string_view text = as_chars(bytes);
  Manifest m;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::string at = "manifest line at offset " + std::to_string(pos) + ": ";
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) return fail(at + "no final newline");
    std::string_view line = text.substr(pos, nl - pos);
    std::size_t nul = line.find('\0');
    if (nul == std::string_view::npos) return fail(at + "no NUL after the path");
    if (nul == 0) return fail(at + "empty path");
    std::string_view rest = line.substr(nul + 1);
    if (rest.size() < 40) return fail(at + "node is shorter than 40 hex digits");
    auto node = unhex(rest.substr(0, 40));
    if (!node) return fail(at + "node is not 40 hex digits");
    std::string_view flag = rest.substr(40);
    ManifestEntry e{std::string(line.substr(0, nul)), *node, '\0'};
    if (flag.size() > 1 || (flag.size() == 1 && flag[0] != 'x' && flag[0] != 'l')) {
      return fail(at + "unknown flag '" + std::string(flag) + "'");
    }
    if (!flag.empty()) e.flag = flag[0];
    if (!m.entries_.empty() && !(m.entries_.back().path < e.path)) {
      return fail(at + "'" + e.path + "' is not sorted after '" + m.entries_.back().path + "'");
    }
    m.entries_.push_back(std::move(e));
    pos = nl + 1;
  }
  return m;
}

const ManifestEntry* Manifest::find(std::string_view path) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), path,
                             [](const ManifestEntry& e, std::string_view p) { return e.path < p; });
  if (it == entries_.end() || it->path != path) return nullptr;
  return &*it;
}

}  // namespace hgrpc::store
