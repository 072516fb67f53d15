#include "store/branchmap.hpp"

#include <unordered_map>

namespace hgrpc::store {

std::map<std::string, std::vector<BranchHead>> compute_branchmap(std::span<const BranchRev> revs) {
  std::unordered_map<int, std::size_t> index_of;
  index_of.reserve(revs.size());
  for (std::size_t i = 0; i < revs.size(); ++i) index_of[revs[i].rev] = i;
  std::vector<bool> has_child_on_branch(revs.size(), false);
  for (const auto& r : revs) {
    for (int p : {r.p1, r.p2}) {
      auto it = index_of.find(p);
      if (it != index_of.end() && *revs[it->second].branch == *r.branch) {
        has_child_on_branch[it->second] = true;
      }
    }
  }
  std::map<std::string, std::vector<BranchHead>> map;
  for (std::size_t i = 0; i < revs.size(); ++i) {
    if (!has_child_on_branch[i]) map[*revs[i].branch].push_back({revs[i].rev, revs[i].closes});
  }
  return map;
}

}  // namespace hgrpc::store
