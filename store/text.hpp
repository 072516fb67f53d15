#pragma once
// Text helpers of the store's small text files (.hgtags, hgrc).
#include <string_view>

namespace hgrpc::store {

// s without leading and trailing whitespace (as Python's str.strip()).
inline std::string_view strip(std::string_view s) {
  constexpr std::string_view kWhitespace = " \t\n\r\v\f";
  const auto begin = s.find_first_not_of(kWhitespace);
  if (begin == std::string_view::npos) return {};
  return s.substr(begin, s.find_last_not_of(kWhitespace) - begin + 1);
}

}  // namespace hgrpc::store
