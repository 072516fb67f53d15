// `hgrpc clone` end to end: hgrpcd --repo serving a repository that Debian's
// hg made (exec bit, symlink, bookmark, a draft, a file past the inline
// limit, a branch), the hgrpc binary cloning it over 127.0.0.1, and
// tests/store/compare_repos.py judging the result against `hg clone --pull`.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include <httplib.h>

#include "client_test_support.hpp"
#include "time_breakdown_check.hpp"
#include "framing/cbor.hpp"
#include "store/chunk.hpp"
#include "store/revlog.hpp"

using namespace hgrpc::client::test;
using hgrpc::framing::json;
namespace fs = std::filesystem;

namespace {

std::string quote(const std::string& s) { return "'" + s + "'"; }

void hg(const fs::path& repo, const std::string& args) {
  std::string cmd = "HGRCPATH=/dev/null HGUSER=test HGPLAIN=1 hg --cwd " + quote(repo.string()) + " " + args +
                    " >/dev/null 2>&1";
  REQUIRE_MESSAGE(std::system(cmd.c_str()) == 0, cmd);
}

void make_source(const fs::path& src) {
  fs::create_directories(src);
  hg(src, "init");
  spit((src / "a.txt").string(), "one\n");
  spit((src / "tool.sh").string(), "#!/bin/sh\necho hi\n");
  fs::permissions(src / "tool.sh", fs::perms::owner_exec, fs::perm_options::add);
  fs::create_symlink("a.txt", src / "link");
  hg(src, "commit -q -A -m first -d '1700000000 0'");
  std::string big;
  std::mt19937 gen(42);  // hex noise: still over 128 KiB once compressed
  for (int i = 0; i < 10000; ++i) {
    for (int j = 0; j < 40; ++j) big += "0123456789abcdef"[gen() % 16];
    big += "\n";
  }
  fs::create_directories(src / "dir");
  spit((src / "dir/big.txt").string(), big);
  spit((src / "a.txt").string(), "one\ntwo\n");
  hg(src, "commit -q -A -m second -d '1700003600 0'");
  hg(src, "bookmark -r 1 mark");
  hg(src, "branch -q other");
  spit((src / "b.txt").string(), "on a branch\n");
  hg(src, "commit -q -A -m branch -d '1700007200 0'");
  hg(src, "update -q default");
  hg(src, "phase --public -r 0:2");
  spit((src / "a.txt").string(), "one\ntwo\nthree\n");
  hg(src, "commit -q -m draft -d '1700010800 0'");
}

std::string compare(const std::string& mode, const fs::path& ref, const fs::path& dst) {
  auto r = run_program({"/usr/bin/python3", kSourceDir + "/tests/store/compare_repos.py", mode, ref.string(), dst.string()});
  return r.exit_code == 0 ? std::string() : r.out + r.err;
}

// A counter of hgrpcd's /metrics.
std::uint64_t server_counter(const Server& server, const std::string& name) {
  httplib::Client client("127.0.0.1", server.port());
  client.set_read_timeout(std::chrono::seconds(10));
  auto res = client.Get("/metrics");
  REQUIRE(res);
  std::istringstream lines(res->body);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(name + " ", 0) == 0) return std::stoull(line.substr(name.size() + 1));
  }
  FAIL("no " << name << " in /metrics");
  return 0;
}

}  // namespace

