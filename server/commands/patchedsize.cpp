#include "server/commands/patchedsize.hpp"

#include <cstdint>

#include "server/commands/arguments.hpp"

namespace hgrpc::server::commands {

namespace {

CommandStatus run(const CommandInput& in, ResponseSink& out) {
  auto deltas = byte_inputs(in, {"patches"});
  if (!deltas) return fail_command(std::move(deltas.error()));
  auto size = mpatch::patched_size(in.args["size"].get<std::uint64_t>(), deltas->views);
  if (!size) return fail_command(patch_error("compute the patched size", size.error()));
  out.value(json(*size));
  return {};
}

}  // namespace

CommandSpec patchedsize_command() {
  return CommandSpec{
      .name = "patchedsize",
      .permission = "pull",
      .args = {ArgSpec{.name = "size", .type = ArgType::Int, .required = true, .non_negative = true},
               patches_arg()},
      .handler = run,
      .cached_by_arguments = true,
  };
}

}  // namespace hgrpc::server::commands
