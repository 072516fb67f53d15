// zstd-8mb profile: zstd frames whose window is at most 8 MiB (window log 23).
#include <zstd.h>
#include <zstd_errors.h>

#include <algorithm>
#include <array>
#include <new>
#include <stdexcept>
#include <string>

#include "framing/codecs.hpp"
#include "framing/zstd_context_pool.hpp"

namespace hgrpc::framing::detail {
namespace {


class ZstdEncoder final : public Encoder {
 public:
  ZstdEncoder(const EncoderOptions& options, bool frames)
      : frames_(frames), pool_(options.zstd_pool), cctx_(pool_ != nullptr ? pool_->acquire() : ZSTD_createCCtx()) {
    if (cctx_ == nullptr) throw std::bad_alloc();
    try {
      check(ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, options.zstd_level));
      // Levels above 19 ("ultra") default to windows larger than the profile
      // lets peers decode; levels up to 19 use at most 2^23 (zstd's clevels.h).
      if (options.zstd_level > 19) {
        check(ZSTD_CCtx_setParameter(cctx_, ZSTD_c_windowLog, kZstd8mbWindowLog));
      }
    } catch (...) {
      give_back();
      throw;
    }
  }
  ~ZstdEncoder() override { give_back(); }
  ZstdEncoder(const ZstdEncoder&) = delete;
  ZstdEncoder& operator=(const ZstdEncoder&) = delete;

  Encoding encoding() const override { return frames_ ? Encoding::Zstd8mbFrames : Encoding::Zstd8mb; }
  bool splices_frames() const override { return frames_; }

  // zstd-8mb-frames: between spliced frames the payloads are mostly small
  // (the record before each stored chunk). Starting a compressed frame for
  // each costs more than it saves, so a small payload while no frame is open
  // goes out as a frame of one raw block; larger ones open a compressed frame.
  Result<void> encode(ByteView in, Bytes& out) override {
    if (frames_ && !frame_open_ && in.size() < kRawFrameBytes) {
      append_raw_frame(in, out);
      return {};
    }
    frame_open_ = true;
    return compress(in, out, ZSTD_e_flush);
  }

  Result<void> end_frame(ByteView in, Bytes& out) override {
    if (!frames_) return Encoder::end_frame(in, out);
    if (!frame_open_ && in.size() < kRawFrameBytes) {
      if (!in.empty()) append_raw_frame(in, out);
      return {};
    }
    // An open frame ends with `in`; a larger `in` with none open is a
    // compressed frame of its own (a raw frame is for small pieces only).
    frame_open_ = false;
    return compress(in, out, ZSTD_e_end);
  }

 private:
  static constexpr std::size_t kRawFrameBytes = 4096;

  // RFC 8878 frame: magic, a single-segment header with the content size,
  // one last raw block. in.size() < kRawFrameBytes (one block, 2-byte size).
  static void append_raw_frame(ByteView in, Bytes& out) {
    const std::size_t n = in.size();
    const std::uint8_t magic[] = {0x28, 0xb5, 0x2f, 0xfd};
    append(out, ByteView(magic, sizeof magic));
    if (n < 256) {
      out.push_back(0x20);  // single segment, 1-byte content size
      out.push_back(static_cast<std::uint8_t>(n));
    } else {
      out.push_back(0x60);  // single segment, 2-byte content size (minus 256)
      out.push_back(static_cast<std::uint8_t>((n - 256) & 0xff));
      out.push_back(static_cast<std::uint8_t>((n - 256) >> 8));
    }
    const std::uint32_t block = static_cast<std::uint32_t>(n) << 3 | 1;  // raw, last
    out.push_back(static_cast<std::uint8_t>(block & 0xff));
    out.push_back(static_cast<std::uint8_t>(block >> 8 & 0xff));
    out.push_back(static_cast<std::uint8_t>(block >> 16));
    append(out, in);
  }

  Result<void> compress(ByteView in, Bytes& out, ZSTD_EndDirective mode) {
    const std::size_t start = out.size();
    ZSTD_inBuffer input{in.data(), in.size(), 0};
    for (;;) {
      std::size_t used = out.size();
      std::size_t room = std::max<std::size_t>(ZSTD_compressBound(in.size() - input.pos), 64);
      out.resize(used + room);
      ZSTD_outBuffer output{out.data() + used, room, 0};
      std::size_t rc = ZSTD_compressStream2(cctx_, &output, &input, mode);
      out.resize(used + output.pos);
      if (ZSTD_isError(rc)) {
        out.resize(start);
        return fail(std::string(encoding_name(encoding())) + ": compression failed: " + ZSTD_getErrorName(rc));
      }
      if (rc == 0) return {};  // everything given so far is flushed (or the frame ended)
    }
  }

