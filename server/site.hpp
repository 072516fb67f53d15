#pragma once
// What one hgrpcd serves, and which part of it a path names (sans-HTTP).
//
// A site is one root mount (no --repo: the patch commands; --repo PATH: that
// repository) or one or more named mounts (--repo NAME=PATH, repeatable),
// each under /NAME/ with its own command registry:
//
//   /healthz, /metrics          the server's (whatever is mounted)
//   /                           named mounts: the listing (text or JSON)
//   /NAME?cmd=capabilities      NAME's handshake
//   /NAME/api/...               NAME's API (the mount-relative path /api/...)
//
// Inside a mount the path is routed by route_request (route.hpp).
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "framing/cbor.hpp"
#include "server/command_registry.hpp"
#include "server/route.hpp"

namespace hgrpc::server {

struct Mount {
  std::string name;          // empty: the root mount
  CommandRegistry registry;  // the commands served under this mount
  // The mount's entry in the listing (e.g. path, changesets, tip), as JSON;
  // called per listing request. Unset: {"name": ...} only.
  std::function<framing::json()> describe;
};

// Names a mount may take: a path segment of letters, digits, '.', '_', '-',
// not starting with '.', and none of the server's own paths (healthz,
// metrics, api).
bool valid_mount_name(std::string_view name);

class Site {
 public:
  // A root mount (name empty) must be the only one; names are unique and
  // valid. Errors name the offending mount.
  static hgrpc::expected<Site, std::string> make(std::vector<Mount> mounts);

  bool has_root() const { return mounts_.size() == 1 && mounts_[0].name.empty(); }
  const std::vector<Mount>& mounts() const { return mounts_; }
  const Mount* find(std::string_view name) const;

 private:
  std::vector<Mount> mounts_;
};

// A route within the site: the mount it belongs to (nullptr for the
// server's own routes and the listing) and the route inside it.
struct SiteRoute {
  const Mount* mount = nullptr;
  bool listing = false;  // GET / of a site of named mounts
  Route route;
};

SiteRoute route_site(std::string_view path, const std::optional<std::string>& cmd, const Site& site);

// The listing of a site's named mounts: one line per mount (text/plain) or
// {"repositories": [describe(), ...]} (application/json).
std::string site_listing_text(const Site& site);
std::string site_listing_json(const Site& site);

}  // namespace hgrpc::server
