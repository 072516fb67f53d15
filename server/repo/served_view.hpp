#pragma once
// The served view of a snapshot (Mercurial's `served` filter without
// obsolescence, which the store refuses): secret, archived and internal
// changesets and their descendants are hidden. Every repository command
// answers on this view only.
#include <optional>
#include <span>
#include <vector>

#include "store/node.hpp"
#include "store/repository.hpp"

namespace hgrpc::server::repo {

// The rev of a served changeset; nullopt for unknown and hidden nodes (and
// for the null node).
std::optional<int> served_rev(const store::Snapshot& snapshot, const store::Node& node);

// DAG heads of the served view (or, with public_only, of its public part),
// highest rev first. Empty when the view is empty.
std::vector<int> served_heads(const store::Snapshot& snapshot, bool public_only);

// ::heads - ::roots, ascending (all revs served).
std::vector<int> dag_range(const store::Snapshot& snapshot, std::span<const int> roots, std::span<const int> heads);

// Ancestors of `revs` (themselves included) at most `max_generations` steps
// away, ascending: revset ancestors(revs, max_generations).
std::vector<int> ancestors_within(const store::Snapshot& snapshot, std::span<const int> revs, int max_generations);

}  // namespace hgrpc::server::repo
