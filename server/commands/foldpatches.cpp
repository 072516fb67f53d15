#include "server/commands/foldpatches.hpp"

#include "server/commands/arguments.hpp"

namespace hgrpc::server::commands {

namespace {

CommandStatus run(const CommandInput& in, ResponseSink& out) {
  std::vector<json> items;  // owns the decoded command data
  std::vector<ByteView> deltas;
  if (in.data) {
    auto decoded = decode_data_items(*in.data);
    if (!decoded) return fail_command(std::move(decoded.error()));
    items = std::move(*decoded);
    if (items.empty()) return fail_command("command data: expected at least 1 delta, got no items");
    deltas = item_views(items);
  } else {
    deltas = bytes_list(in.args["patches"]);
  }
  mpatch::Limits limits{.max_output_bytes = in.limits.max_output_bytes};
  auto folded = mpatch::fold(deltas, limits);
  if (!folded) return fail_command(patch_error("fold patches", folded.error()));
  out.bytes(*folded);
  return {};
}

}  // namespace

CommandSpec foldpatches_command() {
  return CommandSpec{
      .name = "foldpatches",
      .permission = "pull",
      .args = {ArgSpec{.name = "patches",
                       .type = ArgType::List,
                       .required = true,
                       .element_type = ArgType::Bytes,
                       .from_data = true,
                       .min_items = 1}},
      .handler = run,
  };
}

}  // namespace hgrpc::server::commands
