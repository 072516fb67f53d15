#pragma once
// The header checks both reactors apply to every frame before its stream
// part: a known type, only the flags defined for that type, and a type the
// sending side may send. One home, so the server and the client reject the
// same frames with the same words.
#include <optional>
#include <string>
#include <string_view>

#include "framing/frame.hpp"

namespace hgrpc::framing {

enum class Sender : std::uint8_t { Client, Server };

enum class HeaderError : std::uint8_t {
  UnknownFrameType,  // "unknown frame type 0x0c"
  UndefinedFlags,    // "undefined flags 0x04 for command-data"
  WrongSender,       // "command-response frames are only sent by servers"
};
std::string_view header_error_name(HeaderError e);

struct HeaderProblem {
  HeaderError error;
  std::string detail;  // the message after describe_frame()'s prefix
};

// nullopt when the header passes; sender is the peer that sent the frame.
std::optional<HeaderProblem> check_header(const FrameHeader& h, Sender sender);

}  // namespace hgrpc::framing
