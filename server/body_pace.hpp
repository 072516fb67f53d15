#pragma once
// The pace a request body must keep. The read timeout bounds each wait for
// bytes, so a client trickling one byte a second never trips it and holds a
// worker for as long as its body lasts. Here a body gets a grace period, then
// one more second for every min_rate bytes it has delivered; a body behind
// that schedule is cut off (408).
#include <chrono>
#include <cstdint>

namespace hgrpc::server {

class BodyPace {
 public:
  using Clock = std::chrono::steady_clock;

  // min_rate 0: no minimum.
  BodyPace(std::chrono::duration<double> grace, std::uint64_t min_rate, Clock::time_point start)
      : grace_(grace), min_rate_(min_rate), start_(start) {}

  // Whether `received` bytes by `now` keep the schedule.
  bool on_schedule(std::uint64_t received, Clock::time_point now) const {
    if (min_rate_ == 0) return true;
    const std::chrono::duration<double> allowed =
        grace_ + std::chrono::duration<double>(static_cast<double>(received) / static_cast<double>(min_rate_));
    return now - start_ <= allowed;
  }

  std::uint64_t min_rate() const { return min_rate_; }

 private:
  std::chrono::duration<double> grace_;
  std::uint64_t min_rate_;
  Clock::time_point start_;
};

}  // namespace hgrpc::server
