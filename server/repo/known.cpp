// known {nodes: list = []}: one byte string, '1' per served node, '0' for
// unknown and hidden ones.
#include "server/repo/repo_commands.hpp"
#include "server/repo/served_view.hpp"

namespace hgrpc::server::repo {

CommandSpec known_command(Context context) {
  return repo_command(
      "known",
      {ArgSpec{.name = "nodes",
               .type = ArgType::List,
               .required = false,
               .default_value = json::array(),
               .element_type = ArgType::Bytes}},
      [](const RepoCall& call, RecordSink& sink) -> RepoError {
        const json& nodes = call.args["nodes"];
        if (nodes.size() > call.options.max_nodes)
          return CommandError{"too many nodes: %s (limit %s)",
                              {std::to_string(nodes.size()), std::to_string(call.options.max_nodes)}};
        std::string answer;
        answer.reserve(nodes.size());
        for (const auto& n : nodes) {
          auto node = node_of(n);
          answer.push_back(node && served_rev(call.snapshot, *node) ? '1' : '0');
        }
        if (!sink.bytes(store::as_bytes(answer))) return sink_failure(sink);
        return std::nullopt;
      },
      std::move(context));
}

}  // namespace hgrpc::server::repo
