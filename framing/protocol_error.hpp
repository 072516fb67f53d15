#pragma once
// The action both reactors return when the peer broke the framing rules.
// `name` is the named error of the illegal transition (server_error_name(),
// client_error_name(), stream_error_name(), ...): stable, for tests, logs and
// metrics; `message` is the precise text sent to the peer.
#include <string>
#include <string_view>

namespace hgrpc::framing {

struct ProtocolError {
  std::string message;
  std::string_view name = {};
};

}  // namespace hgrpc::framing
