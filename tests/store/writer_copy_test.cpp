// The writer against Mercurial: every fixture repository is copied revision
// by revision (read path in, writer out) into a new repository, and Debian's
// Mercurial compares the copy with the source (compare_repos.py: hg verify,
// every revision's rawdata, hg log --debug, bookmarks, phases). Half the
// manifest and file revisions go in as (base, delta) pairs, as a server
// sends them. Then a checkout of the copy must equal `hg update`.
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "store/repository.hpp"
#include "store/repository_creation.hpp"
#include "store/repository_writer.hpp"
#include "store/working_copy.hpp"
#include "tests/store/support.hpp"

namespace hgrpc::store::test {
namespace {

namespace fs = std::filesystem;

// Copies every rev of `from` into `to`; odd revs with a stored delta go in as that delta.
void copy_revlog(const Revlog& from, RevlogWriter& to) {
  for (int r = 0; r < from.size(); ++r) {
    const IndexEntry& e = from.entry(r);
    IncomingRevision in;
    in.node = e.node;
    in.p1 = from.node(e.p1);
    in.p2 = from.node(e.p2);
    in.linkrev = e.linkrev;
    Bytes data;
    auto stored = from.stored_delta(r);
    REQUIRE_MESSAGE(stored.has_value(), stored.error().message);
    if (r % 2 == 1 && stored->base != kNullRev) {
      in.delta_base = from.node(stored->base);
      data = std::move(stored->data);
    } else {
      auto text = from.rawtext(r);
      REQUIRE_MESSAGE(text.has_value(), text.error().message);
      data = **text;
    }
    in.data = data;
    auto added = to.add(in);
    REQUIRE_MESSAGE(added.has_value(), from.name() << ": rev " << r << ": " << added.error().message);
    CHECK(*added == r);
  }
}

void copy_repository(const fs::path& src, const fs::path& dst, Compression compression) {
  NewRepositoryOptions create;
  create.compression = compression;
  create.default_path = src.string();
  auto created = create_repository(dst, create);
  REQUIRE_MESSAGE(created.has_value(), created.error().message);
  auto repo = Repository::open(src);
  REQUIRE_MESSAGE(repo.has_value(), repo.error().message);
  auto snap = repo->snapshot();
  REQUIRE(snap.has_value());
  auto writer = RepositoryWriter::open(dst);
  REQUIRE_MESSAGE(writer.has_value(), writer.error().message);

  copy_revlog(snap->changelog(), writer->changelog());
  copy_revlog(snap->manifestlog(), writer->manifestlog());
  std::set<std::string> paths;
  for (int r = 0; r < snap->size(); ++r) {
    auto cs = snap->changeset(r);
    REQUIRE(cs.has_value());
    paths.insert(cs->files.begin(), cs->files.end());
    auto manifest = snap->manifest_of_changeset(r);
    REQUIRE(manifest.has_value());
    for (const auto& entry : manifest->entries()) paths.insert(entry.path);
  }
  for (const auto& path : paths) {
    auto from = snap->filelog(path);
    REQUIRE(from.has_value());
    if (from->size() == 0) continue;
    auto to = writer->filelog(path);
    REQUIRE_MESSAGE(to.has_value(), to.error().message);
    copy_revlog(*from, **to);
  }

  std::vector<std::pair<int, int>> parents;
  std::vector<Phase> phases;
  for (int r = 0; r < snap->size(); ++r) {
    parents.emplace_back(snap->changelog().entry(r).p1, snap->changelog().entry(r).p2);
    phases.push_back(snap->phase(r));
  }
  writer->set_phase_roots(phase_roots(parents, phases, [&](int r) { return snap->changelog().node(r); }));
  writer->set_bookmarks(snap->bookmarks());
  auto committed = writer->commit();
  REQUIRE_MESSAGE(committed.has_value(), committed.error().message);
  CHECK_FALSE(fs::exists(dst / ".hg" / "store" / kJournalName));
}

std::string compare(const std::string& mode, const fs::path& src, const fs::path& dst) {
  fs::path log = dst.string() + "." + mode + ".log";
  std::string cmd = "/usr/bin/python3 '" HGRPC_SOURCE_DIR "/tests/store/compare_repos.py' " + mode + " '" +
                    src.string() + "' '" + dst.string() + "' >'" + log.string() + "' 2>&1";
  int rc = std::system(cmd.c_str());
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  return rc == 0 ? std::string() : "exit " + std::to_string(rc) + ":\n" + text.str();
}

std::string read_text(const fs::path& path) { return str(read_all(path)); }

}  // namespace

TEST_CASE("writer: each fixture copied revision by revision is what Mercurial reads from the source") {
  for (const char* name : {"main", "zlib", "nodotencode", "nofncache", "nostore", "bookstore", "nogd", "shared"}) {
    CAPTURE(name);
    fs::path src = fixtures_dir() / name;
    fs::path dst = scratch_dir(std::string("copy-") + name) / "repo";
    Compression compression = std::string(name) == "zlib" ? Compression::kZlib : Compression::kZstd;
    copy_repository(src, dst, compression);
    CHECK(compare("store", src, dst) == "");
    CHECK(read_text(dst / ".hg" / "requires") == "share-safe\n");
    CHECK(read_text(dst / ".hg" / "hgrc") == "[paths]\ndefault = " + src.string() + "\n");
  }
}

TEST_CASE("writer: the zlib copy states no zstd requirement and its chunks are zlib or stored") {
  fs::path dst = scratch_dir("copy-zlib-format") / "repo";
  copy_repository(fixtures_dir() / "zlib", dst, Compression::kZlib);
  CHECK(read_text(dst / ".hg" / "store" / "requires") ==
        "dotencode\nfncache\ngeneraldelta\nrevlogv1\nsparserevlog\nstore\n");
  auto log = Revlog::open(dst / ".hg" / "store", "00manifest");
  REQUIRE(log.has_value());
  for (int r = 0; r < log->size(); ++r) {
    auto chunk = log->raw_chunk(r);
    REQUIRE(chunk.has_value());
    if (!chunk->empty()) CHECK(((*chunk)[0] == 'x' || (*chunk)[0] == 'u' || (*chunk)[0] == '\0'));
  }
}

TEST_CASE("writer: a checkout of the copied main fixture equals hg update, and hg status is clean") {
  fs::path src = fixtures_dir() / "main";
  fs::path dst = scratch_dir("checkout-main") / "repo";
  copy_repository(src, dst, Compression::kZstd);
  auto repo = Repository::open(dst);
  REQUIRE(repo.has_value());
  auto snap = repo->snapshot();
  REQUIRE(snap.has_value());
  auto rev = default_checkout_rev(*snap);
  REQUIRE(rev.has_value());
  auto summary = check_out(*snap, *rev, dst);
  REQUIRE_MESSAGE(summary.has_value(), summary.error().message);
  CHECK(summary->files > 20);
  CHECK(compare("checkout", src, dst) == "");
}

}  // namespace hgrpc::store::test
