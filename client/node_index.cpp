#include "client/node_index.hpp"

#include <cstring>
#include <random>

namespace hgrpc::client {
namespace {

std::uint64_t process_seed() {
  static const std::uint64_t seed = [] {
    std::random_device rd;
    return (std::uint64_t{rd()} << 32) ^ rd();
  }();
  return seed;
}

}  // namespace

std::size_t NodeIndex::slot_of(const store::Node& node) const {
  std::uint64_t h = 0;
  std::memcpy(&h, node.data(), sizeof h);
  h ^= process_seed();
  h *= 0x9E3779B97F4A7C15ull;
  h ^= h >> 29;
  return static_cast<std::size_t>(h) & (slots_.size() - 1);
}

void NodeIndex::grow(const std::vector<store::Node>& nodes) {
  std::vector<std::uint32_t> old = std::move(slots_);
  slots_.assign(old.empty() ? 64 : old.size() * 2, 0);
  for (std::uint32_t entry : old) {
    if (entry == 0) continue;
    std::size_t s = slot_of(nodes[entry - 1]);
    while (slots_[s] != 0) s = (s + 1) & (slots_.size() - 1);
    slots_[s] = entry;
  }
}

void NodeIndex::add(const std::vector<store::Node>& nodes, std::size_t position) {
  if ((count_ + 1) * 2 > slots_.size()) grow(nodes);  // load at most 1/2
  std::size_t s = slot_of(nodes[position]);
  while (slots_[s] != 0) s = (s + 1) & (slots_.size() - 1);
  slots_[s] = static_cast<std::uint32_t>(position + 1);
  ++count_;
}

std::optional<std::size_t> NodeIndex::find(const std::vector<store::Node>& nodes, const store::Node& node) const {
  if (slots_.empty()) return std::nullopt;
  for (std::size_t s = slot_of(node);; s = (s + 1) & (slots_.size() - 1)) {
    const std::uint32_t entry = slots_[s];
    if (entry == 0) return std::nullopt;
    if (nodes[entry - 1] == node) return entry - 1;
  }
}

}  // namespace hgrpc::client
