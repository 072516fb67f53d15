// Snapshots: fixed at the moment they are taken, refreshed by the next one;
// many threads reading one repository at once.
#include <doctest/doctest.h>

#include <cstdlib>
#include <set>
#include <thread>

#include "store/repository.hpp"
#include "tests/store/support.hpp"

namespace hgrpc::store::test {
namespace {

int hg(const std::filesystem::path& repo, const std::string& args) {
  std::string cmd = "HGRCPATH=/dev/null HGUSER=test HGPLAIN=1 hg --cwd '" + repo.string() + "' " + args +
                    " >/dev/null 2>&1";
  return std::system(cmd.c_str());
}

void write_text(const std::filesystem::path& path, const std::string& text) { write_file(path, bytes(text)); }

}  // namespace

TEST_CASE("a snapshot taken before a commit does not see it, the next one does") {
  auto dir = scratch_dir("live");
  REQUIRE(std::system(("HGRCPATH=/dev/null hg init '" + dir.string() + "' >/dev/null 2>&1").c_str()) == 0);
  write_text(dir / "f.txt", "one\n");
  REQUIRE(hg(dir, "commit -q -A -m first -d '0 0'") == 0);
  auto repo = Repository::open(dir);
  REQUIRE(repo.has_value());
  auto before = repo->snapshot();
  REQUIRE(before.has_value());
  REQUIRE(before->size() == 1);
  auto fl_before = before->filelog("f.txt");
  REQUIRE(fl_before.has_value());

  write_text(dir / "f.txt", "one\ntwo\n");
  write_text(dir / "g.txt", "new file\n");
  REQUIRE(hg(dir, "commit -q -A -m second -d '1 0'") == 0);
  REQUIRE(hg(dir, "bookmark -r 1 after") == 0);

  // The old snapshot still shows exactly what it had.
  CHECK(before->size() == 1);
  CHECK(before->changelog().size() == 1);
  CHECK(before->manifestlog().size() == 1);
  CHECK(fl_before->size() == 1);
  CHECK(before->bookmarks().empty());
  CHECK(str(**before->changelog().rawtext(0)).ends_with("\n\nfirst"));

  auto after = repo->snapshot();
  REQUIRE(after.has_value());
  CHECK(after->size() == 2);
  auto cs = after->changeset(1);
  REQUIRE(cs.has_value());
  CHECK(cs->description == "second");
  CHECK(cs->files == std::vector<std::string>{"f.txt", "g.txt"});
  auto fl = after->filelog("f.txt");
  REQUIRE(fl.has_value());
  CHECK(fl->size() == 2);
  CHECK(str(**fl->rawtext(1)) == "one\ntwo\n");
  CHECK(after->bookmarks().size() == 1);
  CHECK(after->bookmarks().contains("after"));
  CHECK(before->changelog().rev(after->changelog().entry(1).node) == std::nullopt);
}

TEST_CASE("many threads rebuild the same revisions at once") {
  auto repo = Repository::open(fixtures_dir() / "main");
  REQUIRE(repo.has_value());
  auto snap = repo->snapshot();
  REQUIRE(snap.has_value());
  const auto& want = oracle().at("main")["filelogs"]["chain.txt"]["revs"];
  auto fl = snap->filelog("chain.txt");
  REQUIRE(fl.has_value());
  constexpr int kThreads = 4;
  std::vector<int> mismatches(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Each thread walks the chain from a different end, so caches and the
      // node map are shared while they fill.
      for (int i = 0; i < fl->size(); ++i) {
        int rev = t % 2 == 0 ? i : fl->size() - 1 - i;
        auto text = fl->rawtext(rev);
        auto node_rev = fl->rev(fl->entry(rev).node);
        if (!text || hex(sha1(**text)) != want[static_cast<std::size_t>(rev)]["sha1"].get<std::string>() ||
            node_rev != rev) {
          ++mismatches[static_cast<std::size_t>(t)];
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(mismatches == std::vector<int>(kThreads, 0));
}

TEST_CASE("a small cache still rebuilds every revision correctly") {
  RepositoryOptions options;
  options.revlog.cache_bytes = 64;  // smaller than most texts: nearly nothing is cached
  auto repo = Repository::open(fixtures_dir() / "main", options);
  REQUIRE(repo.has_value());
  auto snap = repo->snapshot();
  REQUIRE(snap.has_value());
  const auto& want = oracle().at("main")["revlogs"]["00manifest"];
  for (int rev = snap->manifestlog().size() - 1; rev >= 0; --rev) {
    auto text = snap->manifestlog().rawtext(rev);
    REQUIRE(text.has_value());
    CHECK(hex(sha1(**text)) == want[static_cast<std::size_t>(rev)]["sha1"].get<std::string>());
  }
}

TEST_CASE("a snapshot keeping one filelog open still serves every file, reopening the others") {
  RepositoryOptions options;
  options.max_open_filelogs = 1;
  options.filelog_cache_bytes = 1024;
  auto repo = Repository::open(fixtures_dir() / "main", options);
  REQUIRE(repo.has_value());
  auto snap = repo->snapshot();
  REQUIRE(snap.has_value());
  auto manifest = snap->manifest_of_changeset(snap->size() - 1);
  REQUIRE(manifest.has_value());
  REQUIRE(manifest->entries().size() >= 2);
  // Alternate between files: each access evicts the other filelog.
  for (int round = 0; round < 2; ++round) {
    for (const auto& entry : manifest->entries()) {
      auto log = snap->filelog(entry.path);
      REQUIRE(log.has_value());
      auto rev = log->rev(entry.node);
      REQUIRE(rev.has_value());
      auto text = log->rawtext(*rev);
      REQUIRE_MESSAGE(text.has_value(), entry.path);
      CHECK(hash_revision(log->node(log->entry(*rev).p1), log->node(log->entry(*rev).p2), **text) == entry.node);
    }
  }
}

}  // namespace hgrpc::store::test

namespace hgrpc::store::test {

TEST_CASE("snapshots share what is unchanged, a commit, a phase move, a bookmark or a strip is seen by the next") {
  auto dir = scratch_dir("shared-base");
  REQUIRE(std::system(("HGRCPATH=/dev/null hg init '" + dir.string() + "' >/dev/null 2>&1").c_str()) == 0);
  write_text(dir / "f.txt", "one\n");
  REQUIRE(hg(dir, "commit -q -A -m first -d '0 0'") == 0);
  auto repo = Repository::open(dir);
  REQUIRE(repo.has_value());
  auto s1 = repo->snapshot();
  auto s2 = repo->snapshot();
  REQUIRE(s1.has_value());
  REQUIRE(s2.has_value());
  // Nothing changed: the second snapshot reuses the first one's revlogs.
  CHECK(&s1->changelog() == &s2->changelog());
  auto p1 = s1->changed_paths();
  auto p2 = s2->changed_paths();
  REQUIRE(p1.has_value());
  REQUIRE(p2.has_value());
  CHECK(p1->get() == p2->get());
  CHECK(**p1 == std::vector<std::string>{"f.txt"});
  CHECK(s1->phase(0) == kDraft);

  REQUIRE(hg(dir, "phase --public -r 0") == 0);
  auto s3 = repo->snapshot();
  REQUIRE(s3.has_value());
  CHECK(&s3->changelog() != &s1->changelog());
  CHECK(s3->phase(0) == kPublic);
  CHECK(s1->phase(0) == kDraft);
  CHECK(s3->state_key() != s1->state_key());

  REQUIRE(hg(dir, "bookmark -r 0 mark") == 0);
  auto s4 = repo->snapshot();
  REQUIRE(s4.has_value());
  CHECK(s4->bookmarks().contains("mark"));
  CHECK(s3->bookmarks().empty());

  // A commit: the paths grow by what the new changeset lists.
  write_text(dir / "f.txt", "one\ntwo\n");
  write_text(dir / "g.txt", "gee\n");
  REQUIRE(hg(dir, "commit -q -A -m second -d '1 0'") == 0);
  REQUIRE(hg(dir, "rm -q f.txt") == 0);
  REQUIRE(hg(dir, "commit -q -m third -d '2 0'") == 0);
  auto s5 = repo->snapshot();
  REQUIRE(s5.has_value());
  REQUIRE(s5->size() == 3);
  auto p5 = s5->changed_paths();
  REQUIRE(p5.has_value());
  CHECK(**p5 == std::vector<std::string>{"f.txt", "g.txt"});  // a removed file is still a changed path
  CHECK(**s1->changed_paths() == std::vector<std::string>{"f.txt"});
  auto files = s5->changed_files();
  REQUIRE(files.has_value());
  REQUIRE((*files)->size() == 2);
  CHECK((**files)[0].path == "f.txt");
  CHECK((**files)[0].linked_revisions == 2);
  CHECK((**files)[1].path == "g.txt");
  CHECK((**files)[1].linked_revisions == 1);
  CHECK(s5->changed_files()->get() == files->get());  // counted once per state

  // A strip rewrites the changelog: the paths are computed again, not extended.
  REQUIRE(hg(dir, "--config extensions.strip= strip -q -r 1 --no-backup") == 0);
  auto s6 = repo->snapshot();
  REQUIRE(s6.has_value());
  REQUIRE(s6->size() == 1);
  CHECK(**s6->changed_paths() == std::vector<std::string>{"f.txt"});
  auto files6 = s6->changed_files();
  REQUIRE(files6.has_value());
  REQUIRE((*files6)->size() == 1);
  CHECK((**files6)[0].linked_revisions == 1);
}

TEST_CASE("changed paths and their revision counts are Mercurial's: every file its changesets list") {
  auto repo = Repository::open(fixtures_dir() / "main");
  REQUIRE(repo.has_value());
  auto snap = repo->snapshot();
  REQUIRE(snap.has_value());
  std::set<std::string> want;
  for (const auto& cs : oracle().at("main")["changesets"]) {
    for (const auto& f : cs["files"]) want.insert(f.get<std::string>());
  }
  auto paths = snap->changed_paths();
  REQUIRE(paths.has_value());
  CHECK(**paths == std::vector<std::string>(want.begin(), want.end()));
  auto files = snap->changed_files();
  REQUIRE(files.has_value());
  const auto& filelogs = oracle().at("main")["filelogs"];
  std::size_t with_revisions = 0;
  for (const auto& path : want) with_revisions += filelogs.contains(path) && !filelogs[path]["revs"].empty();
  CHECK((*files)->size() == with_revisions);
  for (const auto& f : **files) {
    REQUIRE_MESSAGE(filelogs.contains(f.path), f.path);
    CHECK_MESSAGE(f.linked_revisions == filelogs[f.path]["revs"].size(), f.path);
  }
}

}  // namespace hgrpc::store::test
