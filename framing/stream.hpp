#pragma once
// Streams: per-direction state of the numbered frame streams.
//
//   InputStreams   receiving side. accept(frame) checks the stream id parity,
//                  the begin/end flags, consumes stream-settings frames (which
//                  install a Decoder) and decodes `encoded` payloads. Used by
//                  both reactors. Each open stream is in one InputStreamState:
//
//     state \ event        settings continuation  settings eos          other frame
//     ------------------   ---------------------  --------------------  ----------------------
//     fresh                settings-receiving     configured            plain
//     settings-receiving   settings-receiving     configured            ERR inside-settings
//     configured           ERR settings-repeated  ERR settings-repeated configured (decodes)
//     plain                ERR settings-after-frames (both)             plain
//
//                  A frame with stream-begin opens a fresh stream (ERR
//                  not-open without it, ERR already-open on an open one); one
//                  with stream-end closes it after the frame (ERR
//                  end-inside-settings on a settings continuation). The table
//                  is kInputStreamTransitions in stream.cpp.
//   PlannedFrame   a frame before encoding: what the response emitter (and the
//                  client reactor) produce.
//   OutputStream   sending side of one stream: id, state (table below),
//                  long-lived Encoder. render(planned, out) encodes, appends
//                  wire frames and reports how many it wrote. Streams share no
//                  state, so distinct streams may render on distinct threads;
//                  one stream renders its frames in order.
//   OutputStreamSet  single-threaded convenience: renders planned frames
//                  through the stream each names.
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "framing/bytes.hpp"
#include "framing/cbor.hpp"
#include "framing/content_encoding.hpp"
#include "framing/frame.hpp"
#include "framing/result.hpp"
#include "framing/shared_bytes.hpp"
#include "framing/wire_bytes.hpp"

namespace hgrpc::framing {

// "frame 3 (command-request, request 1, stream 1)": the prefix of every
// reactor error message. Frame indexes count from 0 in arrival order.
std::string describe_frame(std::size_t index, const FrameHeader& h);

enum class InputStreamState : std::uint8_t { Fresh, SettingsReceiving, Configured, Plain };
std::string_view input_stream_state_name(InputStreamState s);

// The named errors of InputStreams (Error::name is stream_error_name(e)).
enum class StreamError : std::uint8_t {
  None,
  WrongParity,             // an odd stream id from the server, or even from the client
  UndefinedStreamFlags,
  NotOpen,                 // first frame of a stream lacks stream-begin
  AlreadyOpen,             // stream-begin on an open stream
  TooManyStreams,          // over max_open_streams
  InsideSettings,          // another frame while the stream settings are incomplete
  SettingsRepeated,        // stream-settings after the stream's settings were complete
  SettingsAfterFrames,     // stream-settings after other frames of the stream
  SettingsEncoded,         // stream-settings with the encoded flag
  SettingsFlags,           // both or neither of continuation / eos, or undefined flags
  SettingsTooLarge,        // over max_settings_bytes
  EndInsideSettings,       // stream-end on a settings continuation
  SettingsInvalid,         // not a CBOR byte string naming a known profile, alone
  EncodedWithoutSettings,  // encoded flag on a stream without stream settings
  DecodeFailed,            // the stream's decoder rejected the payload
};
std::string_view stream_error_name(StreamError e);

struct InputStreamLimits {
  DecoderLimits decoder;            // per stream, across the stream's life
  std::size_t max_settings_bytes = 4096;  // one stream-settings payload, all frames
  std::size_t max_open_streams = 32;      // each may hold a zstd window
};

class InputStreams {
 public:
  // client_side: true in the server (accepts odd, client-initiated streams),
  // false in the client (accepts even, server-initiated streams).
  InputStreams(bool client_side, InputStreamLimits limits = {});
  ~InputStreams();
  InputStreams(InputStreams&&) noexcept;
  InputStreams& operator=(InputStreams&&) noexcept;

  // Processes the stream part of frame number `index`. Returns the frame with
  // its payload decoded (a view into the input frame, or for encoded frames
  // into a buffer valid until the next accept), or nullopt when the
  // frame was a stream-settings frame and nothing is left to do. Errors are
  // prefixed with describe_frame().
  Result<std::optional<Frame>> accept(std::size_t index, const Frame& frame);

  // Open streams whose settings are still incomplete (for end-of-input checks).
  std::optional<std::uint8_t> stream_with_pending_settings() const;
  // The state of an open stream; nullopt when it is not open.
  std::optional<InputStreamState> state_of(std::uint8_t stream_id) const;
  // The profile of an open stream, nullopt if closed or never set.
  std::optional<Encoding> encoding_of(std::uint8_t stream_id) const;

