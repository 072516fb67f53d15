#include "framing/frame_checks.hpp"

namespace hgrpc::framing {

std::string_view header_error_name(HeaderError e) {
  switch (e) {
    case HeaderError::UnknownFrameType: return "unknown-frame-type";
    case HeaderError::UndefinedFlags: return "undefined-flags";
    case HeaderError::WrongSender: return "wrong-sender";
  }
  return "unknown-frame-type";
}

namespace {

bool sent_by_server(FrameType t) {
  switch (t) {
    case FrameType::CommandResponse:
    case FrameType::ErrorResponse:
    case FrameType::TextOutput:
    case FrameType::Progress:
      return true;
    default:
      return false;
  }
}

bool sent_by_client(FrameType t) {
  switch (t) {
    case FrameType::CommandRequest:
    case FrameType::CommandData:
    case FrameType::SenderProtocolSettings:
      return true;
    default:
      return false;
  }
}

}  // namespace

std::optional<HeaderProblem> check_header(const FrameHeader& h, Sender sender) {
  if (!is_known_frame_type(h.type)) {
    return HeaderProblem{HeaderError::UnknownFrameType, "unknown frame type " + hex_byte(h.type)};
  }
  if (const std::uint8_t bad = h.flags & ~defined_flags(h.type)) {
    return HeaderProblem{HeaderError::UndefinedFlags, "undefined flags " + hex_byte(bad) + " for " +
                                                          std::string(frame_type_name(h.type))};
  }
  const auto t = static_cast<FrameType>(h.type);
  if (sender == Sender::Client && sent_by_server(t)) {
    return HeaderProblem{HeaderError::WrongSender,
                         std::string(frame_type_name(h.type)) + " frames are only sent by servers"};
  }
  if (sender == Sender::Server && sent_by_client(t)) {
    return HeaderProblem{HeaderError::WrongSender,
                         std::string(frame_type_name(h.type)) + " frames are only sent by clients"};
  }
  return std::nullopt;
}

}  // namespace hgrpc::framing
