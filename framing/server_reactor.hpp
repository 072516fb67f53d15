#pragma once
// ServerReactor: the sans-I/O server side of one request body. Frames in
// (from a FrameReader), action values out; it never touches a socket.
//
//   ServerReactor r(options);
//   for each frame f:  switch on r.on_frame(f):
//       WantFrame     -> read on
//       RunCommand    -> dispatch; answer through e = r.respond(id, stream),
//                        the emitter of that response on an OutputStream
//                        from r.make_output_stream() (the id is free again)
//       ProtocolError -> send an error and stop (every later frame errors too)
//   at end of body:    r.on_input_end()  (error if a request is incomplete)
//
// States and transitions. A frame first passes the header checks
// (check_header: unknown type, undefined flags, a server-only type) and, for
// stream-settings, the state's StreamSettings cell; then InputStreams handles
// its stream part; then the event of the frame picks one cell of kTransitions
// (server_reactor.cpp), the only place the state changes:
//
//   state \ event      protocol-     stream-      request-new  request-cont  request-bad  command-data
//                      settings      settings                                flags
//   ------------------ ------------- ------------ ------------ ------------- ------------ ------------
//   initial            settings      skip->idle   new          ERR not-recv  bad-flags    ERR not-recv
//   settings-receiving settings      ERR in-ps    ERR expect   ERR expect    ERR expect   ERR expect
//   idle               ERR not-first skip         new          ERR not-recv  bad-flags    ERR not-recv
//   command-receiving  ERR not-first skip         new          continue      bad-flags    data
//   errored            ERR already-errored for every frame
//
//   initial:  every cell but protocol-settings moves to idle first
//   settings: continuation -> settings-receiving; eos -> idle (settings applied)
//   new:      complete without data -> RunCommand, state unchanged;
//             else -> command-receiving
//   continue, data: completes the request -> RunCommand and idle when no other
//             request is being received, else command-receiving; otherwise
//             command-receiving
//   ERR x:    -> errored, ProtocolError named ServerError::x; the checks inside
//             new/continue/data (request id in use, have-data mismatch, sizes,
//             flags, payload) fail the same way with their own names.
//   on_input_end: settings-receiving, command-receiving or a stream inside its
//             settings -> errored with an input-end-* error.
//
// Every error message starts with describe_frame(): frame index (from 0),
// type, request id and stream id.
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "framing/bytes.hpp"
#include "framing/cbor.hpp"
#include "framing/content_encoding.hpp"
#include "framing/frame.hpp"
#include "framing/frame_checks.hpp"
#include "framing/protocol_error.hpp"
#include "framing/response_emitter.hpp"
#include "framing/result.hpp"
#include "framing/stream.hpp"

namespace hgrpc::framing {

struct ServerReactorOptions {
  // Bytes of one assembled request: command-request payload + command data.
  std::size_t max_request_bytes = std::size_t{256} << 20;
  // Requests whose frames are still arriving at the same time.
  std::size_t max_receiving_requests = 1024;
  // Sender-protocol-settings payload, all frames together.
  std::size_t max_protocol_settings_bytes = 64 * 1024;
  InputStreamLimits input_streams;  // decoded bytes per stream, open streams
  CborLimits cbor;                  // request and settings payloads
  // Output: encodings the server may use, in its order of preference.
  std::vector<Encoding> encoding_preference{std::begin(kEncodingPreference),
                                            std::end(kEncodingPreference)};
  EncoderOptions encoder;
  std::size_t max_frame_size = kDefaultEmitFrameSize;  // of emitted frames
};

struct WantFrame {
  bool operator==(const WantFrame&) const = default;
};
struct RunCommand {
  std::uint16_t request_id = 0;
  std::string name;
  json args = json::object();   // {} when absent
  std::optional<Bytes> data;    // command data, when the request announced have-data
  json redirect = nullptr;      // the request's redirect map, or null
};
using ServerAction = std::variant<WantFrame, RunCommand, ProtocolError>;

// What the client said in its sender-protocol-settings (defaults otherwise).
struct ClientSettings {
  std::vector<std::string> content_encodings{"identity"};  // client preference
  bool accept_text_output = false;  // hgrpc-accept-frames lists text-output
  bool accept_progress = false;     // hgrpc-accept-frames lists progress
};

enum class ServerState : std::uint8_t {
  Initial,
  ProtocolSettingsReceiving,
  Idle,
  CommandReceiving,
  Errored,
};
std::string_view server_state_name(ServerState s);

// What a frame is to the state machine (after its header and stream checks).
enum class ServerEvent : std::uint8_t {
  ProtocolSettings,     // sender-protocol-settings
  StreamSettings,       // stream-settings (before InputStreams consumes it)
  RequestNew,           // command-request with new, without continuation
  RequestContinuation,  // command-request with continuation, without new
  RequestBadFlags,      // command-request with both or neither
  CommandData,
};
std::string_view server_event_name(ServerEvent e);

// The named errors of the server reactor; ProtocolError::name is
// server_error_name(e) (or a header_error_name / stream_error_name).
enum class ServerError : std::uint8_t {
  None,
  AlreadyErrored,                    // any frame after an error
  StreamSettingsInProtocolSettings,  // stream-settings between settings frames
  ExpectedProtocolSettings,          // another frame before the settings' eos
  ProtocolSettingsNotFirst,          // sender-protocol-settings after other frames
  ProtocolSettingsFlags,             // both or neither of continuation / eos
  ProtocolSettingsTooLarge,          // over max_protocol_settings_bytes
  ProtocolSettingsInvalid,           // not one CBOR map of the documented keys
  RequestFlags,                      // command-request with both or neither of new / continuation
  RequestIdInUse,                    // new request whose id is receiving or active
  TooManyRequests,                   // over max_receiving_requests
  RequestNotReceiving,               // continuation or data for a request not being received
  RequestAfterLastFrame,             // continuation after the frame without `more`
  HaveDataMismatch,                  // have-data differs from the request's first frame
  RequestTooLarge,                   // over max_request_bytes
  DataNotAnnounced,                  // command-data for a request without have-data
  DataBeforeRequestEnd,              // command-data before the last command-request frame
  DataFlags,                         // both or neither of continuation / eos
  RequestPayloadInvalid,             // not one CBOR map with a name (and map args)
  InputEndInProtocolSettings,
  InputEndInRequest,
  InputEndInStreamSettings,
};
std::string_view server_error_name(ServerError e);

class ServerReactor {
 public:
  explicit ServerReactor(ServerReactorOptions options = {});

