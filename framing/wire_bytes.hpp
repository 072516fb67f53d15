#pragma once
// WireBytes: rendered frames as pieces in order: bytes written here (frame
// headers, encoded payloads, small spliced pieces) and views of larger
// spliced bytes, which stay where they are (a PlannedFrame's SharedBytes,
// kept alive by whoever holds that frame until the pieces are written). A
// sink gathers the pieces into one write (sendmsg), so bytes from a cache
// reach the socket without being copied next to their frame headers.
//
//   WireBytes w;
//   append_frame(w, header, payload, spliced);   // header+payload copied, spliced referenced
//   for (ByteView p : w.pieces()) ...            // in wire order
#include <cstddef>
#include <vector>

#include "framing/bytes.hpp"
#include "framing/frame.hpp"

namespace hgrpc::framing {

class WireBytes {
 public:
  // Views shorter than this are copied: an iovec costs more than a short copy.
  static constexpr std::size_t kMinReferencedBytes = 512;

  void append(ByteView b);
  // b must stay valid until the pieces are written (copied if short).
  void append_view(ByteView b);
  void reserve_more(std::size_t n);  // room for n more copied bytes
  void clear();

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // The bytes in wire order, as views into this object and the referenced
  // bytes; valid until this object changes.
  std::vector<ByteView> pieces() const;
  Bytes flatten() const;

 private:
  struct Reference {
    std::size_t owned_at;  // it goes before owned_[owned_at]
    ByteView view;
  };
  Bytes owned_;
  std::vector<Reference> references_;
  std::size_t size_ = 0;
};

// append_frame (frame.hpp) for WireBytes: header and payload copied, more
// referenced.
void append_frame(WireBytes& out, FrameHeader h, ByteView payload, ByteView more);

}  // namespace hgrpc::framing
