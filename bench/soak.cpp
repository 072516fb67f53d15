// Soak of hgrpcd for scripts/bench (issue 17): --clients threads run a mix of
// workloads for --duration seconds against one server, counting wrong
// answers, then the server's fds, threads and RSS are compared with their
// values before the load (after a bounded settle). One JSON object on stdout.
//
// The mix is the table kWorkloads below: a name, a weight, and one exchange
// that returns "" when the answer was right. With --clone-url (hgrpcd
// serving a repository), hgrpc clone -U of it joins as a row: the client
// checks every revision's hash, and its counts must equal those of the
// clone made while idle.
//
// "Idle" is the server after one exchange of every workload and a settle
// (libraries allocate lazily on first use); after the load its fds and
// threads must come back to exactly those figures and its RSS to within
// --rss-slack of it: `back_to_idle` says which did.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <dirent.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <sstream>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "bench/load_workloads.hpp"
#include "client/clone.hpp"
#include "client/url.hpp"

using namespace hgrpc::bench;
using Clock = std::chrono::steady_clock;

namespace {

struct Resources {
  long fds = -1, threads = -1, rss_kib = -1;
};

Resources resources(int pid) {
  Resources r;
  if (pid == 0) return r;
  const std::string base = "/proc/" + std::to_string(pid);
  if (DIR* d = ::opendir((base + "/fd").c_str())) {
    r.fds = 0;
    while (auto* e = ::readdir(d)) r.fds += e->d_name[0] != '.';
    ::closedir(d);
  }
  std::ifstream in(base + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Threads:", 0) == 0) r.threads = std::stol(line.substr(8));
    if (line.rfind("VmRSS:", 0) == 0) r.rss_kib = std::stol(line.substr(6));
  }
  return r;
}

struct Env {
  int port;
  hgrpc::framing::ClientReactorOptions reactor;
  Workload small, multi, large;
  std::string small_body, multi_body, large_body;
  std::string clone_url;               // empty: no clone row
  std::filesystem::path clone_dir;     // clones go here, removed after each
  hgrpc::client::CloneSummary clone_expect;
};

// An httplib client and whether its connection was kept after the last
// answer (the next request then goes out on a reused connection).
struct KeptClient {
  httplib::Client http;
  bool kept = false;
  std::uint64_t retries = 0;

