#pragma once
// Internal: gathers many pieces into one large destination with
// non-temporal stores. Ordinary stores first read each destination cache
// line they write (it is not in cache when the destination is larger than
// the caches), which costs half as much memory traffic again as the copy
// itself. glibc's memcpy avoids that for one large copy, but not for the
// many small ones of an apply. Pieces are gathered in a small buffer that
// stays in L1 and is streamed out in whole cache lines.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace hgrpc::mpatch {

#if defined(__SSE2__)
inline constexpr bool kStreamingStores = true;
#else
inline constexpr bool kStreamingStores = false;
#endif

// Outputs at least this large are written with StreamingCopy: far beyond
// L2, and beyond what a reader would find still in L3.
inline constexpr std::uint64_t kStreamingMinBytes = std::uint64_t{8} << 20;

class StreamingCopy {
 public:
  explicit StreamingCopy(std::uint8_t* destination)
      : out_(destination),
        // The first batch ends on a cache line boundary of the destination,
        // so that the later ones cover whole lines.
        limit_(kStage - reinterpret_cast<std::uintptr_t>(destination) % kLine) {}
  StreamingCopy(const StreamingCopy&) = delete;
  StreamingCopy& operator=(const StreamingCopy&) = delete;

  // Appends n bytes from p.
  void put(const std::uint8_t* p, std::size_t n) {
    // Once the destination is line-aligned (after the first batch), a long
    // piece is streamed straight from its source: the stage takes it only up
    // to a line boundary, and afterwards what is left of the last line.
    if (n >= kDirectMin && limit_ == kStage) {
      const std::size_t to_line = std::min(n, (kLine - staged_ % kLine) % kLine);
      std::memcpy(stage_ + staged_, p, to_line);
      staged_ += to_line;
      p += to_line;
      n -= to_line;
      flush();
      const std::size_t lines = n - n % kLine;
      stream(out_, p, lines);
      out_ += lines;
      p += lines;
      n -= lines;
    }
    while (n > 0) {
      const std::size_t c = std::min(n, limit_ - staged_);
      std::memcpy(stage_ + staged_, p, c);
      staged_ += c;
      p += c;
      n -= c;
      if (staged_ == limit_) flush();
    }
  }

  // Writes what is staged and orders the streamed stores before later ones.
  void finish() {
    flush();
#if defined(__SSE2__)
    _mm_sfence();
#endif
  }

 private:
  static constexpr std::size_t kLine = 64;
  static constexpr std::size_t kStage = 4096;
  static constexpr std::size_t kDirectMin = 512;  // shorter pieces are staged
  static constexpr std::size_t kFetchAhead = 1024;

  void flush() {
    stream(out_, stage_, staged_);
    out_ += staged_;
    staged_ = 0;
    limit_ = kStage;
  }

  // Plain stores for a head and tail that are not 16-byte aligned.
  static void stream(std::uint8_t* d, const std::uint8_t* s, std::size_t n) {
#if defined(__SSE2__)
    const std::size_t head = std::min(n, (16 - reinterpret_cast<std::uintptr_t>(d) % 16) % 16);
    std::memcpy(d, s, head);
    d += head, s += head, n -= head;
    // A cache line per step (the loop's overhead was as many instructions
    // as its copying), then what is left in 16-byte steps. The source is
    // fetched kFetchAhead bytes early with the non-temporal hint: a long
    // piece is read once, and should not push the deltas out of the caches.
    // (Integer arithmetic: the address may be past the source, and a
    // prefetch never faults.)
    for (; n >= kLine; d += kLine, s += kLine, n -= kLine) {
      __builtin_prefetch(reinterpret_cast<const void*>(reinterpret_cast<std::uintptr_t>(s) + kFetchAhead), 0, 0);
      const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s));
      const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + 16));
      const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + 32));
      const __m128i e = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + 48));
      _mm_stream_si128(reinterpret_cast<__m128i*>(d), a);
      _mm_stream_si128(reinterpret_cast<__m128i*>(d + 16), b);
      _mm_stream_si128(reinterpret_cast<__m128i*>(d + 32), c);
      _mm_stream_si128(reinterpret_cast<__m128i*>(d + 48), e);
    }
    for (; n >= 16; d += 16, s += 16, n -= 16)
      _mm_stream_si128(reinterpret_cast<__m128i*>(d),
                       _mm_loadu_si128(reinterpret_cast<const __m128i*>(s)));
#endif
    std::memcpy(d, s, n);
  }

  std::uint8_t* out_;
  std::size_t limit_;
  std::size_t staged_ = 0;
  alignas(kLine) std::uint8_t stage_[kStage];
};

}  // namespace hgrpc::mpatch
