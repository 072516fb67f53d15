// Connection abuse against hgrpcd (or nginx in front of it), for scripts/bench
// (issue 17). Prints one JSON object on stdout.
//
//   --case abuse      holds --silent connections that send nothing and --slow
//                     connections that send a request head one byte every
//                     --slow-interval seconds (each reopened when the server
//                     closes it), spread over --abuser-addresses source
//                     addresses 127.0.0.2, 127.0.0.3, ...; meanwhile one
//                     client on 127.0.0.1 sends small valid requests for
//                     --duration seconds: their latencies (p50/p99/max) and
//                     failures. With --server-pid: the server's RSS and
//                     threads idle before, at the peak, and after the load
//                     once settled (bounded wait).
//   --case overlimit  the server is full (started with a small
//                     --max-open-connections, held by --silent connections):
//                     time from connect to the complete 503, --probes times.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "bench/load_workloads.hpp"

using namespace hgrpc::bench;
using Clock = std::chrono::steady_clock;

namespace {

struct Config {
  int port = 0;
  std::string kase = "abuse";
  std::size_t silent = 1000;
  std::size_t slow = 200;
  std::size_t abuser_addresses = 25;
  double slow_interval = 0.5;
  double duration = 30;
  std::size_t probes = 200;
  int server_pid = 0;
};

long proc_status(int pid, const std::string& key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key + ":", 0) == 0) return std::stol(line.substr(key.size() + 1));
  return -1;
}

// A non-blocking connection to 127.0.0.1:port from 127.0.0.<source>; -1 on failure.
int open_from(int port, int source) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in local{};
  local.sin_family = AF_INET;
  local.sin_addr.s_addr = htonl(0x7f000000u | static_cast<unsigned>(source));
  if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
    ::close(fd);
    return -1;
  }
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

struct Abuser {
  int fd = -1;
  int source = 2;
  bool slow = false;
  std::size_t sent = 0;
  Clock::time_point next_send;
};

constexpr std::string_view kSlowHead = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: ";

// Holds the abusers until stop; counts reopenings.
void hold(const Config& c, std::atomic<bool>& stop, std::atomic<std::uint64_t>& reopened,
          std::atomic<std::uint64_t>& held_now) {
  std::vector<Abuser> conns(c.silent + c.slow);
  const auto interval = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(c.slow_interval));
  for (std::size_t i = 0; i < conns.size(); ++i) {
    auto& a = conns[i];
    a.source = 2 + static_cast<int>(i % c.abuser_addresses);
    a.slow = i >= c.silent;
    a.fd = open_from(c.port, a.source);
    a.next_send = Clock::now() + interval;
  }
  std::vector<pollfd> pfds(conns.size());
  while (!stop) {
    std::uint64_t alive = 0;
    for (std::size_t i = 0; i < conns.size(); ++i) {
      pfds[i] = {conns[i].fd, POLLIN, 0};
      alive += conns[i].fd >= 0;
    }
    held_now = alive;
    ::poll(pfds.data(), pfds.size(), 50);
    const auto now = Clock::now();
    for (std::size_t i = 0; i < conns.size(); ++i) {
      auto& a = conns[i];
      bool closed = a.fd < 0;
      if (!closed && (pfds[i].revents & (POLLIN | POLLHUP | POLLERR))) {
        char buf[4096];
        closed = ::recv(a.fd, buf, sizeof buf, MSG_DONTWAIT) <= 0 || true;  // any answer: done
      }
      if (!closed && a.slow && now >= a.next_send) {
        const char byte = a.sent < kSlowHead.size() ? kSlowHead[a.sent] : 'x';
        closed = ::send(a.fd, &byte, 1, MSG_NOSIGNAL | MSG_DONTWAIT) != 1;
        ++a.sent;
        a.next_send = now + interval;
      }
      if (closed) {
        if (a.fd >= 0) ::close(a.fd);
        a.fd = open_from(c.port, a.source);
        a.sent = 0;
        a.next_send = now + interval;
        reopened.fetch_add(1);
      }
    }
  }
  for (auto& a : conns)
    if (a.fd >= 0) ::close(a.fd);
}

