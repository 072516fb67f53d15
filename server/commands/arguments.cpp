#include "server/commands/arguments.hpp"

#include <string>

namespace hgrpc::server::commands {

std::string_view value_type_name(const json& v) {
  switch (v.type()) {
    case json::value_t::binary: return "bytes";
    case json::value_t::string: return "text";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "int";
    case json::value_t::number_float: return "float";
    case json::value_t::array: return "list";
    case json::value_t::object: return "dict";
    case json::value_t::boolean: return "bool";
    case json::value_t::null: return "null";
    case json::value_t::discarded: break;
  }
  return "unknown";
}

namespace {

// A value the registry (or decode below) checked as bytes: a wrong type here
// is a programmer error, and value() throws for it.
ByteView checked_bytes(const json& v) { return framing::bytes_or_text_view(v).value(); }

}  // namespace

hgrpc::expected<ByteInputs, CommandError> byte_inputs(const CommandInput& in,
                                                      std::initializer_list<std::string_view> args) {
  ByteInputs out;
  if (!in.data) {
    for (const auto name : args) {
      const json& v = in.args.at(std::string(name));
      if (!v.is_array()) {
        out.views.push_back(checked_bytes(v));
        continue;
      }
      for (const auto& e : v) out.views.push_back(checked_bytes(e));
    }
    return out;
  }
  framing::CborLimits limits;
  // The data is already in memory and bounded by the request limits; a byte
  // string cannot be longer than the data holding it.
  limits.max_string_bytes = in.data->size();
  auto items = framing::cbor_decode_all(*in.data, limits);
  if (!items) return fail_command("command data: %s", {items.error().message});
  out.items = std::move(*items);
  for (std::size_t i = 0; i < out.items.size(); ++i) {
    if (!out.items[i].is_binary())
      return fail_command("command data item %s: expected bytes, got %s",
                          {std::to_string(i), std::string(value_type_name(out.items[i]))});
    out.views.push_back(checked_bytes(out.items[i]));
  }
  return out;
}

CommandError patch_error(std::string_view what, const mpatch::Error& e) {
  return CommandError{"cannot " + std::string(what) + ": %s", {e.message}};
}

}  // namespace hgrpc::server::commands
