// The requirements policy: accepted, refused with a reason, unknown refused;
// share-safe, shared and relshared layouts; a non-empty obsstore refused.
#include <doctest/doctest.h>

#include "store/repository.hpp"
#include "store/requirements.hpp"
#include "tests/store/support.hpp"

namespace hgrpc::store::test {
namespace {

// A repository whose .hg/requires and .hg/store/requires are given.
std::filesystem::path make_repo(const std::string& name, const std::string& requires_text,
                                const std::string& store_requires = "") {
  auto dir = scratch_dir("requirements/" + name);
  write_file(dir / ".hg" / "requires", bytes(requires_text));
  std::filesystem::create_directories(dir / ".hg" / "store");
  if (!store_requires.empty()) write_file(dir / ".hg" / "store" / "requires", bytes(store_requires));
  return dir;
}

std::string open_error(const std::filesystem::path& dir) {
  auto repo = Repository::open(dir);
  REQUIRE_FALSE(repo.has_value());
  return repo.error().message;
}

const std::string kStoreReqs = "dotencode\nfncache\ngeneraldelta\nrevlogv1\nsparserevlog\nstore\n";

}  // namespace

TEST_CASE("refused requirements are named with the reason") {
  auto dir = make_repo("treemanifest", "share-safe\n", kStoreReqs + "treemanifest\n");
  CHECK(open_error(dir) == dir.string() +
                               ": repository requires 'treemanifest': tree manifests are not supported "
                               "(clients fetch the root manifest only)");
  dir = make_repo("lfs", "share-safe\n", kStoreReqs + "lfs\n");
  CHECK(open_error(dir) == dir.string() + ": repository requires 'lfs': externally stored (lfs) revisions cannot be served");
  dir = make_repo("revlogv2", "share-safe\n", "exp-revlogv2.2\nstore\n");
  CHECK(open_error(dir) == dir.string() +
                               ": repository requires 'exp-revlogv2.2': revlog v2 (96-byte entries, docket, "
                               "sidedata) is not supported");
  dir = make_repo("compression", "share-safe\n", kStoreReqs + "exp-compression-lz4\n");
  CHECK(open_error(dir) == dir.string() + ": repository requires 'exp-compression-lz4': this compression engine is not supported");
}

TEST_CASE("an unknown requirement is refused, in either requires file") {
  auto dir = make_repo("unknown-store", "share-safe\n", kStoreReqs + "frobnicate-v9\n");
  CHECK(open_error(dir) == dir.string() + ": repository requires 'frobnicate-v9': unknown requirement");
  dir = make_repo("unknown-local", "share-safe\nhand-written\n", kStoreReqs);
  CHECK(open_error(dir) == dir.string() + ": repository requires 'hand-written': unknown requirement");
}

TEST_CASE("revlog v0 (no revlogv1 requirement) is refused") {
  auto dir = make_repo("v0", "store\nfncache\n");
  CHECK(open_error(dir) == dir.string() + ": repository lacks requirement 'revlogv1': revlog v0 is not supported");
}

TEST_CASE("share-safe without store/requires is an error naming the file") {
  auto dir = make_repo("no-store-requires", "share-safe\n");
  CHECK(open_error(dir) == (dir / ".hg" / "store" / "requires").string() + ": missing");
}

TEST_CASE("a corrupt requires file is refused") {
  auto dir = make_repo("corrupt", "store\n\nrevlogv1\n");
  CHECK(open_error(dir) == (dir / ".hg" / "requires").string() + ": corrupt requires file (line at offset 6)");
  CHECK(refusal_reason("revlogv1").empty());
  CHECK(refusal_reason("persistent-nodemap").empty());
  CHECK(refusal_reason("largefiles") == "largefiles would be served as bare standins");
}

TEST_CASE("a directory without .hg is not a repository") {
  auto dir = scratch_dir("requirements/not-a-repo");
  CHECK(open_error(dir) == dir.string() + ": not a Mercurial repository (no .hg directory)");
}

TEST_CASE("relshared follows a relative sharedpath, a dangling one is an error") {
  auto dir = make_repo("relshared", "share-safe\nrelshared\n");
  write_file(dir / ".hg" / "sharedpath", bytes("../../../../store-fixtures/zlib/.hg\n"));
  // scratch is <build>/store-scratch/requirements/relshared: four levels up is <build>.
  auto repo = Repository::open(dir);
  REQUIRE_MESSAGE(repo.has_value(), (repo ? "" : repo.error().message));
  CHECK(repo->layout().store_dir == (dir / ".hg/../../../../store-fixtures/zlib/.hg").lexically_normal() / "store");
  auto snap = repo->snapshot();
  REQUIRE(snap.has_value());
  CHECK(snap->size() == 3);

  write_file(dir / ".hg" / "sharedpath", bytes("../nowhere\n"));
  CHECK(open_error(dir) == (dir / ".hg" / "sharedpath").string() + ": points to nonexistent directory " +
                               (dir / ".hg" / "../nowhere").lexically_normal().string());
}

TEST_CASE("a non-empty obsstore is refused, a header-only one is not") {
  auto dir = make_repo("obsstore", "share-safe\n", kStoreReqs);
  write_file(dir / ".hg" / "store" / "obsstore", bytes("\x01"));
  CHECK(Repository::open(dir).has_value());
  write_file(dir / ".hg" / "store" / "obsstore", bytes("\x01marker bytes"));
  CHECK(open_error(dir) == (dir / ".hg" / "store" / "obsstore").string() +
                               ": obsolescence markers are not supported");
}

TEST_CASE("parse_requires keeps each line") {
  auto reqs = parse_requires("b\na\r\n", "x");
  REQUIRE(reqs.has_value());
  CHECK(*reqs == std::set<std::string>{"a", "b"});
  CHECK(parse_requires("-bad\n", "x").error().message == "x: corrupt requires file (line at offset 0)");
}

}  // namespace hgrpc::store::test
