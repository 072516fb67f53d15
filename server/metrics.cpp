#include "server/metrics.hpp"

#include "server/content_redirect.hpp"
#include "server/response_cache.hpp"

#include <fmt/format.h>

namespace hgrpc::server {

void Metrics::request_finished(std::string_view command, int status, std::uint64_t bytes_in,
                               std::uint64_t bytes_out) {
  in_flight_.fetch_sub(1, std::memory_order_relaxed);
  bytes_in_.fetch_add(bytes_in, std::memory_order_relaxed);
  bytes_out_.fetch_add(bytes_out, std::memory_order_relaxed);
  std::lock_guard lock(mutex_);
  ++requests_[{std::string(command), status}];
}

void Metrics::command_run(std::string_view command, bool ok) {
  std::lock_guard lock(mutex_);
  ++commands_[{std::string(command), ok}];
}

std::string Metrics::render() const {
  std::string out;
  const auto counter = [&](std::string_view name, std::string_view help, std::uint64_t v) {
    out += fmt::format("# HELP {0} {1}\n# TYPE {0} counter\n{0} {2}\n", name, help, v);
  };
  std::lock_guard lock(mutex_);
  out += "# HELP hgrpcd_http_requests_total HTTP requests by URL command and status.\n"
         "# TYPE hgrpcd_http_requests_total counter\n";
  for (const auto& [key, n] : requests_)
    out += fmt::format("hgrpcd_http_requests_total{{command=\"{}\",status=\"{}\"}} {}\n", key.first,
                       key.second, n);
  out += "# HELP hgrpcd_commands_total Commands run, by command and outcome.\n"
         "# TYPE hgrpcd_commands_total counter\n";
  for (const auto& [key, n] : commands_)
    out += fmt::format("hgrpcd_commands_total{{command=\"{}\",outcome=\"{}\"}} {}\n", key.first,
                       key.second ? "ok" : "error", n);
  counter("hgrpcd_received_bytes_total", "Request body bytes received.", bytes_in_.load());
  counter("hgrpcd_sent_bytes_total", "Response body bytes sent.", bytes_out_.load());
  counter("hgrpcd_received_frames_total", "Frames received.", frames_in_.load());
  counter("hgrpcd_sent_frames_total", "Frames sent.", frames_out_.load());
  counter("hgrpcd_protocol_errors_total", "Request bodies that broke the framing rules.",
          protocol_errors_.load());
  out += fmt::format(
      "# HELP hgrpcd_requests_in_flight HTTP requests being served.\n"
      "# TYPE hgrpcd_requests_in_flight gauge\nhgrpcd_requests_in_flight {}\n",
      in_flight_.load());
  const auto gauge = [&](std::string_view name, std::string_view help, std::int64_t v) {
    out += fmt::format("# HELP {0} {1}\n# TYPE {0} gauge\n{0} {2}\n", name, help, v);
  };
  const auto& c = connections;
  gauge("hgrpcd_connections_open", "Connections admitted and not yet closed.", c.open.load());
  gauge("hgrpcd_connections_waiting", "Connections waiting for a request head (new or idle).",
        c.waiting.load());
  gauge("hgrpcd_worker_threads", "Threads of the connection pool.", c.workers.load());
  gauge("hgrpcd_workers_busy", "Pool threads serving a request.", c.busy.load());
  out += "# HELP hgrpcd_connections_refused_total Connections answered 503 (or 431/416 for a bad "
         "head) and closed.\n# TYPE hgrpcd_connections_refused_total counter\n";
  constexpr std::string_view kRefusals[] = {"max_open_connections", "max_connections",
                                            "max_connections_per_client", "bad_head"};
  for (int i = 0; i < 4; ++i)
    out += fmt::format("hgrpcd_connections_refused_total{{reason=\"{}\"}} {}\n", kRefusals[i],
                       c.refused[i].load());
  out += "# HELP hgrpcd_connections_timed_out_total Connections closed waiting for a request "
         "head.\n# TYPE hgrpcd_connections_timed_out_total counter\n";
  constexpr std::string_view kPhases[] = {"header", "keep_alive"};
  for (int i = 0; i < 2; ++i)
    out += fmt::format("hgrpcd_connections_timed_out_total{{phase=\"{}\"}} {}\n", kPhases[i],
                       c.timed_out[i].load());
  if (cache != nullptr) {
    const auto s = cache->stats();
    out += "# HELP hgrpcd_cache_requests_total Cacheable requests by how they were answered.\n"
           "# TYPE hgrpcd_cache_requests_total counter\n";
    const std::pair<std::string_view, std::uint64_t> outcomes[] = {
        {"hit", s.hits}, {"shared", s.shared}, {"tier", s.tier_hits}, {"miss", s.misses}};
    for (const auto& [name, n] : outcomes)
      out += fmt::format("hgrpcd_cache_requests_total{{outcome=\"{}\"}} {}\n", name, n);
    counter("hgrpcd_cache_stores_total", "Answers kept in the cache.", s.stores);
    counter("hgrpcd_cache_evictions_total", "Answers evicted to make room.", s.evictions);
    counter("hgrpcd_cache_too_large_total", "Answers above --cache-entry-bytes, not kept.", s.too_large);
    counter("hgrpcd_cache_not_admitted_total", "Answers not kept: first request of their key (--cache-admit second).",
            s.not_admitted);
    counter("hgrpcd_cache_wait_timeouts_total", "Requests that waited --cache-wait for an identical one, then computed.",
            s.wait_timeouts);
    counter("hgrpcd_cache_tier_dropped_total", "Shared-tier writes dropped (writer queue full).", s.tier_dropped);
    counter("hgrpcd_cache_recompressed_total",
            "Cached zstd-8mb-frames answers swapped for their recompressed form (--cache-recompress).",
            s.recompressed);
    counter("hgrpcd_cache_recompress_skipped_total",
            "Answers left as spliced: recompression queue full, evicted first, or the form was not smaller.",
            s.recompress_skipped);
    gauge("hgrpcd_cache_bytes", "Memory held by cached answers.", static_cast<std::int64_t>(s.bytes));
    gauge("hgrpcd_cache_entries", "Cached answers.", static_cast<std::int64_t>(s.entries));
    gauge("hgrpcd_cache_waiting", "Requests waiting for an identical one being answered.",
          static_cast<std::int64_t>(s.waiting));
    gauge("hgrpcd_cache_recompress_pending", "Cached answers waiting for (or in) the recompression pass.",
          static_cast<std::int64_t>(s.recompress_pending));
    if (const SharedCacheTier* tier = cache->tier()) {
      const auto t = tier->stats();
      counter("hgrpcd_cache_tier_gets_total", "Lookups sent to the shared tier.", t.gets);
      counter("hgrpcd_cache_tier_hits_total", "Shared-tier lookups that found an answer.", t.hits);
      counter("hgrpcd_cache_tier_puts_total", "Answers written to the shared tier.", t.puts);
      counter("hgrpcd_cache_tier_failures_total",
              "Shared-tier operations that failed (connect, I/O, --cache-timeout, error reply).", t.failures);
      counter("hgrpcd_cache_tier_skipped_total",
              "Shared-tier operations not tried: backing off after a failure, or every connection busy.", t.skipped);
      counter("hgrpcd_cache_tier_too_large_total", "Answers larger than the shared tier accepts, not written.",
              t.too_large);
    }
  }
  if (redirects != nullptr) {
    const auto r = redirects->stats();
    counter("hgrpcd_redirects_total", "Answers sent as content redirects (--redirect-target).", r.redirects);
    counter("hgrpcd_redirect_bytes_total", "Blob bytes the content redirects point to.", r.redirect_bytes);
    counter("hgrpcd_redirect_failures_total", "Blobs that could not be written; answered inline instead.",
            r.failures);
  }
  return out;
}

}  // namespace hgrpc::server
