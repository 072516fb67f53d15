#pragma once
// A revision's node: the 20-byte SHA-1 of its parents and rawtext.
#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "store/error.hpp"

namespace hgrpc::store {

using Node = std::array<std::uint8_t, 20>;
inline constexpr Node kNullNode{};
inline constexpr int kNullRev = -1;

// 40 lowercase hex digits.
std::string hex(const Node& node);
// Lowercase hex of any bytes.
std::string hex(ByteView bytes);
// Parses exactly 40 hex digits (either case); nullopt otherwise.
std::optional<Node> unhex(std::string_view text);
// A node from exactly 20 bytes (a node on the wire); nullopt otherwise.
std::optional<Node> node_from_bytes(ByteView bytes);

// sha1(min(p1,p2) || max(p1,p2) || text): Mercurial's node hash.
Node hash_revision(const Node& p1, const Node& p2, ByteView text);

// SHA-1 of bytes (also used by the hashed store path encoding).
Node sha1(ByteView bytes);

struct NodeHash {
  std::size_t operator()(const Node& node) const noexcept {
    std::size_t h;  // nodes are uniformly distributed already
    static_assert(sizeof h <= sizeof(Node));
    __builtin_memcpy(&h, node.data(), sizeof h);
    return h;
  }
};

}  // namespace hgrpc::store
