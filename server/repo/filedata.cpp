// filedata {path: bytes, nodes: list, fields: set = {} over {linknode,
// parents, revision}, haveparents: bool = False}: {totalitems: N}, then the
// file revisions in filelog order (revision_emitter.hpp). Errors: `unknown
// file: %s` for a path with no revisions, `unknown file node: %s` for a node
// the filelog lacks, whose linkrev is past this snapshot's changelog, or
// that no served changeset introduces.
//
// linknode: the changeset of the revision's linkrev, as 5.8 sends it
// (fctx.introrev() of a filectx made from a file node is the linkrev). The
// linkrev is the first changeset that added the revision; when that one is
// hidden (secret) and a served changeset introduced the same node later,
// 5.8 fails on the filtered rev. We name the first served changeset after
// it that lists the file with that node in its manifest (what Mercurial's
// linkrev adjustment would find), so the client gets a changeset it can
// have.
#include <algorithm>
#include <unordered_map>

#include "server/repo/repo_commands.hpp"
#include "server/repo/revision_emitter.hpp"

namespace hgrpc::server::repo {

namespace {

// The first served changeset after `linkrev` introducing (path, fnode).
store::Result<std::optional<int>> served_introduction(const store::Snapshot& snapshot, const std::string& path,
                                                      const store::Node& fnode, int linkrev) {
  for (int r = linkrev + 1; r < snapshot.size(); ++r) {
    if (!snapshot.is_served(r)) continue;
    auto cs = snapshot.changeset(r);
    if (!cs) return hgrpc::unexpected<store::Error>(cs.error());
    if (std::find(cs->files.begin(), cs->files.end(), path) == cs->files.end()) continue;
    auto manifest = snapshot.manifest_of_changeset(r);
    if (!manifest) return hgrpc::unexpected<store::Error>(manifest.error());
    const store::ManifestEntry* entry = manifest->find(path);
    if (entry && entry->node == fnode) return r;
  }
  return std::nullopt;
}

RepoError run(const RepoCall& call, RecordSink& sink) {
  const std::string path = string_of(call.args["path"]);
  const json& nodes = call.args["nodes"];
  if (nodes.size() > call.options.max_nodes)
    return CommandError{"too many nodes: %s (limit %s)",
                        {std::to_string(nodes.size()), std::to_string(call.options.max_nodes)}};
  auto log = call.snapshot.filelog(path);
  if (!log) return store_error(log.error());
  if (log->size() == 0) return CommandError{"unknown file: %s", {path}};
  auto requested = requested_revs(*log, nodes, call.snapshot, "unknown file node: %s");
  if (!requested) return std::move(requested.error());
  const std::vector<int> revs = std::move(*requested);
  const auto& cl = call.snapshot.changelog();
  std::unordered_map<int, store::Node> linknodes;  // file rev -> changeset
  for (int rev : revs) {
    const int linkrev = log->entry(rev).linkrev;
    if (call.snapshot.is_served(linkrev)) {
      linknodes.emplace(rev, cl.node(linkrev));
      continue;
    }
    auto intro = served_introduction(call.snapshot, path, log->node(rev), linkrev);
    if (!intro) return store_error(intro.error());
    if (!*intro) return CommandError{"unknown file node: %s", {store::hex(log->node(rev))}};
    linknodes.emplace(rev, cl.node(**intro));
  }
  const json& fields = call.args["fields"];
  EmitFields emit{.parents = has_field(fields, "parents"),
                  .revision = has_field(fields, "revision"),
                  .linknode = has_field(fields, "linknode"),
                  .haveparents = call.args["haveparents"].get<bool>(),
                  .splice_min_bytes = call.options.splice_min_bytes};
  if (!sink.value(json{{"totalitems", revs.size()}})) return sink_failure(sink);
  return emit_revisions(*log, revs, emit, [&](int rev) { return linknodes.at(rev); }, sink);
}

}  // namespace

CommandSpec filedata_command(Context context) {
  return cached_repo_command("filedata",
                      {fields_arg({"linknode", "parents", "revision"}), haveparents_arg(),
                       ArgSpec{.name = "nodes", .type = ArgType::List, .required = true, .element_type = ArgType::Bytes},
                       ArgSpec{.name = "path", .type = ArgType::Bytes, .required = true}},
                      run, std::move(context));
}

}  // namespace hgrpc::server::repo
