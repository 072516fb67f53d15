#include "client/arg_spec.hpp"

#include <charconv>

#include "client/base64.hpp"
#include "client/files.hpp"
#include "client/json_value.hpp"

namespace hgrpc::client {

using framing::fail;
using framing::json;

framing::Result<void> apply_arg(std::string_view spec, json& args) {
  auto eq = spec.find('=');
  if (eq == std::string_view::npos) {
    return fail("--arg " + std::string(spec) + ": expected NAME[:TYPE]=VALUE");
  }
  std::string_view left = spec.substr(0, eq);
  std::string value(spec.substr(eq + 1));
  std::string_view type = "bytes";
  if (auto colon = left.find(':'); colon != std::string_view::npos) {
    type = left.substr(colon + 1);
    left = left.substr(0, colon);
  }
  bool append = left.ends_with("[]");
  if (append) left.remove_suffix(2);
  std::string name(left);
  auto where = "--arg " + name;
  if (name.empty()) return fail("--arg " + std::string(spec) + ": empty argument name");

  if (value.starts_with("@@")) {
    value.erase(0, 1);
  } else if (value.starts_with("@")) {
    auto contents = read_file(value.substr(1));
    if (!contents) return fail(where + ": " + contents.error().message);
    value.assign(contents->begin(), contents->end());
  }

  json v;
  if (type == "bytes") {
    v = framing::cbor_bytes(value);
  } else if (type == "str") {
    v = value;
  } else if (type == "int") {
    std::int64_t n = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (ec != std::errc{} || end != value.data() + value.size()) {
      // Values above INT64_MAX still fit CBOR's unsigned integers.
      std::uint64_t u = 0;
      auto [uend, uec] = std::from_chars(value.data(), value.data() + value.size(), u);
      if (uec != std::errc{} || uend != value.data() + value.size()) {
        return fail(where + ": '" + value + "' is not an integer");
      }
      v = u;
    } else {
      v = n;
    }
  } else if (type == "bool") {
    if (value == "true") {
      v = true;
    } else if (value == "false") {
      v = false;
    } else {
      return fail(where + ": '" + value + "' is not true or false");
    }
  } else if (type == "b64") {
    auto raw = base64_decode(value);
    if (!raw) return fail(where + ": " + raw.error().message);
    v = framing::cbor_bytes(framing::ByteView(*raw));
  } else if (type == "json") {
    json parsed = json::parse(value, nullptr, false);
    if (parsed.is_discarded()) return fail(where + ": value is not valid JSON");
    auto converted = from_input_json(parsed, where);
    if (!converted) return hgrpc::unexpected<framing::Error>(converted.error());
    v = std::move(*converted);
  } else {
    return fail(where + ": unknown type '" + std::string(type) +
                "' (expected bytes, str, int, bool, b64 or json)");
  }

  if (append) {
    json& list = args[name];
    if (list.is_null()) list = json::array();
    if (!list.is_array()) return fail(where + "[]: " + name + " is already set to a non-list value");
    list.push_back(std::move(v));
  } else {
    if (args.contains(name)) return fail(where + ": given more than once");
    args[name] = std::move(v);
  }
  return {};
}

}  // namespace hgrpc::client
