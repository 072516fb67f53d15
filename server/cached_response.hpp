#pragma once
// CachedResponse: a command's successful response as its handler wrote it
// into the ResponseSink, call by call (values, byte-string heads, chunks,
// spliced zstd frames), in one byte arena. Replaying it makes the same sink
// calls, so the same encoder turns it into the same wire bytes as the first
// answer, whatever the stream's compression context holds by then: the
// pieces are encoding-independent except the spliced zstd frames, which only
// a zstd-8mb-frames response has (the cache key says which kind it is).
//
// An answer for a zstd-8mb-frames stream is then kept pre-encoded instead
// (pre_encoded_form): the whole response, status map included, as whole zstd
// frames made by a fresh encoder, which that profile lets a sender put after
// its own ended frame (media-type-spec/streams.md, "Pre-encoded payloads").
// Its replay is a copy into frames of 256 KiB instead of one sink call per
// revision: no encoder work and about 40 times fewer frames.
//
// ResponseRecorder builds one while the handler runs, up to a byte limit;
// past it the recording is dropped (too large to cache) and the handler goes
// on unrecorded.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "framing/bytes.hpp"
#include "framing/cbor.hpp"

namespace hgrpc::server {

class ResponseSink;

class CachedResponse {
 public:
  enum class Piece : std::uint8_t { Values, BytesBegin, BytesBeginIndefinite, BytesChunk, BytesEnd, Spliced, PreEncoded };
  struct Segment {
    Piece piece;
    std::uint64_t offset = 0;  // into the arena
    std::uint64_t size = 0;    // arena bytes
    std::uint64_t count = 0;   // BytesBegin: the length; Spliced: the decoded size
  };

  void values(framing::ByteView cbor);  // one or more encoded CBOR values
  void bytes_begin(std::uint64_t length);
  void bytes_begin_indefinite();
  void bytes_chunk(framing::ByteView chunk);
  void bytes_end();
  void spliced(framing::ByteView zstd_frames, std::uint64_t decoded_size);
  // Whole zstd frames holding (a piece of) the whole response.
  void pre_encoded(framing::ByteView zstd_frames);

  // The same calls into sink; false once the sink's output is gone. keep:
  // what owns this response (the cache's pointer to it); the frames then
  // reference its spliced and pre-encoded bytes instead of copying them.
  bool replay(ResponseSink& sink, const std::shared_ptr<const void>& keep = nullptr) const;

  // This response as PreEncoded segments, each whole zstd frames of about
  // kPreEncodedPieceBytes (more where a stored chunk is larger): what a sink
  // whose streams splice (zstd-8mb-frames) decodes to the same octets.
  // nullopt if the encoder failed (keep this form then).
  static constexpr std::size_t kPreEncodedPieceBytes = std::size_t{256} << 10;
  struct PreEncodeOptions {
    // Stored chunks decoded and compressed with the rest (one context per
    // piece) rather than kept as they are: fewer bytes on every replay for
    // CPU once.
    bool recompress_spliced = false;
    // The encoder's level. The recompressed form is made once, off the
    // request's path, and sent on every hit: a higher level pays there.
    int zstd_level = 3;
    // Once this is set the pass gives up (nullopt): a server shutting down
    // does not wait for a whole recompression.
    const std::atomic<bool>* stop = nullptr;
  };
  std::optional<CachedResponse> pre_encoded_form(const PreEncodeOptions& options) const;
  std::optional<CachedResponse> pre_encoded_form() const { return pre_encoded_form(PreEncodeOptions{}); }
  bool is_pre_encoded() const { return !segments_.empty() && segments_.front().piece == Piece::PreEncoded; }

  // Memory this response holds (arena and segment table).
  std::size_t memory_bytes() const { return arena_.size() + segments_.size() * sizeof(Segment); }
  // Bytes the replayed values and byte strings carry (decoded sizes).
  std::uint64_t payload_bytes() const { return payload_bytes_; }
  bool has_spliced() const { return has_spliced_; }
  const std::vector<Segment>& segments() const { return segments_; }

  // A self-describing binary form (the shared cache tier stores it):
  //   "HGRC1" u64le(segments) then per segment u8(piece) u64le(size)
  //   u64le(count) and the segment's bytes.
  framing::Bytes serialize() const;
  // nullopt for anything that is not exactly such a form (a truncated or
  // foreign value in the shared tier).
  static std::optional<CachedResponse> parse(framing::ByteView b);

 private:
  void add(Piece piece, framing::ByteView bytes, std::uint64_t count);

  framing::Bytes arena_;
  std::vector<Segment> segments_;
  std::uint64_t payload_bytes_ = 0;
  bool has_spliced_ = false;
};

// Records the calls of one response into a CachedResponse while its
// memory stays within max_bytes.
class ResponseRecorder {
 public:
  explicit ResponseRecorder(std::size_t max_bytes) : max_bytes_(max_bytes) {}

  void encoded(framing::ByteView cbor);  // one or more CBOR values
  void bytes_begin(std::uint64_t length);
  void bytes_begin_indefinite();
  void bytes_chunk(framing::ByteView chunk);
  void bytes_end();
  void spliced(framing::ByteView zstd_frames, std::uint64_t decoded_size);
  void pre_encoded(framing::ByteView zstd_frames);

  // The recording outgrew max_bytes and was dropped.
  bool overflowed() const { return overflowed_; }
  CachedResponse take() { return std::move(response_); }

 private:
  bool room(std::size_t more);

  std::size_t max_bytes_;
  bool overflowed_ = false;
  CachedResponse response_;
};

}  // namespace hgrpc::server
