#pragma once
// ResponseSink: what a command handler writes its response into, value by
// value. The sink frames each value through the response's ResponseEmitter
// (already bound to its output stream) and hands the planned frames to a
// drain every batch_bytes of payload; the server's drain submits them to the
// OutputMux, which blocks while the response window is full. A handler
// therefore produces at the pace the connection takes its bytes, and one
// response holds at most about one window of memory, whatever its size.
//
//   sink.value(json)              a CBOR value (json::binary for bytes, ...)
//   sink.encoded(cbor)            one or more values already encoded as CBOR
//   sink.bytes(view)              one definite-length byte string, drained in pieces
//   sink.bytes_begin(n); sink.bytes_chunk(c) ...
//                                 a definite-length byte string of n bytes in
//                                 pieces (Mercurial reads revisions this way)
//   sink.bytes_begin(); sink.bytes_chunk(c) ...; sink.bytes_end()
//                                 an indefinite-length byte string
//   sink.spliced_chunk(zstd, n)   inside a byte string: a piece given as whole
//                                 zstd frames decoding to n bytes, sent as
//                                 they are (only when splices(): the
//                                 response's streams are zstd-8mb-frames)
//   sink.pre_encoded(zstd)        instead of all the above: the whole response,
//                                 status map included, as whole zstd frames
//                                 in one or more calls (a cached answer;
//                                 only when splices())
//
// Each returns false once the output is gone (the peer hung up, a write
// failed): the handler should stop and return; what it returns is ignored.
// Calls that break the emitter's table (a value inside a byte string, a chunk
// past the declared length) throw framing::EmitterMisuse: a handler bug,
// answered as a server error for that request.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>

#include "framing/bytes.hpp"
#include "framing/cbor.hpp"
#include "framing/response_emitter.hpp"

namespace hgrpc::server {

struct CommandError;
class ResponseRecorder;

// How the response cache answered a request (the access log marks it).
enum class CacheOutcome { None, Hit, Shared, TierHit, Miss, Uncached };
// "hit", "shared", "tier", "miss", "uncached"; empty for None.
std::string_view cache_outcome_name(CacheOutcome o);

class ResponseSink {
 public:
  // Takes (moves out) the frames planned so far; it may move the emitter to
  // another stream for what follows. False: the output is gone.
  using Drain = std::function<bool(framing::PlannedFrames&, framing::ResponseEmitter&)>;

  // splices: the response's output streams take spliced zstd frames.
  ResponseSink(framing::ResponseEmitter& emitter, Drain drain, std::size_t batch_bytes, bool splices = false);

  bool value(const framing::json& v);
  bool encoded(framing::ByteView cbor);
  bool bytes(framing::ByteView b);
  bool bytes_begin(std::uint64_t length);
  bool bytes_begin();
  bool bytes_chunk(framing::ByteView chunk);
  bool bytes_end();
  bool splices() const { return splices_; }
  bool spliced_chunk(framing::SharedBytes zstd_frames, std::uint64_t decoded_size);
  bool pre_encoded(framing::SharedBytes zstd_frames);
  // A content redirect (server/content_redirect.hpp): {status: redirect,
  // location} instead of any value; finish() follows. Never recorded.
  bool redirect(const framing::json& location);

  // While set, every write is also recorded (the response cache's first
  // answer); nullptr stops recording.
  void record_into(ResponseRecorder* recorder) { recorder_ = recorder; }
  void set_cache_outcome(CacheOutcome o) { cache_outcome_ = o; }
  CacheOutcome cache_outcome() const { return cache_outcome_; }

  bool ok() const { return ok_; }
  // True once frames of this response went to the drain.
  bool drained() const { return drained_; }

  // Used by the server once the handler returned.
  bool finish();                                  // end of a successful response
  bool fail(const CommandError& e);               // a command error
  bool fail_server(std::string_view message);     // a server error (exception)

 private:
  bool after_write();  // drain once a batch is planned
  bool after_write_count();
  bool drain_all();

  framing::ResponseEmitter& emitter_;
  Drain drain_;
  std::size_t batch_bytes_;
  framing::PlannedFrames planned_;
  std::size_t planned_bytes_ = 0;
  std::size_t counted_frames_ = 0;  // frames of planned_ already in planned_bytes_
  bool ok_ = true;
  bool drained_ = false;
  bool splices_ = false;
  ResponseRecorder* recorder_ = nullptr;
  framing::Bytes scratch_;  // a value's CBOR while recording
  CacheOutcome cache_outcome_ = CacheOutcome::None;
};

}  // namespace hgrpc::server
