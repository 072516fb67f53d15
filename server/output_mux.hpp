#pragma once
// OutputMux: renders the planned frames of one request body through its
// output streams, possibly in parallel, and writes the wire bytes to a sink in
// the order the frames were planned.
//
// Each response goes to the next stream in turn (streams are created on first
// use, up to max_streams); a response larger than split_bytes is spread over
// several streams, split_bytes of payload each. A stream renders its frames in
// order on one pool thread at a time (a strand), so its compression context
// lives across requests while distinct streams compress in parallel. Without a
// pool (or with one stream) frames are rendered inline, and so are identity
// frames and frames of at most inline_render_bytes whose stream is idle: a
// hop to a pool thread and back costs more than compressing a few KiB.
//
// Memory: at most max_pending_bytes of planned payload wait for rendering;
// submit() blocks (draining finished frames to the sink) above that.
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "framing/bytes.hpp"
#include "framing/result.hpp"
#include "framing/stream.hpp"
#include "server/compression_pool.hpp"

namespace hgrpc::server {

struct OutputMuxOptions {
  std::size_t max_streams = 1;
  std::size_t split_bytes = 1u << 20;
  std::uint64_t max_pending_bytes = 8u << 20;
  std::size_t inline_render_bytes = 4096;
};

class OutputMux {
 public:
  using Sink = std::function<framing::Result<void>(framing::ByteView)>;
  using StreamFactory = std::function<framing::OutputStream()>;

  // pool may be null: everything renders inline on the caller's thread.
  OutputMux(CompressionPool* pool, StreamFactory make_stream, Sink sink, OutputMuxOptions options);
  ~OutputMux();  // waits for rendering jobs still running
  OutputMux(const OutputMux&) = delete;
  OutputMux& operator=(const OutputMux&) = delete;

  // Queues the frames of one response (their stream ids are reassigned here).
  // Returns the first error so far (a render or sink error); after an error
  // frames are dropped.
  framing::Result<void> submit(framing::PlannedFrames frames);
  // Waits for every queued frame and writes it out.
  framing::Result<void> finish();

  // True once any frame was submitted.
  bool started() const { return started_; }
  std::uint64_t frames_written() const { return frames_written_; }
  std::uint64_t bytes_written() const { return bytes_written_; }
  std::size_t streams_used() const { return lanes_.size(); }

 private:
  struct Job {
    framing::PlannedFrame frame;
    framing::Bytes out;
    std::size_t planned = 0;  // payload bytes counted in pending_bytes_
    bool done = false;
    std::optional<framing::Error> error;
  };
  struct Lane {
    explicit Lane(framing::OutputStream s) : stream(std::move(s)) {}
    framing::OutputStream stream;
    std::deque<Job*> queue;
    bool running = false;
    bool inline_render = false;  // identity stream: cheaper than a thread hop
  };

  Lane& lane(std::size_t index);
  void run_lane(Lane& lane);
  void enqueue(Lane& lane, framing::PlannedFrame frame);
  framing::Result<void> drain_locked(std::unique_lock<std::mutex>& lock);

  CompressionPool* pool_;
  StreamFactory make_stream_;
  Sink sink_;
  OutputMuxOptions options_;

  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Lane>> lanes_;
  std::deque<std::unique_ptr<Job>> order_;  // submission order
  std::uint64_t pending_bytes_ = 0;
  std::size_t running_lanes_ = 0;
  std::size_t next_lane_ = 0;
  bool started_ = false;
  std::optional<framing::Error> error_;
  std::uint64_t frames_written_ = 0;
  std::uint64_t bytes_written_ = 0;
};

// Number of frames in a run of complete wire frames.
std::uint64_t count_frames(framing::ByteView wire);

}  // namespace hgrpc::server
