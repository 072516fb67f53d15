// Load and faults against the real hgrpcd on 127.0.0.1: many clients mixing
// valid and invalid bodies, clients that vanish mid-request and mid-response,
// SIGTERM under load. Afterwards: every valid request was answered correctly,
// and the server's file descriptors, threads and resident memory are back
// near where they started. HGRPC_LOAD_SECONDS (default 20) sets the duration.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <random>

#include "tests/robustness/robust_support.hpp"

using namespace hgrpc::server::robustness;
using namespace std::chrono_literals;

namespace {

double load_seconds() {
  const char* v = std::getenv("HGRPC_LOAD_SECONDS");
  return v != nullptr && *v != '\0' ? std::atof(v) : 20.0;
}

std::uint64_t seed() {
  const char* v = std::getenv("HGRPC_LOAD_SEED");
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : std::random_device{}();
}

struct Resources {
  long fds = 0;
  long threads = 0;
  long rss_kib = 0;
};

Resources resources(const TestServer& s) {
  return {fd_count(s.pid()), thread_count(s.pid()), rss_kib(s)};
}

// Waits (bounded) until the server's fds and threads are back to `idle`, the
// figures of the server as started: no connection open (they end at the
// keep-alive timeout, or when the server sees the client leave) and only the
// warm workers (the others exit after 5 s idle). Measuring the baseline
// before any connection makes it exact: a baseline taken after a warm-up
// raced with the warm-up's connection closing.
Resources settle(const TestServer& s, const Resources& idle) {
  Resources now = resources(s);
  const auto deadline = Clock::now() + 20s;
  while ((now.fds != idle.fds || now.threads != idle.threads) && Clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);
    now = resources(s);
  }
  return now;
}

// One exchange of the mix; returns "" when the outcome is the expected one,
// else what went wrong.
std::string one_exchange(httplib::Client& c, std::mt19937_64& rng) {
  const auto kind = rng() % 6;
  std::uniform_int_distribution<int> len(1, 20000);
  std::string base(static_cast<std::size_t>(len(rng)), 'x');
  for (auto& ch : base) ch = static_cast<char>('a' + rng() % 26);
  const std::uint32_t cut = static_cast<std::uint32_t>(rng() % base.size());
  switch (kind) {
    case 0:
    case 1: {  // applypatches: the result is checked byte for byte
      Call call;
      const auto id = call.add("applypatches", {{"base", bin(base)},
                                                {"patches", json::array({json::binary(delta(cut, cut, "INSERTED"))})}});
      auto r = c.Post((kApi + "/ro/multirequest").c_str(), framing_headers(),
                      std::string(fr::as_chars(call.body)), kMedia);
      if (!r) return "applypatches: " + httplib::to_string(r.error());
      if (r->status != 200) return "applypatches: status " + std::to_string(r->status);
      Decoded d = decode(call.reactor, fr::as_bytes(r->body));
      const std::string want = base.substr(0, cut) + "INSERTED" + base.substr(cut);
      if (d.protocol_error || d.values[id].size() != 1 || str(d.values[id][0]) != want)
        return "applypatches: wrong answer";
      return "";
    }
    case 2: {  // several commands in one body, one of them a command error
      Call call;
      const auto size = call.add("patchedsize", {{"size", base.size()}, {"patches", json::array()}});
      const auto diff = call.add("diff", {{"a", bin(base)}, {"b", bin(base + "\n")}});
      const auto bad = call.add("applypatches", {{"base", bin("ab")},
                                                 {"patches", json::array({json::binary(delta(5, 9, "x"))})}});
      auto r = c.Post((kApi + "/ro/multirequest").c_str(), framing_headers(),
                      std::string(fr::as_chars(call.body)), kMedia);
      if (!r) return "multi: " + httplib::to_string(r.error());
      if (r->status != 200) return "multi: status " + std::to_string(r->status);
      Decoded d = decode(call.reactor, fr::as_bytes(r->body));
      if (d.protocol_error || d.values[size] != std::vector<json>{base.size()} ||
          d.values[diff].size() != 1 || d.command_errors.count(bad) != 1)
        return "multi: wrong answer";
      return "";
    }
    case 3: {  // garbage after a valid header: a protocol error
      Bytes body;
      frame(body, 1, 1, fr::stream_flags::kBegin, kRequest, fr::command_request_flags::kNew,
            fr::as_bytes(base.substr(0, 50)));
      auto r = c.Post((kApi + "/ro/multirequest").c_str(), framing_headers(),
                      std::string(fr::as_chars(body)), kMedia);
      if (!r) return "garbage: " + httplib::to_string(r.error());
      if (r->status != 400 || protocol_error_message(r->body).empty()) return "garbage: not a protocol error";
      return "";
    }
    case 4: {  // a truncated body
      Call call;
      Bytes body = good_body(call);
      body.resize(body.size() / 2);
      auto r = c.Post((kApi + "/ro/multirequest").c_str(), framing_headers(),
                      std::string(fr::as_chars(body)), kMedia);
      if (!r) return "truncated: " + httplib::to_string(r.error());
      if (r->status != 400 || protocol_error_message(r->body).rfind("body ends inside", 0) != 0)
        return "truncated: not the protocol error";
      return "";
    }
    default: {  // a wrong Accept header: 406 before the body is read
      Call call;
      const Bytes body = good_body(call);
      auto r = c.Post((kApi + "/ro/multirequest").c_str(), {{"Accept", "text/html"}},
                      std::string(fr::as_chars(body)), kMedia);
      if (!r) return "accept: " + httplib::to_string(r.error());
      if (r->status != 406) return "accept: status " + std::to_string(r->status);
      return "";
    }
  }
}

