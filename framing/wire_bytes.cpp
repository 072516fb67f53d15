#include "framing/wire_bytes.hpp"

#include <stdexcept>

namespace hgrpc::framing {

void WireBytes::append(ByteView b) {
  framing::append(owned_, b);
  size_ += b.size();
}

void WireBytes::append_view(ByteView b) {
  if (b.size() < kMinReferencedBytes) return append(b);
  references_.push_back(Reference{owned_.size(), b});
  size_ += b.size();
}

void WireBytes::clear() {
  owned_.clear();
  references_.clear();
  size_ = 0;
}

std::vector<ByteView> WireBytes::pieces() const {
  std::vector<ByteView> out;
  out.reserve(2 * references_.size() + 1);
  std::size_t at = 0;
  for (const auto& r : references_) {
    if (r.owned_at > at) out.push_back(ByteView(owned_).subspan(at, r.owned_at - at));
    out.push_back(r.view);
    at = r.owned_at;
  }
  if (owned_.size() > at) out.push_back(ByteView(owned_).subspan(at));
  return out;
}

Bytes WireBytes::flatten() const {
  Bytes out;
  out.reserve(size_);
  for (ByteView p : pieces()) framing::append(out, p);
  return out;
}

void append_frame(WireBytes& out, FrameHeader h, ByteView payload, ByteView more) {
  const std::size_t length = payload.size() + more.size();
  if (length > kMaxPayloadWireLimit) {
    throw std::length_error("append_frame: payload exceeds the 24-bit frame length");
  }
  h.length = static_cast<std::uint32_t>(length);
  std::uint8_t header[kFrameHeaderSize];
  encode_header(h, header);
  out.append(header);
  out.append(payload);
  out.append_view(more);
}

}  // namespace hgrpc::framing
