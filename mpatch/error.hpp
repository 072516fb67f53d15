#pragma once
// Internal: building error values and the "where" part of their messages.
#include <cstddef>
#include <cstdint>
#include <string>

#include "mpatch/mpatch.hpp"

namespace hgrpc::mpatch {

inline hgrpc::unexpected<Error> fail(std::string message) {
  return hgrpc::unexpected<Error>(Error{std::move(message)});
}

// "delta 3, hunk 7 (offset 96): " or, for a lone delta, "hunk 7 (offset 96): ".
// Indices count from 0; the offset is that of the hunk's header in its delta.
inline std::string hunk_location(std::ptrdiff_t delta_index, std::size_t hunk_index,
                                 std::size_t offset) {
  std::string where;
  if (delta_index >= 0) where = "delta " + std::to_string(delta_index) + ", ";
  return where + "hunk " + std::to_string(hunk_index) + " (offset " + std::to_string(offset) +
         "): ";
}

inline std::string past_end_message(const std::string& location, std::int64_t end,
                                    std::uint64_t text_size) {
  return location + "end " + std::to_string(end) + " is past the end of the text (" +
         std::to_string(text_size) + " bytes)";
}

}  // namespace hgrpc::mpatch
