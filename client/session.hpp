#pragma once
// One request body: a batch of command calls framed by the client reactor,
// POSTed through the transport (one command: .../ro/<command>; several:
// .../ro/multirequest), the response decoded while it arrives. Each call's
// outcome is handed over as soon as its response is complete, in whatever
// order the server completes them.
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "client/command_data.hpp"
#include "client/errors.hpp"
#include "client/outcome.hpp"
#include "client/progress.hpp"
#include "client/transport.hpp"
#include "framing/client_reactor.hpp"
#include "framing/content_encoding.hpp"
#include "framing/frame_reader.hpp"

namespace hgrpc::client {

struct Call {
  std::string command;
  json args = json::object();
  std::optional<CommandData> data;  // sent as command-data frames (have-data)
};

struct SessionOptions {
  // Encodings the client accepts for responses, in preference order
  // (sender-protocol-settings `contentencodings`). Empty: zstd-8mb, zlib, identity.
  std::vector<framing::Encoding> accept_encodings;
  // Permission prefix of the URL: "ro" (every hgrpcd command is pull).
  std::string permission = "ro";
  // Use the multirequest URL even for one call.
  bool force_multirequest = false;
  // Largest response frame payload accepted.
  std::size_t max_frame_payload = framing::kDefaultMaxPayload;
  // Decoded bytes per response stream (decompression bombs).
  std::uint64_t max_decoded_bytes = std::uint64_t{1} << 30;
  // Request data is read and framed in pieces of this size.
  std::size_t data_chunk_bytes = 32768;
  // Encode requests and their data on stream 3 with this profile. Only for
  // servers whose capabilities list it under `contentencodings` (Mercurial's
  // servers reject encoded client frames).
  std::optional<framing::Encoding> upload_encoding;
  // Every command request's `redirect` field (client/redirect.hpp:
  // supported_redirects); null: none, and a redirect answer is an error.
  json redirect = nullptr;
  // Largest content-redirect blob fetched (--max-redirect-bytes).
  std::uint64_t max_redirect_bytes = std::uint64_t{4} << 30;
};

using OutcomeSink = std::function<void(std::size_t call_index, Outcome&& outcome)>;
// Takes each result value of a call as soon as the reactor yields it, instead
// of Outcome::values collecting it (large responses: bounded memory). An
// error aborts the body.
using ValueSink = std::function<framing::Result<void>(std::size_t call_index, framing::json&& value)>;

// Sends calls in one body and reports each outcome through sink (its values
// through `values` instead, when given). Protocol and transport failures
// (including a response that ends before every call was answered) are
// errors; command errors are outcomes. Redirected answers (content
// redirects) are fetched once the body is read, then reported as inline
// ones would be.
ClientResult<void> run_calls(HttpTransport& transport, std::span<const Call> calls,
                             const SessionOptions& options, const OutcomeSink& sink,
                             ProgressLine* progress = nullptr, const ValueSink& values = {});

// The sans-I/O halves of run_calls, usable without HTTP.
//
// RequestBodyWriter produces the request body piece by piece: for each call,
// the client reactor's command-request frames, then its command data read
// from files in pieces of max_frame_size bytes and handed to the reactor's
// send_data / end_data (the last piece, shorter or empty, ends the data), so
// that data is never held in memory whole and is encoded like the request.
class RequestBodyWriter {
 public:
  // redirect: every request's `redirect` field (null: none).
  RequestBodyWriter(framing::ClientReactor& reactor, std::span<const Call> calls,
                    std::size_t max_frame_size = framing::kDefaultEmitFrameSize, json redirect = nullptr);
  // Appends the next piece; true while more follow.
  framing::Result<bool> next(framing::Bytes& out);
  // Request id -> call index, for the calls written so far.
  const std::map<std::uint16_t, std::size_t>& ids() const { return ids_; }

 private:
  framing::ClientReactor& reactor_;
  std::span<const Call> calls_;
  std::size_t max_frame_size_;
  json redirect_;
  std::size_t next_call_ = 0;
  std::optional<CommandData::Reader> data_;
  std::uint16_t data_request_id_ = 0;
  std::map<std::uint16_t, std::size_t> ids_;
};

// ResponseBodyReader decodes a response body fed in chunks of any size and
// reports each call's outcome as soon as it is complete; with a ValueSink,
// each value goes there as it is decoded and the outcome comes without them.
class ResponseBodyReader {
 public:
  ResponseBodyReader(framing::ClientReactor& reactor, const std::map<std::uint16_t, std::size_t>& ids,
                     OutcomeSink sink, std::size_t max_frame_payload = framing::kDefaultMaxPayload,
                     ValueSink values = {});
  framing::Result<void> feed(framing::ByteView chunk);
  // End of the body: errors if it ended inside a frame or before every
  // request was answered.
  framing::Result<void> finish();
  // The first error-response frame, for a known request or not (a protocol
  // error the server reports in a 400 answer): "protocol error: <message>".
  const std::optional<std::string>& first_error_response() const { return first_error_response_; }

  // Answers that were content redirects, in arrival order: their outcome
  // (values still to come from the location) is not reported to the sink.
  // Without accept_redirects such an answer is an error.
  struct Redirected {
    std::size_t call_index = 0;
    json location;
  };
  void accept_redirects(bool on) { accept_redirects_ = on; }
  std::vector<Redirected>& redirected() { return redirected_; }

 private:
  framing::Result<void> on_event(framing::ClientEvent& event);

  framing::ClientReactor& reactor_;
  const std::map<std::uint16_t, std::size_t>& ids_;
  OutcomeSink sink_;
  ValueSink values_;
  framing::FrameReader reader_;
  std::map<std::uint16_t, Outcome> partial_;
  std::optional<std::string> first_error_response_;
  std::size_t completed_ = 0;
  bool accept_redirects_ = false;
  std::map<std::uint16_t, json> locations_;  // request id -> its redirect location, until its end
  std::vector<Redirected> redirected_;
};

}  // namespace hgrpc::client
