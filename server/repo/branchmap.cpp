// branchmap {}: one map branch -> heads (ascending rev, closed heads
// included) over the served view.
#include "server/repo/repo_commands.hpp"

namespace hgrpc::server::repo {

CommandSpec branchmap_command(Context context) {
  return repo_command(
      "branchmap", {},
      [](const RepoCall& call, RecordSink& sink) -> RepoError {
        auto map = call.snapshot.branchmap();
        if (!map) return store_error(map.error());
        json out = json::object();
        for (const auto& [branch, heads] : *map) {
          json nodes = json::array();
          for (const auto& h : heads) nodes.push_back(node_value(call.snapshot.changelog().node(h.rev)));
          out[branch] = std::move(nodes);
        }
        if (!sink.value(std::move(out))) return sink_failure(sink);
        return std::nullopt;
      },
      std::move(context));
}

}  // namespace hgrpc::server::repo
