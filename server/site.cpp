#include "server/site.hpp"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "server/text.hpp"

namespace hgrpc::server {

namespace {

// The server's own paths: a mount cannot take their names.
constexpr std::string_view kReservedNames[] = {"healthz", "metrics", "api"};

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

SiteRoute not_found(std::string reason) {
  SiteRoute r;
  r.route.reason = std::move(reason);
  return r;
}

framing::json description(const Mount& m) {
  framing::json entry = m.describe ? m.describe() : framing::json::object();
  entry["name"] = m.name;
  entry["url"] = "/" + m.name + "/";
  return entry;
}

}  // namespace

bool valid_mount_name(std::string_view name) {
  if (name.empty() || name.size() > 100 || name.front() == '.') return false;
  if (!std::all_of(name.begin(), name.end(), is_name_char)) return false;
  return std::find(std::begin(kReservedNames), std::end(kReservedNames), name) == std::end(kReservedNames);
}

hgrpc::expected<Site, std::string> Site::make(std::vector<Mount> mounts) {
  if (mounts.empty()) return hgrpc::unexpected<std::string>("nothing to serve");
  std::set<std::string, std::less<>> names;
  for (const auto& m : mounts) {
    if (m.name.empty()) {
      if (mounts.size() != 1)
        return hgrpc::unexpected<std::string>(
            "a repository served at the root (--repo PATH) cannot be combined with other --repo options");
      continue;
    }
    if (!valid_mount_name(m.name))
      return hgrpc::unexpected<std::string>(fmt::format(
          "invalid repository name '{}': use letters, digits, '.', '_' and '-', not starting with '.', "
          "and none of healthz, metrics, api",
          m.name));
    if (!names.insert(m.name).second)
      return hgrpc::unexpected<std::string>(fmt::format("repository name '{}' given twice", m.name));
  }
  Site site;
  site.mounts_ = std::move(mounts);
  return site;
}

const Mount* Site::find(std::string_view name) const {
  for (const auto& m : mounts_)
    if (m.name == name) return &m;
  return nullptr;
}

SiteRoute route_site(std::string_view path, const std::optional<std::string>& cmd, const Site& site) {
  if (path == "/healthz") return SiteRoute{nullptr, false, Route{RouteKind::Healthz, false, {}, {}}};
  if (path == "/metrics") return SiteRoute{nullptr, false, Route{RouteKind::Metrics, false, {}, {}}};
  if (site.has_root()) {
    const Mount& root = site.mounts().front();
    return SiteRoute{&root, false, route_request(path, cmd, root.registry)};
  }
  if (path == "/" && !cmd) return SiteRoute{nullptr, true, {}};
  if (path == "/")
    return not_found("this server serves several repositories: send the request to /NAME/ (GET / lists them)");
  // "/NAME" or "/NAME/rest": the mount-relative path is "/" or "/rest".
  std::string_view rest = path.substr(1);
  const auto slash = rest.find('/');
  const auto name = rest.substr(0, slash);
  const Mount* mount = site.find(name);
  if (mount == nullptr) {
    return not_found(fmt::format("no repository named '{}' (GET / lists them)", printable(name)));
  }
  const std::string inner = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  return SiteRoute{mount, false, route_request(inner, cmd, mount->registry)};
}

std::string site_listing_text(const Site& site) {
  std::string out = "hgrpcd serves these repositories (Mercurial HTTP version 2 API):\n";
  for (const auto& m : site.mounts()) {
    const auto d = description(m);
    out += fmt::format("/{}/", m.name);
    if (d.contains("changesets")) out += fmt::format("\t{} changesets", d.at("changesets").dump());
    if (d.contains("tip") && d.at("tip").is_string()) out += "\ttip " + d.at("tip").get<std::string>();
    out += '\n';
  }
  return out;
}

std::string site_listing_json(const Site& site) {
  framing::json list = framing::json::array();
  for (const auto& m : site.mounts()) list.push_back(description(m));
  return framing::json{{"repositories", std::move(list)}}.dump() + "\n";
}

}  // namespace hgrpc::server
