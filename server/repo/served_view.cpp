#include "server/repo/served_view.hpp"

#include <limits>

namespace hgrpc::server::repo {

std::optional<int> served_rev(const store::Snapshot& snapshot, const store::Node& node) {
  auto rev = snapshot.changelog().rev(node);
  if (!rev || *rev < 0 || *rev >= snapshot.size() || !snapshot.is_served(*rev)) return std::nullopt;
  return rev;
}

std::vector<int> served_heads(const store::Snapshot& snapshot, bool public_only) {
  const int n = snapshot.size();
  auto in_view = [&](int r) { return public_only ? snapshot.phase(r) == store::kPublic : snapshot.is_served(r); };
  std::vector<bool> has_child(static_cast<std::size_t>(n), false);
  std::vector<int> heads;
  for (int r = n - 1; r >= 0; --r) {
    if (!in_view(r)) continue;
    if (!has_child[static_cast<std::size_t>(r)]) heads.push_back(r);
    const auto& e = snapshot.changelog().entry(r);
    for (int p : {e.p1, e.p2}) {
      if (p >= 0) has_child[static_cast<std::size_t>(p)] = true;
    }
  }
  return heads;
}

namespace {

// Marks `revs` and all their ancestors.
std::vector<bool> ancestor_marks(const store::Snapshot& snapshot, std::span<const int> revs) {
  std::vector<bool> mark(static_cast<std::size_t>(snapshot.size()), false);
  int top = -1;
  for (int r : revs) {
    mark[static_cast<std::size_t>(r)] = true;
    top = std::max(top, r);
  }
  for (int r = top; r >= 0; --r) {
    if (!mark[static_cast<std::size_t>(r)]) continue;
    const auto& e = snapshot.changelog().entry(r);
    for (int p : {e.p1, e.p2}) {
      if (p >= 0) mark[static_cast<std::size_t>(p)] = true;
    }
  }
  return mark;
}

}  // namespace

std::vector<int> dag_range(const store::Snapshot& snapshot, std::span<const int> roots, std::span<const int> heads) {
  auto common = ancestor_marks(snapshot, roots);
  auto wanted = ancestor_marks(snapshot, heads);
  std::vector<int> out;
  for (int r = 0; r < snapshot.size(); ++r) {
    if (wanted[static_cast<std::size_t>(r)] && !common[static_cast<std::size_t>(r)]) out.push_back(r);
  }
  return out;
}

std::vector<int> ancestors_within(const store::Snapshot& snapshot, std::span<const int> revs, int max_generations) {
  constexpr int kUnreached = std::numeric_limits<int>::max();
  std::vector<int> distance(static_cast<std::size_t>(snapshot.size()), kUnreached);
  int top = -1;
  for (int r : revs) {
    distance[static_cast<std::size_t>(r)] = 0;
    top = std::max(top, r);
  }
  // Children have higher revs than their parents: one descending pass sees
  // every child of a rev before the rev itself.
  for (int r = top; r >= 0; --r) {
    int d = distance[static_cast<std::size_t>(r)];
    if (d >= max_generations) continue;
    const auto& e = snapshot.changelog().entry(r);
    for (int p : {e.p1, e.p2}) {
      if (p >= 0) distance[static_cast<std::size_t>(p)] = std::min(distance[static_cast<std::size_t>(p)], d + 1);
    }
  }
  std::vector<int> out;
  for (int r = 0; r <= top; ++r) {
    if (distance[static_cast<std::size_t>(r)] <= max_generations) out.push_back(r);
  }
  return out;
}

}  // namespace hgrpc::server::repo
