#pragma once
// SharedBytes: read-only bytes with a shared owner. A cached answer's arena
// or a stored chunk can then sit in many planned frames, and be written to
// many sockets, without a copy per frame: the view stays valid while any
// frame holds it.
#include <memory>
#include <utility>

#include "framing/bytes.hpp"

namespace hgrpc::framing {

class SharedBytes {
 public:
  SharedBytes() = default;
  // Takes the bytes (implicit: a moved Bytes is the common way in).
  SharedBytes(Bytes b) {  // NOLINT(google-explicit-constructor)
    if (b.empty()) return;
    auto owned = std::make_shared<const Bytes>(std::move(b));
    view_ = *owned;
    owner_ = std::move(owned);
  }
  // A view kept valid by owner (whatever holds the bytes it points into).
  SharedBytes(std::shared_ptr<const void> owner, ByteView view) : owner_(std::move(owner)), view_(view) {}

  ByteView view() const { return view_; }
  std::size_t size() const { return view_.size(); }
  bool empty() const { return view_.empty(); }

 private:
  std::shared_ptr<const void> owner_;
  ByteView view_;
};

}  // namespace hgrpc::framing
