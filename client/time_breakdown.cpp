#include "client/time_breakdown.hpp"

#include <sys/resource.h>

#include <algorithm>

#include "client/transport.hpp"
#include "store/stage_clock.hpp"

namespace hgrpc::client {

using store::Stage;

TimeBreakdown::TimeBreakdown() : start_(std::chrono::steady_clock::now()) {
  store::reset_stage_times();
  store::reset_retired_stage_times();
  cpu_start_ns_ = store::process_cpu_ns();
}

std::uint64_t peak_rss_bytes() {
  rusage usage{};
  if (::getrusage(RUSAGE_SELF, &usage) != 0) return 0;
  return static_cast<std::uint64_t>(usage.ru_maxrss) * 1024;  // Linux: KiB
}

void TimeBreakdown::add_to(framing::json& out, const HttpTransport& transport) const {
  store::StageTimes t = store::stage_times();
  const store::StageTimes workers = store::retired_stage_times();
  for (std::size_t i = 0; i < store::kStageCount; ++i) t.wall_ns[i] += workers.wall_ns[i];
  t.network_cpu_ns += workers.network_cpu_ns;
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  auto s = [](std::uint64_t ns) { return static_cast<double>(ns) / 1e9; };
  // The network stage's CPU is the HTTP client's work; the rest of its wall
  // time the thread was blocked (or waiting for a core).
  const std::uint64_t network = t.at(Stage::Network);
  const std::uint64_t http = std::min(network, t.network_cpu_ns);
  out["wall_s"] = wall;
  out["cpu_s"] = s(store::process_cpu_ns() - cpu_start_ns_);
  out["response_bytes"] = transport.response_bytes();
  out["request_bytes"] = transport.request_bytes();
  out["peak_rss_bytes"] = peak_rss_bytes();
  out["stages"] = framing::json{{"network_wait", s(network - http)},
                                {"http", s(http)},
                                {"decode", s(t.at(Stage::Decode))},
                                {"patch", s(t.at(Stage::Patch))},
                                {"hash", s(t.at(Stage::Hash))},
                                {"revlog_write", s(t.at(Stage::Write))},
                                {"write_wait", s(t.at(Stage::WriteWait))},
                                {"checkout", s(t.at(Stage::Checkout))},
                                {"other", s(t.at(Stage::Other))}};
}

}  // namespace hgrpc::client
