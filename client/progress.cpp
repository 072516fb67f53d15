#include "client/progress.hpp"

#include <fmt/format.h>
#include <unistd.h>

namespace hgrpc::client {

bool progress_wanted(bool quiet) { return !quiet && ::isatty(STDERR_FILENO) == 1; }

ProgressLine::ProgressLine(ProgressOptions options, std::FILE* out,
                           std::function<Clock::time_point()> now)
    : options_(options), out_(out), now_(std::move(now)), start_(now_()) {}

ProgressLine::~ProgressLine() { finish(); }

namespace {

std::string human_size(double bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  std::size_t unit = 0;
  while (bytes >= 1024 && unit + 1 < std::size(kUnits)) {
    bytes /= 1024;
    ++unit;
  }
  return unit == 0 ? fmt::format("{:.0f} B", bytes) : fmt::format("{:.1f} {}", bytes, kUnits[unit]);
}

}  // namespace

std::string ProgressLine::format(std::uint64_t sent, std::uint64_t received, double seconds) {
  double rate = seconds > 0 ? static_cast<double>(sent + received) / seconds : 0;
  return fmt::format("sent {}, received {}, {}/s", human_size(static_cast<double>(sent)),
                     human_size(static_cast<double>(received)), human_size(rate));
}

std::string ProgressLine::format_work(const std::string& counts, double fraction, std::uint64_t sent,
                                      std::uint64_t received, double seconds) {
  std::string line = counts + ": " + format(sent, received, seconds);
  if (fraction > 0 && fraction < 1) {
    const auto left = static_cast<std::uint64_t>(seconds * (1 - fraction) / fraction + 0.5);
    line += left >= 3600 ? fmt::format(", ETA {}:{:02}:{:02}", left / 3600, left / 60 % 60, left % 60)
                         : fmt::format(", ETA {}:{:02}", left / 60, left % 60);
  }
  return line;
}

void ProgressLine::set_work(std::string counts, double fraction) {
  counts_ = std::move(counts);
  fraction_ = fraction;
  maybe_draw(false);
}

void ProgressLine::add_sent(std::uint64_t n) {
  sent_ += n;
  maybe_draw(false);
}

void ProgressLine::add_received(std::uint64_t n) {
  received_ += n;
  maybe_draw(false);
}

void ProgressLine::maybe_draw(bool force) {
  if (!options_.enabled || finished_ || sent_ + received_ < options_.threshold) return;
  auto now = now_();
  if (!force && drawn_ && now - last_draw_ < options_.interval) return;
  last_draw_ = now;
  double seconds = std::chrono::duration<double>(now - start_).count();
  // \r and clear-to-end-of-line redraw in place.
  fmt::print(out_, "\r{}\x1b[K",
             counts_.empty() ? format(sent_, received_, seconds) : format_work(counts_, fraction_, sent_, received_, seconds));
  std::fflush(out_);
  drawn_ = true;
}

void ProgressLine::finish() {
  if (finished_) return;
  if (drawn_) {
    maybe_draw(true);
    fmt::print(out_, "\n");
    std::fflush(out_);
  }
  finished_ = true;
}

}  // namespace hgrpc::client
