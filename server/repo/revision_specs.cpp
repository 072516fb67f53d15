#include "server/repo/revision_specs.hpp"

#include "framing/cbor.hpp"
#include "server/repo/served_view.hpp"

namespace hgrpc::server::repo {

namespace {

using Revs = hgrpc::expected<std::vector<int>, CommandError>;

hgrpc::unexpected<CommandError> error(std::string message, std::vector<std::string> args = {}) {
  return hgrpc::unexpected<CommandError>(CommandError{std::move(message), std::move(args)});
}

const json* key(const json& spec, const char* name) {
  auto it = spec.find(name);
  return it == spec.end() ? nullptr : &*it;
}

// The revs of a node list; `what` names the list in errors. Unknown nodes
// fail unless `skip_unknown` (roots).
Revs node_revs(const RepoCall& call, const json& list, const std::string& what, bool skip_unknown) {
  if (!list.is_array()) return error("%s must be a list of nodes", {what});
  if (list.size() > call.options.max_nodes)
    return error("too many nodes in %s: %s (limit %s)",
                 {what, std::to_string(list.size()), std::to_string(call.options.max_nodes)});
  std::vector<int> revs;
  for (const auto& item : list) {
    auto node = node_of(item);
    if (node && *node == store::kNullNode && what != "nodes") continue;  // the null root/head: nothing
    auto rev = node ? served_rev(call.snapshot, *node) : std::nullopt;
    if (rev) {
      revs.push_back(*rev);
    } else if (!skip_unknown) {
      return error("unknown node: %s", {node_arg_hex(item)});
    }
  }
  return revs;
}

}  // namespace

Revs resolve_revisions(const RepoCall& call, const json& revisions) {
  if (!revisions.is_array()) return error("revisions must be defined as an array");
  if (revisions.size() > call.options.max_revision_specifiers)
    return error("too many revision specifiers: %s (limit %s)",
                 {std::to_string(revisions.size()), std::to_string(call.options.max_revision_specifiers)});
  std::vector<int> out;
  std::vector<bool> seen(static_cast<std::size_t>(call.snapshot.size()), false);
  auto add = [&](const std::vector<int>& revs) -> hgrpc::expected<void, CommandError> {
    for (int r : revs) {
      if (seen[static_cast<std::size_t>(r)]) continue;
      seen[static_cast<std::size_t>(r)] = true;
      out.push_back(r);
      if (out.size() > call.options.max_changesets)
        return error("too many changesets requested (limit %s)", {std::to_string(call.options.max_changesets)});
    }
    return {};
  };
  for (const auto& spec : revisions) {
    if (!spec.is_object()) return error("revision specifier must be a map");
    const json* type = key(spec, "type");
    if (!type) return error("type key not present in revision specifier");
    const auto kind_text = framing::bytes_or_text(*type);
    if (!kind_text) return error("revision specifier type must be bytes");
    const std::string& kind = *kind_text;
    std::vector<int> revs;
    if (kind == "changesetexplicit") {
      const json* nodes = key(spec, "nodes");
      if (!nodes) return error("nodes key not present in changesetexplicit revision specifier");
      auto r = node_revs(call, *nodes, "nodes", false);
      if (!r) return hgrpc::unexpected<CommandError>(r.error());
      revs = std::move(*r);
    } else if (kind == "changesetexplicitdepth") {
      for (const char* k : {"nodes", "depth"}) {
        if (!key(spec, k)) return error("%s key not present in changesetexplicitdepth revision specifier", {k});
      }
      const json& depth = *key(spec, "depth");
      if (!depth.is_number_integer() || depth.get<std::int64_t>() < 1 || depth.get<std::int64_t>() > (1 << 30))
        return error("depth in changesetexplicitdepth must be a positive integer");
      auto r = node_revs(call, *key(spec, "nodes"), "nodes", false);
      if (!r) return hgrpc::unexpected<CommandError>(r.error());
      revs = ancestors_within(call.snapshot, *r, static_cast<int>(depth.get<std::int64_t>() - 1));
    } else if (kind == "changesetdagrange") {
      for (const char* k : {"roots", "heads"}) {
        if (!key(spec, k)) return error("%s key not present in changesetdagrange revision specifier", {k});
      }
      auto roots = node_revs(call, *key(spec, "roots"), "roots", true);
      if (!roots) return hgrpc::unexpected<CommandError>(roots.error());
      auto heads = node_revs(call, *key(spec, "heads"), "heads", false);
      if (!heads) return hgrpc::unexpected<CommandError>(heads.error());
      if (!heads->empty()) revs = dag_range(call.snapshot, *roots, *heads);
    } else {
      return error("unknown revision specifier type: %s", {kind});
    }
    if (auto added = add(revs); !added) return hgrpc::unexpected<CommandError>(added.error());
  }
  return out;
}

}  // namespace hgrpc::server::repo
