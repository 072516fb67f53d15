#include "client/write_lanes.hpp"

#include <algorithm>

#include "store/stage_clock.hpp"

namespace hgrpc::client {

WriteLanes::WriteLanes(std::size_t threads, std::uint64_t max_queued_bytes)
    : max_queued_bytes_(max_queued_bytes * std::max<std::size_t>(threads, 1)) {
  for (std::size_t i = 0; i < threads; ++i) lanes_.push_back(std::make_unique<Lane>());
  for (auto& lane : lanes_) lane->thread = std::thread([this, l = lane.get()] { run(*l); });
}

WriteLanes::~WriteLanes() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  for (auto& lane : lanes_) lane->work.notify_all();
  for (auto& lane : lanes_) lane->thread.join();
}

ClientResult<void> WriteLanes::first_error() const {
  if (error_) return hgrpc::unexpected<ClientError>(*error_);
  return {};
}

ClientResult<void> WriteLanes::submit(std::size_t lane_index, std::uint64_t bytes, Job job) {
  if (lanes_.empty()) {
    if (error_) return first_error();
    auto done = job();
    if (!done) error_ = done.error();
    return done;
  }
  Lane& lane = *lanes_[lane_index % lanes_.size()];
  std::unique_lock lock(mutex_);
  auto room = [&] { return error_ || queued_bytes_ == 0 || queued_bytes_ + bytes <= max_queued_bytes_; };
  if (!room()) {
    store::StageScope waiting(store::Stage::WriteWait);
    progress_.wait(lock, room);
  }
  if (error_) return first_error();
  lane.queued_bytes += bytes;
  queued_bytes_ += bytes;
  lane.jobs.emplace_back(bytes, std::move(job));
  // A running lane takes the next job by itself: waking it (a system call)
  // is only needed when it sleeps on an empty queue.
  const bool asleep = lane.jobs.size() == 1 && !lane.running;
  lock.unlock();
  if (asleep) lane.work.notify_one();
  return {};
}

std::size_t WriteLanes::least_loaded(std::size_t first, std::size_t count) const {
  if (lanes_.empty() || count == 0) return first;
  std::lock_guard lock(mutex_);
  std::size_t best = first;
  for (std::size_t l = first + 1; l < first + count; ++l) {
    if (lanes_[l % lanes_.size()]->queued_bytes < lanes_[best % lanes_.size()]->queued_bytes) best = l;
  }
  return best;
}

ClientResult<void> WriteLanes::wait() {
  std::unique_lock lock(mutex_);
  auto drained = [&] {
    for (const auto& lane : lanes_) {
      if (!lane->jobs.empty() || lane->running) return false;
    }
    return true;
  };
  if (!drained()) {
    store::StageScope waiting(store::Stage::WriteWait);
    progress_.wait(lock, drained);
  }
  return first_error();
}

void WriteLanes::run(Lane& lane) {
  store::reset_stage_times();
  std::unique_lock lock(mutex_);
  for (;;) {
    lane.work.wait(lock, [&] { return stopping_ || !lane.jobs.empty(); });
    if (stopping_) break;
    auto [bytes, job] = std::move(lane.jobs.front());
    lane.jobs.pop_front();
    lane.running = true;
    const bool skip = error_.has_value();  // after an error, queued jobs are dropped
    lock.unlock();
    ClientResult<void> done;
    if (!skip) done = job();
    job = nullptr;  // its data is freed outside the lock
    lock.lock();
    lane.running = false;
    lane.queued_bytes -= bytes;
    queued_bytes_ -= bytes;
    if (!done && !error_) error_ = done.error();
    // The reader waits for room, wait() for idle lanes. Woken only once
    // half the budget is free, the reader refills in one go instead of
    // waking (a system call each way) after every small job.
    if (error_ || lane.jobs.empty() || queued_bytes_ <= max_queued_bytes_ / 2) progress_.notify_all();
  }
  lane.jobs.clear();
  lock.unlock();
  store::retire_stage_times();
}

}  // namespace hgrpc::client
