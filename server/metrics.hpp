#pragma once
// Counters for GET /metrics, in Prometheus' text exposition format:
//
//   hgrpcd_http_requests_total{command,status}  HTTP requests by URL command
//       (a registered command, "multirequest", or a route name: "handshake",
//       "healthz", "metrics", "api", "other") and status
//   hgrpcd_commands_total{command,outcome}      commands run (outcome ok/error)
//   hgrpcd_received_bytes_total, hgrpcd_sent_bytes_total    HTTP bodies
//   hgrpcd_received_frames_total, hgrpcd_sent_frames_total
//   hgrpcd_protocol_errors_total
//   hgrpcd_requests_in_flight                   gauge
//   hgrpcd_connections_open                     gauge: admitted, not yet closed
//   hgrpcd_connections_waiting                  gauge: waiting for a request head
//   hgrpcd_worker_threads, hgrpcd_workers_busy  gauges of the connection pool
//   hgrpcd_connections_refused_total{reason}    503s: max_open_connections,
//       max_connections (every worker busy), max_connections_per_client;
//       431/416 heads: bad_head
//   hgrpcd_connections_timed_out_total{phase}   closed by the pool: header
//       (--header-timeout / --read-timeout), keep_alive (--keep-alive-timeout)
//   hgrpcd_cache_requests_total{outcome}        cacheable requests: hit, shared (waited for
//       an identical one), tier (shared tier), miss (computed)
//   hgrpcd_cache_stores_total, _evictions_total, _too_large_total, _not_admitted_total,
//   hgrpcd_cache_wait_timeouts_total, hgrpcd_cache_tier_dropped_total
//   hgrpcd_cache_recompressed_total, hgrpcd_cache_recompress_skipped_total
//   hgrpcd_cache_bytes, hgrpcd_cache_entries, hgrpcd_cache_waiting,
//   hgrpcd_cache_recompress_pending    gauges
//   with --cache-url, the shared tier's (server/redis_tier.hpp):
//   hgrpcd_cache_tier_gets_total, _hits_total, _puts_total   operations done
//   hgrpcd_cache_tier_failures_total   connect/I/O failures, timeouts, error replies
//   hgrpcd_cache_tier_skipped_total    not tried: backing off after a failure
//       (1 s doubling to 30 s), or every pooled connection busy
//   hgrpcd_cache_tier_too_large_total  answers above what the tier accepts
//   with --redirect-target (server/content_redirect.hpp):
//   hgrpcd_redirects_total             answers sent as content redirects
//   hgrpcd_redirect_bytes_total        blob bytes those redirects point to
//   hgrpcd_redirect_failures_total     blobs that could not be written (answered inline)
//
// Label values come from fixed sets (unknown names are counted as "unknown"),
// so a peer cannot grow the label space.
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace hgrpc::server {

enum class Refusal { MaxOpenConnections, MaxConnections, MaxConnectionsPerClient, BadHead };
enum class Timeout { Header, KeepAlive };

// The connection pool's counters and gauges (updated without a lock).
struct ConnectionCounters {
  std::atomic<std::int64_t> open{0};
  std::atomic<std::int64_t> waiting{0};
  std::atomic<std::int64_t> workers{0};
  std::atomic<std::int64_t> busy{0};
  std::atomic<std::uint64_t> refused[4] = {};
  std::atomic<std::uint64_t> timed_out[2] = {};

  void refuse(Refusal r) { refused[static_cast<int>(r)].fetch_add(1, std::memory_order_relaxed); }
  void time_out(Timeout t) { timed_out[static_cast<int>(t)].fetch_add(1, std::memory_order_relaxed); }
};

class ResponseCache;
class RedirectStore;

class Metrics {
 public:
  ConnectionCounters connections;
  // The response cache whose counters render() shows (not owned); may stay null.
  const ResponseCache* cache = nullptr;
  // The content redirects whose counters render() shows (not owned); may stay null.
  const RedirectStore* redirects = nullptr;

  void request_started() { in_flight_.fetch_add(1, std::memory_order_relaxed); }
  void request_finished(std::string_view command, int status, std::uint64_t bytes_in,
                        std::uint64_t bytes_out);
  void command_run(std::string_view command, bool ok);
  void frames_received(std::uint64_t n) { frames_in_.fetch_add(n, std::memory_order_relaxed); }
  void frames_sent(std::uint64_t n) { frames_out_.fetch_add(n, std::memory_order_relaxed); }
  void protocol_error() { protocol_errors_.fetch_add(1, std::memory_order_relaxed); }

  std::int64_t in_flight() const { return in_flight_.load(std::memory_order_relaxed); }
  std::string render() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, std::uint64_t> requests_;
  std::map<std::pair<std::string, bool>, std::uint64_t> commands_;
  std::atomic<std::int64_t> in_flight_{0};
  std::atomic<std::uint64_t> bytes_in_{0}, bytes_out_{0};
  std::atomic<std::uint64_t> frames_in_{0}, frames_out_{0};
  std::atomic<std::uint64_t> protocol_errors_{0};
};

}  // namespace hgrpc::server
