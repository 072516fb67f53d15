// zlib profile: the zlib format (deflate with the 2-byte header and Adler-32
// trailer), as Python's zlib.compressobj() writes it.
#include <zlib.h>

#include <algorithm>
#include <climits>
#include <new>
#include <stdexcept>
#include <string>

#include "framing/codecs.hpp"

namespace hgrpc::framing::detail {
namespace {

std::string zlib_reason(const z_stream& s, int rc) {
  if (s.msg != nullptr) return s.msg;
  return zError(rc);
}

class ZlibEncoder final : public Encoder {
 public:
  explicit ZlibEncoder(const EncoderOptions& options) {
    int rc = deflateInit(&stream_, options.zlib_level);
    if (rc == Z_MEM_ERROR) throw std::bad_alloc();
    if (rc != Z_OK) throw std::invalid_argument("zlib: invalid compression level");
  }
  ~ZlibEncoder() override { deflateEnd(&stream_); }
  ZlibEncoder(const ZlibEncoder&) = delete;
  ZlibEncoder& operator=(const ZlibEncoder&) = delete;

  Encoding encoding() const override { return Encoding::Zlib; }

  Result<void> encode(ByteView in, Bytes& out) override {
    const std::size_t start = out.size();
    std::size_t pos = 0;
    // Z_SYNC_FLUSH after the last piece of input; a piece is at most UINT_MAX.
    do {
      std::size_t piece = std::min<std::size_t>(in.size() - pos, UINT_MAX);
      stream_.next_in = const_cast<Bytef*>(in.data() + pos);
      stream_.avail_in = static_cast<uInt>(piece);
      pos += piece;
      const int flush = pos == in.size() ? Z_SYNC_FLUSH : Z_NO_FLUSH;
      for (;;) {
        std::size_t used = out.size();
        std::size_t room = std::max<std::size_t>(deflateBound(&stream_, stream_.avail_in), 64);
        out.resize(used + room);
        stream_.next_out = out.data() + used;
        stream_.avail_out = static_cast<uInt>(room);
        int rc = deflate(&stream_, flush);
        out.resize(used + room - stream_.avail_out);
        if (rc == Z_BUF_ERROR) break;  // nothing left to do
        if (rc != Z_OK) {
          out.resize(start);
          return fail("zlib: compression failed: " + zlib_reason(stream_, rc));
        }
        if (stream_.avail_out != 0 && stream_.avail_in == 0) break;
      }
    } while (pos < in.size());
    return {};
  }

 private:
  z_stream stream_{};
};

class ZlibDecoder final : public BoundedDecoder {
 public:
  explicit ZlibDecoder(const DecoderLimits& limits) : BoundedDecoder(limits) {
    int rc = inflateInit(&stream_);
    if (rc == Z_MEM_ERROR) throw std::bad_alloc();
    if (rc != Z_OK) throw std::runtime_error("zlib: inflateInit failed");
  }
  ~ZlibDecoder() override { inflateEnd(&stream_); }
  ZlibDecoder(const ZlibDecoder&) = delete;
  ZlibDecoder& operator=(const ZlibDecoder&) = delete;

  Encoding encoding() const override { return Encoding::Zlib; }

 private:
  Result<void> run(ByteView in, Bytes& out) override {
    if (ended_ && !in.empty()) {
      return fail("zlib: " + std::to_string(in.size()) +
                  " bytes after the end of the compressed stream");
    }
    std::size_t pos = 0;
    while (pos < in.size()) {
      std::size_t piece = std::min<std::size_t>(in.size() - pos, UINT_MAX);
      stream_.next_in = const_cast<Bytef*>(in.data() + pos);
      stream_.avail_in = static_cast<uInt>(piece);
      for (;;) {
        // One byte more than the budget: producing it proves the limit is hit.
        std::size_t room = next_step();
        std::size_t used = out.size();
        out.resize(used + room);
        stream_.next_out = out.data() + used;
        stream_.avail_out = static_cast<uInt>(room);
        int rc = inflate(&stream_, Z_NO_FLUSH);
        std::size_t produced = room - stream_.avail_out;
        out.resize(used + produced);
        if (auto counted = count(produced); !counted) return counted;
        if (rc == Z_STREAM_END) {
          ended_ = true;
          if (stream_.avail_in != 0 || pos + piece < in.size()) {
            return fail("zlib: " + std::to_string(in.size() - pos - (piece - stream_.avail_in)) +
                        " bytes after the end of the compressed stream");
          }
          return {};
        }
        if (rc == Z_BUF_ERROR && stream_.avail_in == 0) break;  // needs more input
        if (rc == Z_MEM_ERROR) throw std::bad_alloc();
        if (rc != Z_OK) {
          if (rc == Z_NEED_DICT) {
            return fail("zlib: corrupt data at input byte " + std::to_string(stream_.total_in) +
                        ": stream needs a preset dictionary");
          }
          return fail("zlib: corrupt data at input byte " + std::to_string(stream_.total_in) + ": " +
                      zlib_reason(stream_, rc));
        }
        if (stream_.avail_in == 0 && stream_.avail_out != 0) break;
      }
      pos += piece;
    }
    return {};
  }

  z_stream stream_{};
  bool ended_ = false;
};

}  // namespace

std::unique_ptr<Encoder> make_zlib_encoder(const EncoderOptions& options) {
  return std::make_unique<ZlibEncoder>(options);
}

std::unique_ptr<Decoder> make_zlib_decoder(const DecoderLimits& limits) {
  return std::make_unique<ZlibDecoder>(limits);
}

}  // namespace hgrpc::framing::detail
