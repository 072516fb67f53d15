// `hgrpc pull` end to end: hgrpcd --repo serving a repository Debian's hg
// made, `hgrpc clone` of it over 127.0.0.1, new commits in the source, then
// `hgrpc pull` (DEST and URL defaulted: the repository of the current
// directory and its [paths] default); hg verify and the source's nodes in
// the clone. A second pull is one request. Then Mercurial's own v1 `hg pull`
// from `hg serve` of the source into the same clone, and hgrpc pull after it.
#include <doctest/doctest.h>

#include <csignal>
#include <filesystem>

#include "client_test_support.hpp"
#include "time_breakdown_check.hpp"
#include "framing/cbor.hpp"

using namespace hgrpc::client::test;
using hgrpc::framing::json;
namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kHgEnv = {"HGRCPATH=/dev/null", "HGUSER=test", "HGPLAIN=1"};

RunResult hg(const fs::path& repo, std::vector<std::string> args) {
  args.insert(args.begin(), {"/usr/bin/hg", "--cwd", repo.string()});
  return run_program(args, "", kHgEnv);
}

void hg_ok(const fs::path& repo, const std::vector<std::string>& args) {
  auto r = hg(repo, args);
  REQUIRE_MESSAGE(r.exit_code == 0, args[0] << ": " << r.err);
}

void commit(const fs::path& repo, const std::string& file, const std::string& text, const std::string& date) {
  spit((repo / file).string(), text);
  hg_ok(repo, {"commit", "-q", "-A", "-m", "change " + file, "-d", date});
}

std::string nodes(const fs::path& repo) {
  auto r = hg(repo, {"log", "-r", "all()", "-T", "{node}\n"});
  REQUIRE(r.exit_code == 0);
  return r.out;
}

// `hg serve` of `repo` on 127.0.0.1 (Mercurial's v1 protocol), stopped on scope exit.
class HgServe {
 public:
  explicit HgServe(const fs::path& repo, const fs::path& pid_file) : pid_file_(pid_file) {
    auto r = run_program({"/usr/bin/timeout", "30", "/usr/bin/hg", "--cwd", repo.string(), "serve", "-a", "127.0.0.1",
                          "-p", "0", "-d", "--pid-file", pid_file.string()},
                         "", kHgEnv);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    auto colon = r.out.rfind(':');
    REQUIRE(colon != std::string::npos);
    url_ = "http://127.0.0.1:" + std::to_string(std::stoi(r.out.substr(colon + 1))) + "/";
  }
  ~HgServe() {
    std::string pid = slurp(pid_file_.string());
    if (!pid.empty()) ::kill(static_cast<pid_t>(std::stol(pid)), SIGTERM);
  }
  const std::string& url() const { return url_; }

 private:
  fs::path pid_file_;
  std::string url_;
};

}  // namespace

TEST_CASE("hgrpc pull: from hgrpcd into a clone: then hg's own pull from hg serve into it") {
  TempDir dir;
  fs::path src = dir.path() / "src", dest = dir.path() / "dest";
  fs::create_directories(src);
  hg_ok(src, {"init"});
  commit(src, "a.txt", "one\n", "1700000000 0");
  Server server({"--repo", src.string()});
  auto cloned = run_hgrpc({"--quiet", "clone", server.url(), dest.string()});
  REQUIRE_MESSAGE(cloned.exit_code == 0, cloned.err);

  commit(src, "a.txt", "one\ntwo\n", "1700000100 0");
  commit(src, "b.txt", "bee\n", "1700000200 0");
  hg_ok(src, {"bookmark", "-r", "2", "top"});
  // DEST and URL defaulted: the current directory's repository, its [paths] default.
  auto pulled = run_program({"/bin/sh", "-c", "cd '" + (dest / "").string() + "' && exec '" + kHgrpc + "' pull"});
  REQUIRE_MESSAGE(pulled.exit_code == 0, pulled.err);
  CHECK(pulled.out == "adding remote bookmark top\nadded 2 changesets with 2 changes to 2 files\n");
  CHECK(pulled.err == "");
  auto verified = hg(dest, {"verify", "-q"});
  CHECK(verified.exit_code == 0);
  CHECK(verified.out + verified.err == "");
  CHECK(nodes(dest) == nodes(src));
  CHECK(hg(dest, {"bookmarks", "-T", "{bookmark} {rev}\n"}).out == "top 2\n");

  auto again = run_hgrpc({"pull", dest.string(), "--json", "--discovery-sample", "1", "--lock-timeout", "0"});
  REQUIRE_MESSAGE(again.exit_code == 0, again.err);
  json summary = json::parse(again.out);
  CHECK(summary.at("requests") == 1);
  CHECK(summary.at("changesets") == 0);
  CHECK(summary.at("discovery_rounds") == 1);
  CHECK(summary.at("source") == server.url());
  check_time_breakdown(summary);
  CHECK(summary.at("response_bytes").get<std::uint64_t>() > 0);
  CHECK(summary.at("request_bytes").get<std::uint64_t>() > 0);
  auto quiet = run_hgrpc({"--quiet", "pull", dest.string(), server.url()});
  CHECK(quiet.exit_code == 0);
  CHECK(quiet.out + quiet.err == "");

  // Mercurial's v1 protocol into the clone hgrpc wrote, then hgrpc again.
  commit(src, "c.txt", "sea\n", "1700000300 0");
  {
    HgServe serve(src, dir.path() / "hg-serve.pid");
    auto v1 = hg(dest, {"pull", "-q", serve.url()});
    CHECK_MESSAGE(v1.exit_code == 0, v1.err);
  }
  CHECK(nodes(dest) == nodes(src));
  commit(src, "d.txt", "dee\n", "1700000400 0");
  auto after = run_hgrpc({"pull", dest.string()});
  CHECK_MESSAGE(after.exit_code == 0, after.err);
  CHECK(after.out == "added 1 changesets with 1 changes to 1 files\n");
  CHECK(hg(dest, {"verify", "-q"}).exit_code == 0);
  CHECK(nodes(dest) == nodes(src));
}

TEST_CASE("hgrpc pull: usage errors name what is missing") {
  TempDir dir;
  auto not_repo = run_hgrpc({"pull", dir.path().string(), "http://127.0.0.1:1/"});
  CHECK(not_repo.exit_code == 2);
  CHECK(not_repo.err == "hgrpc: pull: '" + dir.path().string() + "' is not a repository (no .hg)\n");
  fs::path bare = dir.path() / "bare";
  fs::create_directories(bare);
  hg_ok(bare, {"init"});
  auto no_url = run_hgrpc({"pull", bare.string()});
  CHECK(no_url.exit_code == 2);
  CHECK(no_url.err == "hgrpc: pull: give URL (" + (bare / ".hg/hgrc").string() + " has no [paths] default)\n");
  auto no_repo = run_program({"/bin/sh", "-c", "cd / && exec '" + kHgrpc + "' pull"});
  CHECK(no_repo.exit_code == 2);
  CHECK(no_repo.err == "hgrpc: pull: no repository found in the current directory or above (give DEST)\n");
}
