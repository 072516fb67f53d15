// Parsed changesets, manifests, file metadata, phases, bookmarks, branch
// maps and requirements of every fixture, compared with Debian's Mercurial.
#include <doctest/doctest.h>

#include "store/filelog.hpp"
#include "store/repository.hpp"
#include "tests/store/support.hpp"

namespace hgrpc::store::test {
namespace {

const char* const kFixtures[] = {"main", "zlib", "nodotencode", "nofncache", "nostore", "bookstore", "shared", "nogd"};

Snapshot open_snapshot(const std::string& name) {
  auto repo = Repository::open(fixtures_dir() / name);
  REQUIRE_MESSAGE(repo.has_value(), (repo ? "" : repo.error().message));
  auto snap = repo->snapshot();
  REQUIRE(snap.has_value());
  return *snap;
}

}  // namespace

TEST_CASE("changelog entries parse as Mercurial parses them") {
  for (const char* name : kFixtures) {
    INFO("fixture " << name);
    Snapshot snap = open_snapshot(name);
    const auto& want = oracle().at(name)["changesets"];
    REQUIRE(snap.size() == static_cast<int>(want.size()));
    for (int rev = 0; rev < snap.size(); ++rev) {
      INFO("rev " << rev);
      const auto& w = want[static_cast<std::size_t>(rev)];
      auto cs = snap.changeset(rev);
      REQUIRE_MESSAGE(cs.has_value(), (cs ? "" : cs.error().message));
      CHECK(hex(cs->manifest) == w["manifest"].get<std::string>());
      CHECK(cs->user == w["user"].get<std::string>());
      CHECK(cs->time == w["time"].get<double>());
      CHECK(cs->timezone == w["tz"].get<int>());
      CHECK(cs->extras == w["extras"].get<std::map<std::string, std::string>>());
      CHECK(cs->files == w["files"].get<std::vector<std::string>>());
      CHECK(cs->description == w["description"].get<std::string>());
    }
  }
}

TEST_CASE("manifests parse as Mercurial parses them, and lookups find every entry") {
  for (const char* name : kFixtures) {
    INFO("fixture " << name);
    Snapshot snap = open_snapshot(name);
    const auto& want = oracle().at(name)["manifests"];
    REQUIRE(snap.manifestlog().size() == static_cast<int>(want.size()));
    for (int mrev = 0; mrev < snap.manifestlog().size(); ++mrev) {
      INFO("manifest rev " << mrev);
      auto text = snap.manifestlog().rawtext(mrev);
      REQUIRE(text.has_value());
      auto m = Manifest::parse(**text);
      REQUIRE_MESSAGE(m.has_value(), (m ? "" : m.error().message));
      const auto& w = want[static_cast<std::size_t>(mrev)];
      REQUIRE(m->entries().size() == w.size());
      for (std::size_t i = 0; i < w.size(); ++i) {
        const auto& e = m->entries()[i];
        CHECK(e.path == w[i][0].get<std::string>());
        CHECK(hex(e.node) == w[i][1].get<std::string>());
        std::string flag = e.flag == '\0' ? "" : std::string(1, e.flag);
        CHECK(flag == w[i][2].get<std::string>());
        const ManifestEntry* found = m->find(e.path);
        REQUIRE(found != nullptr);
        CHECK(found->node == e.node);
        // The same entry by binary search in the text, without a parse.
        auto looked_up = manifest_lookup(**text, w[i][0].get<std::string>());
        REQUIRE(looked_up.has_value());
        REQUIRE(looked_up->has_value());
        CHECK(hex((*looked_up)->node) == w[i][1].get<std::string>());
        CHECK((*looked_up)->flag == e.flag);
        // Absent neighbours: a longer name and a name that sorts just before.
        auto longer = manifest_lookup(**text, e.path + "~");
        REQUIRE(longer.has_value());
        CHECK_FALSE(longer->has_value());
        auto before = manifest_lookup(**text, e.path.substr(0, e.path.size() - 1));
        REQUIRE(before.has_value());
        if (before->has_value()) CHECK((*before)->path != e.path);
      }
      CHECK(m->find("no/such/file") == nullptr);
      auto absent = manifest_lookup(**text, "no/such/file");
      REQUIRE(absent.has_value());
      CHECK_FALSE(absent->has_value());
    }
  }
}

TEST_CASE("the manifest of a changeset is the one its entry names") {
  Snapshot snap = open_snapshot("main");
  auto m = snap.manifest_of_changeset(0);
  REQUIRE(m.has_value());
  const ManifestEntry* tool = m->find("tool.sh");
  REQUIRE(tool != nullptr);
  CHECK(tool->flag == 'x');
  const ManifestEntry* link = m->find("link");
  REQUIRE(link != nullptr);
  CHECK(link->flag == 'l');
}

TEST_CASE("file metadata (copies) parses as Mercurial parses it") {
  int copies = 0;
  for (const char* name : kFixtures) {
    INFO("fixture " << name);
    Snapshot snap = open_snapshot(name);
    for (const auto& item : oracle().at(name)["filelogs"].items()) {
      const std::string path = item.key();
      const auto& filelog = item.value();
      INFO("file " << path);
      auto fl = snap.filelog(path);
      REQUIRE(fl.has_value());
      for (int rev = 0; rev < fl->size(); ++rev) {
        auto text = fl->rawtext(rev);
        REQUIRE(text.has_value());
        auto parsed = parse_file_revision(**text);
        REQUIRE(parsed.has_value());
        const auto& w = filelog["revs"][static_cast<std::size_t>(rev)]["meta"];
        CHECK(parsed->metadata == w.get<std::map<std::string, std::string>>());
        if (parsed->copy_source()) ++copies;
      }
    }
  }
  // By construction: main copies a.txt and renames bin.dat; each of the
  // seven small fixtures (the share included) copies a.txt to b.txt.
  CHECK(copies == 9);
}

TEST_CASE("data that starts like a metadata block gets an empty block") {
  Snapshot snap = open_snapshot("main");
  auto fl = snap.filelog("meta-like");
  REQUIRE(fl.has_value());
  auto text = fl->rawtext(0);
  REQUIRE(text.has_value());
  auto parsed = parse_file_revision(**text);
  REQUIRE(parsed.has_value());
  CHECK(parsed->metadata.empty());
  CHECK(parsed->data_offset == 4);
  CHECK(str(Bytes((*text)->begin() + 4, (*text)->end())) == "\x01\nnot metadata\n");
}

TEST_CASE("phases and the served view match Mercurial") {
  for (const char* name : kFixtures) {
    INFO("fixture " << name);
    Snapshot snap = open_snapshot(name);
    const auto& want = oracle().at(name);
    REQUIRE(snap.size() == static_cast<int>(want["phases"].size()));
    for (int rev = 0; rev < snap.size(); ++rev) {
      CHECK(static_cast<int>(snap.phase(rev)) == want["phases"][static_cast<std::size_t>(rev)].get<int>());
    }
    CHECK(snap.served_revs() == want["served"].get<std::vector<int>>());
  }
  Snapshot main = open_snapshot("main");
  CHECK(main.phase(0) == kPublic);
  CHECK(main.phase(320) == kSecret);
  CHECK(main.phase(321) == kSecret);  // the child of a secret changeset
  CHECK_FALSE(main.is_served(321));
}

TEST_CASE("bookmarks match Mercurial, with and without bookmarksinstore") {
  for (const char* name : kFixtures) {
    INFO("fixture " << name);
    Snapshot snap = open_snapshot(name);
    std::map<std::string, std::string> got;
    for (const auto& [mark, node] : snap.bookmarks()) got[mark] = hex(node);
    CHECK(got == oracle().at(name)["bookmarks"].get<std::map<std::string, std::string>>());
  }
  CHECK(open_snapshot("main").bookmarks().size() == 3);
  CHECK(open_snapshot("bookstore").bookmarks().size() == 1);
}

TEST_CASE("the served branch map matches Mercurial's, closed heads included") {
  for (const char* name : kFixtures) {
    INFO("fixture " << name);
    Snapshot snap = open_snapshot(name);
    auto map = snap.branchmap();
    REQUIRE(map.has_value());
    std::map<std::string, std::vector<std::pair<int, bool>>> got;
    for (const auto& [branch, heads] : *map) {
      for (const auto& h : heads) got[branch].emplace_back(h.rev, h.closed);
    }
    std::map<std::string, std::vector<std::pair<int, bool>>> want;
    for (const auto& [branch, heads] : oracle().at(name)["branchmap"].items()) {
      for (const auto& h : heads) want[branch].emplace_back(h[0].get<int>(), h[1].get<bool>());
    }
    CHECK(got == want);
  }
}

TEST_CASE("requirements and the store kind of every fixture") {
  struct Case {
    const char* name;
    StoreKind kind;
  };
  for (const Case c : {Case{"main", StoreKind::kFncacheDotencode}, Case{"zlib", StoreKind::kFncacheDotencode},
                            Case{"nodotencode", StoreKind::kFncache}, Case{"nofncache", StoreKind::kEncoded},
                            Case{"nostore", StoreKind::kBasic}, Case{"bookstore", StoreKind::kFncacheDotencode},
                            Case{"shared", StoreKind::kFncacheDotencode},
                            Case{"nogd", StoreKind::kFncacheDotencode}}) {
    // Plain names, not a structured binding: clang 14 cannot capture one in INFO's lambda.
    const char* name = c.name;
    const StoreKind kind = c.kind;
    INFO("fixture " << name);
    auto repo = Repository::open(fixtures_dir() / name);
    REQUIRE(repo.has_value());
    const auto& reqs = repo->layout().requirements;
    CHECK(std::vector<std::string>(reqs.begin(), reqs.end()) ==
          oracle().at(name)["requirements"].get<std::vector<std::string>>());
    CHECK(repo->layout().store_kind == kind);
  }
  auto shared = Repository::open(fixtures_dir() / "shared");
  REQUIRE(shared.has_value());
  CHECK(shared->layout().store_dir == fixtures_dir() / "zlib" / ".hg" / "store");
}

}  // namespace hgrpc::store::test