  ServerAction on_frame(const Frame& frame);
  // End of the request body: an error if a request, the protocol settings or
  // a stream's settings are incomplete; nullopt otherwise (or if errored).
  std::optional<ProtocolError> on_input_end();

  ServerState state() const { return state_; }
  const ClientSettings& client_settings() const { return settings_; }
  // First encoding of the server preference that the client lists; identity
  // when none matches.
  Encoding output_encoding() const;
  // The next server stream (ids 2, 4, ...), encoding output_encoding(). Call
  // it after the first RunCommand, once the protocol settings are known.
  // Ids 2..254: a 128th call is a programmer error (std::logic_error).
  OutputStream make_output_stream();
  // Options for emitters of this body (frame size, the client's opt-ins).
  EmitterOptions emitter_options() const;
  ResponseEmitter make_emitter(std::uint16_t request_id, std::uint8_t stream_id) const;
  // The response to a dispatched request: its emitter, bound to stream_id.
  // From here the server owns the response and the id may be reused (this is
  // make_emitter + on_response_done, the one call a server needs).
  ResponseEmitter respond(std::uint16_t request_id, std::uint8_t stream_id);

  // A dispatched request's response is complete: its id may be reused.
  void on_response_done(std::uint16_t request_id);
  bool is_active(std::uint16_t request_id) const { return active_.count(request_id) != 0; }
  std::size_t frames_seen() const { return index_; }

 private:
  struct Receiving {
    Bytes payload;
    std::optional<Bytes> data;
    bool request_done = false;
    bool expecting_data = false;
  };

  ServerAction handle(const Frame& f);
  ServerAction on_protocol_settings(const Frame& f);
  ServerAction on_request_new(const Frame& f);
  ServerAction on_request_continuation(const Frame& f);
  ServerAction on_bad_request_flags(const Frame& f);
  ServerAction on_command_data(const Frame& f);
  Receiving* find_receiving(const Frame& f, std::string_view what, ServerAction& failure);
  ServerAction completed(const Frame& f);  // f completed its request: dispatch it
  ServerAction error(std::string_view name, std::string message);
  ServerAction error_at(const Frame& f, ServerError e, std::string_view what);
  Result<void> apply_protocol_settings();
  bool too_large(const Receiving& entry) const;

  ServerReactorOptions options_;
  ServerState state_ = ServerState::Initial;
  std::size_t index_ = 0;  // index of the frame being handled
  InputStreams streams_;
  Bytes protocol_settings_;
  ClientSettings settings_;
  std::map<std::uint16_t, Receiving> receiving_;
  std::set<std::uint16_t> active_;
  std::uint8_t next_output_stream_ = 2;
};

}  // namespace hgrpc::framing
