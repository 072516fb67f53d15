#pragma once
// capabilities() -> the capabilities map (see server/capabilities.hpp).
#include "server/command_registry.hpp"

namespace hgrpc::server::commands {

CommandSpec capabilities_command();

}  // namespace hgrpc::server::commands