  explicit KeptClient(int port) : http("127.0.0.1", port) {
    http.set_keep_alive(true);
    http.set_connection_timeout(10);
    http.set_read_timeout(60);
    http.set_write_timeout(60);
  }
  void drop() {
    http.stop();
    kept = false;
  }
};

// HTTP/1.1's keep-alive race: the server closes a connection at its idle
// timeout just as the client sends the next request on it (cpp-httplib
// checks the socket only before writing), and the request fails before any
// byte of an answer. Like browsers and curl, a request that failed that way
// on a reused connection is sent again, once, on a new one. The retries are
// counted; more of them than keep-alive timeouts on the server
// (hgrpcd_connections_timed_out_total{phase="keep_alive"}) is a wrong run.
httplib::Result post(KeptClient& c, const std::string& path, const httplib::Headers& headers,
                     const std::string& body) {
  const bool reused = c.kept;
  auto res = c.http.Post(path, headers, body, std::string(kMediaType));
  if (!res && reused && (res.error() == httplib::Error::Read || res.error() == httplib::Error::Write)) {
    ++c.retries;
    c.drop();
    res = c.http.Post(path, headers, body, std::string(kMediaType));
  }
  c.kept = res && res->get_header_value("Connection") != "close";
  if (!res) c.drop();
  return res;
}

// One series of the server's /metrics ("name{label=\"v\"}"); -1 if absent.
long metric(int port, const std::string& series) {
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(10);
  auto res = c.Get("/metrics");
  if (!res || res->status != 200) return -1;
  std::istringstream in(res->body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stol(line.substr(series.size() + 1));
  }
  return -1;
}

const httplib::Headers& post_headers() {
  static const httplib::Headers h{{"Accept", std::string(kMediaType)}};
  return h;
}

std::string post_checked(KeptClient& c, const Env& env, const Workload& w, const std::string& body) {
  auto res = post(c, w.path, post_headers(), body);
  if (!res) return "transport: " + httplib::to_string(res.error());
  if (res->status != 200) return "status " + std::to_string(res->status);
  if (auto ok = check_response(w, hgrpc::framing::as_bytes(res->body), env.reactor); !ok)
    return "bad response: " + ok.error().message;
  return "";
}

int raw_connect(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

std::string post_head(const std::string& path, std::size_t length) {
  return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: " + std::string(kMediaType) +
         "\r\nContent-Type: " + std::string(kMediaType) + "\r\nContent-Length: " + std::to_string(length) +
         "\r\n\r\n";
}

void send_all(int fd, std::string_view s) {
  while (!s.empty()) {
    const auto n = ::send(fd, s.data(), s.size(), MSG_NOSIGNAL);
    if (n <= 0) return;
    s.remove_prefix(static_cast<std::size_t>(n));
  }
}

// hgrpc clone -U of env.clone_url into a fresh directory, removed after.
// With `record`, its summary becomes what the later clones must match.
std::string clone_once(const Env& e, std::mt19937_64& rng, hgrpc::client::CloneSummary* record = nullptr) {
  namespace cl = hgrpc::client;
  auto url = cl::parse_url(e.clone_url);
  if (!url) return "clone url: " + url.error().message;
  cl::HttpTransport transport(std::move(*url), cl::TransportOptions{});
  auto map = transport.handshake();
  if (!map) return "handshake: " + map.error().message;
  const auto apis = map->find("apis");
  if (apis == map->end() || !apis->contains("exp-http-v2-0003")) return "handshake: no exp-http-v2-0003 API";
  const std::filesystem::path dest = e.clone_dir / ("clone-" + std::to_string(rng()));
  cl::CloneOptions options;
  options.source_url = e.clone_url;
  options.checkout = false;
  auto summary = cl::clone_repository(cl::http_exchange(transport, cl::SessionOptions{}),
                                      (*apis)["exp-http-v2-0003"], dest, options);
  std::error_code ec;
  std::filesystem::remove_all(dest, ec);
  if (!summary) return "clone: " + summary.error().message;
  if (record) {
    *record = *summary;
    return "";
  }
  const auto& x = e.clone_expect;
  if (summary->changesets != x.changesets || summary->manifests != x.manifests ||
      summary->file_revisions != x.file_revisions || summary->revision_bytes != x.revision_bytes)
    return "clone: " + std::to_string(summary->changesets) + " changesets, " + std::to_string(summary->file_revisions) +
           " file revisions, " + std::to_string(summary->revision_bytes) + " bytes; idle it was " +
           std::to_string(x.changesets) + ", " + std::to_string(x.file_revisions) + ", " +
           std::to_string(x.revision_bytes);
  return "";
}

struct Row {
  std::string name;
  unsigned weight;
  // One exchange; "" when the answer was the right one.
  std::function<std::string(KeptClient&, const Env&, std::mt19937_64&)> run;
};

std::vector<Row> kWorkloads = {
    {"small", 40, [](KeptClient& c, const Env& e, std::mt19937_64&) { return post_checked(c, e, e.small, e.small_body); }},
    {"multirequest", 20, [](KeptClient& c, const Env& e, std::mt19937_64&) { return post_checked(c, e, e.multi, e.multi_body); }},
    {"large", 10, [](KeptClient& c, const Env& e, std::mt19937_64&) { return post_checked(c, e, e.large, e.large_body); }},
    {"malformed", 10,
     [](KeptClient& c, const Env&, std::mt19937_64& rng) -> std::string {
       std::string junk(64 + rng() % 4000, '\0');
       for (auto& ch : junk) ch = static_cast<char>(rng());
       // A frame header declaring a payload larger than the body: never a valid body.
       junk.replace(0, 3, "\xff\xff\x00", 3);
       auto res = post(c, std::string(kApiPrefix) + "multirequest", post_headers(), junk);
       if (!res) return "transport: " + httplib::to_string(res.error());
       return res->status == 400 ? "" : "malformed body answered " + std::to_string(res->status);
     }},
    {"disconnect-mid-body", 10,
     [](KeptClient&, const Env& e, std::mt19937_64& rng) -> std::string {
       const int fd = raw_connect(e.port);
       if (fd < 0) return "connect failed";
       send_all(fd, post_head(e.large.path, e.large_body.size()));
       send_all(fd, std::string_view(e.large_body).substr(0, rng() % e.large_body.size()));
       ::close(fd);
       return "";
     }},
    {"disconnect-mid-response", 10,
     [](KeptClient&, const Env& e, std::mt19937_64& rng) -> std::string {
       const int fd = raw_connect(e.port);
       if (fd < 0) return "connect failed";
       send_all(fd, post_head(e.large.path, e.large_body.size()));
       send_all(fd, e.large_body);
       std::size_t want = 1 + rng() % (1u << 20), got = 0;
       char buf[65536];
       while (got < want) {
         pollfd p{fd, POLLIN, 0};
         if (::poll(&p, 1, 60000) <= 0) break;  // as long as the other clients wait
         const auto n = ::recv(fd, buf, sizeof buf, 0);
         if (n <= 0) break;
         got += static_cast<std::size_t>(n);
       }
       if (rng() % 2) {  // RST or FIN
         linger l{1, 0};
         ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
       }
       ::close(fd);
       return got == 0 ? "no response before the disconnect" : "";
     }},
};

}  // namespace

int main(int argc, char** argv) {
  int port = 0, server_pid = 0;
  std::size_t clients = 64, large_bytes = 4u << 20;
  double duration = 600;
  std::uint64_t seed = 1;
  double rss_slack_mib = 1;
  CLI::App app{"Soak of an hgrpcd at 127.0.0.1: a mix of workloads, wrong answers, resource growth"};
  app.add_option("--port", port, "Server port")->required();
  app.add_option("--clients", clients, "Client threads")->check(CLI::Range(std::size_t{1}, std::size_t{512}));
  app.add_option("--duration", duration, "Seconds")->check(CLI::Range(1.0, 86400.0));
  app.add_option("--large-bytes", large_bytes, "Size of the large applypatches answer")->transform(CLI::AsSizeValue(false));
  app.add_option("--server-pid", server_pid, "Process whose fds, threads and RSS are checked");
  app.add_option("--seed", seed, "Seed of the mix");
  app.add_option("--rss-slack", rss_slack_mib, "MiB over the idle RSS that still counts as back to idle");
  std::string clone_url;
  unsigned clone_weight = 5;
  app.add_option("--clone-url", clone_url, "A repository hgrpcd serves: hgrpc clone -U of it joins the mix");
  app.add_option("--clone-weight", clone_weight, "Weight of the clone row (the others: 40, 20, 10, 10, 10, 10)");
  CLI11_PARSE(app, argc, argv);
  rlimit nofile{};
  ::getrlimit(RLIMIT_NOFILE, &nofile);
  nofile.rlim_cur = nofile.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &nofile);

