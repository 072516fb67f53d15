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
// States and transitions (the frame's stream part is handled first by
// InputStreams; stream-settings frames stop there):
//
//   state                  frame                                 next state
//   ---------------------  ------------------------------------  -------------------------
//   initial                sender-protocol-settings, continuation settings-receiving
//   initial                sender-protocol-settings, eos         idle
//   initial                stream-settings / command-request     as idle
//   settings-receiving     sender-protocol-settings, continuation settings-receiving
//   settings-receiving     sender-protocol-settings, eos         idle
//   idle                   command-request new (complete)        idle           RunCommand
//   idle                   command-request new (more/have-data)  command-receiving
//   command-receiving      command-request new                   as idle
//   command-receiving      command-request continuation          command-receiving / RunCommand
//   command-receiving      command-data continuation             command-receiving
//   command-receiving      command-data eos                      idle or command-receiving, RunCommand
//   any                    any frame breaking a rule             errored        ProtocolError
//   errored                any                                   errored        ProtocolError
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
  ServerAction on_initial(const Frame& f);
  ServerAction on_protocol_settings(const Frame& f);
  ServerAction on_idle(const Frame& f);
  ServerAction on_command_receiving(const Frame& f);
  ServerAction on_command_request_new(const Frame& f);
  ServerAction on_command_data(const Frame& f, Receiving& entry);
  ServerAction dispatch(const Frame& f);  // f completed its request
  ServerAction error(std::string message);
  ServerAction error_at(const Frame& f, std::string_view what);
  Result<void> apply_protocol_settings();
  Result<void> check_size(const Frame& f, const Receiving& entry);
  void settle_state();

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