TEST_CASE("hgrpc clone --json: the time breakdown, and the HTTP body bytes equal those hgrpcd counted") {
  TempDir dir;
  fs::path src = dir.path() / "src";
  make_source(src);
  Server server({"--repo", src.string()});
  auto r = run_hgrpc({"clone", server.url(), (dir.path() / "dest").string(), "--json"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  json summary = json::parse(r.out);
  check_time_breakdown(summary);
  // The handshake, capabilities and the fetch's bodies, each way: what the
  // server's access accounting saw (/metrics counts a request when it ends,
  // so this GET is not in it).
  CHECK(summary.at("response_bytes").get<std::uint64_t>() == server_counter(server, "hgrpcd_sent_bytes_total"));
  CHECK(summary.at("request_bytes").get<std::uint64_t>() == server_counter(server, "hgrpcd_received_bytes_total"));
  CHECK(summary.at("response_bytes").get<std::uint64_t>() > 131072);  // dir/big.txt: over 128 KiB compressed
  CHECK(summary.at("stages").at("checkout").get<double>() > 0);
}

TEST_CASE("hgrpc clone: a repository served by hgrpcd --repo, compared with hg clone --pull") {
  TempDir dir;
  fs::path src = dir.path() / "src";
  make_source(src);
  Server server({"--repo", src.string()});
  fs::path dest = dir.path() / "dest";
  auto r = run_hgrpc({"clone", server.url(), dest.string(), "--json"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  json summary = json::parse(r.out);
  CHECK(summary.at("changesets") == 4);
  CHECK(summary.at("manifests") == 4);
  CHECK(summary.at("file_revisions") == 7);
  CHECK(summary.at("checked_out_files") == 4);  // a.txt dir/big.txt link tool.sh at the default tip

  fs::path ref = dir.path() / "ref";
  auto cloned = run_program({"/usr/bin/hg", "clone", "-q", "--pull", "-U", src.string(), ref.string()}, "",
                            {"HGRCPATH=/dev/null"});
  REQUIRE(cloned.exit_code == 0);
  CHECK(compare("store", ref, dest) == "");
  CHECK(compare("checkout", ref, dest) == "");
  CHECK(fs::exists(dest / ".hg/store/data/dir/big.txt.d"));  // past the inline limit: split as Mercurial does
  CHECK(slurp((dest / ".hg/hgrc").string()) == "[paths]\ndefault = " + server.url() + "\n");

  SUBCASE("-U: no working copy; quiet prints nothing") {
    fs::path bare = dir.path() / "bare";
    auto u = run_hgrpc({"--quiet", "clone", "-U", server.url(), bare.string()});
    REQUIRE_MESSAGE(u.exit_code == 0, u.err);
    CHECK(u.out == "");
    CHECK(u.err == "");
    std::vector<std::string> top;
    for (const auto& e : fs::directory_iterator(bare)) top.push_back(e.path().filename().string());
    CHECK(top == std::vector<std::string>{".hg"});
    CHECK(compare("store", ref, bare) == "");
  }
  SUBCASE("an existing destination is a usage error") {
    auto again = run_hgrpc({"clone", server.url(), dest.string()});
    CHECK(again.exit_code == 2);
    CHECK(again.err == "hgrpc: clone: destination '" + dest.string() + "' exists\n");
  }
}

TEST_CASE("hgrpc clone: the smallest writer limits (no text cache, one open filelog) write the same repository") {
  TempDir dir;
  fs::path src = dir.path() / "src";
  make_source(src);
  Server server({"--repo", src.string()});
  fs::path dest = dir.path() / "dest";
  auto r = run_hgrpc({"--quiet", "clone", "-U", "--revlog-cache-bytes", "0", "--max-open-filelogs", "1", server.url(),
                      dest.string()});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  fs::path ref = dir.path() / "ref";
  auto cloned = run_program({"/usr/bin/hg", "clone", "-q", "--pull", "-U", src.string(), ref.string()}, "",
                            {"HGRCPATH=/dev/null"});
  REQUIRE(cloned.exit_code == 0);
  CHECK(compare("store", ref, dest) == "");

  auto zero = run_hgrpc({"clone", "--max-open-filelogs", "0", server.url(), (dir.path() / "never").string()});
  CHECK(zero.exit_code == 2);
  CHECK(zero.err.find("--max-open-filelogs: Value 0 not in range 1 to 100000") != std::string::npos);
  CHECK_FALSE(fs::exists(dir.path() / "never"));
}

// The files of a clone's store, by path: the same however many threads
// wrote them (fncache is written sorted).
std::map<std::string, std::string> store_files(const fs::path& repo) {
  std::map<std::string, std::string> files;
  const fs::path store = repo / ".hg" / "store";
  for (const auto& e : fs::recursive_directory_iterator(store)) {
    if (e.is_regular_file()) files[fs::relative(e.path(), store).string()] = slurp(e.path().string());
  }
  return files;
}

TEST_CASE("hgrpc clone: with 0, 1 and 5 writer threads the store is byte for byte the same") {
  TempDir dir;
  fs::path src = dir.path() / "src";
  make_source(src);
  for (int i = 0; i < 12; ++i) {  // more paths than lanes, in several directories
    const fs::path sub = src / fs::path("d").concat(std::to_string(i % 3));
    fs::create_directories(sub);
    spit((sub / fs::path("f").concat(std::to_string(i))).string(), std::string(static_cast<std::size_t>(100 + i), 'x'));
  }
  hg(src, "commit -q -A -m many -d '1700014400 0'");
  Server server({"--repo", src.string()});
  std::map<std::string, std::string> first;
  for (const char* threads : {"0", "1", "5"}) {
    CAPTURE(threads);
    fs::path dest = dir.path() / (std::string("dest") + threads);
    auto r = run_hgrpc({"clone", "-U", "--json", "--write-threads", threads, server.url(), dest.string()});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    json summary = json::parse(r.out);
    CHECK(summary.at("write_threads") == std::stoi(threads));
    check_time_breakdown(summary);
    auto files = store_files(dest);
    CHECK(files.size() > 20);
    if (first.empty()) {
      first = files;
      continue;
    }
    CHECK(files.size() == first.size());
    for (const auto& entry : first) {
      const std::string& name = entry.first;
      CAPTURE(name);
      REQUIRE(files.contains(name));
      CHECK(files.at(name) == entry.second);
    }
  }
  // At most --max-open-filelogs threads write filelogs.
  auto r = run_hgrpc({"--quiet", "clone", "-U", "--json", "--write-threads", "5", "--max-open-filelogs", "2",
                      server.url(), (dir.path() / "capped").string()});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(json::parse(r.out).at("write_threads") == 2);
  CHECK(store_files(dir.path() / "capped") == first);

  auto too_many = run_hgrpc({"clone", "--write-threads", "65", server.url(), (dir.path() / "never").string()});
  CHECK(too_many.exit_code == 2);
  CHECK(too_many.err.find("--write-threads: Value 65 not in range 0 to 64") != std::string::npos);
  CHECK_FALSE(fs::exists(dir.path() / "never"));
}

TEST_CASE("hgrpc clone --zstd-level: chunks are written at the level asked for, 1 by default") {
  TempDir dir;
  fs::path src = dir.path() / "src";
  make_source(src);
  Server server({"--repo", src.string()});
  std::map<int, hgrpc::store::Bytes> chunks;
  for (int level : {0, 1, 19}) {  // 0: the option left out
    CAPTURE(level);
    fs::path dest = dir.path() / ("level" + std::to_string(level));
    std::vector<std::string> args{"--quiet", "clone", "-U"};
    if (level != 0) args.insert(args.end(), {"--zstd-level", std::to_string(level)});
    args.insert(args.end(), {server.url(), dest.string()});
    auto r = run_hgrpc(args);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    auto log = hgrpc::store::Revlog::open(dest / ".hg/store", "data/dir/big.txt");
    REQUIRE(log);
    REQUIRE(log->size() == 1);
    auto text = log->rawtext(0);
    REQUIRE(text);
    auto chunk = log->raw_chunk(0);
    REQUIRE(chunk);
    CHECK(*chunk == hgrpc::store::compress_chunk(**text, hgrpc::store::Compression::kZstd, level == 0 ? 1 : level));
    chunks[level] = *chunk;
  }
  CHECK(chunks[0] == chunks[1]);
  CHECK(chunks[19] != chunks[1]);  // the levels are told apart
  auto bad = run_hgrpc({"clone", "--zstd-level", "23", server.url(), (dir.path() / "never").string()});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("--zstd-level: Value 23 not in range 1 to 22") != std::string::npos);
  CHECK_FALSE(fs::exists(dir.path() / "never"));
}

TEST_CASE("hgrpc clone: a server that is gone leaves neither DEST nor a temporary directory") {
  TempDir dir;
  fs::path src = dir.path() / "src";
  make_source(src);
  std::string url;
  {
    Server server({"--repo", src.string()});
    url = server.url();
  }
  auto r = run_hgrpc({"clone", url, (dir.path() / "dest").string()});
  CHECK(r.exit_code == 3);
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(dir.path())) left.push_back(e.path().filename().string());
  CHECK(left == std::vector<std::string>{"src"});
}

TEST_CASE("hgrpc clone again from hgrpcd's cache: the answers recompressed in the background, fewer bytes, the same repository") {
  TempDir dir;
  // Three files with the same text: three filelogs, each with its own zstd
  // chunk of it. Compressed together, the second and third cost little.
  fs::path src = dir.path() / "src";
  fs::create_directories(src);
  hg(src, "init");
  std::string lines;
  for (int i = 0; i < 20000; ++i) lines += "line " + std::to_string(i * 7919 % 100003) + " of the text\n";
  for (const char* name : {"one.txt", "two.txt", "three.txt"}) spit((src / name).string(), lines);
  hg(src, "commit -q -A -m c1 -d '1700000000 0'");
  spit((src / "one.txt").string(), lines + "more\n");
  hg(src, "commit -q -m c2 -d '1700003600 0'");
  Server server({"--repo", src.string()});  // the cache and --cache-recompress are on by default
  const fs::path first = dir.path() / "first", second = dir.path() / "second";
  auto a = run_hgrpc({"-q", "clone", "-U", "--json", server.url(), first.string()});
  REQUIRE_MESSAGE(a.exit_code == 0, a.err);
  for (int i = 0; i < 3000 && server_counter(server, "hgrpcd_cache_recompress_pending") != 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  REQUIRE(server_counter(server, "hgrpcd_cache_recompress_pending") == 0);
  // filesdata is swapped; manifestdata's two small chunks come out no
  // smaller, so it stays as it was; changesetdata's texts are stored
  // uncompressed (nothing spliced, nothing to recompress).
  CHECK(server_counter(server, "hgrpcd_cache_recompressed_total") == 1);
  CHECK(server_counter(server, "hgrpcd_cache_recompress_skipped_total") == 1);
  auto b = run_hgrpc({"-q", "clone", "-U", "--json", server.url(), second.string()});
  REQUIRE_MESSAGE(b.exit_code == 0, b.err);
  const auto bytes_of = [](const RunResult& r) { return json::parse(r.out).at("response_bytes").get<std::uint64_t>(); };
  CHECK(bytes_of(b) * 2 < bytes_of(a));
  CHECK(compare("store", first, second) == "");
  CHECK(run_program({"/usr/bin/hg", "-R", second.string(), "verify", "-q"}, "", {"HGRCPATH=/dev/null"}).exit_code == 0);
}
