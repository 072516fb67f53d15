#include "server/commands/patchedsize.hpp"

#include <cstdint>

#include "server/commands/arguments.hpp"

namespace hgrpc::server::commands {

namespace {

CommandStatus run(const CommandInput& in, ResponseSink& out) {
  std::vector<json> items;  // owns the decoded command data
  std::vector<ByteView> deltas;
  if (in.data) {
    auto decoded = decode_data_items(*in.data);
    if (!decoded) return fail_command(std::move(decoded.error()));
    items = std::move(*decoded);
    deltas = item_views(items);
  } else {
    deltas = bytes_list(in.args["patches"]);
  }
  auto size = mpatch::patched_size(in.args["size"].get<std::uint64_t>(), deltas);
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
               ArgSpec{.name = "patches",
                       .type = ArgType::List,
                       .required = true,
                       .element_type = ArgType::Bytes,
                       .from_data = true}},
      .handler = run,
  };
}

}  // namespace hgrpc::server::commands