 private:
  struct Stream;
  bool client_side_;
  InputStreamLimits limits_;
  std::map<std::uint8_t, std::unique_ptr<Stream>> open_;
  Bytes decoded_;
};

// The smallest max frame size emitters and output streams accept (smaller
// values are raised to it): an error-response map must fit one frame.
inline constexpr std::size_t kMinFrameSize = 64;

// A frame planned but not yet encoded. `encode` asks the stream to apply its
// content encoding to the payload (a stream without an encoder sends it as is).
// `spliced` holds bytes already in the stream's encoding (whole zstd frames
// for zstd-8mb-frames) that follow the payload's encoding: the stream ends
// its encoder's frame after the payload and appends them as they are. Only
// for command-response frames on a stream whose encoder splices_frames().
struct PlannedFrame {
  std::uint8_t stream_id = 0;
  std::uint16_t request_id = 0;
  FrameType type = FrameType::CommandResponse;
  std::uint8_t flags = 0;
  Bytes payload;
  bool encode = false;
  SharedBytes spliced;
};
using PlannedFrames = std::vector<PlannedFrame>;
// The bytes a planned frame holds (what windows and batches count).
inline std::size_t planned_size(const PlannedFrame& f) { return f.payload.size() + f.spliced.size(); }

// Output stream states and transitions (render is the only event; an error
// that leaves the stream usable keeps its state):
//
//   state   render(f) outcome                                   next    error
//   ------  --------------------------------------------------  ------  ----------------
//   fresh   ok: [stream-settings,] frame(s), first has begin    open
//   open    ok: frame(s)                                        open
//   fresh/  f names another stream                              same    wrong-stream
//    open   unencoded payload above max_frame_size              same    frame-too-large
//           encoded payload above max_frame_size, type that     same    unsplittable-frame
//             cannot be split
//           spliced bytes on a stream whose encoding cannot      same    cannot-splice
//             take them (or on a frame type other than
//             command-response)
//           the encoder failed (its context is now unknown)     failed  encoder-failed
//   failed  any                                                 failed  stream-failed
enum class OutputStreamState : std::uint8_t { Fresh, Open, Failed };
std::string_view output_stream_state_name(OutputStreamState s);  // "fresh", "open", "failed"

enum class OutputStreamError : std::uint8_t {
  WrongStream,
  FrameTooLarge,
  UnsplittableFrame,
  CannotSplice,
  EncoderFailed,
  StreamFailed,
};
// "wrong-stream", ...: the first word of every render error message.
std::string_view output_stream_error_name(OutputStreamError e);

class OutputStream {
 public:
  // encoder == nullptr: the stream sends no stream-settings frame and never
  // sets `encoded` (Mercurial's client stream 1). max_frame_size (at least
  // kMinFrameSize) bounds the payload of every rendered frame.
  OutputStream(std::uint8_t id, std::unique_ptr<Encoder> encoder,
               std::size_t max_frame_size = kDefaultEmitFrameSize);

  std::uint8_t id() const { return id_; }
  OutputStreamState state() const { return state_; }
  bool begun() const { return state_ != OutputStreamState::Fresh; }
  bool settings_sent() const { return encoder_ != nullptr && begun(); }
  std::optional<Encoding> encoding() const;
  // The error of the last failed render (nullopt after a successful one).
  std::optional<OutputStreamError> last_error() const { return last_error_; }

  // Appends the wire form of f and returns the number of frames written:
  // first, on a fresh stream with an encoder, its stream-settings frame (with
  // f's request id); the first frame carries stream-begin. An encoded payload
  // is encoded and flushed (one encode call per planned frame); if it outgrows
  // max_frame_size it is split over several frames (command-response/-data:
  // continuation on all but the last, which keeps the planned flags;
  // command-request: later parts lose new and gain continuation, all but the
  // last gain more). An empty payload is never encoded (Mercurial's
  // end-of-stream frames carry none) unless spliced bytes follow it. Errors: see the table above; the
  // message starts with output_stream_error_name().
  Result<std::size_t> render(const PlannedFrame& f, Bytes& out);
  // The same, with f's spliced bytes referenced rather than copied: out
  // points into f.spliced, which must outlive out's pieces.
  Result<std::size_t> render(const PlannedFrame& f, WireBytes& out);

 private:
  template <class Out>
  Result<std::size_t> render_into(const PlannedFrame& f, Out& out);
  template <class Out>
  void emit(std::uint16_t request_id, FrameType type, std::uint8_t flags,
            std::uint8_t sflags, ByteView payload, Out& out, ByteView more = {});
  hgrpc::unexpected<Error> refuse(OutputStreamError e, const std::string& detail);

  std::uint8_t id_;
  std::unique_ptr<Encoder> encoder_;
  std::size_t max_frame_size_;
  OutputStreamState state_ = OutputStreamState::Fresh;
  std::optional<OutputStreamError> last_error_;
  Bytes scratch_;
};

// Output streams keyed by id; renders planned frames in the order given.
class OutputStreamSet {
 public:
  OutputStream& add(OutputStream s);
  OutputStream* find(std::uint8_t id);
  // Renders every frame of planned through its stream (error if unknown);
  // returns the number of wire frames written.
  Result<std::size_t> render(std::span<const PlannedFrame> planned, Bytes& out);

 private:
  std::map<std::uint8_t, OutputStream> streams_;
};

}  // namespace hgrpc::framing
