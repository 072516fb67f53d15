#pragma once
// Where a thread's time goes, by stage, for `hgrpc clone --json` and
// `hgrpc pull --json`: each thread has one running stage, and a StageScope
// switches to another for its lifetime (the enclosing stage pauses, so the
// stages' times never overlap and add up to at most the thread's wall time).
// The network stage also reads the thread's CPU clock on entry and exit: its
// wall time minus that CPU time is the time blocked on the socket (or waiting
// for a core), its CPU time is the HTTP client's own work. Other stages are
// wall time only (steady_clock, a few ns; the CPU clock is a system call,
// too dear per revision).
#include <array>
#include <cstdint>

namespace hgrpc::store {

enum class Stage : std::uint8_t {
  Other,     // whatever runs outside the stages below
  Network,   // in the HTTP client: socket reads and writes, chunked coding
  Decode,    // frames, stream decompression, CBOR, the revision records
  Patch,     // applying received deltas to their bases
  Hash,      // SHA-1 of received revisions
  Write,     // revlog writing: deltas, chunk compression, file writes, commit
  Checkout,  // the working copy and dirstate
  WriteWait, // the reader waiting for the writer threads (their queues full, or draining)
};
inline constexpr std::size_t kStageCount = 8;

struct StageTimes {
  std::array<std::uint64_t, kStageCount> wall_ns{};
  std::uint64_t network_cpu_ns = 0;  // CPU time of this thread within Stage::Network
  std::uint64_t at(Stage s) const { return wall_ns[static_cast<std::size_t>(s)]; }
};

// Starts this thread's accounting afresh, in Stage::Other.
void reset_stage_times();
// This thread's times so far (the running stage's time included).
StageTimes stage_times();
// A worker thread, before it ends, adds its times (all but Stage::Other,
// which is its idle time) to the process's retired times; a command reports
// its own thread's times plus those. reset_retired_stage_times() starts them
// afresh.
void retire_stage_times();
StageTimes retired_stage_times();
void reset_retired_stage_times();
// This thread's CPU time (CLOCK_THREAD_CPUTIME_ID), in ns.
std::uint64_t thread_cpu_ns();
// The process's CPU time, every thread (CLOCK_PROCESS_CPUTIME_ID), in ns.
std::uint64_t process_cpu_ns();

class StageScope {
 public:
  explicit StageScope(Stage stage);
  ~StageScope();
  StageScope(const StageScope&) = delete;
  StageScope& operator=(const StageScope&) = delete;

 private:
  Stage previous_;
};

}  // namespace hgrpc::store
