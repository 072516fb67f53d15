#include "server/commands/foldpatches.hpp"

#include "server/commands/arguments.hpp"

namespace hgrpc::server::commands {

namespace {

CommandStatus run(const CommandInput& in, ResponseSink& out) {
  auto deltas = byte_inputs(in, {"patches"});
  if (!deltas) return fail_command(std::move(deltas.error()));
  if (deltas->views.empty()) return fail_command("command data: expected at least 1 delta, got no items");
  mpatch::Limits limits{.max_output_bytes = in.limits.max_output_bytes};
  auto folded = mpatch::fold(deltas->views, limits);
  if (!folded) return fail_command(patch_error("fold patches", folded.error()));
  out.bytes(*folded);
  return {};
}

}  // namespace

CommandSpec foldpatches_command() {
  return CommandSpec{
      .name = "foldpatches",
      .permission = "pull",
      .args = {patches_arg(1)},
      .handler = run,
      .cached_by_arguments = true,
  };
}

}  // namespace hgrpc::server::commands
