// --repo flags, the publishing setting, and a repository's mount.
#include <fstream>

#include "server/repo/repository_mount.hpp"
#include "tests/repo/repo_support.hpp"

using namespace repo_test;

TEST_CASE("repo: --repo PATH and NAME=PATH") {
  auto f = repo::parse_repo_flag("/srv/hg/main");
  CHECK(f.name.empty());
  CHECK(f.path == "/srv/hg/main");
  f = repo::parse_repo_flag("main=/srv/hg/main");
  CHECK(f.name == "main");
  CHECK(f.path == "/srv/hg/main");
  // Before '=' something that is no mount name: all of it is the path.
  f = repo::parse_repo_flag("/srv/a=b");
  CHECK(f.name.empty());
  CHECK(f.path == "/srv/a=b");
}

TEST_CASE("repo: phases.publish from the repository's hgrc") {
  const fs::path dir = fs::temp_directory_path() / ("hgrpc-hgrc-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const auto publishing_with = [&](const std::string& text) {
    std::ofstream(dir / "hgrc") << text;
    return repo::repository_is_publishing(dir);
  };
  CHECK(repo::repository_is_publishing(dir / "absent"));
  CHECK_FALSE(publishing_with("[phases]\npublish = False\n"));
  CHECK_FALSE(publishing_with("[ui]\nusername = x\n\n[phases]\r\n  publish=no\r\n"));
  CHECK(publishing_with("[phases]\npublish = False\npublish = on\n"));  // the last one wins
  CHECK(publishing_with("[other]\npublish = False\n"));
  CHECK(publishing_with("[phases]\n# publish = False\n"));
  fs::remove_all(dir);
}

TEST_CASE("repo: a repository's mount serves its commands and describes it") {
  srv::CommandRegistry base = srv::CommandRegistry::standard();
  auto m = repo::repository_mount({"z", fixtures() / "zstd"}, base, {});
  REQUIRE(m.has_value());
  CHECK(m->name == "z");
  for (const char* c : {"applypatches", "heads", "filesdata"}) CHECK(m->registry.find(c) != nullptr);
  CHECK(base.find("heads") == nullptr);  // the base registry is left as it was
  const json& o = oracle("zstd");
  const json d = m->describe();
  CHECK(d.at("changesets") == o.at("changesets").size());
  CHECK(d.at("path") == (fixtures() / "zstd").string());
  const json formats = srv::capabilities_map(m->registry, {}).at("rawrepoformats");
  CHECK(formats == json::array({cbor_bytes("generaldelta"), cbor_bytes("revlogv1"), cbor_bytes("share-safe"),
                                cbor_bytes("sparserevlog")}));
  auto missing = repo::repository_mount({"", "/nonexistent/repo"}, base, {});
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().rfind("cannot serve /nonexistent/repo: ", 0) == 0);
}
