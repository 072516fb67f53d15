#pragma once
// OutputMux: renders the planned frames of one request body through its
// output streams, possibly in parallel, and writes the wire bytes to a sink in
// the order the frames were submitted.
//
// Frames arrive already made for their stream (the emitter of each response
// is created on next_stream()); the mux only routes them to that stream's
// lane. Responses start on the streams in turn (created on first use, up to
// max_streams); the writer of a response larger than split_bytes moves it to
// next_stream() as it goes. A stream renders its frames in order on one pool
// thread at a time (a strand), so its compression context lives across
// requests while distinct streams compress in parallel. Without a pool (or
// with one stream) frames are rendered inline, and so are identity frames and
// frames of at most inline_render_bytes whose stream is idle: a hop to a pool
// thread and back costs more than compressing a few KiB.
//
// Backpressure: at most window_bytes of planned payload wait for rendering or
// for the sink; submit() blocks (writing finished frames to the sink, which
// blocks on the socket) until a frame fits. So a producer runs at the pace of
// the connection and the mux holds about one window, whatever the response.
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <vector>

#include "framing/bytes.hpp"
#include "framing/result.hpp"
#include "framing/stream.hpp"
#include "framing/wire_bytes.hpp"
#include "server/compression_pool.hpp"

namespace hgrpc::server {

struct OutputMuxOptions {
  std::size_t max_streams = 1;
  std::size_t split_bytes = 1u << 20;
  std::uint64_t window_bytes = 4u << 20;  // --response-window-bytes
  std::size_t inline_render_bytes = 4096;
};

class OutputMux {
 public:
  // Gets the wire bytes of one or more frames as pieces in order (spliced
  // bytes are views of the frames' SharedBytes, not copied beside their
  // headers): one gathering write.
  using Pieces = std::span<const framing::ByteView>;
  using Sink = std::function<framing::Result<void>(Pieces)>;
  // plain: a stream without content encoding (see next_stream).
  using StreamFactory = std::function<framing::OutputStream(bool plain)>;

  // A sink that appends every piece to out (in-process answers, tests).
  static Sink appending_to(framing::Bytes& out);

  // pool may be null: everything renders inline on the caller's thread.
  OutputMux(CompressionPool* pool, StreamFactory make_stream, Sink sink, OutputMuxOptions options);
  ~OutputMux();  // waits for rendering jobs still running
  OutputMux(const OutputMux&) = delete;
  OutputMux& operator=(const OutputMux&) = delete;

  // The stream id for the next response (or the next part of a split one).
  // plain asks for an unencoded stream; it is honoured only while no stream
  // exists yet (a protocol error that is the whole body) and ignored after.
  std::uint8_t next_stream(bool plain = false);
  std::size_t split_bytes() const { return options_.split_bytes; }
  std::size_t max_streams() const { return options_.max_streams; }

  // Takes the frames (frames is left empty), each for a stream next_stream()
  // returned. Blocks while the window is full. Returns the first error so far
  // (a render or sink error); after an error frames are dropped.
  framing::Result<void> submit(framing::PlannedFrames& frames);
  // Waits for every queued frame and writes it out.
  framing::Result<void> finish();

  bool started() const { return started_; }
  std::uint64_t frames_written() const { return frames_written_; }
  std::uint64_t bytes_written() const { return bytes_written_; }
  std::size_t streams_used() const { return lanes_.size(); }
  // Backpressure figures: how often submit() waited for the window, and the
  // most planned payload bytes held at once (never above window_bytes unless
  // a single frame is larger).
  std::uint64_t window_waits() const { return window_waits_; }
  std::uint64_t max_pending_bytes() const { return max_pending_; }

 private:
  struct Job {
    framing::PlannedFrame frame;
    framing::WireBytes out;  // may point into frame.spliced
    std::size_t frames = 0;   // wire frames rendered (reported by render)
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

  Lane* find_lane(std::uint8_t stream_id);
  void run_lane(Lane& lane);
  void enqueue(Lane& lane, framing::PlannedFrame frame);
  static void render(Lane& lane, Job& job);
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
  std::uint64_t window_waits_ = 0;
  std::uint64_t max_pending_ = 0;
};

}  // namespace hgrpc::server
