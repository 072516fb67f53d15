#pragma once
// The median of timings collected by the paired benchmarks (the upper
// middle one for an even count). Takes a copy: nth_element reorders it.
#include <algorithm>
#include <cstddef>
#include <vector>

namespace hgrpc::bench {

inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

}  // namespace hgrpc::bench
