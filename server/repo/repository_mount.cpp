#include "server/repo/repository_mount.hpp"

#include <memory>
#include <sstream>

#include <fmt/format.h>

#include "server/repo/repo_commands.hpp"
#include "server/text.hpp"
#include "store/hgrc.hpp"
#include "store/node.hpp"

namespace hgrpc::server::repo {

namespace {

// Mercurial's boolean spellings (ui.configbool).
std::optional<bool> parse_bool(std::string_view v) {
  for (auto t : {"1", "yes", "true", "on", "always"})
    if (iequals(v, t)) return true;
  for (auto f : {"0", "no", "false", "off", "never"})
    if (iequals(v, f)) return false;
  return std::nullopt;
}

framing::json describe(const std::shared_ptr<const store::Repository>& repo, const std::string& path) {
  framing::json d{{"path", path}};
  auto snap = repo->snapshot();
  if (!snap) {
    d["error"] = snap.error().message;
    return d;
  }
  const auto served = snap->served_revs();
  d["changesets"] = served.size();
  d["tip"] = served.empty() ? std::string(40, '0') : store::hex(snap->changelog().entry(served.back()).node);
  return d;
}

}  // namespace

RepoFlag parse_repo_flag(std::string_view flag) {
  const auto eq = flag.find('=');
  if (eq != std::string_view::npos && valid_mount_name(flag.substr(0, eq)))
    return RepoFlag{std::string(flag.substr(0, eq)), std::filesystem::path(flag.substr(eq + 1))};
  return RepoFlag{{}, std::filesystem::path(flag)};
}

bool repository_is_publishing(const std::filesystem::path& hg_dir) {
  bool publishing = true;
  for (const auto& [key, value] : store::hgrc_section(hg_dir / "hgrc", "phases")) {
    if (key != "publish") continue;
    if (auto b = parse_bool(value)) publishing = *b;  // the last one wins
  }
  return publishing;
}

hgrpc::expected<Mount, std::string> repository_mount(const RepoFlag& flag, const CommandRegistry& base,
                                                     const MountSettings& settings) {
  const std::string shown = flag.path.string();
  auto opened = store::Repository::open(flag.path, settings.store);
  if (!opened)
    return hgrpc::unexpected<std::string>(fmt::format("cannot serve {}: {}", shown, opened.error().message));
  auto repository = std::make_shared<const store::Repository>(std::move(*opened));
  RepoCommandOptions options = settings.commands;
  options.publishing = repository_is_publishing(repository->layout().hg_dir);

  Mount mount;
  mount.name = flag.name;
  mount.registry = base;
  register_repository_commands(mount.registry, repository, options);
  mount.registry.set_descriptor_overrides(repository_capabilities(*repository));
  mount.describe = [repository, shown] { return describe(repository, shown); };
  return mount;
}

hgrpc::expected<std::vector<Mount>, std::string> mounts_for(const std::vector<std::string>& flags,
                                                            const CommandRegistry& base,
                                                            const MountSettings& settings) {
  std::vector<Mount> mounts;
  if (flags.empty()) {
    mounts.push_back(Mount{{}, base, {}});
    return mounts;
  }
  for (const auto& f : flags) {
    auto m = repository_mount(parse_repo_flag(f), base, settings);
    if (!m) return hgrpc::unexpected<std::string>(m.error());
    mounts.push_back(std::move(*m));
  }
  return mounts;
}

}  // namespace hgrpc::server::repo
