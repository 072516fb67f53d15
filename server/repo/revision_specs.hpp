#pragma once
// Revision specifiers of changesetdata and filesdata: a list of maps
//   {type: changesetexplicit, nodes: [...]}
//   {type: changesetexplicitdepth, nodes: [...], depth: n}  ancestors(nodes, n-1)
//   {type: changesetdagrange, roots: [...], heads: [...]}   ::heads - ::roots
// resolved to changeset revs: the union, in the order first seen, each
// specifier's revs ascending. Unlike Mercurial 5.8, empty `heads` resolves
// to nothing (so an empty repository can be cloned), unknown or hidden nodes
// in `nodes`/`heads` are a command error naming the node, and roots the
// server does not serve are ignored (as Mercurial does).
#include <vector>

#include "compat/expected.hpp"
#include "server/repo/repo_command.hpp"

namespace hgrpc::server::repo {

hgrpc::expected<std::vector<int>, CommandError> resolve_revisions(const RepoCall& call, const json& revisions);

}  // namespace hgrpc::server::repo
