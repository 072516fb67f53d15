#include "client/json_value.hpp"

#include "client/base64.hpp"

namespace hgrpc::client {

namespace {

json tagged_bytes(framing::ByteView b) { return json{{"$bytes", base64_encode(b)}}; }

}  // namespace

json to_output_json(const json& value, BytesStyle style) {
  switch (value.type()) {
    case json::value_t::binary: {
      const auto& bin = value.get_binary();
      std::string_view text(reinterpret_cast<const char*>(bin.data()), bin.size());
      if (style == BytesStyle::Text && is_valid_utf8(text)) return std::string(text);
      return tagged_bytes(bin);
    }
    case json::value_t::array: {
      json out = json::array();
      for (const auto& item : value) out.push_back(to_output_json(item, style));
      return out;
    }
    case json::value_t::object: {
      json out = json::object();
      for (const auto& [key, item] : value.items()) {
        std::string k = is_valid_utf8(key) ? key : "$bytes:" + base64_encode(framing::as_bytes(key));
        out[k] = to_output_json(item, style);
      }
      return out;
    }
    default:
      return value;
  }
}

std::string render_json(const json& value, BytesStyle style) {
  return to_output_json(value, style).dump();
}

framing::Result<json> from_input_json(const json& in, std::string_view where) {
  auto here = [&](const std::string& msg) { return framing::fail(std::string(where) + ": " + msg); };
  switch (in.type()) {
    case json::value_t::string:
      return framing::cbor_bytes(in.get_ref<const std::string&>());
    case json::value_t::number_float:
      return here("number " + in.dump() + " is not an integer (CBOR floats are not used by this protocol)");
    case json::value_t::array: {
      json out = json::array();
      for (std::size_t i = 0; i < in.size(); ++i) {
        auto item = from_input_json(in[i], std::string(where) + "[" + std::to_string(i) + "]");
        if (!item) return hgrpc::unexpected<framing::Error>(item.error());
        out.push_back(std::move(*item));
      }
      return out;
    }
    case json::value_t::object: {
      if (in.size() == 1 && in.contains("$bytes")) {
        const auto& b = in["$bytes"];
        if (!b.is_string()) return here("\"$bytes\" must hold a base64 string");
        auto raw = base64_decode(b.get_ref<const std::string&>());
        if (!raw) return here(raw.error().message);
        return framing::cbor_bytes(framing::ByteView(*raw));
      }
      if (in.size() == 1 && in.contains("$text")) {
        if (!in["$text"].is_string()) return here("\"$text\" must hold a string");
        return in["$text"];
      }
      json out = json::object();
      for (const auto& [key, item] : in.items()) {
        auto v = from_input_json(item, std::string(where) + "." + key);
        if (!v) return v;
        out[key] = std::move(*v);
      }
      return out;
    }
    default:
      return in;  // integers, booleans, null
  }
}

}  // namespace hgrpc::client
