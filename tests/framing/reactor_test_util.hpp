#pragma once
// Helpers shared by the stream/reactor/emitter tests.
#include <string>
#include <string_view>
#include <vector>

#include "framing/bytes.hpp"
#include "framing/frame.hpp"
#include "tests/support/test_support.hpp"

namespace hgrpc::framing::test {

inline Bytes frame_bytes(std::uint16_t request_id, std::uint8_t stream_id, std::uint8_t stream_flags,
                         FrameType type, std::uint8_t flags, ByteView payload) {
  Bytes out;
  FrameHeader h;
  h.request_id = request_id;
  h.stream_id = stream_id;
  h.stream_flags = stream_flags;
  h.type = static_cast<std::uint8_t>(type);
  h.flags = flags;
  append_frame(out, h, payload);
  return out;
}

inline OwnedFrame owned(std::uint16_t request_id, std::uint8_t stream_id, std::uint8_t stream_flags,
                        FrameType type, std::uint8_t flags, ByteView payload) {
  OwnedFrame f;
  f.header.length = static_cast<std::uint32_t>(payload.size());
  f.header.request_id = request_id;
  f.header.stream_id = stream_id;
  f.header.stream_flags = stream_flags;
  f.header.type = static_cast<std::uint8_t>(type);
  f.header.flags = flags;
  f.payload.assign(payload.begin(), payload.end());
  return f;
}

// Splits whole frames out of bytes (test-only: no validation, no partial frames).
inline std::vector<OwnedFrame> split_frames(ByteView bytes) {
  std::vector<OwnedFrame> out;
  while (bytes.size() >= kFrameHeaderSize) {
    OwnedFrame f;
    f.header = decode_header(bytes.data());
    const std::size_t n = f.header.length;
    if (bytes.size() < kFrameHeaderSize + n) break;
    f.payload.assign(bytes.begin() + kFrameHeaderSize, bytes.begin() + static_cast<std::ptrdiff_t>(kFrameHeaderSize + n));
    out.push_back(std::move(f));
    bytes = bytes.subspan(kFrameHeaderSize + n);
  }
  return out;
}

using hgrpc::test::hex;

}  // namespace hgrpc::framing::test
