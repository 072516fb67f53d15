#include "bench/bench_commands.hpp"

#include <algorithm>

namespace hgrpc::bench {

server::CommandSpec bench_stream_command() {
  using namespace hgrpc::server;
  return CommandSpec{
      .name = "benchstream",
      .permission = "pull",
      .args = {ArgSpec{.name = "size", .type = ArgType::Int, .required = true, .non_negative = true}},
      .handler = [](const CommandInput& in, ResponseSink& out) -> CommandStatus {
        const auto size = in.args["size"].get<std::uint64_t>();
        framing::Bytes piece(64 * 1024);
        if (!out.bytes_begin(size)) return {};
        for (std::uint64_t done = 0; done < size;) {
          const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(piece.size(), size - done));
          for (std::size_t i = 0; i < n; ++i) piece[i] = bench_stream_byte(done + i);
          if (!out.bytes_chunk(framing::ByteView(piece).first(n))) return {};
          done += n;
        }
        return {};
      },
  };
}

}  // namespace hgrpc::bench
