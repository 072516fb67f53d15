#include "mpatch/token_diff.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>

namespace hgrpc::mpatch {
namespace {

// Largest edit distance Myers is tried with on one region (its trace takes
// (d+1)^2 ints), and the work allowed to the whole diff beyond a linear base.
constexpr std::int64_t kMaxEditDistance = 1024;
constexpr std::int64_t kBaseBudget = 64ll << 20;

struct Region {
  std::size_t a0, a1, b0, b1;
};

class Differ {
 public:
  Differ(std::span<const std::uint32_t> a, std::span<const std::uint32_t> b, std::uint32_t distinct)
      : a_(a), b_(b), budget_(kBaseBudget + 16 * static_cast<std::int64_t>(a.size() + b.size())),
        counts_(distinct) {}

  std::vector<Match> run() {
    std::vector<Region> work{Region{0, a_.size(), 0, b_.size()}};
    while (!work.empty()) {
      Region r = work.back();
      work.pop_back();
      solve(r, work);
    }
    std::sort(matches_.begin(), matches_.end(),
              [](const Match& x, const Match& y) { return x.a < y.a; });
    std::vector<Match> merged;
    for (const Match& m : matches_) {
      if (m.n == 0) continue;
      if (!merged.empty() && merged.back().a + merged.back().n == m.a &&
          merged.back().b + merged.back().n == m.b) {
        merged.back().n += m.n;
      } else {
        merged.push_back(m);
      }
    }
    return merged;
  }

 private:
  void solve(Region r, std::vector<Region>& work) {
    std::size_t k = 0;
    while (r.a0 + k < r.a1 && r.b0 + k < r.b1 && a_[r.a0 + k] == b_[r.b0 + k]) ++k;
    if (k > 0) matches_.push_back(Match{r.a0, r.b0, k});
    r.a0 += k;
    r.b0 += k;
    k = 0;
    while (r.a1 - k > r.a0 && r.b1 - k > r.b0 && a_[r.a1 - k - 1] == b_[r.b1 - k - 1]) ++k;
    if (k > 0) matches_.push_back(Match{r.a1 - k, r.b1 - k, k});
    r.a1 -= k;
    r.b1 -= k;
    budget_ -= static_cast<std::int64_t>(k);
    if (r.a0 == r.a1 || r.b0 == r.b1 || budget_ <= 0) return;
    if (myers(r)) return;
    patience(r, work);
  }

  // Greedy forward Myers keeping each round's furthest points for the
  // backtrack. False when the distance exceeds the cap or the budget.
  bool myers(const Region& r) {
    const auto n = static_cast<std::int64_t>(r.a1 - r.a0);
    const auto m = static_cast<std::int64_t>(r.b1 - r.b0);
    const std::int64_t max_d = std::min(n + m, kMaxEditDistance);
    // The distance is at least |n - m|: past the cap Myers cannot succeed,
    // and trying would cost a trace of up to (cap + 1)^2 ints (17 MiB with
    // the vector's growth) for nothing, e.g. a small changeset text
    // against a first one listing thousands of files. The budget is charged
    // the rounds' cost as if it had tried (not the snakes', which depend on
    // the tokens), so later regions get about the same allowance as before.
    if (std::abs(n - m) > max_d) {
      for (std::int64_t d = 0; d <= max_d && budget_ > 0; ++d) budget_ -= 2 * d + 1;
      return false;
    }
    const std::uint32_t* a = a_.data() + r.a0;
    const std::uint32_t* b = b_.data() + r.b0;
    trace_.clear();
    // Round d stores diagonals k = -d..d at trace_[d*d + k + d]; -1: unreachable.
    auto at = [&](std::int64_t d, std::int64_t k) -> std::int64_t& {
      return trace_[static_cast<std::size_t>(d * d + k + d)];
    };
    // The predecessor choice, shared by the forward pass and the backtrack:
    // returns the x reached on diagonal k by round d's single edit (before
    // the snake), and the diagonal it came from.
    auto step = [&](std::int64_t d, std::int64_t k, std::int64_t& from) -> std::int64_t {
      if (d == 0) {
        from = 0;
        return 0;
      }
      std::int64_t best = -1;
      if (k + 1 <= d - 1) {
        const std::int64_t x = at(d - 1, k + 1);  // move down: take b[y]
        if (x >= 0 && x - (k + 1) < m) {
          best = x;
          from = k + 1;
        }
      }
      if (k - 1 >= -(d - 1)) {
        const std::int64_t x = at(d - 1, k - 1);  // move right: drop a[x]
        if (x >= 0 && x < n && x + 1 > best) {
          best = x + 1;
          from = k - 1;
        }
      }
      return best;
    };
    for (std::int64_t d = 0; d <= max_d; ++d) {
      trace_.resize(static_cast<std::size_t>((d + 1) * (d + 1)), -1);
      budget_ -= 2 * d + 1;
      for (std::int64_t k = -d; k <= d; k += 2) {
        std::int64_t from = 0;
        std::int64_t x = step(d, k, from);
        if (x < 0) continue;
        std::int64_t y = x - k;
        const std::int64_t x0 = x;
        while (x < n && y < m && a[x] == b[y]) ++x, ++y;
        budget_ -= x - x0;
        at(d, k) = x;
        if (x == n && y == m) {
          backtrack(r, d, k, step, at);
          return true;
        }
      }
      if (budget_ <= 0) return false;
    }
    return false;
  }