  void give_back() {
    if (pool_ != nullptr) {
      pool_->release(cctx_);
    } else {
      ZSTD_freeCCtx(cctx_);
    }
  }
  static void check(std::size_t rc) {
    if (ZSTD_isError(rc)) throw std::invalid_argument(ZSTD_getErrorName(rc));
  }
  bool frames_;
  bool frame_open_ = false;  // a compressed frame was started and not ended
  ZstdContextPool* pool_;
  ZSTD_CCtx* cctx_;
};

class ZstdDecoder final : public BoundedDecoder {
 public:
  ZstdDecoder(const DecoderLimits& limits, Encoding profile)
      : BoundedDecoder(limits), profile_(profile), dctx_(ZSTD_createDCtx()) {
    if (dctx_ == nullptr) throw std::bad_alloc();
    std::size_t rc = ZSTD_DCtx_setParameter(dctx_, ZSTD_d_windowLogMax, limits.zstd_window_log_max);
    if (ZSTD_isError(rc)) throw std::invalid_argument(ZSTD_getErrorName(rc));
  }
  ~ZstdDecoder() override { ZSTD_freeDCtx(dctx_); }
  ZstdDecoder(const ZstdDecoder&) = delete;
  ZstdDecoder& operator=(const ZstdDecoder&) = delete;

  Encoding encoding() const override { return profile_; }

 private:
  Result<void> run(ByteView in, Bytes& out) override {
    // No output is ever left pending between calls (the loop drains it), and
    // zstd counts repeated calls without input as an error.
    if (in.empty()) return {};
    ZSTD_inBuffer input{in.data(), in.size(), 0};
    for (;;) {
      if (auto magic = check_magic(in, input.pos); !magic) return magic;
      std::size_t room = next_step();
      std::size_t used = out.size();
      out.resize(used + room);
      ZSTD_outBuffer output{out.data() + used, room, 0};
      const std::size_t pos_before = input.pos;
      std::size_t rc = ZSTD_decompressStream(dctx_, &output, &input);
      out.resize(used + output.pos);
      if (ZSTD_isError(rc)) return fail(describe(rc, consumed_ + input.pos));
      note_magic(in, pos_before, input.pos);
      if (rc == 0) magic_seen_ = 0;  // a frame ended; the next byte starts a new one
      if (auto counted = count(output.pos); !counted) return counted;
      // A full output buffer may hide more output; otherwise stop once the
      // input is used up.
      if (output.pos < output.size && input.pos == input.size) break;
    }
    consumed_ += in.size();
    return {};
  }

  // Only RFC 8878 frames and skippable frames. Debian's libzstd also decodes
  // pre-1.0 "legacy" frames, but only when their magic number arrives in one
  // piece, so the same stream would decode or fail depending on chunking.
  // Checks the current frame's magic bytes in in[pos...] before zstd sees them.
  Result<void> check_magic(ByteView in, std::size_t pos) const {
    std::array<std::uint8_t, 4> magic = magic_;
    for (std::size_t seen = magic_seen_; seen < magic.size() && pos < in.size(); ++seen, ++pos) {
      magic[seen] = in[pos];
      if (!valid_magic_prefix(magic, seen + 1)) {
        return fail("zstd-8mb: not a zstd frame: magic number byte " + std::to_string(seen) + " is " +
                    hex_byte(in[pos]) + " (stream input byte " +
                    std::to_string(consumed_ + pos) +
                    "); frames start 28 b5 2f fd, pre-1.0 zstd formats are refused");
      }
    }
    return {};
  }
  // After zstd consumed in[from, to): remembers the magic bytes among them.
  void note_magic(ByteView in, std::size_t from, std::size_t to) {
    for (; magic_seen_ < magic_.size() && from < to; ++from) magic_[magic_seen_++] = in[from];
  }
  static bool valid_magic_prefix(const std::array<std::uint8_t, 4>& magic, std::size_t n) {
    static constexpr std::array<std::uint8_t, 4> kFrame = {0x28, 0xb5, 0x2f, 0xfd};  // 0xFD2FB528
    static constexpr std::array<std::uint8_t, 4> kSkippable = {0x50, 0x2a, 0x4d, 0x18};  // 0x184D2A5?
    const bool skippable = (magic[0] & 0xf0) == kSkippable[0];
    const auto& want = skippable ? kSkippable : kFrame;
    for (std::size_t i = skippable ? 1 : 0; i < n; ++i) {
      if (magic[i] != want[i]) return false;
    }
    return true;
  }

  std::string describe(std::size_t rc, std::uint64_t offset) const {
    std::string where = " (stream input byte " + std::to_string(offset) + ")";
    if (ZSTD_getErrorCode(rc) == ZSTD_error_frameParameter_windowTooLarge) {
      return "zstd-8mb: frame needs a window larger than " +
             std::to_string((std::uint64_t{1} << limits().zstd_window_log_max) >> 20) +
             " MiB (window log max " + std::to_string(limits().zstd_window_log_max) +
             "): " + ZSTD_getErrorName(rc) + where;
    }
    return std::string("zstd-8mb: corrupt data: ") + ZSTD_getErrorName(rc) + where;
  }

  Encoding profile_;
  ZSTD_DCtx* dctx_;
  std::uint64_t consumed_ = 0;
  std::array<std::uint8_t, 4> magic_{};  // the current frame's magic number...
  std::size_t magic_seen_ = 0;           // ...as far as zstd has consumed it
};

}  // namespace

std::unique_ptr<Encoder> make_zstd_encoder(const EncoderOptions& options, bool frames) {
  return std::make_unique<ZstdEncoder>(options, frames);
}

std::unique_ptr<Decoder> make_zstd_decoder(const DecoderLimits& limits, Encoding profile) {
  return std::make_unique<ZstdDecoder>(limits, profile);
}

}  // namespace hgrpc::framing::detail
