// heads {publiconly: bool = False}: one list of the view's DAG heads, highest
// rev first; [nullid] when the view is empty (Mercurial's answer too).
#include "server/repo/repo_commands.hpp"
#include "server/repo/served_view.hpp"

namespace hgrpc::server::repo {

CommandSpec heads_command(Context context) {
  return repo_command(
      "heads", {ArgSpec{.name = "publiconly", .type = ArgType::Bool, .required = false, .default_value = false}},
      [](const RepoCall& call, RecordSink& sink) -> RepoError {
        json heads = json::array();
        for (int r : served_heads(call.snapshot, call.args["publiconly"].get<bool>()))
          heads.push_back(node_value(call.snapshot.changelog().node(r)));
        if (heads.empty()) heads.push_back(node_value(store::kNullNode));
        if (!sink.value(std::move(heads))) return sink_failure(sink);
        return std::nullopt;
      },
      std::move(context));
}

}  // namespace hgrpc::server::repo
