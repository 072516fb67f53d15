#pragma once
// BodyProcessor: one request body from bytes to framed output, without HTTP
// (so tests and fuzzers drive it in-process). Two phases:
//
//   feed()/finish()  body chunks go through a FrameReader into the
//                    ServerReactor; each complete request is checked (URL,
//                    permission, known command) and queued with its emitter,
//                    already bound to its output stream (ServerReactor::
//                    respond). cpp-httplib sends a response only once the
//                    body is consumed, so a handler run now could not write
//                    to the socket: requests wait, holding their arguments
//                    and data. Once the queue holds more than
//                    max_queued_bytes, its oldest requests run at once and
//                    their frames go to a ResponseSpool (memory, then an
//                    unlinked file), so a body of many requests keeps bounded
//                    memory as before.
//   write_output()   replays the spool, then runs the requests still queued
//                    in order; each writes into a ResponseSink whose frames go
//                    through the OutputMux straight to the sink (the socket),
//                    blocking while the response window is full. A protocol
//                    error is queued last and leaves the same way.
//
// Outcomes:
//   200 framed   every request answered (command errors are responses too)
//   400 framed   a protocol error before any request was complete: the body is one
//                error-response frame {type: b'protocol', message: [{msg}]}
//                on stream 2 (no encoding, so any client can read it)
//   200 framed   a protocol error after a complete request: an error-response
//                frame ends the output (on the stream the output used)
//   403 / 400    text/plain, before any output: a command the URL's
//                permission does not allow (a push command under ro/), or a
//                single-command URL whose frames name another command. After
//                output started, the same checks answer a command error for
//                that request and the others go on.
// After any outcome but 200 the rest of the body is ignored. A single-command
// URL may carry several requests, all naming that command (Mercurial's server
// allows one; allowing more costs nothing). An unknown command inside a
// multirequest is a command error for that request.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "framing/bytes.hpp"
#include "framing/frame_reader.hpp"
#include "framing/result.hpp"
#include "framing/server_reactor.hpp"
#include "server/access_log.hpp"
#include "server/command_registry.hpp"
#include "server/content_redirect.hpp"
#include "server/output_mux.hpp"
#include "server/response_sink.hpp"
#include "server/response_spool.hpp"

namespace hgrpc::server {

inline constexpr std::string_view kMultiRequest = "multirequest";

// What the URL says: /api/exp-http-v2-0003/<ro|rw>/<command>.
struct BodyTarget {
  bool read_write = false;
  std::string command;  // a command name or "multirequest"
};

struct BodyOptions {
  std::size_t max_frame_size = framing::kDefaultMaxPayload;  // frames accepted
  framing::ServerReactorOptions reactor;  // its max_frame_size: frames emitted
  CommandLimits limits;
  OutputMuxOptions mux;  // its window_bytes is derived from response_window_bytes
  // One response's frames in memory at once (--response-window-bytes).
  std::uint64_t response_window_bytes = std::uint64_t{4} << 20;
  // Arguments and data of the requests queued while the body is read; above
  // it the oldest run at once into the spool (--response-window-bytes).
  std::uint64_t max_queued_bytes = std::uint64_t{4} << 20;
  std::uint64_t spool_memory_bytes = std::uint64_t{32} << 20;  // --spool-bytes
  ResponseCache* cache = nullptr;  // the server's response cache (not owned); null: none
  RedirectStore* redirects = nullptr;  // --redirect-target (not owned); null: no content redirects
};

struct BodyResult {
  int status = 200;
  bool framed = true;        // the sink holds the body; else `text` is it
  std::string text;          // text/plain one-line reason
  bool protocol_error = false;
  std::string error;         // protocol or server error message, for logs
};

class BodyProcessor {
 public:
  using CommandObserver = std::function<void(std::string_view command, bool ok)>;

