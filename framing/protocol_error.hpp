#pragma once
// The action both reactors return when the peer broke the framing rules.
#include <string>

namespace hgrpc::framing {

struct ProtocolError {
  std::string message;
};

}  // namespace hgrpc::framing
