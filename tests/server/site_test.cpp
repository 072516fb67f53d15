// The site: which mount a path names, the listing, and the mount rules.
#include <doctest/doctest.h>

#include "server/site.hpp"

using namespace hgrpc::server;

namespace {

Mount mount(std::string name) {
  Mount m{std::move(name), CommandRegistry::standard(), {}};
  return m;
}

Site site_of(std::vector<Mount> mounts) {
  auto s = Site::make(std::move(mounts));
  REQUIRE(s.has_value());
  return std::move(*s);
}

}  // namespace

TEST_CASE("site: one root mount routes every path inside it, as without --repo") {
  const Site site = site_of({mount("")});
  REQUIRE(site.has_root());
  auto r = route_site("/api/exp-http-v2-0003/ro/diff", std::nullopt, site);
  CHECK(r.mount == &site.mounts()[0]);
  CHECK(r.route.kind == RouteKind::ApiCommand);
  CHECK(r.route.command == "diff");
  CHECK(route_site("/", std::string("capabilities"), site).route.kind == RouteKind::Handshake);
  CHECK(route_site("/", std::nullopt, site).route.reason == "hgrpcd: see /api/ for the available APIs");
  CHECK_FALSE(route_site("/", std::nullopt, site).listing);
}

TEST_CASE("site: named mounts take the first path segment, /healthz and /metrics stay the server's") {
  const Site site = site_of({mount("one"), mount("two.repo")});
  CHECK_FALSE(site.has_root());
  auto r = route_site("/two.repo/api/exp-http-v2-0003/rw/multirequest", std::nullopt, site);
  CHECK(r.mount == &site.mounts()[1]);
  CHECK(r.route.kind == RouteKind::ApiCommand);
  CHECK(r.route.read_write);
  r = route_site("/one", std::string("capabilities"), site);
  CHECK(r.mount == &site.mounts()[0]);
  CHECK(r.route.kind == RouteKind::Handshake);
  CHECK(route_site("/one/", std::string("capabilities"), site).route.kind == RouteKind::Handshake);
  CHECK(route_site("/one/api/", std::nullopt, site).route.kind == RouteKind::ApiIndex);
  CHECK(route_site("/one/api/exp-http-v2-0003/ro/nope", std::nullopt, site).route.reason ==
        "unknown wire protocol command: nope");
  for (const char* p : {"/healthz", "/metrics"}) {
    CAPTURE(p);
    auto g = route_site(p, std::nullopt, site);
    CHECK(g.mount == nullptr);
    CHECK((g.route.kind == RouteKind::Healthz || g.route.kind == RouteKind::Metrics));
  }
  auto listing = route_site("/", std::nullopt, site);
  CHECK(listing.listing);
  CHECK(listing.mount == nullptr);
  CHECK(route_site("/", std::string("capabilities"), site).route.reason ==
        "this server serves several repositories: send the request to /NAME/ (GET / lists them)");
  auto missing = route_site("/three/api/exp-http-v2-0003/ro/diff", std::nullopt, site);
  CHECK(missing.mount == nullptr);
  CHECK(missing.route.kind == RouteKind::NotFound);
  CHECK(missing.route.reason == "no repository named 'three' (GET / lists them)");
  CHECK(route_site("/on\x01", std::nullopt, site).route.reason == "no repository named 'on?' (GET / lists them)");
}

TEST_CASE("site: the listing in text and JSON") {
  Mount a = mount("a");
  a.describe = [] { return hgrpc::framing::json{{"changesets", 3}, {"tip", std::string(40, 'f')}, {"path", "/srv/a"}}; };
  const Site site = site_of({std::move(a), mount("b")});
  CHECK(site_listing_text(site) ==
        "hgrpcd serves these repositories (Mercurial HTTP version 2 API):\n"
        "/a/\t3 changesets\ttip " + std::string(40, 'f') + "\n"
        "/b/\n");
  CHECK(site_listing_json(site) ==
        R"({"repositories":[{"changesets":3,"name":"a","path":"/srv/a","tip":")" + std::string(40, 'f') +
            R"(","url":"/a/"},{"name":"b","url":"/b/"}]})" + "\n");
}

TEST_CASE("site: mount names and combinations that are refused") {
  CHECK(valid_mount_name("repo-1.x_y"));
  for (const char* bad : {"", ".hidden", "a/b", "a b", "healthz", "metrics", "api", "ü"}) {
    CAPTURE(bad);
    CHECK_FALSE(valid_mount_name(bad));
  }
  CHECK_FALSE(valid_mount_name(std::string(101, 'a')));
  CHECK(Site::make({}).error() == "nothing to serve");
  CHECK(Site::make({mount(""), mount("a")}).error() ==
        "a repository served at the root (--repo PATH) cannot be combined with other --repo options");
  CHECK(Site::make({mount("a"), mount("a")}).error() == "repository name 'a' given twice");
  CHECK(Site::make({mount("api")}).error() ==
        "invalid repository name 'api': use letters, digits, '.', '_' and '-', not starting with '.', "
        "and none of healthz, metrics, api");
}
