// Every revision of every revlog of every fixture, rebuilt by store/ and
// compared with what Debian's Mercurial read from the same files.
#include <doctest/doctest.h>

#include "store/repository.hpp"
#include "tests/store/support.hpp"

namespace hgrpc::store::test {
namespace {

void check_revlog(const Revlog& revlog, const nlohmann::json& expected) {
  INFO("revlog " << revlog.name());
  REQUIRE(revlog.size() == static_cast<int>(expected.size()));
  for (int rev = 0; rev < revlog.size(); ++rev) {
    INFO("rev " << rev);
    const auto& want = expected[static_cast<std::size_t>(rev)];
    const IndexEntry& e = revlog.entry(rev);
    CHECK(hex(e.node) == want["node"].get<std::string>());
    CHECK(hex(revlog.node(e.p1)) == want["p1"].get<std::string>());
    CHECK(hex(revlog.node(e.p2)) == want["p2"].get<std::string>());
    CHECK(e.linkrev == want["linkrev"].get<int>());
    CHECK(e.flags == want["flags"].get<int>());
    CHECK(e.rawsize == want["rawsize"].get<int>());
    CHECK(revlog.delta_parent(rev) == want["delta_parent"].get<int>());
    CHECK(revlog.rev(e.node) == rev);
    auto text = revlog.rawtext(rev);
    REQUIRE_MESSAGE(text.has_value(), (text ? "" : text.error().message));
    CHECK(hex(sha1(**text)) == want["sha1"].get<std::string>());
    if (want.contains("text") && !want["text"].is_null()) {
      CHECK(hex(**text) == want["text"].get<std::string>());
    }
    // The stored delta applies to its base's rawtext to give this rawtext.
    auto delta = revlog.stored_delta(rev);
    REQUIRE(delta.has_value());
    CHECK(delta->base == revlog.delta_parent(rev));
    auto chunk = revlog.raw_chunk(rev);
    REQUIRE(chunk.has_value());
    CHECK(chunk->size() == e.compressed_length);
  }
}

void check_fixture(const std::string& name) {
  INFO("fixture " << name);
  const auto& want = oracle().at(name);
  auto repo = Repository::open(fixtures_dir() / name);
  REQUIRE_MESSAGE(repo.has_value(), (repo ? "" : repo.error().message));
  auto snap = repo->snapshot();
  REQUIRE(snap.has_value());
  check_revlog(snap->changelog(), want["revlogs"]["00changelog"]);
  check_revlog(snap->manifestlog(), want["revlogs"]["00manifest"]);
  for (const auto& item : want["filelogs"].items()) {
    const std::string path = item.key();
    const auto& filelog = item.value();
    INFO("file " << path);
    CHECK(snap->filelog_index_path(path) == filelog["index_path"].get<std::string>());
    auto fl = snap->filelog(path);
    REQUIRE_MESSAGE(fl.has_value(), (fl ? "" : fl.error().message));
    CHECK(fl->name() == filelog["index_path"].get<std::string>());
    check_revlog(*fl, filelog["revs"]);
  }
}

}  // namespace

TEST_CASE("every revlog of the main fixture matches Mercurial") { check_fixture("main"); }
TEST_CASE("every revlog of the zlib fixture matches Mercurial") { check_fixture("zlib"); }
TEST_CASE("every revlog of the fncache-without-dotencode fixture matches Mercurial") { check_fixture("nodotencode"); }
TEST_CASE("every revlog of the store-without-fncache fixture matches Mercurial") { check_fixture("nofncache"); }
TEST_CASE("every revlog of the storeless fixture matches Mercurial") { check_fixture("nostore"); }
TEST_CASE("every revlog of the bookmarks-in-store fixture matches Mercurial") { check_fixture("bookstore"); }
TEST_CASE("every revlog of the shared fixture matches Mercurial") { check_fixture("shared"); }
TEST_CASE("every revlog of the non-generaldelta fixture matches Mercurial") { check_fixture("nogd"); }

TEST_CASE("the main fixture covers what the tests rely on") {
  auto repo = Repository::open(fixtures_dir() / "main");
  REQUIRE(repo.has_value());
  auto snap = repo->snapshot();
  REQUIRE(snap.has_value());
  auto big = snap->filelog("big.bin");
  REQUIRE(big.has_value());
  CHECK_FALSE(big->inline_data());  // a separate .d
  CHECK(big->generaldelta());
  CHECK(snap->changelog().inline_data());
  CHECK_FALSE(snap->changelog().generaldelta());  // plain-cl-delta
  auto chain = snap->filelog("chain.txt");
  REQUIRE(chain.has_value());
  CHECK(chain->size() == 310);
  int longest = 0;
  for (int rev = 0; rev < chain->size(); ++rev) {
    int length = 0;
    for (int r = rev; chain->delta_parent(r) != kNullRev; r = chain->delta_parent(r)) ++length;
    longest = std::max(longest, length);
  }
  CHECK(longest >= 300);
  // Non-generaldelta: deltas against the previous rev, chains from the base.
  auto nogd = Repository::open(fixtures_dir() / "nogd");
  REQUIRE(nogd.has_value());
  auto nsnap = nogd->snapshot();
  REQUIRE(nsnap.has_value());
  auto a = nsnap->filelog("a.txt");
  REQUIRE(a.has_value());
  CHECK_FALSE(a->generaldelta());
  CHECK(a->size() == 42);
  CHECK(a->delta_parent(41) == 40);
  CHECK(a->entry(41).base < 40);
  // The zstd fixture's chunks are zstd frames; the zlib fixture's are zlib streams.
  auto zstd_chunk = snap->manifestlog().raw_chunk(0);
  REQUIRE(zstd_chunk.has_value());
  CHECK((*zstd_chunk)[0] == '(');
  auto zrepo = Repository::open(fixtures_dir() / "zlib");
  REQUIRE(zrepo.has_value());
  auto zsnap = zrepo->snapshot();
  REQUIRE(zsnap.has_value());
  auto zlib_chunk = zsnap->manifestlog().raw_chunk(0);
  REQUIRE(zlib_chunk.has_value());
  CHECK((*zlib_chunk)[0] == 'x');
}

}  // namespace hgrpc::store::test
