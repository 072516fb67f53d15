#pragma once
// Creates an empty repository as Debian's Mercurial 6.3.2 `hg init` does
// (checked by running it): .hg/requires holds "share-safe", .hg/store/requires
// the rest, sorted: dotencode fncache generaldelta [revlog-compression-zstd]
// revlogv1 sparserevlog store. No dirstate-v2, no persistent nodemap (6.3.2's
// defaults without its Rust extensions). .hg/00changelog.i is the 57-byte
// "dummy changelog" that makes pre-store clients refuse the repository.
// With a default path, .hg/hgrc gets "[paths]\ndefault = URL\n", as `hg
// clone` writes it.
#include <filesystem>
#include <optional>
#include <set>
#include <string>

#include "store/chunk.hpp"
#include "store/error.hpp"

namespace hgrpc::store {

struct NewRepositoryOptions {
  Compression compression = Compression::kZstd;  // kZlib: no revlog-compression-zstd requirement
  std::optional<std::string> default_path;
};

// The requirements such a repository gets: .hg/requires and .hg/store/requires.
std::set<std::string> new_working_requirements();
std::set<std::string> new_store_requirements(const NewRepositoryOptions& options);

// Fails if root/.hg exists already. Creates root if needed.
Result<void> create_repository(const std::filesystem::path& root, const NewRepositoryOptions& options = {});

}  // namespace hgrpc::store
