#pragma once
// ResponseEmitter: plans the frames of one command response (no encoding; see
// OutputStream::render in framing/stream.hpp for that).
//
//   ResponseEmitter e(request_id, stream_id, options);
//   e.value(v, planned);            // {status: ok} first, then CBOR values,
//   e.encoded_value(cbor, planned); //   pre-encoded CBOR bytes,
//   e.bytes_begin(planned); e.bytes_chunk(c, planned); e.bytes_end(planned);
//                                   //   or one indefinite-length byte string,
//   e.bytes_begin(n, planned); e.bytes_chunk(c, planned) ...;
//                                   //   or a definite one of n bytes in pieces,
//   e.spliced_chunk(zstd, n, planned);  //   a piece given pre-encoded (below)
//   e.pre_encoded(piece, planned);  // or the whole response, status map
//                                   //   included, given pre-encoded (below)
//   e.end(planned);                 // last frame, eos
//   e.command_error("bad %s", {"x"}, planned);  // instead of / after values
//   e.error_response(ErrorType::Server, "boom", planned);
//   e.text_output(atoms, planned); e.progress(...);  // opt-in only
//
// Frames follow Mercurial 5.8: the status map goes alone in the first
// command-response frame (continuation, encoded), data is coalesced into
// frames of at most max_frame_size raw bytes (continuation, encoded) and the
// response ends with an empty eos frame. set_stream() moves the following
// frames to another output stream (one response spread over several streams).
//
// States and transitions (one table, in transition() of the .cpp):
//
//   state             value/encoded  bytes_begin  bytes_begin(n)  bytes_chunk  bytes_end  pre_encoded  end       errors
//   ----------------  -------------  -----------  --------------  -----------  ---------  -----------  --------  --------
//   fresh             values         indefinite   definite        E1           E2         pre-encoded  finished  finished
//   values            values         indefinite   definite        E1           E2         E8           finished  finished
//   indefinite-bytes  E3             E4           E4              indefinite   values     E8           E5        finished
//   definite-bytes    E3             E4           E4              definite (*) E6         E8           E5        finished
//   pre-encoded       E8             E8           E8              E8           E8         pre-encoded  finished  finished
//   finished          E0             E0           E0              E0           E0         E0           E0        E0
//
//   (*) back to values once the declared length is written; a chunk past it
//       is E7. bytes_begin(0) goes straight back to values.
//   spliced_chunk is a bytes_chunk in the table (and counts its decoded size).
//   "errors" = command_error / error_response: from any state but finished.
//   E0 after-end, E1 chunk-outside-bytes, E2 bytes-end-outside-bytes,
//   E3 value-inside-bytes, E4 bytes-begin-inside-bytes, E5 end-inside-bytes,
//   E6 bytes-end-of-definite, E7 chunk-exceeds-length, E8 mixed-pre-encoded: EmitterMisuse
//   exceptions (a handler's bug; the server answers it as a server error).
//   redirect_status is allowed only while no status map went out (else E9
//   status-after-data).
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "framing/bytes.hpp"
#include "framing/cbor.hpp"
#include "framing/frame.hpp"
#include "framing/result.hpp"
#include "framing/stream.hpp"

namespace hgrpc::framing {

struct EmitterOptions {
  std::size_t max_frame_size = kDefaultEmitFrameSize;  // raw payload bytes per frame (>= kMinFrameSize)
  bool text_output = false;  // the client opted in to text-output frames
  bool progress = false;     // the client opted in to progress frames
};

enum class ErrorType : std::uint8_t { Protocol, Server, Command };

enum class EmitterState : std::uint8_t { Fresh, Values, IndefiniteBytes, DefiniteBytes, PreEncoded, Finished };
std::string_view emitter_state_name(EmitterState s);  // "fresh", "values", "indefinite-bytes", ...

enum class EmitterError : std::uint8_t {
  AfterEnd,
  ChunkOutsideBytes,
  BytesEndOutsideBytes,
  ValueInsideBytes,
  BytesBeginInsideBytes,
  EndInsideBytes,
  BytesEndOfDefinite,
  ChunkExceedsLength,
  MixedPreEncoded,
  StatusAfterData,
};
std::string_view emitter_error_name(EmitterError e);  // "after-end", ...

// An illegal emitter call: a programmer error in the producer.
class EmitterMisuse : public std::logic_error {
 public:
  EmitterMisuse(EmitterError code, const std::string& message)
      : std::logic_error(message), code_(code) {}
  EmitterError code() const { return code_; }

