#pragma once
// diff(a: bytes, b: bytes) -> one byte string: a delta turning a into b.
// With command data: a, then b.
#include "server/command_registry.hpp"

namespace hgrpc::server::commands {

CommandSpec diff_command();

}  // namespace hgrpc::server::commands
