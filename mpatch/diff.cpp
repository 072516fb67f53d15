// diff: a line diff (as Mercurial's bdiff), whose changed regions are then
// narrowed: common bytes trimmed, large regions re-diffed by content-defined
// chunks (binary data), nearby hunks merged when that is smaller.
#include <algorithm>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "mpatch/hunk_reader.hpp"
#include "mpatch/mpatch.hpp"
#include "mpatch/token_diff.hpp"
#include "mpatch/tokens.hpp"

namespace hgrpc::mpatch {
namespace {

constexpr std::size_t kMaxField = static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max());
// Regions with fewer bytes than this on either side are not worth chunking.
constexpr std::size_t kRefineMin = 48;

// Replace a[a0, a1) with b[b0, b1).
struct Edit {
  std::size_t a0, a1, b0, b1;
};

// The unmatched regions between matching token blocks, in byte offsets.
void edits_between(const TokenPair& t, const std::vector<Match>& matches, std::size_t a_base,
                   std::size_t b_base, std::vector<Edit>& out) {
  std::size_t ai = 0, bi = 0;
  auto gap = [&](std::size_t a_to, std::size_t b_to) {
    if (ai == a_to && bi == b_to) return;
    out.push_back(Edit{a_base + t.a.begin(ai), a_base + t.a.begin(a_to), b_base + t.b.begin(bi),
                       b_base + t.b.begin(b_to)});
  };
  for (const Match& m : matches) {
    gap(m.a, m.b);
    ai = m.a + m.n;
    bi = m.b + m.n;
  }
  gap(t.a.ids.size(), t.b.ids.size());
}

std::vector<Edit> diff_tokens(ByteView a, ByteView b, std::size_t a_base, std::size_t b_base,
                              Cut cut) {
  const TokenPair t = tokenize(a, b, cut);
  std::vector<Edit> edits;
  edits_between(t, match_tokens(t.a.ids, t.b.ids, t.distinct), a_base, b_base, edits);
  return edits;
}

Edit trim(ByteView a, ByteView b, Edit e) {
  while (e.a0 < e.a1 && e.b0 < e.b1 && a[e.a0] == b[e.b0]) ++e.a0, ++e.b0;
  while (e.a1 > e.a0 && e.b1 > e.b0 && a[e.a1 - 1] == b[e.b1 - 1]) --e.a1, --e.b1;
  return e;
}

std::size_t cost(const Edit& e) { return kHunkHeaderSize + (e.b1 - e.b0); }

void refine(ByteView a, ByteView b, Edit e, std::vector<Edit>& out) {
  e = trim(a, b, e);
  if (e.a0 == e.a1 && e.b0 == e.b1) return;
  if (e.a1 - e.a0 >= kRefineMin && e.b1 - e.b0 >= kRefineMin) {
    std::vector<Edit> parts = diff_tokens(a.subspan(e.a0, e.a1 - e.a0),
                                          b.subspan(e.b0, e.b1 - e.b0), e.a0, e.b0, Cut::chunks);
    std::size_t parts_cost = 0;
    for (Edit& p : parts) {
      p = trim(a, b, p);
      parts_cost += cost(p);
    }
    if (parts_cost < cost(e)) {
      for (const Edit& p : parts)
        if (p.a0 != p.a1 || p.b0 != p.b1) out.push_back(p);
      return;
    }
  }
  out.push_back(e);
}

// Two hunks less than a header apart cost less as one.
std::vector<Edit> merge_close(std::vector<Edit> edits) {
  std::vector<Edit> out;
  for (const Edit& e : edits) {
    if (!out.empty() && e.a0 - out.back().a1 < kHunkHeaderSize &&
        e.b0 - out.back().b1 == e.a0 - out.back().a1) {
      out.back().a1 = e.a1;
      out.back().b1 = e.b1;
    } else {
      out.push_back(e);
    }
  }
  return out;
}

Bytes encode_edits(ByteView b, const std::vector<Edit>& edits) {
  std::size_t size = 0;
  for (const Edit& e : edits) {
    const std::size_t n = e.b1 - e.b0;
    size += (n == 0 ? 1 : (n + kMaxField - 1) / kMaxField) * kHunkHeaderSize + n;
  }
  Bytes out(size);
  std::uint8_t* p = out.data();
  for (const Edit& e : edits) {
    std::size_t from = e.b0;
    std::size_t start = e.a0;
    do {  // data longer than a hunk holds continues as insertions at a1
      const std::size_t n = std::min(e.b1 - from, kMaxField);
      write_be32(p, static_cast<std::int32_t>(start));
      write_be32(p + 4, static_cast<std::int32_t>(e.a1));
      write_be32(p + 8, static_cast<std::int32_t>(n));
      p += kHunkHeaderSize;
      if (n > 0) std::memcpy(p, b.data() + from, n);
      p += n;
      from += n;
      start = e.a1;
    } while (from < e.b1);
  }
  return out;
}

}  // namespace

Bytes diff(ByteView a, ByteView b) {
  if (a.size() > kMaxField)
    throw std::length_error("mpatch::diff: the old text has " + std::to_string(a.size()) +
                            " bytes, more than a hunk offset can address");
  std::vector<Edit> edits;
  for (const Edit& e : diff_tokens(a, b, 0, 0, Cut::lines)) refine(a, b, e, edits);
  return encode_edits(b, merge_close(std::move(edits)));
}

Bytes line_diff(ByteView a, ByteView b) {
  if (a.size() > kMaxField)
    throw std::length_error("mpatch::line_diff: the old text has " + std::to_string(a.size()) +
                            " bytes, more than a hunk offset can address");
  // Merging two hunks keeps the lines between them whole: still line-aligned.
  return encode_edits(b, merge_close(diff_tokens(a, b, 0, 0, Cut::lines)));
}

}  // namespace hgrpc::mpatch
