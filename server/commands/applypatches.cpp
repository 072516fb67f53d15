#include "server/commands/applypatches.hpp"

#include "server/commands/arguments.hpp"

namespace hgrpc::server::commands {

namespace {

CommandStatus run(const CommandInput& in, ResponseSink& out) {
  auto inputs = byte_inputs(in, {"base", "patches"});
  if (!inputs) return fail_command(std::move(inputs.error()));
  const auto& views = inputs->views;
  if (views.empty()) return fail_command("command data: expected the base text as item 0, got no items");
  mpatch::Limits limits{.max_output_bytes = in.limits.max_output_bytes};
  auto text = mpatch::apply(views[0], std::span(views).subspan(1), limits);
  if (!text) return fail_command(patch_error("apply patches", text.error()));
  out.bytes(*text);
  return {};
}

}  // namespace

CommandSpec applypatches_command() {
  return CommandSpec{
      .name = "applypatches",
      .permission = "pull",
      .args = {ArgSpec{.name = "base", .type = ArgType::Bytes, .required = true, .from_data = true},
               patches_arg()},
      .handler = run,
      .cached_by_arguments = true,
  };
}

}  // namespace hgrpc::server::commands
