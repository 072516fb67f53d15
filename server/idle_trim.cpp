#include "server/idle_trim.hpp"

namespace hgrpc::server {

IdleTrimmer::IdleTrimmer(std::chrono::milliseconds interval, std::function<bool()> idle, std::function<void()> trim)
    : interval_(interval), idle_(std::move(idle)), trim_(std::move(trim)) {
  if (interval_.count() > 0) thread_ = std::thread([this] { run(); });
}

IdleTrimmer::~IdleTrimmer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::uint64_t IdleTrimmer::trims() const {
  std::lock_guard lock(mutex_);
  return trims_;
}

void IdleTrimmer::run() {
  std::unique_lock lock(mutex_);
  while (!cv_.wait_for(lock, interval_, [this] { return stopping_; })) {
    lock.unlock();
    const bool idle = idle_();
    if (idle) trim_();
    lock.lock();
    trims_ += idle;
  }
}

bool QuietAfterWork::operator()() {
  const std::uint64_t finished = finished_();
  if (in_flight_() != 0 || finished == trimmed_at_) return false;
  trimmed_at_ = finished;
  return true;
}

}  // namespace hgrpc::server
