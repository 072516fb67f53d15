#pragma once
// Node -> its position in a vector of nodes kept elsewhere (the changesets a
// fetch received, in order): an open-addressing table of 32-bit positions,
// 8 to 16 bytes per node besides the node itself, where a std::map<Node,int>
// costs about 80. The table holds positions only, so the vector may move
// (each call is given it). Slots are picked by the node's first 8 bytes
// mixed with a per-process random seed: nodes are SHA-1 hashes, and a server
// cannot aim many at one slot without knowing the seed.
#include <cstdint>
#include <optional>
#include <vector>

#include "store/node.hpp"

namespace hgrpc::client {

class NodeIndex {
 public:
  // nodes[position] was just appended (positions below 2^32 - 1).
  void add(const std::vector<store::Node>& nodes, std::size_t position);
  std::optional<std::size_t> find(const std::vector<store::Node>& nodes, const store::Node& node) const;
  std::size_t size() const { return count_; }

 private:
  std::size_t slot_of(const store::Node& node) const;
  void grow(const std::vector<store::Node>& nodes);

  std::vector<std::uint32_t> slots_;  // position + 1; 0: empty
  std::size_t count_ = 0;
};

}  // namespace hgrpc::client
