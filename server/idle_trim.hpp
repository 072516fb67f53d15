#pragma once
// IdleTrimmer: gives freed heap memory back to the system once the server is
// idle. glibc keeps what a burst of requests freed inside its arenas (only
// the top of each heap shrinks on its own), so after a load hgrpcd stayed
// tens of MiB above its idle RSS. Every `interval` a thread asks `idle()`
// (no request in flight and some finished since the last trim) and then
// calls `trim()` (malloc_trim(0) in hgrpcd). Costs nothing while requests
// run; one trim per quiet period.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

namespace hgrpc::server {

class IdleTrimmer {
 public:
  // interval zero: never trims (no thread).
  IdleTrimmer(std::chrono::milliseconds interval, std::function<bool()> idle, std::function<void()> trim);
  ~IdleTrimmer();  // stops the thread
  IdleTrimmer(const IdleTrimmer&) = delete;
  IdleTrimmer& operator=(const IdleTrimmer&) = delete;

  std::uint64_t trims() const;

 private:
  void run();

  std::chrono::milliseconds interval_;
  std::function<bool()> idle_;
  std::function<void()> trim_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::uint64_t trims_ = 0;
  std::thread thread_;
};

// The idle() of hgrpcd: nothing in flight and `finished` moved since the
// last call that returned true.
class QuietAfterWork {
 public:
  QuietAfterWork(std::function<std::int64_t()> in_flight, std::function<std::uint64_t()> finished)
      : in_flight_(std::move(in_flight)), finished_(std::move(finished)) {}
  bool operator()();

 private:
  std::function<std::int64_t()> in_flight_;
  std::function<std::uint64_t()> finished_;
  std::uint64_t trimmed_at_ = 0;
};

}  // namespace hgrpc::server
