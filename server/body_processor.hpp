#pragma once
// BodyProcessor: one request body from bytes to framed output, without HTTP
// (so tests and fuzzers drive it in-process). Body chunks go through a
// FrameReader into the ServerReactor; each command runs as soon as its
// request frames are complete; its response is planned by a ResponseEmitter
// and rendered through an OutputMux into the sink at once.
//
// Outcomes:
//   200 framed   every request answered (command errors are responses too)
//   400 framed   a protocol error before any output: the body is one
//                error-response frame {type: b'protocol', message: [{msg}]}
//                on stream 2 (no encoding, so any client can read it)
//   200 framed   a protocol error after output started: an error-response
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
#include "server/output_mux.hpp"

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
  OutputMuxOptions mux;
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
  // End of the body: final checks, waits for rendering, returns the outcome.
  BodyResult finish();

  bool done() const { return stopped_; }
  const CommandTally& commands() const { return tally_; }
  std::uint64_t frames_in() const { return reader_.frames_read(); }
  std::uint64_t frames_out() const;
  std::uint64_t bytes_out() const;

 private:
  void on_frame(const framing::Frame& f);
  void run_command(framing::RunCommand& cmd);
  void reject(int status, std::string text);
  void protocol_error(std::string message);
  void server_error(std::string message);
  void submit(framing::PlannedFrames frames);

  const CommandRegistry& registry_;
  BodyTarget target_;
  BodyOptions options_;
  CommandObserver observer_;
  framing::FrameReader reader_;
  framing::ServerReactor reactor_;
  OutputMux::Sink sink_;
  std::unique_ptr<OutputMux> mux_;
  CommandTally tally_;
  BodyResult result_;
  std::uint16_t last_request_id_ = 0;
  std::uint64_t direct_frames_ = 0;  // written to the sink outside the mux
  std::uint64_t direct_bytes_ = 0;
  bool stopped_ = false;
};

}  // namespace hgrpc::server