  template <class Step, class At>
  void backtrack(const Region& r, std::int64_t d, std::int64_t k, Step& step, At& at) {
    for (; d >= 0; --d) {
      const std::int64_t x = at(d, k);
      std::int64_t from = 0;
      const std::int64_t x0 = step(d, k, from);
      if (x > x0)
        matches_.push_back(Match{r.a0 + static_cast<std::size_t>(x0),
                                 r.b0 + static_cast<std::size_t>(x0 - k),
                                 static_cast<std::size_t>(x - x0)});
      k = from;
    }
  }

  // Splits the region at the longest increasing run of tokens that occur
  // exactly once in each side; no such token: the region stays unmatched.
  void patience(const Region& r, std::vector<Region>& work) {
    budget_ -= static_cast<std::int64_t>(2 * (r.a1 - r.a0 + r.b1 - r.b0));
    for (std::size_t i = r.a0; i < r.a1; ++i) {
      Count& c = counts_[a_[i]];
      ++c.in_a;
      c.a_pos = i;
    }
    for (std::size_t j = r.b0; j < r.b1; ++j) ++counts_[b_[j]].in_b;
    // Unique pairs in b order; their a positions' longest increasing subsequence.
    std::vector<std::size_t> pairs_a, pairs_b;
    for (std::size_t j = r.b0; j < r.b1; ++j) {
      const Count& c = counts_[b_[j]];
      if (c.in_a == 1 && c.in_b == 1) {
        pairs_a.push_back(c.a_pos);
        pairs_b.push_back(j);
      }
    }
    for (std::size_t i = r.a0; i < r.a1; ++i) counts_[a_[i]] = Count{};
    for (std::size_t j = r.b0; j < r.b1; ++j) counts_[b_[j]] = Count{};
    if (pairs_a.empty()) return;

    std::vector<std::size_t> pile_tops;  // index into pairs of each pile's top
    std::vector<std::size_t> back(pairs_a.size());
    for (std::size_t i = 0; i < pairs_a.size(); ++i) {
      auto it = std::lower_bound(pile_tops.begin(), pile_tops.end(), pairs_a[i],
                                 [&](std::size_t top, std::size_t v) { return pairs_a[top] < v; });
      back[i] = it == pile_tops.begin() ? SIZE_MAX : *(it - 1);
      if (it == pile_tops.end()) {
        pile_tops.push_back(i);
      } else {
        *it = i;
      }
    }
    std::vector<std::size_t> chain;
    for (std::size_t i = pile_tops.back(); i != SIZE_MAX; i = back[i]) chain.push_back(i);
    std::reverse(chain.begin(), chain.end());

    std::size_t a_from = r.a0, b_from = r.b0;
    for (std::size_t i : chain) {
      matches_.push_back(Match{pairs_a[i], pairs_b[i], 1});
      work.push_back(Region{a_from, pairs_a[i], b_from, pairs_b[i]});
      a_from = pairs_a[i] + 1;
      b_from = pairs_b[i] + 1;
    }
    work.push_back(Region{a_from, r.a1, b_from, r.b1});
  }

  struct Count {
    std::uint32_t in_a = 0;
    std::uint32_t in_b = 0;
    std::size_t a_pos = 0;
  };

  std::span<const std::uint32_t> a_;
  std::span<const std::uint32_t> b_;
  std::int64_t budget_;
  std::vector<Count> counts_;
  std::vector<std::int64_t> trace_;
  std::vector<Match> matches_;
};

}  // namespace

std::vector<Match> match_tokens(std::span<const std::uint32_t> a, std::span<const std::uint32_t> b,
                                std::uint32_t distinct) {
  return Differ(a, b, distinct).run();
}

}  // namespace hgrpc::mpatch
