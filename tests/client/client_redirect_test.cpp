// `hgrpc clone` following content redirects: hgrpcd --redirect-target whose
// DIR a real nginx (Debian's nginx-light) serves on 127.0.0.1; the clone is
// hg verify-clean and equal to one made without redirects; a blob tampered
// on disk fails the clone with the digest error and leaves no DEST;
// --max-redirect-bytes refuses before fetching.
#include <doctest/doctest.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <regex>

#include "client_test_support.hpp"
#include "framing/cbor.hpp"

using namespace hgrpc::client::test;
using hgrpc::framing::json;
namespace fs = std::filesystem;

namespace {

int free_port() {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(s >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  REQUIRE(::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  ::close(s);
  return ntohs(a.sin_port);
}

bool port_open(int port) {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool ok = ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(s);
  return ok;
}

// nginx serving `dir` at http://127.0.0.1:PORT/blobs/, stopped on scope exit.
class Nginx {
 public:
  Nginx(const fs::path& prefix, const fs::path& dir) : prefix_(prefix) {
    const std::string nginx = "/usr/sbin/nginx";
    REQUIRE_MESSAGE(fs::exists(nginx), std::string("nginx is not installed (scripts/install-deps installs nginx-light)"));
    port_ = free_port();
    fs::create_directories(prefix);
    spit((prefix / "nginx.conf").string(),
         "worker_processes 1;\nevents { worker_connections 64; }\nhttp {\n  access_log " +
             (prefix / "access.log").string() + ";\n  server {\n    listen 127.0.0.1:" + std::to_string(port_) +
             ";\n    location /blobs/ { alias " + dir.string() + "/; }\n  }\n}\n");
    std::vector<std::string> argv = {nginx, "-p", prefix.string() + "/", "-c", (prefix / "nginx.conf").string(), "-g",
                                     "daemon off; pid " + (prefix / "nginx.pid").string() + "; error_log " +
                                         (prefix / "error.log").string() + ";"};
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    const int rc = posix_spawn(&pid_, nginx.c_str(), &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    REQUIRE(rc == 0);
    for (int i = 0; i < 1000 && !port_open(port_); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    REQUIRE_MESSAGE(port_open(port_), (std::string("nginx did not listen: ") + slurp((prefix / "error.log").string())));
  }
  ~Nginx() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);  // the master stops its worker
    int status = 0;
    for (int i = 0; i < 500; ++i) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
  }
  Nginx(const Nginx&) = delete;
  Nginx& operator=(const Nginx&) = delete;

  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/blobs"; }
  // GET requests nginx logged so far.
  std::size_t gets() const {
    std::ifstream in(prefix_ / "access.log");
    std::size_t n = 0;
    for (std::string line; std::getline(in, line);) n += line.find("\"GET /blobs/") != std::string::npos;
    return n;
  }

 private:
  fs::path prefix_;
  pid_t pid_ = -1;
  int port_ = 0;
};

void hg(const fs::path& repo, const std::string& args) {
  std::string cmd = "HGRCPATH=/dev/null HGUSER=test HGPLAIN=1 hg --cwd '" + repo.string() + "' " + args + " >/dev/null 2>&1";
  REQUIRE_MESSAGE(std::system(cmd.c_str()) == 0, cmd);
}

// Three changesets; dir/big.txt (about 400 KiB of hex noise) makes the
// filesdata answer far larger than the 64 KiB redirect minimum.
void make_source(const fs::path& src) {
  fs::create_directories(src);
  hg(src, "init");
  std::mt19937 gen(7);
  std::string big;
  for (int i = 0; i < 10000; ++i) {
    for (int j = 0; j < 40; ++j) big += "0123456789abcdef"[gen() % 16];
    big += "\n";
  }
  fs::create_directories(src / "dir");
  spit((src / "dir/big.txt").string(), big);
  spit((src / "a.txt").string(), "one\n");
  hg(src, "commit -q -A -m first -d '1700000000 0'");
  spit((src / "a.txt").string(), "one\ntwo\n");
  spit((src / "dir/big.txt").string(), big + "tail\n");
  hg(src, "commit -q -m second -d '1700003600 0'");
  spit((src / "b.txt").string(), "bee\n");
  hg(src, "commit -q -A -m third -d '1700007200 0'");
}

std::string compare(const std::string& mode, const fs::path& ref, const fs::path& dst) {
  auto r = run_program({"/usr/bin/python3", kSourceDir + "/tests/store/compare_repos.py", mode, ref.string(), dst.string()});
  return r.exit_code == 0 ? std::string() : r.out + r.err;
}

std::vector<fs::path> blobs_in(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

bool leftovers(const fs::path& parent, const std::string& name) {
  for (const auto& e : fs::directory_iterator(parent)) {
    if (e.path().filename().string().rfind(name, 0) == 0) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("hgrpc clone through content redirects served by nginx") {
  TempDir tmp;
  // nginx's worker may run as another user: the blobs must be reachable.
  fs::permissions(tmp.path(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                  fs::perms::others_read | fs::perms::others_exec);
  const fs::path src = tmp.path() / "src";
  make_source(src);
  const fs::path blobs = tmp.path() / "blobs";
  fs::create_directories(blobs);
  Nginx nginx(tmp.path() / "nginx", blobs);
  Server server({"--repo", src.string(), "--redirect-target", "cdn=" + nginx.base_url() + "," + blobs.string()});

  const auto caps = run_hgrpc({"capabilities", server.url()});
  REQUIRE(caps.exit_code == 0);
  CHECK(caps.out.find("\"redirect\"") != std::string::npos);

  const fs::path dest = tmp.path() / "dest";
  auto r = run_hgrpc({"-q", "clone", "--json", server.url(), dest.string()});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  const json summary = json::parse(r.out);
  const auto from_server = summary.at("bytes_from_server").get<std::uint64_t>();
  const auto from_redirects = summary.at("bytes_from_redirects").get<std::uint64_t>();
  CHECK(summary.at("changesets") == 3);
  CHECK(summary.at("file_revisions") == 5);  // big.txt x2, a.txt x2, b.txt
  const auto blob_files = blobs_in(blobs);
  REQUIRE(blob_files.size() == 1);  // filesdata; changesetdata and manifestdata stay below 64 KiB
  CHECK(from_redirects == fs::file_size(blob_files[0]));
  CHECK(from_server * 20 <= from_server + from_redirects);  // at most 5% from hgrpcd
  CHECK(nginx.gets() == 1);
  CHECK(run_program({"/usr/bin/hg", "-R", dest.string(), "verify", "-q"}, "", {"HGRCPATH=/dev/null"}).exit_code == 0);

  // The same clone without redirects: equal stores, every byte from hgrpcd.
  const fs::path plain = tmp.path() / "plain";
  auto p = run_hgrpc({"-q", "--no-redirects", "clone", "--json", server.url(), plain.string()});
  REQUIRE_MESSAGE(p.exit_code == 0, p.err);
  CHECK(json::parse(p.out).at("bytes_from_redirects") == 0);
  CHECK(nginx.gets() == 1);
  CHECK(compare("store", plain, dest) == "");
  CHECK(compare("checkout", plain, dest) == "");
  const fs::path ref = tmp.path() / "ref";
  REQUIRE(run_program({"/usr/bin/hg", "clone", "-q", "--pull", "-U", src.string(), ref.string()}, "",
                      {"HGRCPATH=/dev/null"})
              .exit_code == 0);
  CHECK(compare("store", ref, dest) == "");

  // A pull of a new large file comes through a redirect too.
  {
    std::mt19937 gen(9);
    std::string more;
    for (int i = 0; i < 5000; ++i) {
      for (int j = 0; j < 40; ++j) more += "0123456789abcdef"[gen() % 16];
      more += "\n";
    }
    spit((src / "more.txt").string(), more);
    hg(src, "commit -q -A -m fourth -d '1700010800 0'");
    auto pulled = run_hgrpc({"-q", "pull", "--json", dest.string()});
    REQUIRE_MESSAGE(pulled.exit_code == 0, pulled.err);
    const json ps = json::parse(pulled.out);
    CHECK(ps.at("changesets") == 1);
    CHECK(ps.at("bytes_from_redirects").get<std::uint64_t>() > 200000);
    CHECK(nginx.gets() == 2);
    CHECK(run_program({"/usr/bin/hg", "-R", dest.string(), "verify", "-q"}, "", {"HGRCPATH=/dev/null"}).exit_code == 0);
  }
  const auto all_blobs = blobs_in(blobs);
  REQUIRE(all_blobs.size() == 2);

  // --max-redirect-bytes below the advertised size: refused before the GET.
  const fs::path bounded = tmp.path() / "bounded";
  auto b = run_hgrpc({"-q", "--max-redirect-bytes", "1000", "clone", server.url(), bounded.string()});
  CHECK(b.exit_code == 3);
  CHECK(b.err.find("filesdata: content redirect to " + nginx.base_url() + "/") != std::string::npos);
  CHECK(b.err.find(" bytes, more than --max-redirect-bytes 1000") != std::string::npos);
  CHECK(nginx.gets() == 2);
  CHECK_FALSE(fs::exists(bounded));

  // The bounded clone made the server write the blob of the new state's
  // filesdata. One byte of it changed on disk (same size: the server still
  // points there).
  std::vector<fs::path> fresh;
  for (const auto& blob : blobs_in(blobs)) {
    if (std::find(all_blobs.begin(), all_blobs.end(), blob) == all_blobs.end()) fresh.push_back(blob);
  }
  REQUIRE(fresh.size() == 1);
  {
    std::fstream f(fresh[0], std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(100);
    char c = 0;
    f.get(c);
    f.seekp(100);
    f.put(static_cast<char>(c ^ 1));
  }
  const fs::path tampered = tmp.path() / "tampered";
  auto t = run_hgrpc({"-q", "clone", server.url(), tampered.string()});
  CHECK(t.exit_code == 3);
  const std::string name = fresh[0].filename().string();
  const std::regex expected("hgrpc: clone: filesdata: content redirect to " + nginx.base_url() + "/" + name +
                            ": sha256 mismatch: the location says " + name + ", the blob's is ([0-9a-f]{64})\n");
  std::smatch m;
  CHECK_MESSAGE(std::regex_match(t.err, m, expected), t.err);
  if (!m.empty()) CHECK(m[1].str() != name);
  CHECK_FALSE(fs::exists(tampered));
  CHECK_FALSE(leftovers(tmp.path(), "tampered."));
}

TEST_CASE("hgrpcd --redirect-target: malformed values and unusable directories stop it at start") {
  TempDir tmp;
  const auto start = [&](std::vector<std::string> args, std::vector<std::string> env = {}) {
    args.insert(args.begin(), {kHgrpcd, "--port", "0"});
    return run_program(args, "", env);
  };
  auto bad = start({"--redirect-target", "cdn=ftp://x," + tmp.path().string()});
  CHECK(bad.exit_code == 1);
  CHECK(bad.err == "hgrpcd: --redirect-target cdn=ftp://x," + tmp.path().string() +
                       ": URL scheme must be http or https (expected NAME=URL,DIR)\n");
  const std::string absent = (tmp.path() / "absent").string();
  auto missing = start({}, {"HGRPCD_REDIRECT_TARGET=cdn=http://x/b," + absent});
  CHECK(missing.exit_code == 1);
  CHECK(missing.err == "hgrpcd: --redirect-target cdn=http://x/b," + absent + ": redirect directory " + absent +
                           ": No such file or directory\n");
  auto twice = start({"--redirect-target", "cdn=http://x/b," + tmp.path().string(), "--redirect-target",
                      "cdn=http://y/b," + tmp.path().string()});
  CHECK(twice.exit_code == 1);
  CHECK(twice.err == "hgrpcd: --redirect-target cdn=http://y/b," + tmp.path().string() +
                         ": target cdn is given twice\n");
  auto help = start({"--help"});
  CHECK(help.out.find("--redirect-target") != std::string::npos);
  CHECK(help.out.find("--redirect-min-bytes") != std::string::npos);
  auto client_help = run_hgrpc({"--help"});
  CHECK(client_help.out.find("--no-redirects") != std::string::npos);
  CHECK(client_help.out.find("--max-redirect-bytes") != std::string::npos);
}
