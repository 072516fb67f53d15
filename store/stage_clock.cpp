#include "store/stage_clock.hpp"

#include <time.h>

#include <chrono>
#include <mutex>

namespace hgrpc::store {
namespace {

std::uint64_t steady_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

struct ThreadClock {
  Stage current = Stage::Other;
  std::uint64_t since = steady_ns();
  std::uint64_t cpu_since = 0;  // when current is Network
  StageTimes totals;
};

thread_local ThreadClock tl_clock;

// Charges the running stage up to now and makes `next` the running one.
Stage switch_to(Stage next) {
  ThreadClock& c = tl_clock;
  const std::uint64_t now = steady_ns();
  c.totals.wall_ns[static_cast<std::size_t>(c.current)] += now - c.since;
  c.since = now;
  if (c.current != next) {
    if (c.current == Stage::Network) c.totals.network_cpu_ns += thread_cpu_ns() - c.cpu_since;
    if (next == Stage::Network) c.cpu_since = thread_cpu_ns();
  }
  Stage previous = c.current;
  c.current = next;
  return previous;
}

}  // namespace

namespace {
std::uint64_t cpu_clock_ns(clockid_t clock) {
  timespec ts{};
  ::clock_gettime(clock, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000u + static_cast<std::uint64_t>(ts.tv_nsec);
}
}  // namespace

std::uint64_t thread_cpu_ns() { return cpu_clock_ns(CLOCK_THREAD_CPUTIME_ID); }
std::uint64_t process_cpu_ns() { return cpu_clock_ns(CLOCK_PROCESS_CPUTIME_ID); }

void reset_stage_times() {
  tl_clock = ThreadClock{};
}

StageTimes stage_times() {
  const Stage running = tl_clock.current;
  switch_to(running);  // charges the running stage up to now
  StageTimes t = tl_clock.totals;
  if (running == Stage::Network) t.network_cpu_ns += thread_cpu_ns() - tl_clock.cpu_since;
  return t;
}

namespace {
std::mutex retired_mutex;
StageTimes retired;
}  // namespace

void retire_stage_times() {
  StageTimes t = stage_times();
  t.wall_ns[static_cast<std::size_t>(Stage::Other)] = 0;
  std::lock_guard lock(retired_mutex);
  for (std::size_t i = 0; i < kStageCount; ++i) retired.wall_ns[i] += t.wall_ns[i];
  retired.network_cpu_ns += t.network_cpu_ns;
}

StageTimes retired_stage_times() {
  std::lock_guard lock(retired_mutex);
  return retired;
}

void reset_retired_stage_times() {
  std::lock_guard lock(retired_mutex);
  retired = StageTimes{};
}

StageScope::StageScope(Stage stage) : previous_(switch_to(stage)) {}
StageScope::~StageScope() { switch_to(previous_); }

}  // namespace hgrpc::store
