#pragma once
// Content encoding profiles: identity, zlib, zstd-8mb, zstd-8mb-frames. An
// encoder or decoder is a long-lived context owned by one stream for the
// stream's whole life, across requests and responses: later payloads compress
// against earlier ones.
//
// zstd-8mb-frames is zstd-8mb in which the sender may end a zstd frame and
// splice already-compressed zstd frames (revlog chunks as stored) between its
// own: Mercurial 5.8's zstd-8mb decoder stops after one frame, so hgrpcd
// splices only for clients that list this profile (media-type-spec/streams.md).
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "framing/bytes.hpp"
#include "framing/result.hpp"

namespace hgrpc::framing {

enum class Encoding : std::uint8_t { Identity, Zlib, Zstd8mb, Zstd8mbFrames };

// Preference order of both sides (the server chooses; the client lists).
inline constexpr Encoding kEncodingPreference[] = {Encoding::Zstd8mbFrames, Encoding::Zstd8mb,
                                                   Encoding::Zlib, Encoding::Identity};
// The profiles Mercurial 5.8 knows, in its order: what the capabilities
// advertise (their exact 5.8 shape).
inline constexpr Encoding kMercurialEncodings[] = {Encoding::Zstd8mb, Encoding::Zlib,
                                                   Encoding::Identity};

// "identity", "zlib", "zstd-8mb", "zstd-8mb-frames"
std::string_view encoding_name(Encoding e);
std::optional<Encoding> encoding_from_name(std::string_view name);

// The "8mb" of zstd-8mb (and zstd-8mb-frames): the largest window, as a log.
inline constexpr int kZstd8mbWindowLog = 23;

class ZstdContextPool;

struct EncoderOptions {
  int zstd_level = 3;
  int zlib_level = 6;
  // Where zstd-8mb encoders take their context from and return it to; it must
  // outlive them. nullptr: each encoder creates and frees its own.
  ZstdContextPool* zstd_pool = nullptr;
};

class Encoder {
 public:
  virtual ~Encoder() = default;
  virtual Encoding encoding() const = 0;
  // Appends the encoding of in to out and flushes (ZSTD_e_flush /
  // Z_SYNC_FLUSH), so everything given so far is decodable from what was
  // appended so far: each frame can be decoded when it arrives.
  virtual Result<void> encode(ByteView in, Bytes& out) = 0;
  // Whether end_frame() works: the profile lets already-encoded frames be
  // spliced between the encoder's own.
  virtual bool splices_frames() const { return false; }
  // Appends the encoding of in and ends the current frame, so that bytes
  // spliced next start a frame of their own; the encoder's next output starts
  // another (its history is then lost: zstd frames are independent).
  virtual Result<void> end_frame(ByteView in, Bytes& out);
};

struct DecoderLimits {
  // Decoded bytes this stream may produce in total; stops decompression bombs.
  std::uint64_t max_decoded_bytes = std::uint64_t{1} << 30;
  // zstd-8mb refuses frames that need a larger window (ZSTD_d_windowLogMax 23).
  int zstd_window_log_max = kZstd8mbWindowLog;
};

class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual Encoding encoding() const = 0;
  // Appends the decoding of in to out. Errors name the encoding and the cause
  // (corrupt data, window too large, decoded-size limit reached). On error out
  // is left as it was and the decoder stays failed. Input may be split at any
  // byte; output is produced in bounded steps, so the decoded-size limit stops
  // a bomb while it expands.
  virtual Result<void> decode(ByteView in, Bytes& out) = 0;
};

std::unique_ptr<Encoder> make_encoder(Encoding e, const EncoderOptions& options = {});
std::unique_ptr<Decoder> make_decoder(Encoding e, const DecoderLimits& limits = {});

}  // namespace hgrpc::framing
