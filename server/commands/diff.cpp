#include "server/commands/diff.hpp"

#include <string>

#include "server/commands/arguments.hpp"

namespace hgrpc::server::commands {

namespace {

CommandStatus run(const CommandInput& in, ResponseSink& out) {
  std::vector<json> items;  // owns the decoded command data
  ByteView a;
  ByteView b;
  if (in.data) {
    auto decoded = decode_data_items(*in.data);
    if (!decoded) return fail_command(std::move(decoded.error()));
    items = std::move(*decoded);
    if (items.size() != 2)
      return fail_command("command data: expected 2 items (a, b), got %s", {std::to_string(items.size())});
    a = bytes_of(items[0]);
    b = bytes_of(items[1]);
  } else {
    a = bytes_of(in.args["a"]);
    b = bytes_of(in.args["b"]);
  }
  mpatch::Bytes delta = mpatch::diff(a, b);
  // mpatch::diff has no limit of its own; its output is bounded by the inputs
  // (which the request limits bound), so checking afterwards is enough.
  if (delta.size() > in.limits.max_output_bytes)
    return fail_command("output of %s bytes exceeds the limit of %s bytes",
                        {std::to_string(delta.size()), std::to_string(in.limits.max_output_bytes)});
  out.bytes(delta);
  return {};
}

}  // namespace

CommandSpec diff_command() {
  return CommandSpec{
      .name = "diff",
      .permission = "pull",
      .args = {ArgSpec{.name = "a", .type = ArgType::Bytes, .required = true, .from_data = true},
               ArgSpec{.name = "b", .type = ArgType::Bytes, .required = true, .from_data = true}},
      .handler = run,
  };
}

}  // namespace hgrpc::server::commands
