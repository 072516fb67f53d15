#pragma once
// Internal: reads the hunks of one delta in order, validating each as it goes,
// without allocating. decode(), patched_size() and fold() share it so that
// they accept and reject exactly the same deltas with the same messages.
#include <cstddef>
#include <cstdint>

#include "mpatch/error.hpp"
#include "mpatch/mpatch.hpp"

namespace hgrpc::mpatch {

inline constexpr std::size_t kHunkHeaderSize = 12;

inline std::int32_t read_be32(const std::uint8_t* p) {
  const std::uint32_t u = (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) |
                          (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
  return static_cast<std::int32_t>(u);  // two's complement, as on the wire
}

inline void write_be32(std::uint8_t* p, std::int32_t v) {
  const auto u = static_cast<std::uint32_t>(v);
  p[0] = static_cast<std::uint8_t>(u >> 24);
  p[1] = static_cast<std::uint8_t>(u >> 16);
  p[2] = static_cast<std::uint8_t>(u >> 8);
  p[3] = static_cast<std::uint8_t>(u);
}

class HunkReader {
 public:
  // delta_index < 0: a lone delta, messages name only the hunk.
  explicit HunkReader(ByteView delta, std::ptrdiff_t delta_index = -1)
      : delta_(delta), delta_index_(delta_index) {}

  // true and `out` set: one more hunk; false: the delta is exhausted.
  Result<bool> next(Hunk& out) {
    const std::size_t remaining = delta_.size() - offset_;
    if (remaining == 0) return false;
    if (remaining < kHunkHeaderSize)
      return fail(where() + "header needs 12 bytes but only " + std::to_string(remaining) +
                  " remain in the delta");
    const std::uint8_t* p = delta_.data() + offset_;
    const std::int32_t start = read_be32(p);
    const std::int32_t end = read_be32(p + 4);
    const std::int32_t length = read_be32(p + 8);
    if (start < 0) return fail(where() + "start " + std::to_string(start) + " is negative");
    if (start > end)
      return fail(where() + "start " + std::to_string(start) + " is after end " +
                  std::to_string(end));
    if (length < 0) return fail(where() + "length " + std::to_string(length) + " is negative");
    if (static_cast<std::size_t>(length) > remaining - kHunkHeaderSize)
      return fail(where() + "data of " + std::to_string(length) +
                  " bytes runs past the end of the delta (" +
                  std::to_string(remaining - kHunkHeaderSize) + " bytes remain)");
    if (start < previous_end_)
      return fail(where() + "start " + std::to_string(start) +
                  " is before the end of the previous hunk (" + std::to_string(previous_end_) +
                  "): hunks must be sorted and must not overlap");
    out.start = start;
    out.end = end;
    out.data = delta_.subspan(offset_ + kHunkHeaderSize, static_cast<std::size_t>(length));
    previous_end_ = end;
    hunk_offset_ = offset_;
    offset_ += kHunkHeaderSize + static_cast<std::size_t>(length);
    ++hunk_index_;
    return true;
  }

  // Location of the hunk last returned by next(), for callers' own checks.
  std::string last_location() const {
    return hunk_location(delta_index_, hunk_index_ - 1, hunk_offset_);
  }

 private:
  std::string where() const { return hunk_location(delta_index_, hunk_index_, offset_); }

  ByteView delta_;
  std::ptrdiff_t delta_index_;
  std::size_t offset_ = 0;
  std::size_t hunk_offset_ = 0;
  std::size_t hunk_index_ = 0;
  std::int32_t previous_end_ = 0;
};

}  // namespace hgrpc::mpatch
