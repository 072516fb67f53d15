// manifestdata {nodes: list, tree: bytes, fields: set = {} over {parents,
// revision}, haveparents: bool = False}: {totalitems: N}, then the
// manifest revisions in revlog order (revision_emitter.hpp). Only the root
// flat manifest (tree '') exists. A node whose linkrev is past this
// snapshot's changelog (a transaction in progress) is unknown, and so is
// one only hidden (secret) changesets reference: 5.8 serves any manifest
// revlog entry, which hands out what secret changesets contain. A manifest
// whose linkrev is hidden but that a served changeset also uses (identical
// trees) is served.
#include <algorithm>
#include <unordered_set>

#include "server/repo/repo_commands.hpp"
#include "server/repo/revision_emitter.hpp"

namespace hgrpc::server::repo {

namespace {

// The first requested rev (in `revs`) that no served changeset uses, if any.
store::Result<std::optional<int>> unserved_manifest(const store::Snapshot& snapshot, const std::vector<int>& revs) {
  const auto& ml = snapshot.manifestlog();
  int first_hidden = snapshot.size();
  for (int r : revs) {
    const int linkrev = ml.entry(r).linkrev;
    if (!snapshot.is_served(linkrev)) first_hidden = std::min(first_hidden, linkrev);
  }
  if (first_hidden == snapshot.size()) return std::nullopt;
  // Changesets after a manifest's linkrev are the only others that can use it.
  std::unordered_set<store::Node, store::NodeHash> used;
  for (int c = first_hidden + 1; c < snapshot.size(); ++c) {
    if (!snapshot.is_served(c)) continue;
    auto cs = snapshot.changeset(c);
    if (!cs) return hgrpc::unexpected<store::Error>(cs.error());
    used.insert(cs->manifest);
  }
  for (int r : revs) {
    if (!snapshot.is_served(ml.entry(r).linkrev) && !used.contains(ml.node(r))) return r;
  }
  return std::nullopt;
}

RepoError run(const RepoCall& call, RecordSink& sink) {
  const json& nodes = call.args["nodes"];
  if (!string_of(call.args["tree"]).empty())
    return CommandError{"unknown tree: %s (tree manifests are not served)", {string_of(call.args["tree"])}};
  if (nodes.size() > call.options.max_nodes)
    return CommandError{"too many nodes: %s (limit %s)",
                        {std::to_string(nodes.size()), std::to_string(call.options.max_nodes)}};
  const auto& ml = call.snapshot.manifestlog();
  auto requested = requested_revs(ml, nodes, call.snapshot, "unknown node: %s");
  if (!requested) return std::move(requested.error());
  const std::vector<int> revs = std::move(*requested);
  auto unserved = unserved_manifest(call.snapshot, revs);
  if (!unserved) return store_error(unserved.error());
  if (*unserved) return CommandError{"unknown node: %s", {store::hex(ml.node(**unserved))}};
  const json& fields = call.args["fields"];
  EmitFields emit{.parents = has_field(fields, "parents"),
                  .revision = has_field(fields, "revision"),
                  .linknode = false,
                  .haveparents = call.args["haveparents"].get<bool>(),
                  .splice_min_bytes = call.options.splice_min_bytes};
  if (!sink.value(json{{"totalitems", revs.size()}})) return sink_failure(sink);
  return emit_revisions(ml, revs, emit, {}, sink);
}

}  // namespace

CommandSpec manifestdata_command(Context context) {
  json extra = {{"recommendedbatchsize", context->options.manifestdata_batch_size}};
  return cached_repo_command("manifestdata",
                      {fields_arg({"parents", "revision"}), haveparents_arg(),
                       ArgSpec{.name = "nodes", .type = ArgType::List, .required = true, .element_type = ArgType::Bytes},
                       ArgSpec{.name = "tree", .type = ArgType::Bytes, .required = true}},
                      run, std::move(context), std::move(extra));
}

}  // namespace hgrpc::server::repo