  Env env{port, {}, {}, {}, {}, {}, {}, {}, clone_url, {}, {}};
  std::error_code ec;
  if (!clone_url.empty()) {
    env.clone_dir = std::filesystem::temp_directory_path() / ("soak-clones." + std::to_string(::getpid()));
    std::filesystem::create_directories(env.clone_dir);
    std::mt19937_64 rng(seed);
    if (auto failed = clone_once(env, rng, &env.clone_expect); !failed.empty()) {
      std::fprintf(stderr, "soak: the first clone of %s failed: %s\n", clone_url.c_str(), failed.c_str());
      return 1;
    }
    kWorkloads.push_back({"clone", clone_weight, [](KeptClient&, const Env& e, std::mt19937_64& r) { return clone_once(e, r); }});
  }
  env.small = patchedsize_workload(env.reactor);
  env.multi = multirequest_workload(env.reactor, 20);
  env.large = applypatches_workload(env.reactor, large_bytes);
  env.small_body = std::string(hgrpc::framing::as_chars(env.small.body));
  env.multi_body = std::string(hgrpc::framing::as_chars(env.multi.body));
  env.large_body = std::string(hgrpc::framing::as_chars(env.large.body));
  unsigned total_weight = 0;
  for (const auto& r : kWorkloads) total_weight += r.weight;

