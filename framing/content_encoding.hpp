#pragma once
// Content encoding profiles: identity, zlib, zstd-8mb. An encoder or decoder is
// a long-lived context owned by one stream for the stream's whole life, across
// requests and responses: later payloads compress against earlier ones.
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "framing/bytes.hpp"
#include "framing/result.hpp"

namespace hgrpc::framing {

enum class Encoding : std::uint8_t { Identity, Zlib, Zstd8mb };

// Server preference order.
inline constexpr Encoding kEncodingPreference[] = {Encoding::Zstd8mb, Encoding::Zlib,
                                                   Encoding::Identity};

std::string_view encoding_name(Encoding e);  // "identity", "zlib", "zstd-8mb"
std::optional<Encoding> encoding_from_name(std::string_view name);

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
};

struct DecoderLimits {
  // Decoded bytes this stream may produce in total; stops decompression bombs.
  std::uint64_t max_decoded_bytes = std::uint64_t{1} << 30;
  // zstd-8mb refuses frames that need a larger window (ZSTD_d_windowLogMax 23).
  int zstd_window_log_max = 23;
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
