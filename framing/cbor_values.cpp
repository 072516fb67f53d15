// Small helpers over decoded CBOR values that several layers need.
#include <string>

#include "framing/cbor.hpp"

namespace hgrpc::framing {

Result<json> cbor_decode_one(ByteView data, const CborSubject& subject, CborLimits limits) {
  auto values = cbor_decode_all(data, limits);
  const std::string name(subject.name);
  if (!values) {
    return fail(name + (subject.plural ? " are" : " is") + " not valid CBOR: " + values.error().message);
  }
  if (values->size() != 1) {
    return fail(name + (subject.plural ? " hold " : " holds ") + std::to_string(values->size()) +
                " CBOR values; expected " + std::string(subject.expected));
  }
  return std::move(values->front());
}

std::optional<ByteView> bytes_or_text_view(const json& v) {
  if (v.is_binary()) return ByteView(v.get_binary().data(), v.get_binary().size());
  if (v.is_string()) return as_bytes(v.get_ref<const std::string&>());
  return std::nullopt;
}

std::optional<std::string> bytes_or_text(const json& v) {
  auto b = bytes_or_text_view(v);
  if (!b) return std::nullopt;
  return std::string(as_chars(*b));
}

}  // namespace hgrpc::framing
