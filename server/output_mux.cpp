#include "server/output_mux.hpp"

namespace hgrpc::server {

using framing::Bytes;
using framing::ByteView;
using framing::Result;

std::uint64_t count_frames(ByteView wire) {
  std::uint64_t n = 0;
  std::size_t pos = 0;
  while (pos + framing::kFrameHeaderSize <= wire.size()) {
    const std::size_t len = wire[pos] | (wire[pos + 1] << 8) | (wire[pos + 2] << 16);
    pos += framing::kFrameHeaderSize + len;
    ++n;
  }
  return n;
}

OutputMux::OutputMux(CompressionPool* pool, StreamFactory make_stream, Sink sink,
                     OutputMuxOptions options)
    : pool_(pool != nullptr && pool->size() > 0 ? pool : nullptr),
      make_stream_(std::move(make_stream)),
      sink_(std::move(sink)),
      options_(options) {
  if (options_.max_streams == 0) options_.max_streams = 1;
  if (options_.split_bytes == 0) options_.split_bytes = 1;
}

OutputMux::~OutputMux() {
  std::unique_lock lock(mutex_);
  cv_.wait(lock, [&] { return running_lanes_ == 0; });
}

OutputMux::Lane& OutputMux::lane(std::size_t index) {
  while (lanes_.size() <= index) {
    auto l = std::make_unique<Lane>(make_stream_());
    const auto enc = l->stream.encoding();
    l->inline_render = pool_ == nullptr || !enc || *enc == framing::Encoding::Identity;
    lanes_.push_back(std::move(l));
  }
  return *lanes_[index];
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
    auto r = l.stream.render(job->frame, job->out);
    std::lock_guard lock(mutex_);
    if (!r) job->error = r.error();
    job->frame.payload = Bytes{};
    job->done = true;
    cv_.notify_all();
  }
}

void OutputMux::enqueue(Lane& l, framing::PlannedFrame frame) {
  auto job = std::make_unique<Job>();
  job->frame = std::move(frame);
  job->planned = job->frame.payload.size();
  pending_bytes_ += job->planned;
  Job* raw = job.get();
  order_.push_back(std::move(job));
  const bool cheap = l.inline_render || raw->planned <= options_.inline_render_bytes;
  if (cheap && !l.running && l.queue.empty()) {
    auto r = l.stream.render(raw->frame, raw->out);
    if (!r) raw->error = r.error();
    raw->frame.payload = Bytes{};
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
    pending_bytes_ -= job->planned;
    if (job->error && !error_) error_ = job->error;
    if (!error_) {
      // The sink may block on I/O; frames of other streams keep rendering.
      lock.unlock();
      auto r = sink_(job->out);
      lock.lock();
      if (!r && !error_) error_ = r.error();
      if (!error_) {
        frames_written_ += count_frames(job->out);
        bytes_written_ += job->out.size();
      }
    }
  }
  if (error_) return hgrpc::unexpected<framing::Error>(*error_);
  return {};
}

Result<void> OutputMux::submit(framing::PlannedFrames frames) {
  if (frames.empty()) return {};
  started_ = true;
  std::unique_lock lock(mutex_);
  if (error_) return hgrpc::unexpected<framing::Error>(*error_);
  std::size_t index = next_lane_;
  next_lane_ = (next_lane_ + 1) % options_.max_streams;
  std::size_t in_lane = 0;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    if (options_.max_streams > 1 && in_lane >= options_.split_bytes) {
      index = next_lane_;
      next_lane_ = (next_lane_ + 1) % options_.max_streams;
      in_lane = 0;
    }
    Lane& l = lane(index);
    frames[i].stream_id = l.stream.id();
    in_lane += frames[i].payload.size();
    enqueue(l, std::move(frames[i]));
    // Bound memory: wait for rendering and write finished frames out.
    while (pending_bytes_ > options_.max_pending_bytes) {
      std::uint64_t before = pending_bytes_;
      if (auto r = drain_locked(lock); !r) return r;
      if (pending_bytes_ == before) cv_.wait(lock);
    }
  }
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
