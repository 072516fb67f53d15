#include "store/dirstate.hpp"

namespace hgrpc::store {

Bytes encode_dirstate_v1(const Node& p1, const Node& p2, std::span<const DirstateEntry> entries) {
  Bytes out(p1.begin(), p1.end());
  out.insert(out.end(), p2.begin(), p2.end());
  auto put32 = [&out](std::int32_t value) {
    auto v = static_cast<std::uint32_t>(value);
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
  };
  for (const auto& e : entries) {
    out.push_back(static_cast<std::uint8_t>(e.state));
    put32(e.mode);
    put32(e.size);
    put32(e.mtime);
    put32(static_cast<std::int32_t>(e.path.size()));
    out.insert(out.end(), e.path.begin(), e.path.end());
  }
  return out;
}

}  // namespace hgrpc::store
