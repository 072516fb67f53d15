#pragma once
// The transfer progress line on stderr: bytes sent and received and the rate,
// redrawn in place (\r) at most every `interval`, shown only once a transfer
// passes `threshold` bytes so that small calls stay silent. Clone and pull
// put their counts in front (set_work) and the share of the work done, from
// which the line shows an ETA.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>

namespace hgrpc::client {

struct ProgressOptions {
  bool enabled = false;                           // see progress_wanted()
  std::uint64_t threshold = std::uint64_t{4} << 20;  // bytes sent + received
  std::chrono::milliseconds interval{250};
};

// True when stderr is a terminal and --quiet was not given.
bool progress_wanted(bool quiet);

class ProgressLine {
 public:
  using Clock = std::chrono::steady_clock;

  explicit ProgressLine(ProgressOptions options, std::FILE* out = stderr,
                        std::function<Clock::time_point()> now = Clock::now);
  ~ProgressLine();  // finish()
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  void add_sent(std::uint64_t n);
  void add_received(std::uint64_t n);
  // "changesets 12, manifests 3/12, files 40" and the share done (0..1;
  // below 0: unknown, no ETA).
  void set_work(std::string counts, double fraction);
  // Draws the final state and ends the line, if anything was drawn.
  void finish();

  std::uint64_t sent() const { return sent_; }
  std::uint64_t received() const { return received_; }
  bool drawn() const { return drawn_; }

  // "sent 12.0 MiB, received 3.5 MiB, 7.8 MiB/s"
  static std::string format(std::uint64_t sent, std::uint64_t received, double seconds);
  // "<counts>: <format(...)>, ETA 1:05" (no ETA before any share is done).
  static std::string format_work(const std::string& counts, double fraction, std::uint64_t sent,
                                 std::uint64_t received, double seconds);

 private:
  void maybe_draw(bool force);

  ProgressOptions options_;
  std::FILE* out_;
  std::function<Clock::time_point()> now_;
  Clock::time_point start_;
  Clock::time_point last_draw_{};
  std::uint64_t sent_ = 0;
  std::uint64_t received_ = 0;
  bool drawn_ = false;
  bool finished_ = false;
  std::string counts_;
  double fraction_ = -1;
};

}  // namespace hgrpc::client
