#include "framing/wire_bytes.hpp"

#include <algorithm>

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

void WireBytes::reserve_more(std::size_t n) {
  // Geometric, as append_frame into Bytes: one allocation per frame of a job.
  const std::size_t need = owned_.size() + n;
  if (need > owned_.capacity()) owned_.reserve(std::max(need, 2 * owned_.capacity()));
}

void append_frame(WireBytes& out, FrameHeader h, ByteView payload, ByteView more) {
  out.reserve_more(kFrameHeaderSize + payload.size() + (more.size() < WireBytes::kMinReferencedBytes ? more.size() : 0));
  out.append(frame_header_for(h, payload.size() + more.size()));
  out.append(payload);
  out.append_view(more);
}

}  // namespace hgrpc::framing
