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

class Metrics {
 public:
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
