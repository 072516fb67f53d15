#pragma once
// A repository's requirements and where its store is. Mercurial refuses any
// requirement it does not know; so do we, and we also refuse known ones
// whose data we cannot serve faithfully (the error names the requirement and
// says why).
#include <filesystem>
#include <set>
#include <string>

#include "store/error.hpp"
#include "store/path_encoding.hpp"

namespace hgrpc::store {

struct RepositoryLayout {
  std::filesystem::path root;       // the working directory (holds .hg)
  std::filesystem::path hg_dir;     // root/.hg
  std::filesystem::path store_dir;  // .hg/store, the share source's store, or .hg itself (basic)
  std::set<std::string> requirements;  // .hg/requires plus, with share-safe, store/requires
  StoreKind store_kind = StoreKind::kFncacheDotencode;
  bool bookmarks_in_store = false;
};

// The outcome of one requirement under our policy: empty if accepted,
// otherwise the reason it is refused.
std::string refusal_reason(const std::string& requirement);

// Parses a requires file: one requirement per line. A line that is empty or
// does not start with a letter or digit makes the file corrupt (as in Mercurial).
Result<std::set<std::string>> parse_requires(std::string_view text, const std::string& file_name);

// Reads .hg/requires (and store/requires with share-safe), follows
// shared/relshared through .hg/sharedpath, checks every requirement against
// the policy and picks the store kind.
Result<RepositoryLayout> read_layout(const std::filesystem::path& root);

}  // namespace hgrpc::store
