#pragma once
// The branch map: for each named branch, its heads (revs with no child on
// the same branch), in ascending rev order, closed heads included and marked.
#include <map>
#include <span>
#include <string>
#include <vector>

namespace hgrpc::store {

struct BranchHead {
  int rev;
  bool closed;
};

struct BranchRev {
  int rev;
  int p1;
  int p2;
  const std::string* branch;
  bool closes;
};

// `revs` in ascending rev order, restricted to the view the map is for.
std::map<std::string, std::vector<BranchHead>> compute_branchmap(std::span<const BranchRev> revs);

}  // namespace hgrpc::store
