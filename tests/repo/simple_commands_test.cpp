// heads, known, lookup, listkeys, branchmap against Mercurial's answers for
// the same repositories (oracle.py), on the served view.
#include "tests/repo/repo_support.hpp"

using namespace repo_test;

namespace {

std::vector<std::string> hexes(const json& list) {
  std::vector<std::string> out;
  for (const auto& n : list) out.push_back(hex_of(n));
  return out;
}

std::map<std::string, std::string> string_map(const json& m) {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : m.items()) out[k] = v.is_binary() ? str_of(v) : v.get<std::string>();
  return out;
}

}  // namespace

TEST_CASE("repo: heads and heads publiconly are Mercurial's, highest rev first") {
  for (std::string name : {"zstd", "zlib", "empty"}) {
    CAPTURE(name);
    const json& o = oracle(name);
    auto reg = registry_for(name);
    auto out = ok(reg, "heads", json::object());
    REQUIRE(out.size() == 1);
    CHECK(hexes(out[0]) == o.at("heads").get<std::vector<std::string>>());
    auto pub = ok(reg, "heads", {{"publiconly", true}});
    REQUIRE(pub.size() == 1);
    CHECK(hexes(pub[0]) == o.at("heads_public").get<std::vector<std::string>>());
  }
}

TEST_CASE("repo: known says 1 for served nodes and 0 for secret and unknown ones") {
  const json& o = oracle("zstd");
  auto reg = registry_for("zstd");
  json nodes = node_list(o.at("all_nodes").get<std::vector<std::string>>());
  nodes.push_back(cbor_bytes(std::string(20, 'z')));  // unknown
  nodes.push_back(cbor_bytes("short"));              // not a node at all
  auto out = ok(reg, "known", {{"nodes", nodes}});
  REQUIRE(out.size() == 1);
  CHECK(str_of(out[0]) == o.at("known").get<std::string>() + "00");
  CHECK(str_of(out[0]).substr(48) == "10000");  // 48 draft served; 49, 50 secret
  // Default: no nodes, an empty byte string.
  auto none = ok(reg, "known", json::object());
  CHECK(none == srv::CommandOutput{cbor_bytes("")});
}

TEST_CASE("repo: lookup resolves what Mercurial resolves, with its error wording") {
  // names: tags (.hgtags of every head, later heads win, removals), local
  // tags, a tag named like a branch, names on secret changesets, `.`.
  for (std::string name : {"zstd", "empty", "names"}) {
    CAPTURE(name);
    const json& o = oracle(name);
    auto reg = registry_for(name);
    for (const auto& item : o.at("lookups").items()) {
      const std::string key = item.key();  // plain names: clang 14 cannot capture a binding in CAPTURE
      const auto& want = item.value();
      CAPTURE(key);
      auto r = run(reg, "lookup", {{"key", cbor_bytes(key)}});
      if (name == "names" && key == ".") {
        // The working directory's parent is secret: Mercurial hands out its
        // node, which the client cannot pull; we refuse it as filtered.
        REQUIRE(want.contains("node"));
        for (const auto& c : o.at("changesets")) CHECK(c.at("node") != want.at("node"));  // not served
        REQUIRE_FALSE(r);
        CHECK(srv::format_command_error(r.error()) == "filtered revision '.' (not in 'served' subset)");
        continue;
      }
      if (want.contains("node")) {
        REQUIRE_MESSAGE(r, (r ? "" : srv::format_command_error(r.error())));
        REQUIRE(r->size() == 1);
        CHECK(hex_of((*r)[0]) == want.at("node").get<std::string>());
      } else {
        REQUIRE_FALSE(r);
        CHECK(srv::format_command_error(r.error()) == want.at("error").get<std::string>());
      }
    }
  }
}

TEST_CASE("repo: lookup of an ambiguous prefix and of a wdir prefix fail") {
  auto reg = registry_for("zstd");
  // Among 49 served nodes some share a first hex digit.
  const json& o = oracle("zstd");
  std::map<char, int> first;
  for (const auto& c : o.at("changesets")) first[c.at("node").get<std::string>()[0]]++;
  char shared = 0;
  for (auto [c, n] : first) {
    if (n > 1 && c != '0' && c != 'f') shared = c;
  }
  REQUIRE(shared != 0);
  CHECK(fails(reg, "lookup", {{"key", cbor_bytes(std::string(1, shared))}}) ==
        "ambiguous identifier: " + std::string(1, shared));
  CHECK(fails(reg, "lookup", {{"key", cbor_bytes("ffffffffffff")}}) == "unknown revision 'ffffffffffff'");
}

TEST_CASE("repo: listkeys bookmarks, phases, namespaces and an unknown namespace") {
  for (std::string name : {"zstd", "zlib", "empty"}) {
    CAPTURE(name);
    const json& o = oracle(name);
    auto reg = registry_for(name);
    for (std::string ns : {"bookmarks", "phases", "namespaces", "nonsense"}) {
      CAPTURE(ns);
      auto out = ok(reg, "listkeys", {{"namespace", cbor_bytes(ns)}});
      REQUIRE(out.size() == 1);
      CHECK(string_map(out[0]) == o.at("listkeys").at(ns).get<std::map<std::string, std::string>>());
    }
  }
  // Not a publishing server: no publishing key, the same draft roots.
  repo::RepoCommandOptions options;
  options.publishing = false;
  auto reg = registry_for("zstd", options);
  auto out = ok(reg, "listkeys", {{"namespace", cbor_bytes("phases")}});
  auto want = oracle("zstd").at("listkeys").at("phases").get<std::map<std::string, std::string>>();
  want.erase("publishing");
  CHECK(string_map(out[0]) == want);
  // The bookmark on the secret changeset and the divergent one are not listed.
  auto marks = ok(reg, "listkeys", {{"namespace", cbor_bytes("bookmarks")}});
  CHECK_FALSE(marks[0].contains("onsecret"));
  CHECK_FALSE(marks[0].contains("feat@remote"));
}

TEST_CASE("repo: branchmap has every branch's heads, closed ones included") {
  for (std::string name : {"zstd", "zlib", "empty"}) {
    CAPTURE(name);
    const json& o = oracle(name);
    auto reg = registry_for(name);
    auto out = ok(reg, "branchmap", json::object());
    REQUIRE(out.size() == 1);
    std::map<std::string, std::vector<std::string>> got;
    for (const auto& [b, heads] : out[0].items()) got[b] = hexes(heads);
    CHECK(got == o.at("branchmap").get<std::map<std::string, std::vector<std::string>>>());
  }
}
