#include "server/commands/capabilities.hpp"

namespace hgrpc::server::commands {

CommandSpec capabilities_command() {
  return CommandSpec{
      .name = "capabilities",
      .permission = "pull",
      .args = {},
      .handler = [](const CommandInput& in, ResponseSink& out) -> CommandStatus {
        out.value(capabilities_map(in.registry, in.limits));
        return {};
      },
  };
}

}  // namespace hgrpc::server::commands
