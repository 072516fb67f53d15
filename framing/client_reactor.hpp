#pragma once
// ClientReactor: the sans-I/O client side of one exchange (one request body
// and its response body).
//
//   ClientReactor c(options);
//   auto id = c.call_command("name", args, body);   // appends request frames
//   ... send body, read the response, for each frame f:
//   for (auto& ev : c.on_frame(f)) switch on ev:
//       ResponseValue{id, value}  a result value of request id
//       ResponseRedirect{id, location}  {status: redirect}: the values are
//                                 at location (content redirects); ResponseEnd
//                                 follows, and no value may
//       ResponseEnd{id}           the ok response of id is complete
//       CommandError{id, error}   {status: error}: `error` is the error map
//                                 ({message: [{msg, args?}], ...}); ends id
//       ErrorResponse{id, type, message}  an error-response frame; ends id
//       TextOutput{id, atoms}, Progress{id, map}  side channels
//       ProtocolError{message}    the server broke the rules; later frames error
//   c.on_input_end()  -> error if a request got no complete response
//
// Requests: protocol settings first (contentencodings, and the hgrpc opt-in
// list hgrpc-accept-frames) on stream 1, then command-request frames
// (new/continuation/more, split at max_frame_size) and command-data frames
// (continuation/eos). Request ids are odd, from 1, step 2. With an
// upload_encoding, commands and their data go on stream 3, which begins with
// its stream-settings frame and carries `encoded` frames.
// Command data streams: begin_command(...) sends a have-data request, then
// send_data(id, chunk) continuation frames and end_data(id, last) the eos
// frame; call_command(..., data) is the three at once.
// Responses: each request's command-response payloads feed one CborDecoder;
// the first value is the status map. Server streams may be encoded (decoders
// per stream, from their stream-settings frames).
//
// The reactor is in one ClientState: initial (nothing sent) -> open (the
// protocol settings went out with the first request) -> errored (the server
// broke a rule; every later frame errors with already-errored). Each request
// is in one RequestState; kRequestTransitions (client_reactor.cpp) is the
// only place it changes:
//
//   state \ event    send-data     end-data         response    status-ok   status-error  response-eos  error-response
//   ---------------  ------------  ---------------  ----------  ----------  ------------  ------------  --------------
//   (a {status: redirect} map with a location is status-ok, reported as
//   ResponseRedirect; a value after it is value-after-redirect)
//   sending-data     sending-data  awaiting-status  ERR early   -           -             -             done
//   awaiting-status  ERR no-data   ERR no-data      awaiting    values      error         ERR no-status done
//   values           ERR no-data   ERR no-data      values      -           -             done (end)    done
//   error            ERR no-data   ERR no-data      error       -           -             done          done
//
//   done: the request's entry is removed (a later frame for it is a
//   no-pending-response error). text-output and progress frames leave the
//   state as it is. ERR early = response-before-data-end; ERR no-status =
//   response-without-status; ERR no-data = data-not-expected, an error of the
//   sending call (not of the connection). Status values arrive only in
//   awaiting-status (the first value of a response).
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "framing/bytes.hpp"
#include "framing/cbor.hpp"
#include "framing/content_encoding.hpp"
#include "framing/frame.hpp"
#include "framing/protocol_error.hpp"
#include "framing/result.hpp"
#include "framing/stream.hpp"

