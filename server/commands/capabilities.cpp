#include "server/commands/capabilities.hpp"

namespace hgrpc::server::commands {

CommandSpec capabilities_command() {
  return CommandSpec{
      .name = "capabilities",
      .permission = "pull",
      .args = {},
      .handler = [](const CommandInput& in) -> CommandResult {
        return CommandOutput{capabilities_map(in.registry, in.limits)};
      },
  };
}

}  // namespace hgrpc::server::commands
