#pragma once
// The keys of `hgrpc clone --json` and `hgrpc pull --json` that say where
// the time went (store/stage_clock.hpp) and what crossed the wire:
//   wall_s, cpu_s (the process's CPU, every thread), response_bytes,
//   request_bytes (HTTP bodies), peak_rss_bytes (the process's VmHWM), and
//   stages {network_wait, http, decode, patch, hash, revlog_write,
//   write_wait, checkout, other} in seconds: the command's thread and the
//   fetch's writer threads (client/write_lanes.hpp) summed, so they add up
//   to at most wall_s times the threads (write_wait is the reader waiting
//   for the writers; the writers' idle time is in no stage).
#include <chrono>
#include <cstdint>

#include "framing/cbor.hpp"

namespace hgrpc::client {

class HttpTransport;

// Started when the command starts (it resets this thread's stage times).
class TimeBreakdown {
 public:
  TimeBreakdown();
  // Adds the keys above to `out`.
  void add_to(framing::json& out, const HttpTransport& transport) const;

 private:
  std::chrono::steady_clock::time_point start_;
  std::uint64_t cpu_start_ns_;
};

// The process's peak resident set (getrusage's ru_maxrss), in bytes.
std::uint64_t peak_rss_bytes();

}  // namespace hgrpc::client
