#include "server/commands/applypatches.hpp"

#include "server/commands/arguments.hpp"

namespace hgrpc::server::commands {

namespace {

CommandStatus run(const CommandInput& in, ResponseSink& out) {
  std::vector<json> items;  // owns the decoded command data
  ByteView base;
  std::vector<ByteView> deltas;
  if (in.data) {
    auto decoded = decode_data_items(*in.data);
    if (!decoded) return fail_command(std::move(decoded.error()));
    items = std::move(*decoded);
    if (items.empty()) return fail_command("command data: expected the base text as item 0, got no items");
    base = bytes_of(items[0]);
    deltas = item_views(items, 1);
  } else {
    base = bytes_of(in.args["base"]);
    deltas = bytes_list(in.args["patches"]);
  }
  mpatch::Limits limits{.max_output_bytes = in.limits.max_output_bytes};
  auto text = mpatch::apply(base, deltas, limits);
  if (!text) return fail_command(patch_error("apply patches", text.error()));
  out.bytes(*text);
  return {};
}

}  // namespace

CommandSpec applypatches_command() {
  return CommandSpec{
      .name = "applypatches",
      .permission = "pull",
      .args = {ArgSpec{.name = "base", .type = ArgType::Bytes, .required = true, .from_data = true},
               ArgSpec{.name = "patches",
                       .type = ArgType::List,
                       .required = true,
                       .element_type = ArgType::Bytes,
                       .from_data = true}},
      .handler = run,
  };
}

}  // namespace hgrpc::server::commands
