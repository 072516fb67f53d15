// CBOR encoder: shortest-form heads, object keys as byte strings.
//
// Floats are a programmer error here (std::logic_error): the protocol never
// carries them and our decoder rejects them, so emitting one would only
// produce bytes that we ourselves refuse to read back.
#include <stdexcept>

#include "framing/cbor.hpp"

namespace hgrpc::framing {
namespace {

enum Major : std::uint8_t {
  kUnsigned = 0,
  kNegative = 1,
  kByteString = 2,
  kTextString = 3,
  kArray = 4,
  kMap = 5,
};

void put_head(std::uint8_t major, std::uint64_t value, Bytes& out) {
  const auto m = static_cast<std::uint8_t>(major << 5);
  if (value < 24) {
    out.push_back(static_cast<std::uint8_t>(m | value));
    return;
  }
  int width = 8;
  std::uint8_t ai = 27;
  if (value <= 0xFF) {
    width = 1;
    ai = 24;
  } else if (value <= 0xFFFF) {
    width = 2;
    ai = 25;
  } else if (value <= 0xFFFFFFFF) {
    width = 4;
    ai = 26;
  }
  out.push_back(static_cast<std::uint8_t>(m | ai));
  for (int shift = 8 * (width - 1); shift >= 0; shift -= 8) {
    out.push_back(static_cast<std::uint8_t>(value >> shift));
  }
}

void put_string(std::uint8_t major, std::string_view s, Bytes& out) {
  put_head(major, s.size(), out);
  append(out, as_bytes(s));
}

void encode(const json& v, Bytes& out) {
  switch (v.type()) {
    case json::value_t::null:
      out.push_back(0xF6);
      return;
    case json::value_t::boolean:
      out.push_back(v.get<bool>() ? 0xF5 : 0xF4);
      return;
    case json::value_t::number_unsigned:
      put_head(kUnsigned, v.get<std::uint64_t>(), out);
      return;
    case json::value_t::number_integer: {
      const auto n = v.get<std::int64_t>();
      if (n >= 0) {
        put_head(kUnsigned, static_cast<std::uint64_t>(n), out);
      } else {
        // -1 - n without overflow: ~n as unsigned.
        put_head(kNegative, ~static_cast<std::uint64_t>(n), out);
      }
      return;
    }
    case json::value_t::binary: {
      const auto& b = v.get_binary();
      if (b.has_subtype() && b.subtype() == kPreEncodedCborSubtype) {
        append(out, b);
        return;
      }
      put_head(kByteString, b.size(), out);
      append(out, b);
      return;
    }
    case json::value_t::string:
      put_string(kTextString, v.get_ref<const std::string&>(), out);
      return;
    case json::value_t::array:
      put_head(kArray, v.size(), out);
      for (const auto& item : v) encode(item, out);
      return;
    case json::value_t::object:
      put_head(kMap, v.size(), out);
      for (const auto& [key, item] : v.items()) {
        put_string(kByteString, key, out);
        encode(item, out);
      }
      return;
    case json::value_t::number_float:
      throw std::logic_error("cbor_encode: floats are not part of the protocol");
    case json::value_t::discarded:
      break;
  }
  throw std::logic_error("cbor_encode: discarded json value");
}

}  // namespace

json cbor_bytes(std::string_view s) { return cbor_bytes(as_bytes(s)); }

json cbor_bytes(ByteView b) { return json::binary(Bytes(b.begin(), b.end())); }

json cbor_pre_encoded(Bytes encoded) { return json::binary(std::move(encoded), kPreEncodedCborSubtype); }

json cbor_set(const json& items) {
  Bytes out{0xD9, 0x01, 0x02};  // tag 258
  encode(items.is_array() ? items : json::array(), out);
  return cbor_pre_encoded(std::move(out));
}

void cbor_encode(const json& v, Bytes& out) { encode(v, out); }

Bytes cbor_encode(const json& v) {
  Bytes out;
  encode(v, out);
  return out;
}

void cbor_append_indefinite_bytes_begin(Bytes& out) { out.push_back(0x5F); }

void cbor_append_bytes_chunk(ByteView chunk, Bytes& out) {
  put_head(kByteString, chunk.size(), out);
  append(out, chunk);
}

void cbor_append_break(Bytes& out) { out.push_back(0xFF); }

void cbor_append_bytes_head(std::uint64_t length, Bytes& out) { put_head(kByteString, length, out); }
void cbor_append_bytes(ByteView b, Bytes& out) {
  put_head(kByteString, b.size(), out);
  append(out, b);
}
void cbor_append_uint(std::uint64_t v, Bytes& out) { put_head(kUnsigned, v, out); }
void cbor_append_array_head(std::uint64_t items, Bytes& out) { put_head(kArray, items, out); }
void cbor_append_map_head(std::uint64_t pairs, Bytes& out) { put_head(kMap, pairs, out); }

}  // namespace hgrpc::framing