namespace hgrpc::framing {

struct ClientReactorOptions {
  // Advertised in contentencodings, in the client's preference. Empty and no
  // opt-ins: no sender-protocol-settings frame (the server assumes identity).
  std::vector<Encoding> content_encodings{std::begin(kEncodingPreference),
                                          std::end(kEncodingPreference)};
  bool accept_text_output = false;  // opt in to text-output frames
  bool accept_progress = false;     // opt in to progress frames
  std::optional<Encoding> upload_encoding;  // encode requests on stream 3
  std::size_t max_frame_size = kDefaultEmitFrameSize;
  EncoderOptions encoder;
  InputStreamLimits input_streams;  // decoded bytes per server stream, ...
  CborLimits cbor;                  // response values
};

struct ResponseValue {
  std::uint16_t request_id = 0;
  json value;
};
struct ResponseEnd {
  std::uint16_t request_id = 0;
};
struct ResponseRedirect {
  std::uint16_t request_id = 0;
  json location;  // the status map's location map (url, mediatype, size?, fullhashes?, ...)
};
struct CommandError {
  std::uint16_t request_id = 0;
  json error;  // the status map's error map
};
struct ErrorResponse {
  std::uint16_t request_id = 0;
  std::string type;  // protocol, server, command
  json message;      // list of atoms
};
struct TextOutput {
  std::uint16_t request_id = 0;
  json atoms;
};
struct Progress {
  std::uint16_t request_id = 0;
  json progress;  // {topic, pos, total, label?, item?}
};
using ClientEvent = std::variant<ResponseValue, ResponseEnd, CommandError, ErrorResponse,
                                 TextOutput, Progress, ProtocolError, ResponseRedirect>;

enum class ClientState : std::uint8_t { Initial, Open, Errored };
std::string_view client_state_name(ClientState s);

enum class RequestState : std::uint8_t { SendingData, AwaitingStatus, Values, Error };
std::string_view request_state_name(RequestState s);

enum class RequestEvent : std::uint8_t {
  SendData, EndData, Response, StatusOk, StatusError, ResponseEos, ErrorResponse,
};
std::string_view request_event_name(RequestEvent e);

// The named errors of the client reactor (ProtocolError::name, Error::name).
enum class ClientReactorError : std::uint8_t {
  None,
  AlreadyErrored,          // any frame after an error
  NoPendingResponse,       // a frame for a request that is not pending
  ResponseBeforeDataEnd,   // command-response before the request's data ended
  ResponseFlags,           // both or neither of continuation / eos
  ResponseInvalid,         // a response that is not valid CBOR
  BadStatus,               // a first value that is not a status map with ok or error
  ResponseInsideValue,     // eos inside a CBOR value
  ResponseWithoutStatus,   // eos before the status map
  ErrorResponseInvalid,    // error-response payload not one map with type and message
  SideChannelInvalid,      // text-output / progress payload not one CBOR value
  InputEndInResponse,      // body ended before a pending response was complete
  InputEndInStreamSettings,
  DataNotExpected,         // send_data / end_data for a request not sending data
  ValueAfterRedirect,      // a value after a {status: redirect} map
};
std::string_view client_error_name(ClientReactorError e);

class ClientReactor {
 public:
  explicit ClientReactor(ClientReactorOptions options = {});
  ~ClientReactor();
  ClientReactor(ClientReactor&&) noexcept;
  ClientReactor& operator=(ClientReactor&&) noexcept;

  // Appends the frames of one command request (preceded, the first time, by
  // the protocol settings) to out. Returns the request id. data: command data
  // (sent in command-data frames; an empty span still sends one empty frame).
  Result<std::uint16_t> call_command(std::string_view name, const json& args, Bytes& out,
                                     std::optional<ByteView> data = std::nullopt,
                                     const json& redirect = nullptr);
  // Streaming command data. begin_command appends a have-data request (like
  // call_command); send_data appends `chunk` as command-data continuation
  // frames (split at max_frame_size); end_data appends `last` ending the data:
  // full frames continue, the shorter (possibly empty) last one carries eos,
  // as Mercurial frames data. With an upload_encoding, each data frame's
  // payload is encoded on stream 3. Errors: data-not-expected.
  Result<std::uint16_t> begin_command(std::string_view name, const json& args, Bytes& out,
                                      const json& redirect = nullptr);
  Result<void> send_data(std::uint16_t request_id, ByteView chunk, Bytes& out);
  Result<void> end_data(std::uint16_t request_id, ByteView last, Bytes& out);

  // Registers a request sent by other means, so responses to it are accepted.
  void expect_request(std::uint16_t request_id);

  // Events caused by one response frame (often none, sometimes several).
  std::vector<ClientEvent> on_frame(const Frame& frame);
  // End of the response body: an error if a request's response is incomplete.
  std::optional<ProtocolError> on_input_end();

  ClientState state() const { return state_; }
  bool errored() const { return state_ == ClientState::Errored; }
  std::size_t pending_requests() const { return pending_.size(); }
  // The state of a pending request; nullopt when it is not pending.
  std::optional<RequestState> request_state(std::uint16_t request_id) const;

 private:
  struct Pending {
    CborDecoder decoder;
    RequestState state = RequestState::AwaitingStatus;
    bool redirected = false;  // the status was a content redirect: no value may follow
  };

  Bytes protocol_settings_payload() const;
  Result<std::uint16_t> send_request(std::string_view name, const json& args, Bytes& out, bool have_data,
                                     const json& redirect);
  Result<void> send_data_frames(std::uint16_t request_id, ByteView data, bool last, Bytes& out);
  Result<void> render(std::uint16_t request_id, FrameType type, std::uint8_t flags, ByteView payload,
                      Bytes& out);
  void fail_with(std::vector<ClientEvent>& out, ClientReactorError e, std::string message);
  // Applies event to the request's state; false (after reporting the named
  // error to out) when the table forbids it. A done request is erased.
  bool step(std::map<std::uint16_t, Pending>::iterator it, RequestEvent event, std::vector<ClientEvent>& out,
            const std::string& where);
  void on_response(const Frame& f, std::map<std::uint16_t, Pending>::iterator it, std::vector<ClientEvent>& out);

  ClientReactorOptions options_;
  ClientState state_ = ClientState::Initial;
  std::uint16_t next_request_id_ = 1;
  OutputStream stream1_;
  std::optional<OutputStream> upload_;
  InputStreams streams_;
  std::map<std::uint16_t, Pending> pending_;
  std::size_t index_ = 0;
};

}  // namespace hgrpc::framing
