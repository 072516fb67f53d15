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

ByteView bytes_of(const json& v) {
  if (v.is_binary()) {
    const auto& b = v.get_binary();
    return {b.data(), b.size()};
  }
  return framing::as_bytes(v.get_ref<const std::string&>());
}

std::vector<ByteView> bytes_list(const json& list) {
  std::vector<ByteView> out;
  out.reserve(list.size());
  for (const auto& e : list) out.push_back(bytes_of(e));
  return out;
}

hgrpc::expected<std::vector<json>, CommandError> decode_data_items(ByteView data) {
  framing::CborLimits limits;
  // The data is already in memory and bounded by the request limits; a byte
  // string cannot be longer than the data holding it.
  limits.max_string_bytes = data.size();
  auto items = framing::cbor_decode_all(data, limits);
  if (!items) return fail_command("command data: %s", {items.error().message});
  for (std::size_t i = 0; i < items->size(); ++i) {
    if (!(*items)[i].is_binary())
      return fail_command("command data item %s: expected bytes, got %s",
                          {std::to_string(i), std::string(value_type_name((*items)[i]))});
  }
  return std::move(*items);
}

std::vector<ByteView> item_views(const std::vector<json>& items, std::size_t first) {
  std::vector<ByteView> out;
  for (std::size_t i = first; i < items.size(); ++i) out.push_back(bytes_of(items[i]));
  return out;
}

CommandError patch_error(std::string_view what, const mpatch::Error& e) {
  return CommandError{"cannot " + std::string(what) + ": %s", {e.message}};
}

}  // namespace hgrpc::server::commands
