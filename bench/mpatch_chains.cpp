// The seeded benchmark inputs of mpatch_chains.hpp.
#include "bench/mpatch_chains.hpp"

#include <algorithm>

namespace hgrpc::bench {
namespace {

void put32(Bytes& out, std::size_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}

// One revision: `edits` places, each replacing 0-3 lines by 0-3 new ones
// (never both 0). Updates `lines` and returns the delta.
Bytes revise(Rng& rng, std::vector<std::string>& lines, std::size_t edits) {
  std::vector<std::size_t> offsets(lines.size() + 1, 0);
  for (std::size_t i = 0; i < lines.size(); ++i) offsets[i + 1] = offsets[i] + lines[i].size();
  std::vector<std::size_t> at;
  for (std::size_t i = 0; i < edits; ++i) at.push_back(pick(rng, 0, lines.size() - 4));
  std::sort(at.begin(), at.end());
  Bytes delta;
  std::vector<std::string> next;
  std::size_t pos = 0;  // next line of `lines` not yet handled
  for (std::size_t a : at) {
    if (a < pos) continue;
    std::size_t removed = pick(rng, 0, 3), added = pick(rng, removed == 0 ? 1 : 0, 3);
    next.insert(next.end(), lines.begin() + static_cast<std::ptrdiff_t>(pos),
                lines.begin() + static_cast<std::ptrdiff_t>(a));
    std::string data;
    for (std::size_t k = 0; k < added; ++k) {
      next.push_back(random_line(rng));
      data += next.back();
    }
    put32(delta, offsets[a]);
    put32(delta, offsets[a + removed]);
    put32(delta, data.size());
    delta.insert(delta.end(), data.begin(), data.end());
    pos = a + removed;
  }
  next.insert(next.end(), lines.begin() + static_cast<std::ptrdiff_t>(pos), lines.end());
  lines = std::move(next);
  return delta;
}

}  // namespace

std::size_t pick(Rng& rng, std::size_t lo, std::size_t hi) {
  return std::uniform_int_distribution<std::size_t>(lo, hi)(rng);
}

std::string random_line(Rng& rng) {
  static const char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz     ;(){}=+-0123456789";
  std::string line(pick(rng, 20, 80), ' ');
  for (char& c : line) c = kAlphabet[pick(rng, 0, sizeof kAlphabet - 2)];
  line.back() = '\n';
  return line;
}

Bytes join(const std::vector<std::string>& lines) {
  Bytes out;
  for (const auto& l : lines) out.insert(out.end(), l.begin(), l.end());
  return out;
}

Chain make_chain(std::uint64_t seed, std::size_t base_bytes, std::size_t revisions,
                 std::size_t min_edits, std::size_t max_edits) {
  Rng rng(seed);
  std::vector<std::string> lines;
  std::size_t size = 0;
  while (size < base_bytes) {
    lines.push_back(random_line(rng));
    size += lines.back().size();
  }
  Chain c;
  c.base = join(lines);
  for (std::size_t r = 0; r < revisions; ++r) {
    const std::size_t edits = pick(rng, min_edits, max_edits);
    c.deltas.push_back(revise(rng, lines, edits));
  }
  for (const auto& d : c.deltas) {
    c.views.emplace_back(d.data(), d.size());
    c.hunks += hgrpc::mpatch::decode(c.views.back())->size();
  }
  c.output = join(lines).size();
  return c;
}

const Chain& chain_1mib() {
  static const Chain c = make_chain(1, 1 << 20, 1000, 1, 8);
  return c;
}
const Chain& chain_64mib() {
  static const Chain c = make_chain(2, 64 << 20, 10, 6000, 6000);  // ~9,000 lines replaced
  return c;
}

}  // namespace hgrpc::bench
