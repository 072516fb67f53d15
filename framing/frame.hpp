#pragma once
// Frames: an 8-byte header and a payload.
//
//   bytes 0-2  payload length, 24-bit little-endian
//   bytes 3-4  request id, 16-bit little-endian
//   byte  5    stream id
//   byte  6    stream flags
//   byte  7    frame type (high nibble) | type flags (low nibble)
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "framing/bytes.hpp"

namespace hgrpc::framing {

inline constexpr std::size_t kFrameHeaderSize = 8;
inline constexpr std::size_t kMaxPayloadWireLimit = 0xFFFFFF;  // 24-bit length
// Largest payload we accept by default (configurable in FrameReader).
inline constexpr std::size_t kDefaultMaxPayload = 65535;
// Payload size we split outgoing data at by default (Mercurial's default).
inline constexpr std::size_t kDefaultEmitFrameSize = 32768;

enum class FrameType : std::uint8_t {
  CommandRequest = 0x01,
  CommandData = 0x02,
  CommandResponse = 0x03,
  ErrorResponse = 0x05,
  TextOutput = 0x06,
  Progress = 0x07,
  SenderProtocolSettings = 0x08,
  StreamSettings = 0x09,
};

namespace stream_flags {
inline constexpr std::uint8_t kBegin = 0x01;
inline constexpr std::uint8_t kEnd = 0x02;
inline constexpr std::uint8_t kEncoded = 0x04;
inline constexpr std::uint8_t kAll = 0x07;
}  // namespace stream_flags

namespace command_request_flags {
inline constexpr std::uint8_t kNew = 0x01;
inline constexpr std::uint8_t kContinuation = 0x02;
inline constexpr std::uint8_t kMore = 0x04;
inline constexpr std::uint8_t kHaveData = 0x08;
}  // namespace command_request_flags

namespace command_data_flags {
inline constexpr std::uint8_t kContinuation = 0x01;
inline constexpr std::uint8_t kEos = 0x02;
}  // namespace command_data_flags

namespace command_response_flags {
inline constexpr std::uint8_t kContinuation = 0x01;
inline constexpr std::uint8_t kEos = 0x02;
}  // namespace command_response_flags

// sender-protocol-settings and stream-settings share these.
namespace settings_flags {
inline constexpr std::uint8_t kContinuation = 0x01;
inline constexpr std::uint8_t kEos = 0x02;
}  // namespace settings_flags

struct FrameHeader {
  std::uint32_t length = 0;  // payload bytes, < 2^24
  std::uint16_t request_id = 0;
  std::uint8_t stream_id = 0;
  std::uint8_t stream_flags = 0;
  std::uint8_t type = 0;   // raw 4-bit type; may be a value FrameType lacks
  std::uint8_t flags = 0;  // raw 4-bit type flags
};

// A frame whose payload is a view: into the reader's input where the frame
// arrived whole, else into the reader's own buffer. Valid until the next
// FrameReader::feed().
struct Frame {
  FrameHeader header;
  ByteView payload;
};

// A frame that owns its payload.
struct OwnedFrame {
  FrameHeader header;
  Bytes payload;
  Frame view() const { return {header, payload}; }
};

// Header <-> 8 bytes. decode_header never fails: validation (max size, known
// type, defined flags) belongs to the reader and the reactors.
void encode_header(const FrameHeader& h, std::uint8_t out[kFrameHeaderSize]);
FrameHeader decode_header(const std::uint8_t in[kFrameHeaderSize]);

// The 8 header bytes of a frame whose payload is `length` bytes (h.length is
// set from it); a length over kMaxPayloadWireLimit is a programmer error
// (std::length_error).
std::array<std::uint8_t, kFrameHeaderSize> frame_header_for(FrameHeader h, std::size_t length);

// Appends header + payload to out. The header's length is set from payload;
// a payload over kMaxPayloadWireLimit is a programmer error (std::length_error).
void append_frame(Bytes& out, FrameHeader h, ByteView payload);
// The same for a payload given in two parts (payload then more).
void append_frame(Bytes& out, FrameHeader h, ByteView payload, ByteView more);

// Names as Mercurial's human notation spells them.
std::optional<FrameType> frame_type_from_name(std::string_view name);
std::string_view frame_type_name(std::uint8_t type);  // "" if unknown
// The flags that are defined for a frame type (0 for types without flags).
std::uint8_t defined_flags(std::uint8_t type);
bool is_known_frame_type(std::uint8_t type);

// Flag names, per Mercurial's human notation. A name is looked up among the
// flags defined for the frame type (stream flags: stream-begin, stream-end,
// encoded); bit is a single bit. "" / nullopt when not defined.
std::string_view stream_flag_name(std::uint8_t bit);
std::optional<std::uint8_t> stream_flag_from_name(std::string_view name);
std::string_view type_flag_name(std::uint8_t type, std::uint8_t bit);
std::optional<std::uint8_t> type_flag_from_name(std::uint8_t type, std::string_view name);

}  // namespace hgrpc::framing
