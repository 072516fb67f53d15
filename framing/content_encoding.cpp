#include "framing/content_encoding.hpp"

#include <string>

#include "framing/codecs.hpp"

namespace hgrpc::framing {
namespace {

class IdentityEncoder final : public Encoder {
 public:
  Encoding encoding() const override { return Encoding::Identity; }
  Result<void> encode(ByteView in, Bytes& out) override {
    append(out, in);
    return {};
  }
};

// Identity still counts decoded bytes, so every profile honours the limit.
class IdentityDecoder final : public Decoder {
 public:
  explicit IdentityDecoder(const DecoderLimits& limits) : limits_(limits) {}
  Encoding encoding() const override { return Encoding::Identity; }
  Result<void> decode(ByteView in, Bytes& out) override {
    if (failed_) return fail("identity: stream already failed to decode");
    if (in.size() > limits_.max_decoded_bytes - decoded_) {
      failed_ = true;
      return fail("identity: decoded size would exceed the limit of " +
                  std::to_string(limits_.max_decoded_bytes) + " bytes for this stream");
    }
    decoded_ += in.size();
    append(out, in);
    return {};
  }

 private:
  DecoderLimits limits_;
  std::uint64_t decoded_ = 0;
  bool failed_ = false;
};

}  // namespace

Result<void> Encoder::end_frame(ByteView, Bytes&) {
  return fail(std::string(encoding_name(encoding())) + ": this profile cannot splice pre-encoded frames");
}

std::string_view encoding_name(Encoding e) {
  switch (e) {
    case Encoding::Identity:
      return "identity";
    case Encoding::Zlib:
      return "zlib";
    case Encoding::Zstd8mb:
      return "zstd-8mb";
    case Encoding::Zstd8mbFrames:
      return "zstd-8mb-frames";
  }
  return "";
}

std::optional<Encoding> encoding_from_name(std::string_view name) {
  for (Encoding e : kEncodingPreference) {
    if (encoding_name(e) == name) return e;
  }
  return std::nullopt;
}

std::unique_ptr<Encoder> make_encoder(Encoding e, const EncoderOptions& options) {
  switch (e) {
    case Encoding::Identity:
      return std::make_unique<IdentityEncoder>();
    case Encoding::Zlib:
      return detail::make_zlib_encoder(options);
    case Encoding::Zstd8mb:
      return detail::make_zstd_encoder(options, false);
    case Encoding::Zstd8mbFrames:
      return detail::make_zstd_encoder(options, true);
  }
  return nullptr;
}

std::unique_ptr<Decoder> make_decoder(Encoding e, const DecoderLimits& limits) {
  switch (e) {
    case Encoding::Identity:
      return std::make_unique<IdentityDecoder>(limits);
    case Encoding::Zlib:
      return detail::make_zlib_decoder(limits);
    case Encoding::Zstd8mb:
      return detail::make_zstd_decoder(limits, Encoding::Zstd8mb);
    case Encoding::Zstd8mbFrames:
      return detail::make_zstd_decoder(limits, Encoding::Zstd8mbFrames);
  }
  return nullptr;
}

}  // namespace hgrpc::framing
