#include "framing/frame.hpp"

#include <algorithm>
#include <array>
#include <span>
#include <stdexcept>
#include <utility>

namespace hgrpc::framing {
namespace {

constexpr std::array<std::pair<std::string_view, FrameType>, 8> kTypeNames{{
    {"command-request", FrameType::CommandRequest},
    {"command-data", FrameType::CommandData},
    {"command-response", FrameType::CommandResponse},
    {"error-response", FrameType::ErrorResponse},
    {"text-output", FrameType::TextOutput},
    {"progress", FrameType::Progress},
    {"sender-protocol-settings", FrameType::SenderProtocolSettings},
    {"stream-settings", FrameType::StreamSettings},
}};

using FlagName = std::pair<std::string_view, std::uint8_t>;

constexpr std::array<FlagName, 3> kStreamFlagNames{{
    {"stream-begin", stream_flags::kBegin},
    {"stream-end", stream_flags::kEnd},
    {"encoded", stream_flags::kEncoded},
}};
constexpr std::array<FlagName, 4> kCommandRequestFlagNames{{
    {"new", command_request_flags::kNew},
    {"continuation", command_request_flags::kContinuation},
    {"more", command_request_flags::kMore},
    {"have-data", command_request_flags::kHaveData},
}};
// command-data, command-response and both settings types share these.
constexpr std::array<FlagName, 2> kContinuationEosFlagNames{{
    {"continuation", 0x01},
    {"eos", 0x02},
}};

std::span<const FlagName> type_flag_names(std::uint8_t type) {
  switch (static_cast<FrameType>(type)) {
    case FrameType::CommandRequest:
      return kCommandRequestFlagNames;
    case FrameType::CommandData:
    case FrameType::CommandResponse:
    case FrameType::SenderProtocolSettings:
    case FrameType::StreamSettings:
      return kContinuationEosFlagNames;
    default:
      return {};
  }
}

std::string_view name_of(std::span<const FlagName> names, std::uint8_t bit) {
  for (const auto& [n, b] : names) {
    if (b == bit) return n;
  }
  return {};
}

std::optional<std::uint8_t> bit_of(std::span<const FlagName> names, std::string_view name) {
  for (const auto& [n, b] : names) {
    if (n == name) return b;
  }
  return std::nullopt;
}

}  // namespace

void encode_header(const FrameHeader& h, std::uint8_t out[kFrameHeaderSize]) {
  out[0] = static_cast<std::uint8_t>(h.length);
  out[1] = static_cast<std::uint8_t>(h.length >> 8);
  out[2] = static_cast<std::uint8_t>(h.length >> 16);
  out[3] = static_cast<std::uint8_t>(h.request_id);
  out[4] = static_cast<std::uint8_t>(h.request_id >> 8);
  out[5] = h.stream_id;
  out[6] = h.stream_flags;
  out[7] = static_cast<std::uint8_t>(((h.type & 0x0F) << 4) | (h.flags & 0x0F));
}

FrameHeader decode_header(const std::uint8_t in[kFrameHeaderSize]) {
  FrameHeader h;
  h.length = std::uint32_t{in[0]} | (std::uint32_t{in[1]} << 8) | (std::uint32_t{in[2]} << 16);
  h.request_id = static_cast<std::uint16_t>(in[3] | (in[4] << 8));
  h.stream_id = in[5];
  h.stream_flags = in[6];
  h.type = static_cast<std::uint8_t>(in[7] >> 4);
  h.flags = static_cast<std::uint8_t>(in[7] & 0x0F);
  return h;
}

void append_frame(Bytes& out, FrameHeader h, ByteView payload) { append_frame(out, h, payload, {}); }

std::array<std::uint8_t, kFrameHeaderSize> frame_header_for(FrameHeader h, std::size_t length) {
  // A payload over the 24-bit limit cannot be framed: the caller must split.
  if (length > kMaxPayloadWireLimit) {
    throw std::length_error("append_frame: payload exceeds the 24-bit frame length");
  }
  h.length = static_cast<std::uint32_t>(length);
  std::array<std::uint8_t, kFrameHeaderSize> header{};
  encode_header(h, header.data());
  return header;
}

void append_frame(Bytes& out, FrameHeader h, ByteView payload, ByteView more) {
  const std::size_t length = payload.size() + more.size();
  const auto header = frame_header_for(h, length);
  // Reserving exactly the new size on every call would defeat the vector's
  // geometric growth: appending n frames to one buffer would copy O(n^2) bytes.
  const std::size_t need = out.size() + kFrameHeaderSize + length;
  if (need > out.capacity()) out.reserve(std::max(need, 2 * out.capacity()));
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), payload.begin(), payload.end());
  out.insert(out.end(), more.begin(), more.end());
}

std::optional<FrameType> frame_type_from_name(std::string_view name) {
  for (const auto& [n, t] : kTypeNames) {
    if (n == name) return t;
  }
  return std::nullopt;
}

std::string_view frame_type_name(std::uint8_t type) {
  for (const auto& [n, t] : kTypeNames) {
    if (static_cast<std::uint8_t>(t) == type) return n;
  }
  return {};
}

std::uint8_t defined_flags(std::uint8_t type) {
  std::uint8_t all = 0;
  for (const auto& flag : type_flag_names(type)) all |= flag.second;
  return all;
}

bool is_known_frame_type(std::uint8_t type) { return !frame_type_name(type).empty(); }

std::string_view stream_flag_name(std::uint8_t bit) { return name_of(kStreamFlagNames, bit); }

std::optional<std::uint8_t> stream_flag_from_name(std::string_view name) {
  return bit_of(kStreamFlagNames, name);
}

std::string_view type_flag_name(std::uint8_t type, std::uint8_t bit) {
  return name_of(type_flag_names(type), bit);
}

std::optional<std::uint8_t> type_flag_from_name(std::uint8_t type, std::string_view name) {
  return bit_of(type_flag_names(type), name);
}

}  // namespace hgrpc::framing
