#pragma once
// Internal: the pieces of "list a, then list b", in order, without writing
// the composed list: fold_fragments writes them as a new list, and apply
// copies the last composition of a fold straight into the output.
#include <algorithm>
#include <cstdint>

#include "mpatch/fragments.hpp"

namespace hgrpc::mpatch {

// Reads a list's fragments in order, tracking where each starts in its text.
// The open tail ends past any position, so reads never pass it.
struct Cursor {
  const Fragment* at;
  std::uint64_t start = 0;         // position of *at in the text
  std::uint64_t end = at->length;  // and its end

  void next() {
    start = end;
    ++at;
    end += at->length;
  }
  // Moves to the fragment holding position p.
  void seek(std::uint64_t p) {
    while (end <= p) next();
  }
};

// Calls piece(where, length) for each piece of the text "a, then b" (a
// Fragment's where: a base offset or a tagged literal address), in order,
// except the final open tail, whose base offset it returns. a and b each end
// with their open tail. Each literal of b is one piece; each copy of b (a
// range of a's text) is a piece of the fragment of a holding its start, then
// one piece per boundary of a inside the range. first_piece is called for
// pieces that may continue the previous one; the rest of a copy's pieces
// cannot (a's fragments are canonical), so they go to piece.
template <class FirstPiece, class Piece>
std::uint64_t compose_pieces(const Fragment* a, const Fragment* a_end, const Fragment* b,
                             const Fragment* b_end, FirstPiece&& first_piece, Piece&& piece) {
  Cursor g{a};
  const Fragment* const b_open = b_end - 1;
  for (const Fragment* f = b; f != b_open; ++f) {
    if (f->is_literal()) {
      piece(f->where, f->length);
      continue;
    }
    // a's text [p, e): a piece of the fragment holding p, then whole
    // fragments, then a piece of the last.
    const std::uint64_t p = f->where;
    const std::uint64_t e = p + f->length;
    g.seek(p);
    first_piece(g.at->where + (p - g.start), std::min(e, g.end) - p);
    while (g.end < e) {
      g.next();
      piece(g.at->where, std::min(e, g.end) - g.start);
    }
  }
  // b's tail: all of a's text from there on, ending with a's own tail.
  const std::uint64_t p = b_open->where;
  g.seek(p);
  if (g.at + 1 == a_end) return g.at->where + (p - g.start);
  first_piece(g.at->where + (p - g.start), g.end - p);
  for (const Fragment* f = g.at + 1; f + 1 != a_end; ++f) piece(f->where, f->length);
  return a_end[-1].where;
}

}  // namespace hgrpc::mpatch
