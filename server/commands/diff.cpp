#include "server/commands/diff.hpp"

#include <string>

#include "server/commands/arguments.hpp"

namespace hgrpc::server::commands {

namespace {

CommandStatus run(const CommandInput& in, ResponseSink& out) {
  auto inputs = byte_inputs(in, {"a", "b"});
  if (!inputs) return fail_command(std::move(inputs.error()));
  const auto& views = inputs->views;
  if (views.size() != 2)
    return fail_command("command data: expected 2 items (a, b), got %s", {std::to_string(views.size())});
  mpatch::Bytes delta = mpatch::diff(views[0], views[1]);
  // mpatch::diff has no limit of its own; its output is bounded by the inputs
  // (which the request limits bound), so checking afterwards is enough.
  if (delta.size() > in.limits.max_output_bytes)
    return fail_command("output of %s bytes exceeds the limit of %s bytes",
                        {std::to_string(delta.size()), std::to_string(in.limits.max_output_bytes)});
  out.bytes(delta);
  return {};
}

}  // namespace

CommandSpec diff_command() {
  return CommandSpec{
      .name = "diff",
      .permission = "pull",
      .args = {ArgSpec{.name = "a", .type = ArgType::Bytes, .required = true, .from_data = true},
               ArgSpec{.name = "b", .type = ArgType::Bytes, .required = true, .from_data = true}},
      .handler = run,
      .cached_by_arguments = true,
  };
}

}  // namespace hgrpc::server::commands
