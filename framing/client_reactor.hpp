#pragma once
// ClientReactor: the sans-I/O client side of one exchange (one request body
// and its response body).
//
//   ClientReactor c(options);
//   auto id = c.call_command("name", args, body);   // appends request frames
//   ... send body, read the response, for each frame f:
//   for (auto& ev : c.on_frame(f)) switch on ev:
//       ResponseValue{id, value}  a result value of request id
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
// upload_encoding, commands go on stream 3, which begins with its
// stream-settings frame and carries `encoded` frames.
// Responses: each request's command-response payloads feed one CborDecoder;
// the first value is the status map. Server streams may be encoded (decoders
// per stream, from their stream-settings frames).
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
                                 TextOutput, Progress, ProtocolError>;

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
  // Registers a request sent by other means, so responses to it are accepted.
  void expect_request(std::uint16_t request_id);

  // Events caused by one response frame (often none, sometimes several).
  std::vector<ClientEvent> on_frame(const Frame& frame);
  // End of the response body: an error if a request's response is incomplete.
  std::optional<ProtocolError> on_input_end();

  bool errored() const { return errored_; }
  std::size_t pending_requests() const { return pending_.size(); }

 private:
  struct Pending {
    CborDecoder decoder;
    bool status_seen = false;
    bool is_error = false;
  };

  Bytes protocol_settings_payload() const;
  void fail_with(std::vector<ClientEvent>& out, std::string message);
  void on_response(const Frame& f, Pending& p, std::vector<ClientEvent>& out);

  ClientReactorOptions options_;
  bool settings_sent_ = false;
  std::uint16_t next_request_id_ = 1;
  OutputStream stream1_;
  std::optional<OutputStream> upload_;
  InputStreams streams_;
  std::map<std::uint16_t, Pending> pending_;
  std::size_t index_ = 0;
  bool errored_ = false;
};

}  // namespace hgrpc::framing
