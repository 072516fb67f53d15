#pragma once
// Checking out a revision into an empty working directory, as `hg update`
// from the null revision does: every file of its manifest (validated with
// validate_tracked_path; a parent directory that exists as anything but a
// real directory, a symlink included, is refused, so nothing is written
// outside the root), regular files with the exec bit where the manifest has
// 'x' (added where the umask left read permission), symlinks for 'l', then
// .hg/dirstate (v1, every file clean) and .hg/branch.
#include <cstdint>
#include <filesystem>

#include "store/error.hpp"
#include "store/repository.hpp"

namespace hgrpc::store {

struct CheckoutSummary {
  std::uint64_t files = 0;
  std::uint64_t bytes = 0;
};

// The revision `hg clone` checks out: the "@" bookmark, else the tip-most
// open head of the default branch (the tip-most head if all are closed),
// else the tip; kNullRev for an empty repository.
Result<int> default_checkout_rev(const Snapshot& snapshot);

// `root` is the repository's working directory (it holds .hg).
Result<CheckoutSummary> check_out(const Snapshot& snapshot, int rev, const std::filesystem::path& root);

}  // namespace hgrpc::store
