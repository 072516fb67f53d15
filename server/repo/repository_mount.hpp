#pragma once
// hgrpcd's --repo options turned into the site's mounts: each repository
// opened (its requirements checked once, at start), with a registry of the
// base commands plus the repository commands, and the repository's
// descriptor keys in its capabilities.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "compat/expected.hpp"
#include "server/repo/repo_options.hpp"
#include "server/site.hpp"
#include "store/repository.hpp"

namespace hgrpc::server::repo {

struct RepoFlag {
  std::string name;  // empty: served at the root
  std::filesystem::path path;
};

// "PATH" or "NAME=PATH" (NAME: see valid_mount_name; anything else before a
// '=' is part of a path).
RepoFlag parse_repo_flag(std::string_view flag);

// phases.publish from the repository's .hg/hgrc ([phases] publish = BOOL;
// true when absent, as in Mercurial). %include and other files are not
// read: a repository that relies on them states it in its own hgrc.
bool repository_is_publishing(const std::filesystem::path& hg_dir);

struct MountSettings {
  RepoCommandOptions commands;  // publishing is taken from each repository
  store::RepositoryOptions store;
};

// Opens the repository of `flag` and builds its mount. Errors name the
// repository's path and what is wrong (e.g. the refused requirement).
hgrpc::expected<Mount, std::string> repository_mount(const RepoFlag& flag, const CommandRegistry& base,
                                                     const MountSettings& settings);

// The mounts of every --repo flag; without flags, one root mount of `base`.
hgrpc::expected<std::vector<Mount>, std::string> mounts_for(const std::vector<std::string>& flags,
                                                            const CommandRegistry& base,
                                                            const MountSettings& settings);

}  // namespace hgrpc::server::repo
