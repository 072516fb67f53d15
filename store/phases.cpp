#include "store/phases.hpp"

#include <charconv>

namespace hgrpc::store {

std::string phase_name(Phase phase) {
  switch (phase) {
    case kPublic: return "public";
    case kDraft: return "draft";
    case kSecret: return "secret";
    case kArchived: return "archived";
    case kInternal: return "internal";
  }
  return "phase " + std::to_string(static_cast<int>(phase));
}

Result<std::vector<PhaseRoot>> parse_phaseroots(std::string_view text) {
  std::vector<PhaseRoot> roots;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = std::min(text.find('\n', pos), text.size());
    std::string_view line = text.substr(pos, nl - pos);
    std::string at = "phaseroots: line at offset " + std::to_string(pos) + ": ";
    if (!line.empty()) {
      std::size_t sp = line.find(' ');
      if (sp == std::string_view::npos) return fail(at + "no space between phase and node");
      int value = -1;
      auto [p, ec] = std::from_chars(line.data(), line.data() + sp, value);
      if (ec != std::errc() || p != line.data() + sp) return fail(at + "phase is not a number");
      if (value != kPublic && value != kDraft && value != kSecret && value != kArchived &&
          value != kInternal) {
        return fail(at + "unknown phase " + std::to_string(value));
      }
      auto node = unhex(line.substr(sp + 1));
      if (!node) return fail(at + "node is not 40 hex digits");
      roots.push_back({static_cast<Phase>(value), *node});
    }
    pos = nl + 1;
  }
  return roots;
}

std::string format_phaseroots(std::vector<PhaseRoot> roots) {
  std::sort(roots.begin(), roots.end(), [](const PhaseRoot& a, const PhaseRoot& b) {
    return a.phase != b.phase ? a.phase < b.phase : a.node < b.node;
  });
  std::string out;
  for (const auto& root : roots) out += std::to_string(static_cast<int>(root.phase)) + " " + hex(root.node) + "\n";
  return out;
}

}  // namespace hgrpc::store
