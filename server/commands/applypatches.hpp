#pragma once
// applypatches(base: bytes, patches: list of bytes) -> one byte string: base
// with the deltas applied in order. With command data: base, then each delta.
#include "server/command_registry.hpp"

namespace hgrpc::server::commands {

CommandSpec applypatches_command();

}  // namespace hgrpc::server::commands
