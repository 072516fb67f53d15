// FrameReader: byte 0 picks the maximum payload, byte 1 seeds the chunk
// sizes, the rest is the body. Chunked reading must agree with reading the
// body in one piece, every payload must be the body's bytes at the frame's
// offset, and finish() must agree with at_frame_boundary().
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "framing/frame_reader.hpp"

using namespace hgrpc::framing;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

struct Seen {
  FrameHeader header;
  std::uint64_t offset;
};

struct Run {
  std::vector<Seen> frames;
  bool failed = false;
  bool finished_ok = false;
};

Run read(ByteView body, std::size_t max_payload, std::uint32_t seed, bool chunked) {
  Run run;
  FrameReader r(max_payload);
  std::uint32_t state = seed | 1;
  std::size_t pos = 0;
  while (pos < body.size() && !run.failed) {
    std::size_t n = body.size() - pos;
    if (chunked) {
      state ^= state << 13, state ^= state >> 17, state ^= state << 5;  // xorshift32
      n = std::min<std::size_t>(n, state % 40);
    }
    // A copy that dies after the chunk is drained: the reader must not keep
    // pointers into it (ASan catches a use after free).
    std::vector<std::uint8_t> chunk(body.begin() + static_cast<std::ptrdiff_t>(pos),
                                    body.begin() + static_cast<std::ptrdiff_t>(pos + n));
    r.feed(chunk);
    pos += n;
    for (;;) {
      auto f = r.next();
      if (!f) {
        run.failed = true;
        check(!f.error().message.empty());
        // Only a declared length over the maximum fails, at the next frame.
        const std::uint64_t at = r.bytes_read();
        check(at + kFrameHeaderSize <= body.size());
        check(decode_header(body.data() + at).length > max_payload);
        break;
      }
      if (!*f) break;
      const Frame& frame = **f;
      check(frame.payload.size() == frame.header.length);
      check(frame.payload.size() <= max_payload);
      const std::uint64_t off = r.last_frame_offset();
      check(off + kFrameHeaderSize + frame.payload.size() == r.bytes_read());
      check(r.frames_read() == run.frames.size() + 1);
      check(frame.payload.empty() ||
            std::memcmp(frame.payload.data(), body.data() + off + kFrameHeaderSize,
                        frame.payload.size()) == 0);
      run.frames.push_back(Seen{frame.header, off});
    }
  }
  auto fin = r.finish();
  run.finished_ok = fin.has_value();
  if (!run.failed) {
    check(r.bytes_fed() == body.size());
    check(run.finished_ok == r.at_frame_boundary());
    check(run.finished_ok == (r.bytes_read() == body.size()));
  } else {
    check(!run.finished_ok);
  }
  return run;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t max_payload = (std::size_t{data[0]} << 4) | 0x0F;  // 15 .. 4095
  const ByteView body(data + 2, size - 2);
  const Run whole = read(body, max_payload, data[1], false);
  const Run chunked = read(body, max_payload, data[1], true);
  check(whole.failed == chunked.failed);
  check(whole.finished_ok == chunked.finished_ok);
  check(whole.frames.size() == chunked.frames.size());
  for (std::size_t i = 0; i < whole.frames.size(); ++i) {
    check(whole.frames[i].offset == chunked.frames[i].offset);
    check(whole.frames[i].header.length == chunked.frames[i].header.length);
  }
  return 0;
}
