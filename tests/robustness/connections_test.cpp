// Connections at scale (issue 17): idle and slow connections cost no worker,
// limits answer 503 and close, head and keep-alive deadlines close, early
// refusals close at once with consistent headers, and /metrics counts it all.
// Raw sockets, 127.0.0.1, bounded waits; no timed assertions.
#include <doctest/doctest.h>

#include <functional>
#include <memory>
#include <regex>
#include <vector>

#include "tests/robustness/robust_support.hpp"

using namespace hgrpc::server::robustness;
using namespace std::chrono_literals;

namespace {

// One request on a new raw connection; the whole exchange until the server closes.
RawReply round_trip(int port, const std::string& request, std::chrono::milliseconds bound = 10s) {
  RawConn conn(port);
  conn.send(request);
  bool closed = false;
  const std::string raw = conn.read_until_close(bound, &closed);
  return parse_reply(raw, closed);
}

std::string get(const std::string& path, const std::string& extra = "") {
  return "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra + "Connection: close\r\n\r\n";
}

// The value of one line of /metrics ("name{labels} value"), -1 if absent.
long metric(int port, const std::string& series) {
  const RawReply r = round_trip(port, get("/metrics"));
  const auto at = r.body.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stol(r.body.substr(at + series.size() + 2));
}

// Waits (bounded) until the gauge reaches `value`; returns the last value seen.
long await_metric(int port, const std::string& series, long value) {
  long now = metric(port, series);
  for (const auto deadline = Clock::now() + 10s; now != value && Clock::now() < deadline;) {
    std::this_thread::sleep_for(20ms);
    now = metric(port, series);
  }
  return now;
}

std::size_t count(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (auto at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

// A response that closes the connection says so once and announces no keep-alive.
void check_closing_head(const RawReply& r) {
  CHECK(count(r.head, "\r\nConnection: close") == 1);
  CHECK(r.head.find("Keep-Alive") == std::string::npos);
  CHECK(r.closed);
}

// Holds a worker: a POST whose body never completes.
std::unique_ptr<RawConn> hold_worker(int port, const std::string& extra = "") {
  auto conn = std::make_unique<RawConn>(port);
  std::string head = post_head(kApi + "/ro/multirequest", 1000);
  head.insert(head.size() - 2, extra);
  conn->send(head);
  conn->send(std::string_view("x"));
  return conn;
}

// Sends request until the answer has `status` (bounded: 10 s); that answer,
// or the last one.
RawReply until_status(int port, const std::string& request, int status) {
  RawReply r;
  for (const auto deadline = Clock::now() + 10s; Clock::now() < deadline;) {
    r = round_trip(port, request);
    if (r.status == status) break;
    std::this_thread::sleep_for(20ms);
  }
  return r;
}

RawReply until_503(int port, const std::string& request) { return until_status(port, request, 503); }

// Like until_503 while a worker is held by `hold()`: the probe may win the
// race for the last slot, in which case the holder got the 503 and is gone;
// it is then held again. `holder` keeps the last one.
RawReply until_503_holding(int port, const std::string& request, std::unique_ptr<RawConn>& holder,
                           const std::function<std::unique_ptr<RawConn>()>& hold) {
  holder = hold();
  RawReply r;
  for (const auto deadline = Clock::now() + 20s; Clock::now() < deadline;) {
    bool gone = false;
    holder->read_until_close(30ms, &gone);
    if (gone) holder = hold();
    r = round_trip(port, request);
    if (r.status == 503) break;
  }
  return r;
}

}  // namespace

TEST_CASE("connections: 40 silent connections do not hold /healthz (more than --threads)") {
  TestServer server({"--threads", "2"});
  std::vector<std::unique_ptr<RawConn>> silent;
  for (int i = 0; i < 40; ++i) silent.push_back(std::make_unique<RawConn>(server.port()));
  // Slow heads too: each has sent part of a request line.
  for (int i = 0; i < 10; ++i) silent[static_cast<std::size_t>(i)]->send(std::string_view("GET /hea"));
  const RawReply r = round_trip(server.port(), get("/healthz"), 20s);
  CHECK(r.status == 200);
  CHECK(r.body == "ok\n");
  CHECK(await_metric(server.port(), "hgrpcd_connections_open", 41) == 41);
  CHECK(metric(server.port(), "hgrpcd_connections_waiting") == 40);
  silent.clear();
  CHECK(await_metric(server.port(), "hgrpcd_connections_open", 1) == 1);
  CHECK(server.stop() == 0);
}

TEST_CASE("connections: 503 with Retry-After past --max-open-connections") {
  TestServer server({"--max-open-connections", "3"});
  std::vector<std::unique_ptr<RawConn>> held;
  for (int i = 0; i < 3; ++i) held.push_back(std::make_unique<RawConn>(server.port()));
  const RawReply r = until_503(server.port(), get("/healthz"));
  CHECK(r.status == 503);
  CHECK(r.body == "too many connections (--max-open-connections 3)\n");
  CHECK(r.head.find("\r\nRetry-After: 1") != std::string::npos);
  check_closing_head(r);
  held.clear();
  // Room again once the server saw them go.
  CHECK(until_status(server.port(), get("/healthz"), 200).status == 200);
  CHECK(metric(server.port(), "hgrpcd_connections_refused_total{reason=\"max_open_connections\"}") >= 1);
  CHECK(server.stop() == 0);
}

TEST_CASE("connections: 503 when every worker is busy (--max-connections)") {
  TestServer server({"--max-connections", "1", "--threads", "1"});
  std::unique_ptr<RawConn> busy;
  const RawReply r =
      until_503_holding(server.port(), get("/healthz"), busy, [&] { return hold_worker(server.port()); });
  CHECK(r.status == 503);
  CHECK(r.body == "all 1 workers are busy (--max-connections 1)\n");
  CHECK(r.head.find("\r\nRetry-After: 1") != std::string::npos);
  check_closing_head(r);
  busy->reset();
  const RawReply m = until_status(server.port(), get("/metrics"), 200);
  REQUIRE(m.status == 200);
  CHECK(m.body.find("hgrpcd_connections_refused_total{reason=\"max_connections\"} ") != std::string::npos);
  CHECK(m.body.find("hgrpcd_connections_refused_total{reason=\"max_connections\"} 0\n") == std::string::npos);
  CHECK(server.stop() == 0);
}

TEST_CASE("connections: --max-connections-per-client by peer address") {
  TestServer server({"--max-connections-per-client", "2"});
  std::vector<std::unique_ptr<RawConn>> held;
  for (int i = 0; i < 2; ++i) held.push_back(std::make_unique<RawConn>(server.port()));
  const RawReply r = until_503(server.port(), get("/healthz"));
  CHECK(r.status == 503);
  CHECK(r.body == "too many connections from 127.0.0.1 (--max-connections-per-client 2)\n");
  check_closing_head(r);
  held.clear();
  CHECK(until_status(server.port(), get("/healthz"), 200).status == 200);
  CHECK(metric(server.port(), "hgrpcd_connections_refused_total{reason=\"max_connections_per_client\"}") >= 1);
  CHECK(server.stop() == 0);
}

TEST_CASE("connections: --max-connections-per-client by X-Forwarded-For from a trusted proxy") {
  TestServer server({"--max-connections-per-client", "1", "--trusted-proxy", "127.0.0.1/32"});
  std::unique_ptr<RawConn> busy;
  const RawReply r = until_503_holding(server.port(), get("/healthz", "X-Forwarded-For: 10.0.0.1\r\n"), busy,
                                       [&] { return hold_worker(server.port(), "X-Forwarded-For: 10.0.0.1\r\n"); });
  CHECK(r.status == 503);
  CHECK(r.body ==
        "too many requests in progress from 10.0.0.1 (--max-connections-per-client 1)\n");
  CHECK(r.head.find("\r\nRetry-After: 1") != std::string::npos);
  check_closing_head(r);
  // Another client behind the same proxy is served.
  const RawReply other = round_trip(server.port(), get("/healthz", "X-Forwarded-For: 10.0.0.2\r\n"));
  CHECK(other.status == 200);
  CHECK(server.stop() == 0);
}

TEST_CASE("connections: a slow head is closed at --header-timeout, without an answer") {
  TestServer server({"--header-timeout", "1", "--read-timeout", "30"});
  RawConn conn(server.port());
  const std::string head = get("/healthz");
  bool closed = false;
  std::string got;
  // One byte every 200 ms: each read is on time, the head as a whole is not.
  for (std::size_t i = 0; i < head.size() - 1 && !closed; ++i) {
    if (!conn.send(head.substr(i, 1))) {
      closed = true;
      break;
    }
    got += conn.read_until_close(200ms, &closed);
  }
  CHECK(closed);
  CHECK(got == "");
  CHECK(metric(server.port(), "hgrpcd_connections_timed_out_total{phase=\"header\"}") == 1);
  CHECK(server.stop() == 0);
}

TEST_CASE("connections: an idle keep-alive connection is closed at --keep-alive-timeout") {
  TestServer server({"--keep-alive-timeout", "1"});
  RawConn conn(server.port());
  conn.send(std::string_view("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  bool closed = false;
  const std::string raw = conn.read_until_close(10s, &closed);
  CHECK(closed);
  const RawReply r = parse_reply(raw, closed);
  CHECK(r.status == 200);
  CHECK(r.head.find("\r\nKeep-Alive: timeout=1, max=1000") != std::string::npos);
  CHECK(r.head.find("Connection: close") == std::string::npos);
  CHECK(r.body == "ok\n");  // and nothing else came
  CHECK(metric(server.port(), "hgrpcd_connections_timed_out_total{phase=\"keep_alive\"}") == 1);
  CHECK(server.stop() == 0);
}

TEST_CASE("connections: early refusals with an unread body close at once") {
  char token_path[] = "/tmp/hgrpcd-conn-token-XXXXXX";
  const int fd = ::mkstemp(token_path);
  REQUIRE(fd >= 0);
  REQUIRE(::write(fd, "secret\n", 7) == 7);
  ::close(fd);
  TestServer server({"--token-file", token_path});
  const std::string api = kApi + "/rw/multirequest";
  const std::string accept = std::string("Accept: ") + kMedia + "\r\n";
  const std::string type = std::string("Content-Type: ") + kMedia + "\r\n";
  const std::string auth = "Authorization: Bearer secret\r\n";
  const std::string body = "Content-Length: 10000000000000\r\n";  // 10 TB, never sent
  struct Case {
    int status;
    std::string request;
  };
  const std::vector<Case> cases = {
      {413, "POST " + api + " HTTP/1.1\r\nHost: h\r\n" + auth + accept + type + body + "\r\n"},
      {401, "POST " + api + " HTTP/1.1\r\nHost: h\r\n" + accept + type + body + "\r\n"},
      {403, "POST " + api + " HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer wrong\r\n" + accept + type + body + "\r\n"},
      {404, "POST /nowhere HTTP/1.1\r\nHost: h\r\n" + body + "\r\n"},
      {404, "POST /" + std::string(300, 'a') + " HTTP/1.1\r\nHost: h\r\n" + body + "\r\n"},
      {405, "POST /healthz HTTP/1.1\r\nHost: h\r\n" + body + "\r\n"},
      {405, "PUT " + api + " HTTP/1.1\r\nHost: h\r\n" + body + "\r\n"},
      {406, "POST " + api + " HTTP/1.1\r\nHost: h\r\n" + auth + type + body + "\r\n"},
      {415, "POST " + api + " HTTP/1.1\r\nHost: h\r\n" + auth + accept + body + "\r\n"},
      {416, "GET /healthz HTTP/1.1\r\nHost: h\r\nRange: bytes=" + std::string(200, '1') + "-\r\n\r\n"},
  };
  for (const auto& c : cases) {
    INFO(c.request.substr(0, 60));
    const RawReply r = round_trip(server.port(), c.request);
    CHECK(r.status == c.status);
    check_closing_head(r);
  }
  ::unlink(token_path);
  CHECK(server.stop() == 0);
}

TEST_CASE("connections: a keep-alive response does not say Connection: close") {
  TestServer server;
  RawConn conn(server.port());
  const std::string req = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  conn.send(req + req);  // pipelined
  std::string got;
  for (const auto deadline = Clock::now() + 10s; count(got, "ok\n") < 2 && Clock::now() < deadline;)
    got += conn.read_until_close(50ms);
  CHECK(count(got, "HTTP/1.1 200 OK\r\n") == 2);
  CHECK(count(got, "Keep-Alive: timeout=5, max=1000\r\n") == 2);
  CHECK(got.find("Connection:") == std::string::npos);
  CHECK(server.stop() == 0);
}
