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

std::optional<std::string> bytes_or_text(const json& v) {
  if (v.is_binary()) return std::string(v.get_binary().begin(), v.get_binary().end());
  if (v.is_string()) return v.get<std::string>();
  return std::nullopt;
}

}  // namespace hgrpc::framing
