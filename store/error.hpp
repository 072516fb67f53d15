#pragma once
// Errors of the store: values whose message names the file, the revision and
// what is wrong, e.g. "data/a.txt.i: rev 3: unknown compression type 0x41".
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "compat/expected.hpp"

namespace hgrpc::store {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

struct Error {
  std::string message;
};
template <class T>
using Result = hgrpc::expected<T, Error>;

inline hgrpc::unexpected<Error> fail(std::string message) {
  return hgrpc::unexpected<Error>(Error{std::move(message)});
}

// Prefixes an error's message with where it happened ("00manifest.i: rev 4: ").
inline Error with_context(const std::string& where, Error error) {
  return Error{where + error.message};
}

inline ByteView as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
inline std::string_view as_chars(ByteView b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

}  // namespace hgrpc::store