 private:
  EmitterError code_;
};
std::string_view error_type_name(ErrorType t);  // "protocol", "server", "command"

// One atom of a human-readable message: {msg: b'..', args?: [b'..', ...]}.
json message_atom(std::string_view msg, const std::vector<std::string>& args = {});

class ResponseEmitter {
 public:
  ResponseEmitter(std::uint16_t request_id, std::uint8_t stream_id, EmitterOptions options = {});

  std::uint16_t request_id() const { return request_id_; }
  std::uint8_t stream_id() const { return stream_id_; }
  // Following frames go to stream_id; buffered data is flushed to the old one.
  void set_stream(std::uint8_t stream_id, PlannedFrames& out);
  EmitterState state() const { return state_; }
  bool status_sent() const { return status_sent_; }
  bool finished() const { return state_ == EmitterState::Finished; }
  // Raw payload bytes buffered for the next frame (less than max_frame_size).
  std::size_t buffered() const { return pending_.size(); }
  const EmitterOptions& options() const { return options_; }

  // Response data. Each emits the status frame first if needed. Illegal calls
  // (table above) throw EmitterMisuse.
  void value(const json& v, PlannedFrames& out);
  void encoded_value(ByteView cbor, PlannedFrames& out);
  void bytes_begin(PlannedFrames& out);                        // indefinite length
  void bytes_begin(std::uint64_t length, PlannedFrames& out);  // definite length
  void bytes_chunk(ByteView chunk, PlannedFrames& out);  // empty chunks are skipped
  void bytes_end(PlannedFrames& out);                    // indefinite only
  // A chunk of the byte string given already encoded in the stream's
  // encoding (whole zstd frames that decode to decoded_size bytes): the
  // buffered raw bytes and it go out in one planned frame whose `spliced`
  // is `encoded` (see PlannedFrame). Only for streams whose encoder
  // splices_frames(); the caller checks (ResponseSink::splices()).
  void spliced_chunk(SharedBytes encoded, std::uint64_t decoded_size, PlannedFrames& out);
  // A piece of the whole response (its {status: ok} map and every value)
  // already encoded as whole zstd frames, sent as it is: one planned frame
  // of spliced bytes, cut anywhere (the decoded octets are one sequence).
  // Only as the response's first call and after other pieces; end() then
  // adds the eos frame. For streams whose encoder splices_frames(), as
  // spliced_chunk.
  void pre_encoded(SharedBytes piece, PlannedFrames& out);
  // A content redirect: {status: redirect, location} goes out as the status
  // map (the first frame, encoded as Mercurial's); end() then closes the
  // response. Nothing else may follow (the caller's duty).
  void redirect_status(const json& location, PlannedFrames& out);
  // Emits buffered data now (a partial frame) instead of waiting for more.
  void flush(PlannedFrames& out);
  // Ends the response: buffered data, then an empty eos frame. A response
  // without values still gets its status map.
  void end(PlannedFrames& out);

  // A command error ends the response. Before any data: one command-response
  // {status: error, error: {message: [atom]}} with eos (not encoded, as
  // Mercurial does). After data was sent: an error-response frame of type
  // command.
  void command_error(std::string_view msg, const std::vector<std::string>& args,
                     PlannedFrames& out);
  // An error-response frame {type, message: [{msg}]} that ends the response.
  // The message is cut to fit one frame.
  void error_response(ErrorType type, std::string_view msg, PlannedFrames& out);

  // Side channels; dropped (returning false) unless the client opted in, or if
  // the payload does not fit one frame. atoms: array of message_atom() maps.
  bool text_output(const json& atoms, PlannedFrames& out);
  bool progress(std::string_view topic, std::int64_t pos, std::uint64_t total,
                std::string_view label, std::string_view item, PlannedFrames& out);

 private:
  void ensure_status(PlannedFrames& out);
  void push(ByteView raw, PlannedFrames& out);  // buffer, cut full frames
  void plan(FrameType type, std::uint8_t flags, Bytes payload, bool encode, PlannedFrames& out);
  enum class Event : std::uint8_t { Value, BytesBegin, BytesChunk, BytesEnd, PreEncoded, End, Error };
  // The table: the next state for event in state_, or throws EmitterMisuse.
  EmitterState transition(Event event, const char* call) const;

  std::uint16_t request_id_;
  std::uint8_t stream_id_;
  EmitterOptions options_;
  EmitterState state_ = EmitterState::Fresh;
  bool status_sent_ = false;       // the {status: ...} map went out
  std::uint64_t bytes_left_ = 0;   // of the definite byte string being written
  Bytes pending_;
  Bytes scratch_;                  // reused encoding buffer
};

}  // namespace hgrpc::framing
