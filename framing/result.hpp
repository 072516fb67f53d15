#pragma once
// Errors are values: every fallible operation of the framing library returns
// Result<T>, whose error carries a message precise enough to act on.
#include "compat/expected.hpp"
#include <string>
#include <string_view>

namespace hgrpc::framing {

struct Error {
  std::string message;
  std::string_view name = {};  // a state machine's named error, when one applies
};

template <class T>
using Result = hgrpc::expected<T, Error>;

inline hgrpc::unexpected<Error> fail(std::string message) {
  return hgrpc::unexpected<Error>(Error{std::move(message)});
}
inline hgrpc::unexpected<Error> fail(std::string_view name, std::string message) {
  return hgrpc::unexpected<Error>(Error{std::move(message), name});
}

}  // namespace hgrpc::framing