double pct(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

int run_abuse(const Config& c) {
  hgrpc::framing::ClientReactorOptions reactor;
  const Workload w = patchedsize_workload(reactor);
  const std::string body(hgrpc::framing::as_chars(w.body));
  const long rss_idle = c.server_pid ? proc_status(c.server_pid, "VmRSS") : -1;
  const long threads_idle = c.server_pid ? proc_status(c.server_pid, "Threads") : -1;

  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> reopened{0}, held{0};
  std::thread holder([&] { hold(c, stop, reopened, held); });
  std::this_thread::sleep_for(std::chrono::seconds(2));  // let them all connect

  httplib::Client cli("127.0.0.1", c.port);
  cli.set_keep_alive(true);
  cli.set_tcp_nodelay(true);
  cli.set_connection_timeout(5);
  cli.set_read_timeout(5);
  const httplib::Headers headers{{"Accept", std::string(kMediaType)}};
  std::vector<double> ms;
  std::uint64_t failures = 0;
  std::string first_failure;
  long rss_peak = rss_idle, threads_peak = threads_idle;
  const auto end = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(c.duration));
  while (Clock::now() < end) {
    const auto t0 = Clock::now();
    auto res = cli.Post(w.path, headers, body, std::string(kMediaType));
    const auto t1 = Clock::now();
    std::string problem;
    if (!res) problem = "transport: " + httplib::to_string(res.error());
    else if (res->status != 200) problem = "status " + std::to_string(res->status) + ": " + res->body.substr(0, 100);
    else if (auto ok = check_response(w, hgrpc::framing::as_bytes(res->body), reactor); !ok)
      problem = "bad response: " + ok.error().message;
    if (!problem.empty()) {
      ++failures;
      if (first_failure.empty()) first_failure = problem;
    }
    ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    if (c.server_pid) {
      rss_peak = std::max(rss_peak, proc_status(c.server_pid, "VmRSS"));
      threads_peak = std::max(threads_peak, proc_status(c.server_pid, "Threads"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const std::uint64_t held_at_end = held.load();
  stop = true;
  holder.join();
  // Back to idle: the server drops the connections as it sees them close.
  long rss_after = -1, threads_after = -1;
  if (c.server_pid) {
    const auto settle = Clock::now() + std::chrono::seconds(30);
    do {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      threads_after = proc_status(c.server_pid, "Threads");
    } while (threads_after > threads_idle && Clock::now() < settle);
    rss_after = proc_status(c.server_pid, "VmRSS");
  }
  const std::size_t n = ms.size();
  const double p50 = pct(ms, 0.50), p99 = pct(ms, 0.99), max = ms.empty() ? 0 : ms.back();
  nlohmann::json out{{"case", "abuse"},
                     {"silent", c.silent},
                     {"slow", c.slow},
                     {"abuser_addresses", c.abuser_addresses},
                     {"abusers_held_at_end", held_at_end},
                     {"abusers_reopened", reopened.load()},
                     {"requests", n},
                     {"failures", failures},
                     {"p50_ms", p50},
                     {"p99_ms", p99},
                     {"max_ms", max},
                     {"rss_kib_idle", rss_idle},
                     {"rss_kib_peak", rss_peak},
                     {"rss_kib_after", rss_after},
                     {"threads_idle", threads_idle},
                     {"threads_peak", threads_peak},
                     {"threads_after", threads_after}};
  if (!first_failure.empty()) out["first_failure"] = first_failure;
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

int run_overlimit(const Config& c) {
  std::vector<int> held;
  for (std::size_t i = 0; i < c.silent; ++i) held.push_back(open_from(c.port, 2 + static_cast<int>(i % c.abuser_addresses)));
  std::this_thread::sleep_for(std::chrono::seconds(1));
  std::vector<double> ms;
  std::uint64_t not_503 = 0;
  const std::string request = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  for (std::size_t i = 0; i < c.probes; ++i) {
    const auto t0 = Clock::now();
    const int fd = open_from(c.port, 1);
    std::string got;
    if (fd >= 0) {
      ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
      char buf[4096];
      for (;;) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 5000) <= 0) break;
        const auto r = ::recv(fd, buf, sizeof buf, 0);
        if (r <= 0) break;
        got.append(buf, static_cast<std::size_t>(r));
      }
      ::close(fd);
    }
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    if (got.rfind("HTTP/1.1 503", 0) != 0) ++not_503;
  }
  for (int fd : held)
    if (fd >= 0) ::close(fd);
  nlohmann::json out{{"case", "overlimit"},        {"held", c.silent},
                     {"probes", c.probes},         {"not_503", not_503},
                     {"p50_ms", pct(ms, 0.50)},    {"p99_ms", pct(ms, 0.99)},
                     {"max_ms", ms.empty() ? 0.0 : ms.back()}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Config c;
  CLI::App app{"Connection abuse against an hgrpcd (or a proxy in front of it) at 127.0.0.1"};
  app.add_option("--port", c.port, "Server port")->required();
  app.add_option("--case", c.kase, "abuse or overlimit")->check(CLI::IsMember({"abuse", "overlimit"}));
  app.add_option("--silent", c.silent, "Connections that send nothing");
  app.add_option("--slow", c.slow, "Connections that send a head one byte at a time");
  app.add_option("--abuser-addresses", c.abuser_addresses, "Source addresses 127.0.0.2... of the abusers")
      ->check(CLI::Range(std::size_t{1}, std::size_t{250}));
  app.add_option("--slow-interval", c.slow_interval, "Seconds between two bytes of a slow head");
  app.add_option("--duration", c.duration, "Seconds of valid requests")->check(CLI::Range(1.0, 3600.0));
  app.add_option("--probes", c.probes, "overlimit: connections over the limit");
  app.add_option("--server-pid", c.server_pid, "Process whose RSS and threads are reported");
  CLI11_PARSE(app, argc, argv);
  // Each held connection is an fd here too.
  rlimit nofile{};
  ::getrlimit(RLIMIT_NOFILE, &nofile);
  nofile.rlim_cur = nofile.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &nofile);
  return c.kase == "abuse" ? run_abuse(c) : run_overlimit(c);
}