  // pool may be null (inline rendering). observer may be empty.
  BodyProcessor(const CommandRegistry& registry, BodyTarget target, BodyOptions options,
                CompressionPool* pool, OutputMux::Sink sink, CommandObserver observer = {});
  ~BodyProcessor();

  // Consumes a chunk of the body. False once the outcome is decided and the
  // rest of the body is not needed (an error); feeding more is then a no-op.
  bool feed(framing::ByteView chunk);
  // End of the body: final checks; returns the outcome (status, framed).
  BodyResult finish();
  // For a framed outcome: runs the queued requests and writes every frame to
  // the sink. Errors: the sink failed (the peer is gone) or a stream could
  // not render; the remaining requests are skipped.
  framing::Result<void> write_output();

  bool done() const { return stopped_; }
  const CommandTally& commands() const { return tally_; }
  // How the response cache answered this body's requests (access log).
  const CommandTally& cache_outcomes() const { return cache_tally_; }
  // How requests that asked for a content redirect were answered (access log).
  const CommandTally& redirect_outcomes() const { return redirect_tally_; }
  std::uint64_t frames_in() const { return reader_.frames_read(); }
  std::uint64_t frames_out() const { return mux_->frames_written(); }
  std::uint64_t bytes_out() const { return mux_->bytes_written(); }
  const OutputMux& mux() const { return *mux_; }
  // Most planned bytes of output held at once (at most): the largest batch a
  // sink handed over plus the most the mux held. Within response_window_bytes
  // unless a handler writes one piece larger than a batch.
  // Whether requests ran while the body was read (their output spooled).
  bool spooled() const { return spool_ != nullptr; }
  std::uint64_t max_buffered_bytes() const { return max_batch_ + mux_->max_pending_bytes(); }

 private:
  // A request waiting for write_output(): a command to run, a command error
  // decided at queue time, or the protocol error that ends the output.
  struct Pending {
    framing::RunCommand cmd;
    const CommandSpec* spec = nullptr;
    std::optional<CommandError> refusal;
    std::optional<std::string> protocol_error;
    framing::ResponseEmitter emitter;
    std::uint64_t held = 0;  // counted in queued_bytes_
  };

  void on_frame(const framing::Frame& f);
  void queue_command(framing::RunCommand& cmd);
  void run(Pending& p);
  bool drain(framing::PlannedFrames& frames, framing::ResponseEmitter& emitter);
  bool fail_output(const framing::Error& e);  // returns false
  framing::Result<void> write_out(OutputMux::Pieces pieces);  // coalescing sink_
  framing::Result<void> flush_out();
  void reject(int status, std::string text);
  void protocol_error(std::string message);

  const CommandRegistry& registry_;
  BodyTarget target_;
  BodyOptions options_;
  CommandObserver observer_;
  framing::FrameReader reader_;
  framing::ServerReactor reactor_;
  OutputMux::Sink sink_;
  std::unique_ptr<OutputMux> mux_;
  CommandTally tally_;
  CommandTally cache_tally_;
  CommandTally redirect_tally_;
  BodyResult result_;
  std::deque<Pending> queue_;
  std::size_t commands_queued_ = 0;  // queue_ entries that answer a request
  std::uint64_t queued_bytes_ = 0;
  std::uint64_t on_stream_ = 0;      // payload bytes of the running response on its stream
  std::uint16_t last_request_id_ = 0;
  std::unique_ptr<ResponseSpool> spool_;  // output of requests run early
  bool spooling_ = false;                  // the mux writes to spool_
  std::size_t batch_bytes_ = 0;      // a ResponseSink drains every batch_bytes_
  std::uint64_t max_batch_ = 0;
  bool stopped_ = false;
  bool output_failed_ = false;
  std::string output_error_;
  static constexpr std::size_t kCoalesceBytes = 64 * 1024;
  framing::Bytes out_buffer_;  // wire bytes not yet given to sink_
};

}  // namespace hgrpc::server
