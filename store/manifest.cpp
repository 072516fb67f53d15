#include "store/manifest.hpp"

#include <algorithm>

namespace hgrpc::store {

namespace {

// One line without its '\n', starting at byte `offset` of the manifest.
Result<ManifestEntry> parse_line(std::string_view line, std::size_t offset) {
  const auto at = [offset] { return "manifest line at offset " + std::to_string(offset) + ": "; };
  std::size_t nul = line.find('\0');
  if (nul == std::string_view::npos) return fail(at() + "no NUL after the path");
  if (nul == 0) return fail(at() + "empty path");
  std::string_view rest = line.substr(nul + 1);
  if (rest.size() < 40) return fail(at() + "node is shorter than 40 hex digits");
  auto node = unhex(rest.substr(0, 40));
  if (!node) return fail(at() + "node is not 40 hex digits");
  std::string_view flag = rest.substr(40);
  if (flag.size() > 1 || (flag.size() == 1 && flag[0] != 'x' && flag[0] != 'l')) {
    return fail(at() + "unknown flag '" + std::string(flag) + "'");
  }
  return ManifestEntry{std::string(line.substr(0, nul)), *node, flag.empty() ? '\0' : flag[0]};
}

}  // namespace

Result<Manifest> Manifest::parse(ByteView bytes) {
  std::string_view text = as_chars(bytes);
  Manifest m;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) return fail("manifest line at offset " + std::to_string(pos) + ": no final newline");
    auto e = parse_line(text.substr(pos, nl - pos), pos);
    if (!e) return hgrpc::unexpected<Error>(e.error());
    if (!m.entries_.empty() && !(m.entries_.back().path < e->path)) {
      return fail("manifest line at offset " + std::to_string(pos) + ": '" + e->path + "' is not sorted after '" +
                  m.entries_.back().path + "'");
    }
    m.entries_.push_back(std::move(*e));
    pos = nl + 1;
  }
  return m;
}

Result<std::optional<ManifestEntry>> manifest_lookup(ByteView bytes, std::string_view path) {
  const std::string_view text = as_chars(bytes);
  std::size_t lo = 0, hi = text.size();  // [lo, hi): whole lines still in play
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo) / 2;
    std::size_t start = mid;
    while (start > lo && text[start - 1] != '\n') --start;
    const std::size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos || nl >= hi)
      return fail("manifest line at offset " + std::to_string(start) + ": no final newline");
    const std::string_view line = text.substr(start, nl - start);
    const std::string_view line_path = line.substr(0, line.find('\0'));
    if (line_path == path) {
      auto e = parse_line(line, start);
      if (!e) return hgrpc::unexpected<Error>(e.error());
      return std::optional<ManifestEntry>(std::move(*e));
    }
    if (line_path < path) {
      lo = nl + 1;
    } else {
      hi = start;
    }
  }
  return std::optional<ManifestEntry>();
}

const ManifestEntry* Manifest::find(std::string_view path) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), path,
                             [](const ManifestEntry& e, std::string_view p) { return e.path < p; });
  if (it == entries_.end() || it->path != path) return nullptr;
  return &*it;
}

}  // namespace hgrpc::store
