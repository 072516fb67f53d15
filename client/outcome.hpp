#pragma once
// What one command of a request body ended with, and the ordering of outcomes
// that complete in any order back into request order.
#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "framing/cbor.hpp"

namespace hgrpc::client {

using framing::json;

struct Outcome {
  enum class Kind {
    Ok,             // {status: ok} then values
    CommandError,   // {status: error, error: {message: ...}}
    ErrorResponse,  // an error-response frame {type, message}
  };
  Kind kind = Kind::Ok;
  std::vector<json> values;  // results, after the status map
  std::string error_type;    // ErrorResponse: "protocol", "server", "command"
  std::string message;       // formatted error message
  json error;                // the error map as received (null when Ok)
};

// Renders a message as the server sent it: a list of atoms {msg, args?} whose
// %s placeholders take the args in order (concatenated), or a plain byte/text
// string (Mercurial 5.8 servers).
std::string format_error_message(const json& message);

// Releases outcomes in index order whatever the order they arrive in:
// put(3, ...) is held until 0, 1 and 2 were released.
class InOrderRelease {
 public:
  using Sink = std::function<void(std::size_t index, Outcome&&)>;
  explicit InOrderRelease(Sink sink) : sink_(std::move(sink)) {}
  void put(std::size_t index, Outcome outcome);
  std::size_t released() const { return next_; }
  std::size_t held() const { return held_.size(); }

 private:
  Sink sink_;
  std::size_t next_ = 0;
  std::map<std::size_t, Outcome> held_;
};

}  // namespace hgrpc::client
