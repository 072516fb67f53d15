#pragma once
// foldpatches(patches: non-empty list of bytes) -> one byte string: the delta
// equivalent to applying the deltas in order. With command data: each delta.
#include "server/command_registry.hpp"

namespace hgrpc::server::commands {

CommandSpec foldpatches_command();

}  // namespace hgrpc::server::commands
