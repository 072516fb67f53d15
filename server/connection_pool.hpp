#pragma once
// hgrpcd's connections, between cpp-httplib's accept loop and its request
// parser. A connection costs a worker thread only while a request is being
// served on it: until its request head is complete (a new connection, or one
// idle between keep-alive requests) it waits in one poller thread, which
// enforces the head's total deadline and the keep-alive idle timeout.
//
//   accepted ──> [waiting: poller] ──head complete──> [served: worker] ──┐
//       │            │  ▲ deadline/EOF: close                 keep-alive │
//       │            │  └────────────────────────────────────────────────┘
//       │            └─ every worker busy (--max-connections): 503
//       └─ over --max-open-connections or --max-connections-per-client: 503
//   A connection closed after a response (or a refusal) lingers in the
//   poller for a moment, reading and dropping what the client still sends,
//   so that the client reads our answer rather than a reset.
//
// Workers are started on demand up to --max-connections with small stacks and
// exit after kWorkerIdle without work, down to --threads kept warm. An exited
// worker is joined by the poller (and every one by shutdown()), so no pool
// thread runs once shutdown() returns; the poller trims malloc's arenas when
// the last extra worker is gone.
#include <httplib.h>
#include <pthread.h>

#include <chrono>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "server/metrics.hpp"

namespace hgrpc::server {

struct PoolLimits {
  std::size_t max_workers = 1024;       // --max-connections
  std::size_t min_workers = 0;          // --threads (kept when idle)
  std::size_t max_open = 4096;          // --max-open-connections
  std::size_t max_per_client = 64;      // --max-connections-per-client (0: none)
  std::chrono::milliseconds header_timeout{10000};
  std::chrono::milliseconds read_timeout{30000};
  std::chrono::milliseconds write_timeout{30000};
  std::chrono::milliseconds keep_alive_timeout{5000};
  std::size_t keep_alive_max = 1000;
};

// Stack of a worker thread. Handlers keep large buffers on the heap; the
// deepest user is libstdc++'s recursive std::regex in cpp-httplib's routing,
// which the binding bounds by refusing long POST paths (kMaxPostPathBytes).
inline constexpr std::size_t kWorkerStackBytes = 256 * 1024;
inline constexpr std::chrono::seconds kWorkerIdle{5};
// How long a worker waits on its keep-alive connection for the next request
// before handing it to the poller. A client that sends its next request at
// once (most do) is served on the same worker: the round trip through the
// poller (a wake-up, a read, a dispatch) halved small-command throughput on
// 8 connections. Idle connections still cost no worker after this.
inline constexpr std::chrono::milliseconds kNextRequestWait{2};
// How long a closed connection keeps being read and dropped, at most.
inline constexpr std::chrono::milliseconds kLingerTime{2000};
inline constexpr std::size_t kMaxLingering = 1024;

// A whole HTTP/1.1 response with Connection: close, for answers written on the
// raw socket (503 adds Retry-After: 1).
std::string raw_response(int status, std::string_view reason, std::string_view text);

class ConnectionPool {
 public:
  // Serves one request on the stream (`last`: it must be the connection's
  // last one); true when the connection may serve another.
  using Serve = std::function<bool(httplib::Stream& stream, bool last)>;
  // Whether the peer is a trusted proxy: its connections are not counted per
  // client (the binding counts its requests by X-Forwarded-For instead).
  using Trusted = std::function<bool(std::string_view peer)>;

  ConnectionPool(PoolLimits limits, ConnectionCounters& counters, Serve serve, Trusted trusted);
  ~ConnectionPool();
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // Called on the poller thread when a burst is over (the exited extra
  // workers joined, the pool back to --threads), before malloc_trim: the
  // place to drop caches sized for the burst. Set before the first admit().
  void set_on_quiet(std::function<void()> on_quiet) { on_quiet_ = std::move(on_quiet); }

  // Takes an accepted socket (from the accept thread). Never blocks.
  void admit(int fd);
  // Closes the waiting connections, lets the requests being served finish
  // (each its connection's last), then stops the threads. Idempotent.
  void shutdown();

 private:
  struct Connection;
  using Owned = std::unique_ptr<Connection>;

  void poll_loop();
  void take_inbox();
  void on_readable(Connection& c);
  void expire(std::chrono::steady_clock::time_point now);
  void watch(Owned c);
  Owned unwatch(int fd);
  void set_deadline(Connection& c, std::chrono::steady_clock::time_point when);
  void dispatch(Owned c);
  void worker_loop();
  void serve(Owned c);
  void to_poller(Owned c);
  void wake_poller();
  bool spawn_worker();  // with work_mutex_ held
  void refuse(Owned c, Refusal why, int status, std::string_view reason, std::string_view text);
  void linger(Owned c);
  void release(Connection& c);
  void close_now(Owned c);
  void reap_exited();  // joins the workers that exited
  void trim_when_idle(std::chrono::steady_clock::time_point now);

  PoolLimits limits_;
  ConnectionCounters& counters_;
  Serve serve_;
  Trusted trusted_;
  std::function<void()> on_quiet_;

  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::thread poller_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> poller_stop_{false};
  std::atomic<std::size_t> lingering_{0};

  // Poller thread only.
  std::unordered_map<int, Owned> waiting_;
  std::multimap<std::chrono::steady_clock::time_point, int> deadlines_;

  std::mutex inbox_mutex_;
  std::vector<Owned> inbox_;

  std::mutex clients_mutex_;
  std::size_t open_ = 0;
  std::unordered_map<std::string, std::size_t> per_client_;

  std::mutex work_mutex_;
  std::condition_variable work_cv_;
  std::condition_variable workers_done_cv_;
  std::deque<Owned> jobs_;
  std::size_t workers_ = 0;
  std::size_t idle_ = 0;
  std::vector<pthread_t> exited_;          // workers past their last use of the pool
  std::atomic<bool> has_exited_{false};    // exited_ is not empty (the poller's cheap check)
  // A request ended with no other being served since the last idle trim.
  std::atomic<bool> worked_since_trim_{false};
  std::chrono::steady_clock::time_point next_trim_{};  // the poller's: no idle trim before it
  static constexpr std::chrono::seconds kIdleTrimInterval{1};
  bool workers_stop_ = false;
  bool shut_down_ = false;
};

}  // namespace hgrpc::server