  const Resources before = resources(server_pid);
  // Idle: one exchange of each workload (first uses allocate: cpp-httplib,
  // the zstd context pool, the large answer's buffers), then a settle.
  {
    std::mt19937_64 rng(seed);
    KeptClient c(port);
    for (const auto& row : kWorkloads) row.run(c, env, rng);
  }
  const auto settle = [&](const Resources& target, long rss_slack_kib) {
    Resources now = resources(server_pid);
    for (const auto deadline = Clock::now() + std::chrono::seconds(30);
         server_pid != 0 && (now.fds > target.fds || now.threads > target.threads ||
                             now.rss_kib > target.rss_kib + rss_slack_kib) &&
         Clock::now() < deadline;) {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      now = resources(server_pid);
    }
    return now;
  };
  // Connections of the warm-up end at the keep-alive timeout (or at once for
  // the raw ones); extra workers exit after 5 s idle. RSS is not waited for.
  const Resources idle = settle(before, std::numeric_limits<long>::max() / 2);
  const long keep_alive_closes_before = metric(port, "hgrpcd_connections_timed_out_total{phase=\"keep_alive\"}");
  std::atomic<std::uint64_t> retries{0};
  std::mutex mu;
  std::map<std::string, std::uint64_t> done, wrong;
  std::string first_wrong;
  std::map<std::string, std::string> first_by_workload;
  const auto end = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(duration));
  Resources peak = idle;
  std::vector<long> rss_by_fifth;  // RSS at the end of each fifth of the run: a plateau, or growth
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < clients; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(seed * 1000 + t);
      KeptClient c(port);
      std::map<std::string, std::uint64_t> my_done, my_wrong;
      std::map<std::string, std::string> my_first_by;
      std::string my_first;
      while (Clock::now() < end) {
        unsigned pick = static_cast<unsigned>(rng() % total_weight);
        const Row* row = &kWorkloads.front();
        for (const auto& r : kWorkloads) {
          if (pick < r.weight) {
            row = &r;
            break;
          }
          pick -= r.weight;
        }
        const std::string problem = row->run(c, env, rng);
        ++my_done[row->name];
        if (!problem.empty()) {
          ++my_wrong[row->name];
          if (my_first.empty()) my_first = row->name + ": " + problem;
          my_first_by.emplace(row->name, problem);
          c.drop();  // a fresh connection after a failure
        }
      }
      retries += c.retries;
      std::lock_guard lock(mu);
      for (auto& [k, v] : my_done) done[k] += v;
      for (auto& [k, v] : my_wrong) wrong[k] += v;
      if (first_wrong.empty()) first_wrong = my_first;
      for (auto& [k, v] : my_first_by) first_by_workload.emplace(k, v);
    });
  }
  std::thread sampler([&] {
    const auto start = Clock::now();
    while (Clock::now() < end) {
      std::this_thread::sleep_for(std::chrono::seconds(1));
      const Resources r = resources(server_pid);
      std::lock_guard lock(mu);
      if (Clock::now() - start >= (end - start) * static_cast<long>(rss_by_fifth.size() + 1) / 5)
        rss_by_fifth.push_back(r.rss_kib);
      peak.fds = std::max(peak.fds, r.fds);
      peak.threads = std::max(peak.threads, r.threads);
      peak.rss_kib = std::max(peak.rss_kib, r.rss_kib);
    }
  });
  for (auto& th : threads) th.join();
  sampler.join();
  // Settle (bounded): connections end at the keep-alive timeout, workers after
  // 5 s idle (the last extra one trims malloc's arenas).
  const long rss_slack_kib = static_cast<long>(rss_slack_mib * 1024);
  const Resources after = settle(idle, rss_slack_kib);
  const long keep_alive_closes =
      metric(port, "hgrpcd_connections_timed_out_total{phase=\"keep_alive\"}") - keep_alive_closes_before;
  std::uint64_t exchanges = 0, wrong_total = 0;
  for (auto& [k, v] : done) exchanges += v;
  for (auto& [k, v] : wrong) wrong_total += v;
  // A retry the server's idle closes do not account for hides a real failure.
  const bool retries_explained = retries <= static_cast<std::uint64_t>(std::max(0L, keep_alive_closes));
  if (!retries_explained) {
    ++wrong_total;
    if (first_wrong.empty())
      first_wrong = std::to_string(retries.load()) + " retried requests but " + std::to_string(keep_alive_closes) +
                    " keep-alive closes on the server";
  }
  const bool fds_back = after.fds <= idle.fds, threads_back = after.threads <= idle.threads,
             rss_back = after.rss_kib <= idle.rss_kib + rss_slack_kib;
  nlohmann::json out{{"case", "soak"},
                     {"clients", clients},
                     {"seconds", duration},
                     {"exchanges", exchanges},
                     {"wrong", wrong_total},
                     {"by_workload", done},
                     {"wrong_by_workload", wrong},
                     {"retried_after_keep_alive_close", retries.load()},
                     {"server_keep_alive_closes", keep_alive_closes},
                     {"fds_before", before.fds},
                     {"fds_idle", idle.fds},
                     {"fds_peak", peak.fds},
                     {"fds_after", after.fds},
                     {"threads_before", before.threads},
                     {"threads_idle", idle.threads},
                     {"threads_peak", peak.threads},
                     {"threads_after", after.threads},
                     {"rss_kib_before", before.rss_kib},
                     {"rss_kib_idle", idle.rss_kib},
                     {"rss_kib_peak", peak.rss_kib},
                     {"rss_kib_by_fifth", rss_by_fifth},
                     {"rss_kib_after", after.rss_kib},
                     {"rss_slack_kib", rss_slack_kib},
                     {"back_to_idle", {{"fds", fds_back}, {"threads", threads_back}, {"rss", rss_back}}}};
  if (!first_wrong.empty()) out["first_wrong"] = first_wrong;
  if (!first_by_workload.empty()) out["first_wrong_by_workload"] = first_by_workload;
  if (!env.clone_url.empty()) {
    out["clone_url"] = env.clone_url;
    out["clone_changesets"] = env.clone_expect.changesets;
    out["clone_file_revisions"] = env.clone_expect.file_revisions;
    std::filesystem::remove_all(env.clone_dir, ec);
  }
  std::printf("%s\n", out.dump().c_str());
  return 0;
}
