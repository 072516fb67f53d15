#pragma once
// Phases: .hg/store/phaseroots holds "<phase> <40 hex node>\n" lines. A rev's
// phase is the highest of its parents' phases and of every phase it is a
// root of. Secret and above (archived, internal) are hidden from the served
// view, and so are their descendants (they inherit the phase).
#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "store/error.hpp"
#include "store/node.hpp"

namespace hgrpc::store {

enum Phase : std::uint8_t {
  kPublic = 0,
  kDraft = 1,
  kSecret = 2,
  kArchived = 32,
  kInternal = 96,
};

// The phase a peer is told: a publishing repository (the caller's setting,
// Mercurial's phases.publish, default true) reports every served changeset
// as public.
inline Phase reported_phase(Phase phase, bool publishing) { return publishing ? kPublic : phase; }

// "public", "draft", "secret", "archived", "internal".
std::string phase_name(Phase phase);

struct PhaseRoot {
  Phase phase;
  Node node;
};

// Parses phaseroots; an unknown phase number or a malformed line is an error
// naming the line's offset.
Result<std::vector<PhaseRoot>> parse_phaseroots(std::string_view text);

// The phase of every rev, given each rev's (p1, p2) and a node -> rev
// lookup; roots whose node is not in the changelog are ignored.
template <class RevOf>
std::vector<Phase> compute_phases(std::span<const std::pair<int, int>> parents,
                                  std::span<const PhaseRoot> roots, RevOf rev_of) {
  std::vector<Phase> phase(parents.size(), kPublic);
  for (const auto& root : roots) {
    std::optional<int> r = rev_of(root.node);
    if (r && *r >= 0 && static_cast<std::size_t>(*r) < phase.size()) {
      phase[static_cast<std::size_t>(*r)] = std::max(phase[static_cast<std::size_t>(*r)], root.phase);
    }
  }
  for (std::size_t r = 0; r < parents.size(); ++r) {
    for (int p : {parents[r].first, parents[r].second}) {
      if (p >= 0) phase[r] = std::max(phase[r], phase[static_cast<std::size_t>(p)]);
    }
  }
  return phase;
}

// The roots that give each rev `phases[r]` (the writer's side of
// compute_phases): every rev whose phase is above both of its parents'.
template <class NodeOf>
std::vector<PhaseRoot> phase_roots(std::span<const std::pair<int, int>> parents, std::span<const Phase> phases,
                                   NodeOf node_of) {
  std::vector<PhaseRoot> roots;
  for (std::size_t r = 0; r < parents.size(); ++r) {
    Phase inherited = kPublic;
    for (int p : {parents[r].first, parents[r].second}) {
      if (p >= 0) inherited = std::max(inherited, phases[static_cast<std::size_t>(p)]);
    }
    if (phases[r] > inherited) roots.push_back({phases[r], node_of(static_cast<int>(r))});
  }
  return roots;
}

// phaseroots as Mercurial writes it: "<phase> <40 hex>\n", by phase, then node.
std::string format_phaseroots(std::vector<PhaseRoot> roots);

}  // namespace hgrpc::store
