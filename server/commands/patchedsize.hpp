#pragma once
// patchedsize(size: int >= 0, patches: list of bytes) -> unsigned int: the size
// of a size-byte text after applying the deltas, computed without building
// it. With command data: each delta (size stays an argument).
#include "server/command_registry.hpp"

namespace hgrpc::server::commands {

CommandSpec patchedsize_command();

}  // namespace hgrpc::server::commands
