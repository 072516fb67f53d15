// decode, encode and patched_size: the wire form of a delta.
#include <cstring>

#include "mpatch/hunk_reader.hpp"
#include "mpatch/mpatch.hpp"

namespace hgrpc::mpatch {

Result<std::vector<Hunk>> decode(ByteView delta) {
  std::vector<Hunk> hunks;
  HunkReader reader(delta);
  Hunk hunk{};
  for (;;) {
    auto more = reader.next(hunk);
    if (!more) return hgrpc::unexpected<Error>(std::move(more.error()));
    if (!*more) return hunks;
    hunks.push_back(hunk);
  }
}

Bytes encode(std::span<const Hunk> hunks) {
  std::size_t size = 0;
  for (const Hunk& h : hunks) size += kHunkHeaderSize + h.data.size();
  Bytes out(size);
  std::uint8_t* p = out.data();
  for (const Hunk& h : hunks) {
    write_be32(p, h.start);
    write_be32(p + 4, h.end);
    write_be32(p + 8, static_cast<std::int32_t>(h.data.size()));
    p += kHunkHeaderSize;
    if (!h.data.empty()) std::memcpy(p, h.data.data(), h.data.size());
    p += h.data.size();
  }
  return out;
}

Result<std::uint64_t> patched_size(std::uint64_t original_size,
                                   std::span<const ByteView> deltas) {
  std::uint64_t size = original_size;
  for (std::size_t d = 0; d < deltas.size(); ++d) {
    HunkReader reader(deltas[d], static_cast<std::ptrdiff_t>(d));
    std::uint64_t removed = 0;
    std::uint64_t added = 0;
    Hunk hunk{};
    for (;;) {
      auto more = reader.next(hunk);
      if (!more) return hgrpc::unexpected<Error>(std::move(more.error()));
      if (!*more) break;
      // Hunk ends are sorted, so checking each against the text size suffices.
      if (static_cast<std::uint64_t>(hunk.end) > size)
        return fail(past_end_message(reader.last_location(), hunk.end, size));
      removed += static_cast<std::uint64_t>(hunk.end - hunk.start);
      added += hunk.data.size();
    }
    // removed <= size (disjoint ranges inside the text); added <= delta size.
    size = size - removed + added;
  }
  return size;
}

}  // namespace hgrpc::mpatch
