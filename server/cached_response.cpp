#include "server/cached_response.hpp"

#include <zstd.h>

#include <cstring>
#include <limits>
#include <string_view>

#include "framing/content_encoding.hpp"
#include "server/response_sink.hpp"

namespace hgrpc::server {

using framing::ByteView;
using framing::Bytes;

void CachedResponse::add(Piece piece, ByteView bytes, std::uint64_t count) {
  // Consecutive values are one segment: replaying them as one encoded()
  // call frames the same bytes.
  if (piece == Piece::Values && !segments_.empty() && segments_.back().piece == Piece::Values) {
    segments_.back().size += bytes.size();
  } else {
    segments_.push_back(Segment{piece, arena_.size(), bytes.size(), count});
  }
  framing::append(arena_, bytes);
}

void CachedResponse::values(ByteView cbor) {
  add(Piece::Values, cbor, 0);
  payload_bytes_ += cbor.size();
}

void CachedResponse::bytes_begin(std::uint64_t length) { add(Piece::BytesBegin, {}, length); }
void CachedResponse::bytes_begin_indefinite() { add(Piece::BytesBeginIndefinite, {}, 0); }

void CachedResponse::bytes_chunk(ByteView chunk) {
  add(Piece::BytesChunk, chunk, 0);
  payload_bytes_ += chunk.size();
}

void CachedResponse::bytes_end() { add(Piece::BytesEnd, {}, 0); }

void CachedResponse::spliced(ByteView zstd_frames, std::uint64_t decoded_size) {
  add(Piece::Spliced, zstd_frames, decoded_size);
  payload_bytes_ += decoded_size;
  has_spliced_ = true;
}

void CachedResponse::pre_encoded(ByteView zstd_frames) { add(Piece::PreEncoded, zstd_frames, 0); }

bool CachedResponse::replay(ResponseSink& sink, const std::shared_ptr<const void>& keep) const {
  const auto shared = [&](ByteView b) {
    return keep ? framing::SharedBytes(keep, b) : framing::SharedBytes(Bytes(b.begin(), b.end()));
  };
  for (const auto& s : segments_) {
    const ByteView bytes(arena_.data() + s.offset, s.size);
    bool ok = true;
    switch (s.piece) {
      case Piece::Values: ok = sink.encoded(bytes); break;
      case Piece::BytesBegin: ok = sink.bytes_begin(s.count); break;
      case Piece::BytesBeginIndefinite: ok = sink.bytes_begin(); break;
      case Piece::BytesChunk: ok = sink.bytes_chunk(bytes); break;
      case Piece::BytesEnd: ok = sink.bytes_end(); break;
      case Piece::Spliced: ok = sink.spliced_chunk(shared(bytes), s.count); break;
      case Piece::PreEncoded: ok = sink.pre_encoded(shared(bytes)); break;
    }
    if (!ok) return false;
  }
  return true;
}

std::optional<CachedResponse> CachedResponse::pre_encoded_form(const PreEncodeOptions& options) const {
  if (is_pre_encoded()) return *this;
  // The planned frames of a replay, their payloads encoded in batches of
  // kRawBatch (the frame is ended before spliced bytes, which follow as they
  // are), without the frame headers. The frame size only changes the cut. Every
  // kPreEncodedPieceBytes the zstd frame is ended and a segment begins: a
  // response may move to another output stream between two sink calls
  // (OutputMux's split), and each segment must decode on its own.
  auto encoder = framing::make_encoder(framing::Encoding::Zstd8mbFrames,
                                       framing::EncoderOptions{.zstd_level = options.zstd_level});
  // A stored chunk is decoded whole: one whose frames do not say they
  // decode to at most this stays as it was (so the pass holds at most this
  // much more memory). Each chunk is checked, hence no total limit.
  static constexpr std::uint64_t kMaxRecompressedChunk = std::uint64_t{8} << 20;
  auto decoder = framing::make_decoder(
      framing::Encoding::Zstd8mbFrames,
      framing::DecoderLimits{.max_decoded_bytes = std::numeric_limits<std::uint64_t>::max()});
  const auto small_enough = [](ByteView zstd_frame) {  // one frame, as the store splices them
    if (ZSTD_findFrameCompressedSize(zstd_frame.data(), zstd_frame.size()) != zstd_frame.size()) return false;
    const auto n = ZSTD_getFrameContentSize(zstd_frame.data(), zstd_frame.size());
    return n != ZSTD_CONTENTSIZE_UNKNOWN && n != ZSTD_CONTENTSIZE_ERROR && n <= kMaxRecompressedChunk;
  };
  CachedResponse out;
  Bytes piece;
  Bytes raw;  // octets not yet given to the encoder: one encode call per kRawBatch, not per frame
  static constexpr std::size_t kRawBatch = 128 * 1024;
  bool failed = false;
  const auto encode_raw = [&] {
    if (!raw.empty()) failed = failed || !encoder->encode(raw, piece);
    raw.clear();
  };
  const auto cut = [&] {
    encode_raw();
    failed = failed || !encoder->end_frame({}, piece);  // the open compressed frame, if any
    if (!piece.empty()) out.pre_encoded(piece);
    piece.clear();
  };
  framing::ResponseEmitter emitter(0, 1, framing::EmitterOptions{.max_frame_size = kPreEncodedPieceBytes});
  ResponseSink sink(
      emitter,
      [&](framing::PlannedFrames& frames, framing::ResponseEmitter&) {
        if (options.stop != nullptr && options.stop->load(std::memory_order_relaxed)) return false;
        for (const auto& f : frames) {
          framing::append(raw, f.payload);
          bool decoded = false;
          if (!f.spliced.empty() && options.recompress_spliced && small_enough(f.spliced.view())) {
            decoded = decoder->decode(f.spliced.view(), raw).has_value();
            failed = failed || !decoded;  // a stored frame that does not decode: keep the recording
          }
          if (!f.spliced.empty() && !decoded) {
            failed = failed || !encoder->end_frame(raw, piece);
            raw.clear();
            framing::append(piece, f.spliced.view());
          }
          if (raw.size() >= kRawBatch) encode_raw();
          if (piece.size() >= kPreEncodedPieceBytes) cut();
        }
        frames.clear();
        return !failed;
      },
      kPreEncodedPieceBytes, true);
  if (!replay(sink) || !sink.finish() || failed) return std::nullopt;
  cut();
  if (failed || out.segments_.empty()) return std::nullopt;
  out.payload_bytes_ = payload_bytes_;
  out.has_spliced_ = has_spliced_;
  return out;
}

namespace {

constexpr std::string_view kMagic = "HGRC1";

void put_u64(Bytes& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

bool get_u64(ByteView& in, std::uint64_t& v) {
  if (in.size() < 8) return false;
  v = 0;
  for (int i = 0; i < 8; ++i) v |= std::uint64_t{in[static_cast<std::size_t>(i)]} << (8 * i);
  in = in.subspan(8);
  return true;
}

}  // namespace

Bytes CachedResponse::serialize() const {
  Bytes out(kMagic.begin(), kMagic.end());
  out.reserve(kMagic.size() + 8 + segments_.size() * 17 + arena_.size());
  put_u64(out, segments_.size());
  for (const auto& s : segments_) {
    out.push_back(static_cast<std::uint8_t>(s.piece));
    put_u64(out, s.size);
    put_u64(out, s.count);
    framing::append(out, ByteView(arena_.data() + s.offset, s.size));
  }
  return out;
}

std::optional<CachedResponse> CachedResponse::parse(ByteView in) {
  if (in.size() < kMagic.size() || framing::as_chars(in.first(kMagic.size())) != kMagic) return std::nullopt;
  in = in.subspan(kMagic.size());
  std::uint64_t n = 0;
  if (!get_u64(in, n) || n > in.size() / 17) return std::nullopt;  // 17: the smallest segment
  CachedResponse r;
  r.segments_.reserve(n);
  for (std::uint64_t i = 0; i < n; ++i) {
    if (in.empty() || in[0] > static_cast<std::uint8_t>(Piece::PreEncoded)) return std::nullopt;
    const auto piece = static_cast<Piece>(in[0]);
    in = in.subspan(1);
    std::uint64_t size = 0, count = 0;
    if (!get_u64(in, size) || !get_u64(in, count) || size > in.size()) return std::nullopt;
    const ByteView bytes = in.first(size);
    in = in.subspan(size);
    switch (piece) {
      case Piece::Values: r.values(bytes); break;
      case Piece::BytesBegin:
        if (size != 0) return std::nullopt;
        r.bytes_begin(count);
        break;
      case Piece::BytesBeginIndefinite:
      case Piece::BytesEnd:
        if (size != 0 || count != 0) return std::nullopt;
        r.add(piece, {}, 0);
        break;
      case Piece::BytesChunk: r.bytes_chunk(bytes); break;
      case Piece::Spliced: r.spliced(bytes, count); break;
      case Piece::PreEncoded:
        if (count != 0) return std::nullopt;
        r.pre_encoded(bytes);
        break;
    }
  }
  if (!in.empty()) return std::nullopt;
  return r;
}

bool ResponseRecorder::room(std::size_t more) {
  if (overflowed_) return false;
  if (response_.memory_bytes() + more + sizeof(CachedResponse::Segment) > max_bytes_) {
    overflowed_ = true;
    response_ = CachedResponse();
    return false;
  }
  return true;
}

void ResponseRecorder::encoded(ByteView cbor) {
  if (room(cbor.size())) response_.values(cbor);
}
void ResponseRecorder::bytes_begin(std::uint64_t length) {
  if (room(0)) response_.bytes_begin(length);
}
void ResponseRecorder::bytes_begin_indefinite() {
  if (room(0)) response_.bytes_begin_indefinite();
}
void ResponseRecorder::bytes_chunk(ByteView chunk) {
  if (room(chunk.size())) response_.bytes_chunk(chunk);
}
void ResponseRecorder::bytes_end() {
  if (room(0)) response_.bytes_end();
}
void ResponseRecorder::pre_encoded(ByteView zstd_frames) {
  if (room(zstd_frames.size())) response_.pre_encoded(zstd_frames);
}
void ResponseRecorder::spliced(ByteView zstd_frames, std::uint64_t decoded_size) {
  if (room(zstd_frames.size())) response_.spliced(zstd_frames, decoded_size);
}

}  // namespace hgrpc::server
