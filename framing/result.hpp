#pragma once
// Errors are values: every fallible operation of the framing library returns
// Result<T>, whose error carries a message precise enough to act on.
#include <expected>
#include <string>

namespace hgrpc::framing {

struct Error {
  std::string message;
};

template <class T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> fail(std::string message) {
  return std::unexpected<Error>(Error{std::move(message)});
}

}  // namespace hgrpc::framing
