// WireBytes and OutputStream::render into it: the same wire bytes as render
// into Bytes, with long spliced bytes referenced where they lie (the cache's
// hit path writes them to the socket without copying them).
#include <doctest/doctest.h>
#include <zstd.h>

#include <random>

#include "framing/response_emitter.hpp"
#include "framing/stream.hpp"
#include "framing/wire_bytes.hpp"

using namespace hgrpc::framing;

namespace {

Bytes noise(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  Bytes b(n);
  for (auto& x : b) x = static_cast<std::uint8_t>(rng());
  return b;
}

Bytes zstd_frame(ByteView text) {
  Bytes out(ZSTD_compressBound(text.size()));
  const std::size_t n = ZSTD_compress(out.data(), out.size(), text.data(), text.size(), 1);
  REQUIRE_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

bool points_into(ByteView piece, ByteView whole) {
  return piece.data() >= whole.data() && piece.data() + piece.size() <= whole.data() + whole.size();
}

}  // namespace

TEST_CASE("wire bytes: pieces in order, short views copied, long ones referenced") {
  const Bytes big = noise(2 * WireBytes::kMinReferencedBytes, 1);
  const Bytes small = to_bytes("short");
  WireBytes w;
  w.append(as_bytes("head"));
  w.append_view(big);
  w.append_view(big);  // two references in a row
  w.append_view(small);
  w.append(as_bytes("tail"));
  CHECK(w.size() == 4 + 2 * big.size() + small.size() + 4);

  const auto pieces = w.pieces();
  REQUIRE(pieces.size() == 4);
  CHECK(as_chars(pieces[0]) == "head");
  CHECK(pieces[1].data() == big.data());  // not copied
  CHECK(pieces[2].data() == big.data());
  CHECK(as_chars(pieces[3]) == "shorttail");  // copied beside its neighbour

  Bytes want = to_bytes("head");
  append(want, big);
  append(want, big);
  append(want, as_bytes("shorttail"));
  CHECK(w.flatten() == want);

  w.clear();
  CHECK(w.empty());
  CHECK(w.pieces().empty());
}

TEST_CASE("wire bytes: render gives render's bytes, spliced bytes in place") {
  // A response of values, a definite byte string of stored zstd frames and a
  // pre-encoded piece, cut into frames of 1 KiB: the spliced bytes span
  // several frames and are referenced in each.
  const Bytes stored_text = noise(5000, 2);
  const Bytes stored = zstd_frame(stored_text);
  const Bytes piece = zstd_frame(noise(3000, 3));
  REQUIRE(stored.size() > 2 * WireBytes::kMinReferencedBytes);

  ResponseEmitter e(1, 2, EmitterOptions{.max_frame_size = 1024});
  PlannedFrames planned;
  e.value(json{{"k", 1}}, planned);
  e.bytes_begin(stored_text.size(), planned);
  e.spliced_chunk(SharedBytes(Bytes(stored)), stored_text.size(), planned);
  e.end(planned);
  ResponseEmitter whole(3, 2, EmitterOptions{.max_frame_size = 1024});
  whole.pre_encoded(SharedBytes(std::shared_ptr<const void>(), piece), planned);
  whole.end(planned);

  OutputStream copying(2, make_encoder(Encoding::Zstd8mbFrames), 1024);
  OutputStream referencing(2, make_encoder(Encoding::Zstd8mbFrames), 1024);
  Bytes want;
  WireBytes got;
  std::size_t frames_copied = 0, frames_referenced = 0;
  for (const auto& f : planned) {
    auto a = copying.render(f, want);
    auto b = referencing.render(f, got);
    REQUIRE(a);
    REQUIRE(b);
    frames_copied += *a;
    frames_referenced += *b;
  }
  CHECK(frames_copied == frames_referenced);
  CHECK(frames_copied > 6);  // the spliced bytes were cut
  CHECK(got.flatten() == want);

  // Every byte of the pre-encoded piece, and all but a short tail of the
  // stored frame, stayed where it was.
  std::size_t in_piece = 0, in_stored = 0;
  ByteView stored_in_frame;  // the planned frame's own copy (its SharedBytes)
  for (const auto& f : planned)
    if (f.spliced.size() == stored.size()) stored_in_frame = f.spliced.view();
  REQUIRE(stored_in_frame.data() != nullptr);
  for (ByteView p : got.pieces()) {
    if (points_into(p, piece)) in_piece += p.size();
    if (points_into(p, stored_in_frame)) in_stored += p.size();
  }
  CHECK(in_piece == piece.size());
  CHECK(in_stored + WireBytes::kMinReferencedBytes > stored.size());
}