struct LoadFigures {
  std::uint64_t requests = 0;
  std::uint64_t failures = 0;
  std::string first_failure;
  double seconds = 0;
};

// `clients` threads run the mix until `stop` or the deadline.
LoadFigures run_load(TestServer& server, int clients, double seconds, std::uint64_t s,
                     const std::atomic<bool>* stop = nullptr, bool tolerate_errors = false) {
  std::atomic<std::uint64_t> requests{0}, failures{0};
  std::mutex m;
  std::string first;
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  std::vector<std::thread> threads;
  for (int t = 0; t < clients; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(s + static_cast<std::uint64_t>(t));
      auto c = server.client();
      while (Clock::now() < deadline && !(stop && stop->load())) {
        std::string problem = one_exchange(c, rng);
        ++requests;
        if (!problem.empty()) {
          // Under SIGTERM a refused connection is expected; a wrong answer never.
          if (tolerate_errors && problem.find("wrong") == std::string::npos &&
              problem.find("status") == std::string::npos && problem.find("not ") == std::string::npos)
            continue;
          ++failures;
          std::lock_guard lock(m);
          if (first.empty()) first = problem;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  LoadFigures f;
  f.requests = requests;
  f.failures = failures;
  f.first_failure = first;
  f.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return f;
}

void warm_up(TestServer& server) {
  std::mt19937_64 rng(1);
  auto c = server.client();
  for (int i = 0; i < 30; ++i) REQUIRE(one_exchange(c, rng) == "");
}

}  // namespace

TEST_CASE("load: 16 clients mixing valid and invalid bodies then resources come back") {
  // The default keep-alive timeout: cpp-httplib waits that long for the first
  // request of a connection too, and on this loaded 2-core machine a client
  // thread can stall for a second between connect and send.
  // Resources coming back is about the connection path; the response
  // cache keeps up to --cache-bytes of answers by design (its own tests).
  // Every client is 127.0.0.1 and the invalid bodies close connections: on
  // a loaded machine the server may still hold more than the default 64 per
  // client while the clients reconnect, and rightly answer 503 (a fresh-clone scripts/test run saw
  // 54 of 62,822); the per-client limit has tests of its own.
  TestServer server({"--cache-bytes", "0", "--max-connections-per-client", "1024"});
  const Resources idle = resources(server);
  warm_up(server);
  const Resources before = settle(server, idle);
  const std::uint64_t s = seed();
  INFO("seed " << s << " (HGRPC_LOAD_SEED)");
  const LoadFigures f = run_load(server, 16, load_seconds(), s);
  const Resources after = settle(server, before);
  MESSAGE("load: " << f.requests << " requests in " << f.seconds << " s ("
                   << static_cast<double>(f.requests) / f.seconds << "/s), " << f.failures
                   << " unexpected; fds " << before.fds << "->" << after.fds << ", threads "
                   << before.threads << "->" << after.threads << ", RSS " << before.rss_kib << "->"
                   << after.rss_kib << " KiB, peak " << peak_kib(server) << " KiB");
  CHECK(f.failures == 0);
  CHECK(f.first_failure == "");
  CHECK(f.requests > 100);
  CHECK(after.fds <= before.fds);
  CHECK(after.threads == before.threads);
  // glibc keeps some freed memory in its arenas; far less than the traffic.
  CHECK(after.rss_kib < before.rss_kib + 96 * 1024 * kMemoryFactor);
  CHECK(server.stop() == 0);
}

TEST_CASE("faults: clients that disconnect mid-request and mid-response") {
  TestServer server({"--keep-alive-timeout", "1", "--read-timeout", "2"});
  const Resources idle = resources(server);
  warm_up(server);
  const Resources before = settle(server, idle);
  // A response of ~8 MiB, so the client can leave while it is being written.
  Call big;
  big.add("applypatches", {{"base", bin(std::string(8u << 20, 'q'))}, {"patches", json::array()}});
  Call small;
  const Bytes small_body = good_body(small);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 6; ++i) {
        RawConn conn(server.port());
        switch ((t + i) % 4) {
          case 0:  // half a body, then FIN
            conn.send(post_head(kApi + "/ro/multirequest", small_body.size()));
            conn.send(ByteView(small_body).first(small_body.size() / 2));
            conn.close();
            break;
          case 1:  // half a body, then RST
            conn.send(post_head(kApi + "/ro/multirequest", small_body.size()));
            conn.send(ByteView(small_body).first(small_body.size() / 2));
            conn.reset();
            break;
          case 2:  // the whole body, a little of the response, then RST
          case 3: {
            conn.send(post_head(kApi + "/ro/multirequest", big.body.size(), false));
            conn.send(big.body);
            std::string got = conn.read_until_close(300ms);
            ((t + i) % 4 == 2) ? conn.reset() : conn.close();
            break;
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  // The server goes on, correctly.
  auto c = server.client();
  Call after_call;
  auto r = post(c, kApi + "/ro/multirequest", good_body(after_call));
  REQUIRE(r.status == 200);
  Decoded d = decode(after_call.reactor, fr::as_bytes(r.body));
  CHECK(str(d.values[after_call.ids[0]].at(0)) == "HELLO world");
  // Idle, the pool gives the arenas' free memory back within a second
  // (ConnectionPool::trim_when_idle).
  std::this_thread::sleep_for(1500ms);
  const Resources after = settle(server, before);
  MESSAGE("faults: fds " << before.fds << "->" << after.fds << ", threads " << before.threads << "->"
                         << after.threads << ", RSS " << before.rss_kib << "->" << after.rss_kib
                         << " KiB, peak " << peak_kib(server) << " KiB");
  CHECK(after.fds == before.fds);
  CHECK(after.threads == before.threads);
  CHECK(after.rss_kib < before.rss_kib + 96 * 1024 * kMemoryFactor);
  CHECK(server.stop() == 0);
}

TEST_CASE("faults: SIGTERM under load exits 0 and every answer given was whole and right") {
  TestServer server({"--shutdown-grace", "10"});
  warm_up(server);
  std::atomic<bool> stop{false};
  const std::uint64_t s = seed();
  INFO("seed " << s << " (HGRPC_LOAD_SEED)");
  LoadFigures f;
  std::thread load([&] { f = run_load(server, 16, 60, s, &stop, true); });
  std::this_thread::sleep_for(2s);
  const auto t0 = Clock::now();
  const int code = server.stop(SIGTERM, std::chrono::seconds(20));
  const auto took = Clock::now() - t0;
  stop = true;
  load.join();
  MESSAGE("SIGTERM under load: " << f.requests << " requests, exit " << code << " after "
                                 << std::chrono::duration<double>(took).count() << " s");
  CHECK(code == 0);
  CHECK(took < 12s);
  CHECK(f.failures == 0);
  CHECK(f.first_failure == "");
}
