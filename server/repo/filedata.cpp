// filedata {path: bytes, nodes: list, fields: set = {} over {linknode,
// parents, revision}, haveparents: bool = False}: {totalitems: N}, then the
// file revisions in filelog order (revision_emitter.hpp). linknode is the
// changeset of the revision's linkrev. Errors: `unknown file: %s` for a path
// with no revisions, `unknown file node: %s` for a node the filelog lacks
// (or whose linkrev is past this snapshot's changelog).
#include <algorithm>

#include "server/repo/repo_commands.hpp"
#include "server/repo/revision_emitter.hpp"

namespace hgrpc::server::repo {

namespace {

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
  const json& fields = call.args["fields"];
  EmitFields emit{.parents = has_field(fields, "parents"),
                  .revision = has_field(fields, "revision"),
                  .linknode = has_field(fields, "linknode"),
                  .haveparents = call.args["haveparents"].get<bool>()};
  if (!sink.value(json{{"totalitems", revs.size()}})) return sink_failure(sink);
  const auto& cl = call.snapshot.changelog();
  return emit_revisions(*log, revs, emit, [&](int rev) { return cl.node(log->entry(rev).linkrev); }, sink);
}

}  // namespace

CommandSpec filedata_command(Context context) {
  return repo_command("filedata",
                      {fields_arg({"linknode", "parents", "revision"}), haveparents_arg(),
                       ArgSpec{.name = "nodes", .type = ArgType::List, .required = true, .element_type = ArgType::Bytes},
                       ArgSpec{.name = "path", .type = ArgType::Bytes, .required = true}},
                      run, std::move(context));
}

}  // namespace hgrpc::server::repo
