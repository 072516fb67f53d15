#pragma once
// Factories of the compressed codecs, one file per library (zlib_codec.cpp,
// zstd_codec.cpp); make_encoder/make_decoder in content_encoding.cpp dispatch.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "framing/content_encoding.hpp"

namespace hgrpc::framing::detail {

std::unique_ptr<Encoder> make_zlib_encoder(const EncoderOptions& options);
std::unique_ptr<Decoder> make_zlib_decoder(const DecoderLimits& limits);
// frames: the zstd-8mb-frames profile (end_frame works).
std::unique_ptr<Encoder> make_zstd_encoder(const EncoderOptions& options, bool frames);
// profile: Zstd8mb or Zstd8mbFrames (one decoder: both may hold many frames).
std::unique_ptr<Decoder> make_zstd_decoder(const DecoderLimits& limits, Encoding profile);

// Output is produced in steps of at most this many bytes, so the decoded-size
// limit is checked while decompressing, never after.
inline constexpr std::size_t kDecodeStep = 64 * 1024;

// Output room for the next step given the bytes left in the budget: one byte
// more than the budget, so that producing it proves the limit is exceeded.
inline std::size_t step_size(std::uint64_t budget) {
  return budget >= kDecodeStep ? kDecodeStep : static_cast<std::size_t>(budget) + 1;
}

// What every compressed decoder shares: the stream's decoded-bytes budget and
// all-or-nothing calls (on error `out` is left as it was and the decoder stays
// failed). Subclasses decompress in run(), in steps of next_step() bytes,
// passing each step's output to count().
class BoundedDecoder : public Decoder {
 public:
  explicit BoundedDecoder(const DecoderLimits& limits) : limits_(limits) {}

  Result<void> decode(ByteView in, Bytes& out) final {
    if (failed_) return fail(std::string(encoding_name(encoding())) + ": stream already failed to decode");
    const std::size_t start = out.size();
    const std::uint64_t decoded_before = decoded_;
    auto result = run(in, out);
    if (!result) {
      out.resize(start);
      decoded_ = decoded_before;
      failed_ = true;
    }
    return result;
  }

 protected:
  virtual Result<void> run(ByteView in, Bytes& out) = 0;

  const DecoderLimits& limits() const { return limits_; }
  std::size_t next_step() const { return step_size(limits_.max_decoded_bytes - decoded_); }
  Result<void> count(std::size_t produced) {
    decoded_ += produced;
    if (decoded_ > limits_.max_decoded_bytes) {
      return fail(std::string(encoding_name(encoding())) + ": decoded size exceeds the limit of " +
                  std::to_string(limits_.max_decoded_bytes) + " bytes for this stream");
    }
    return {};
  }

 private:
  DecoderLimits limits_;
  std::uint64_t decoded_ = 0;
  bool failed_ = false;
};

}  // namespace hgrpc::framing::detail
