#pragma once
// Helpers shared by the command handlers: reading validated arguments as byte
// views, decoding command data, and turning mpatch errors into command errors.
//
// Command data layout (have-data requests): the data is a CBOR sequence of
// byte strings, definite or indefinite length, one per input:
//   applypatches  base, then each delta     (args `base`, `patches` absent)
//   foldpatches   each delta                (arg `patches` absent)
//   patchedsize   each delta                (arg `patches` absent; `size` stays an arg)
//   diff          a, then b                 (args `a`, `b` absent)
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "compat/expected.hpp"
#include "framing/bytes.hpp"
#include "framing/cbor.hpp"
#include "mpatch/mpatch.hpp"
#include "server/command_registry.hpp"

namespace hgrpc::server::commands {

using framing::ByteView;
using framing::json;

// CBOR-minded name of a value's type, as error messages say it: "bytes",
// "text", "int", "list", "dict", "bool", "null", "float".
std::string_view value_type_name(const json& v);

// A command's byte inputs in the order of the layout above, read from the
// command data when the request carries it, else from the arguments named
// (a bytes argument gives one input, a list of bytes one per element; the
// registry has checked their types). `views` point into the arguments or
// into `items`, which owns the decoded data: keep the whole value alive.
struct ByteInputs {
  std::vector<json> items;
  std::vector<ByteView> views;
};
// Errors (command data only): malformed CBOR ("command data: <decoder
// message>"), an item that is not a byte string ("command data item 2:
// expected bytes, got int").
hgrpc::expected<ByteInputs, CommandError> byte_inputs(const CommandInput& in,
                                                      std::initializer_list<std::string_view> args);

// The `patches` argument of applypatches, foldpatches and patchedsize: a
// required list of deltas (bytes), or the command data.
inline ArgSpec patches_arg(std::size_t min_items = 0) {
  return ArgSpec{.name = "patches",
                 .type = ArgType::List,
                 .required = true,
                 .element_type = ArgType::Bytes,
                 .from_data = true,
                 .min_items = min_items};
}

// "cannot apply patches: %s" with mpatch's message (delta index, hunk, offset)
// as the argument, so a '%' in it is never read as a placeholder.
CommandError patch_error(std::string_view what, const mpatch::Error& e);

inline hgrpc::unexpected<CommandError> fail_command(std::string message,
                                                    std::vector<std::string> args = {}) {
  return hgrpc::unexpected<CommandError>(CommandError{std::move(message), std::move(args)});
}
inline hgrpc::unexpected<CommandError> fail_command(CommandError e) {
  return hgrpc::unexpected<CommandError>(std::move(e));
}

}  // namespace hgrpc::server::commands
