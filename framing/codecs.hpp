#pragma once
// Factories of the compressed codecs, one file per library (zlib_codec.cpp,
// zstd_codec.cpp); make_encoder/make_decoder in content_encoding.cpp dispatch.
#include <cstddef>
#include <cstdint>
#include <memory>

#include "framing/content_encoding.hpp"

namespace hgrpc::framing::detail {

std::unique_ptr<Encoder> make_zlib_encoder(const EncoderOptions& options);
std::unique_ptr<Decoder> make_zlib_decoder(const DecoderLimits& limits);
std::unique_ptr<Encoder> make_zstd_encoder(const EncoderOptions& options);
std::unique_ptr<Decoder> make_zstd_decoder(const DecoderLimits& limits);

// Output is produced in steps of at most this many bytes, so the decoded-size
// limit is checked while decompressing, never after.
inline constexpr std::size_t kDecodeStep = 64 * 1024;

// Output room for the next step given the bytes left in the budget: one byte
// more than the budget, so that producing it proves the limit is exceeded.
inline std::size_t step_size(std::uint64_t budget) {
  return budget >= kDecodeStep ? kDecodeStep : static_cast<std::size_t>(budget) + 1;
}

}  // namespace hgrpc::framing::detail
