#pragma once
// Commands that exist only in the benchmark build of hgrpcd (hgrpcd_bench,
// built with -DHGRPC_BENCH=ON): the server is the real one, plus these.
//
//   benchstream(size: int) -> one definite-length byte string of `size`
//       bytes, produced in 64 KiB pieces while the connection takes them
//       (Mercurial's revision byte strings have this shape). It measures the
//       response path alone: no input, nothing computed.
#include "server/command_registry.hpp"

namespace hgrpc::bench {

server::CommandSpec bench_stream_command();

// Byte i of a benchstream response (cheap, not constant, so that a compressor
// has some work to do).
inline std::uint8_t bench_stream_byte(std::uint64_t i) {
  return static_cast<std::uint8_t>('a' + (i ^ (i >> 9) ^ (i >> 17)) % 26);
}

}  // namespace hgrpc::bench
