#include "mpatch/tokens.hpp"

#include <array>
#include <cstring>
#include <string_view>
#include <unordered_map>

namespace hgrpc::mpatch {
namespace {

// 256 fixed pseudo-random words (splitmix64) for the gear hash.
constexpr std::array<std::uint64_t, 256> make_gear() {
  std::array<std::uint64_t, 256> t{};
  std::uint64_t s = 0x9e3779b97f4a7c15ull;
  for (auto& v : t) {
    s += 0x9e3779b97f4a7c15ull;
    std::uint64_t z = s;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    v = z ^ (z >> 31);
  }
  return t;
}
constexpr auto kGear = make_gear();

// Bit i of the gear hash depends on the last i+1 bytes only, so testing bits
// 11..15 makes boundaries depend on the last 16 bytes: after an edit the cuts
// fall back in step within 16 bytes. Five bits: one cut per 32 bytes on average.
constexpr std::uint64_t kChunkMask = std::uint64_t{0x1f} << 11;
constexpr std::size_t kMinChunk = 8;
constexpr std::size_t kMaxChunk = 128;

void cut_lines(ByteView text, std::vector<std::size_t>& ends) {
  const std::uint8_t* p = text.data();
  const std::size_t n = text.size();
  std::size_t pos = 0;
  while (pos < n) {
    const void* nl = std::memchr(p + pos, '\n', n - pos);
    pos = nl == nullptr ? n : static_cast<std::size_t>(static_cast<const std::uint8_t*>(nl) - p) + 1;
    ends.push_back(pos);
  }
}

void cut_chunks(ByteView text, std::vector<std::size_t>& ends) {
  std::uint64_t h = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    h = (h << 1) + kGear[text[i]];
    const std::size_t length = i + 1 - start;
    if ((length >= kMinChunk && (h & kChunkMask) == 0) || length == kMaxChunk) {
      ends.push_back(i + 1);
      start = i + 1;
    }
  }
  if (start < text.size()) ends.push_back(text.size());
}

void number(ByteView text, Tokens& t, std::unordered_map<std::string_view, std::uint32_t>& ids) {
  t.ids.reserve(t.ends.size());
  const char* chars = reinterpret_cast<const char*>(text.data());
  for (std::size_t i = 0; i < t.ends.size(); ++i) {
    const std::size_t b = t.begin(i);
    auto [it, fresh] = ids.try_emplace(std::string_view(chars + b, t.ends[i] - b),
                                       static_cast<std::uint32_t>(ids.size()));
    (void)fresh;
    t.ids.push_back(it->second);
  }
}

}  // namespace

TokenPair tokenize(ByteView a, ByteView b, Cut cut) {
  TokenPair r;
  auto split = cut == Cut::lines ? cut_lines : cut_chunks;
  split(a, r.a.ends);
  split(b, r.b.ends);
  std::unordered_map<std::string_view, std::uint32_t> ids;
  ids.reserve(r.a.ends.size() + r.b.ends.size());
  number(a, r.a, ids);
  number(b, r.b, ids);
  r.distinct = static_cast<std::uint32_t>(ids.size());
  return r;
}

}  // namespace hgrpc::mpatch
