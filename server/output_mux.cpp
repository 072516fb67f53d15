#include "server/output_mux.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace hgrpc::server {

using framing::Bytes;
using framing::ByteView;
using framing::Result;

OutputMux::OutputMux(CompressionPool* pool, StreamFactory make_stream, Sink sink,
                     OutputMuxOptions options)
    : pool_(pool != nullptr && pool->size() > 0 ? pool : nullptr),
      make_stream_(std::move(make_stream)),
      sink_(std::move(sink)),
      options_(options) {
  if (options_.max_streams == 0) options_.max_streams = 1;
  if (options_.split_bytes == 0) options_.split_bytes = 1;
  if (options_.window_bytes == 0) options_.window_bytes = 1;
}

OutputMux::Sink OutputMux::appending_to(Bytes& out) {
  return [&out](Pieces pieces) -> Result<void> {
    for (auto b : pieces) framing::append(out, b);
    return {};
  };
}

OutputMux::~OutputMux() {
  std::unique_lock lock(mutex_);
  cv_.wait(lock, [&] { return running_lanes_ == 0; });
}

std::uint8_t OutputMux::next_stream(bool plain) {
  std::lock_guard lock(mutex_);
  const std::size_t index = next_lane_;
  next_lane_ = (next_lane_ + 1) % options_.max_streams;
  while (lanes_.size() <= index) {
    auto l = std::make_unique<Lane>(make_stream_(plain && lanes_.empty()));
    const auto enc = l->stream.encoding();
    l->inline_render = pool_ == nullptr || !enc || *enc == framing::Encoding::Identity;
    lanes_.push_back(std::move(l));
  }
  return lanes_[index]->stream.id();
}

OutputMux::Lane* OutputMux::find_lane(std::uint8_t stream_id) {
  for (auto& l : lanes_)
    if (l->stream.id() == stream_id) return l.get();
  return nullptr;
}

void OutputMux::render(Lane& l, Job& job) {
  auto r = l.stream.render(job.frame, job.out);
  if (r) {
    job.frames = *r;
  } else {
    job.error = r.error();
  }
  job.frame.payload = Bytes{};  // spliced stays: job.out points into it
}

void OutputMux::run_lane(Lane& l) {
  for (;;) {
    Job* job = nullptr;
    {
      std::lock_guard lock(mutex_);
      if (l.queue.empty()) {
        l.running = false;
        --running_lanes_;
        cv_.notify_all();
        return;
      }
      job = l.queue.front();
      l.queue.pop_front();
    }
    // Rendering runs unlocked: only this strand touches the lane's stream and
    // this job until `done` is published.
    render(l, *job);
    std::lock_guard lock(mutex_);
    job->done = true;
    cv_.notify_all();
  }
}

void OutputMux::enqueue(Lane& l, framing::PlannedFrame frame) {
  auto job = std::make_unique<Job>();
  job->frame = std::move(frame);
  job->planned = framing::planned_size(job->frame);
  pending_bytes_ += job->planned;
  max_pending_ = std::max(max_pending_, pending_bytes_);
  Job* raw = job.get();
  order_.push_back(std::move(job));
  // Spliced bytes are only copied: the payload to encode is the cost.
  const bool cheap = l.inline_render || raw->frame.payload.size() <= options_.inline_render_bytes;
  if (cheap && !l.running && l.queue.empty()) {
    render(l, *raw);
    raw->done = true;
    return;
  }
  l.queue.push_back(raw);
  if (!l.running) {
    l.running = true;
    ++running_lanes_;
    Lane* lp = &l;
    if (pool_ != nullptr) {
      pool_->post([this, lp] { run_lane(*lp); });
    }
  }
}

Result<void> OutputMux::drain_locked(std::unique_lock<std::mutex>& lock) {
  while (!order_.empty() && order_.front()->done) {
    std::unique_ptr<Job> job = std::move(order_.front());
    order_.pop_front();
    if (job->error && !error_) error_ = job->error;
    if (!error_) {
      // The sink may block on I/O; frames of other streams keep rendering.
      lock.unlock();
      const auto pieces = job->out.pieces();
      auto r = sink_(pieces);
      lock.lock();
      if (!r && !error_) error_ = r.error();
      if (!error_) {
        frames_written_ += job->frames;
        bytes_written_ += job->out.size();
      }
    }
    pending_bytes_ -= job->planned;  // after the write: the window covers the socket wait
  }
  if (error_) return hgrpc::unexpected<framing::Error>(*error_);
  return {};
}

Result<void> OutputMux::submit(framing::PlannedFrames& frames) {
  if (frames.empty()) return {};
  started_ = true;
  std::unique_lock lock(mutex_);
  for (auto& f : frames) {
    if (error_) break;
    Lane* l = find_lane(f.stream_id);
    if (l == nullptr)
      throw std::logic_error("OutputMux: frame for stream " + std::to_string(f.stream_id) +
                             ", which next_stream() never returned");
    // Backpressure: wait until the frame fits the window (a frame larger
    // than the window goes alone).
    bool waited = false;
    while (pending_bytes_ > 0 && pending_bytes_ + framing::planned_size(f) > options_.window_bytes) {
      waited = true;
      const std::uint64_t before = pending_bytes_;
      if (!drain_locked(lock)) break;
      if (pending_bytes_ == before) cv_.wait(lock);
    }
    if (waited) ++window_waits_;
    if (error_) break;
    enqueue(*l, std::move(f));
  }
  frames.clear();
  return drain_locked(lock);
}

Result<void> OutputMux::finish() {
  std::unique_lock lock(mutex_);
  for (;;) {
    if (auto r = drain_locked(lock); !r) {
      cv_.wait(lock, [&] { return running_lanes_ == 0; });
      return r;
    }
    if (order_.empty()) return {};
    cv_.wait(lock);
  }
}

}  // namespace hgrpc::server
