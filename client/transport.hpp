#pragma once
// The HTTP transport (cpp-httplib client): the Mercurial handshake and framed
// POSTs whose request body is produced while it is sent and whose response
// body is handed over chunk by chunk as it arrives. No protocol knowledge
// beyond media types and status lines: frames are the session's business.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "client/errors.hpp"
#include "client/progress.hpp"
#include "client/url.hpp"
#include "framing/bytes.hpp"
#include "framing/cbor.hpp"
#include "framing/result.hpp"

namespace httplib {
class Client;
}

namespace hgrpc::client {

struct TransportOptions {
  std::string token;  // Authorization: Bearer <token> when not empty
  std::chrono::seconds connect_timeout{10};
  std::chrono::seconds read_timeout{300};  // the server may think long before answering
  std::chrono::seconds write_timeout{300};
  std::size_t max_handshake_bytes = 16u << 20;  // the capabilities answer
};

// Appends the next part of a request body to out; returns true while more
// parts follow, false after the last one. An error aborts the request.
using BodyProducer = std::function<framing::Result<bool>(framing::Bytes& out)>;
struct HttpStatus {
  int status = 0;
  std::string reason;  // "OK", "Bad Request", ...
};

// Receives response body bytes (framing media type only) with the response's
// status. An error aborts.
using BodyConsumer = std::function<framing::Result<void>(const HttpStatus& status, framing::ByteView chunk)>;

class HttpTransport {
 public:
  HttpTransport(ServerUrl url, TransportOptions options);
  ~HttpTransport();
  HttpTransport(HttpTransport&&) noexcept;
  HttpTransport& operator=(HttpTransport&&) noexcept;

  const ServerUrl& url() const { return url_; }

  // GET <path>?cmd=capabilities with X-HgProto-1: cbor and X-HgUpgrade-1:
  // exp-http-v2-0003; returns the decoded map {apibase, apis, v1capabilities}.
  ClientResult<framing::json> handshake();

  // The API base path (".../api/exp-http-v2-0003/"): the URL itself when it is
  // a direct API URL, else from the handshake's apibase.
  ClientResult<std::string> api_path();
  // The profiles the server decodes in client streams (its capabilities'
  // `contentencodings`), known after api_path() did the handshake; nullopt
  // for a direct API URL (no handshake) or a server that lists none.
  const std::optional<std::vector<std::string>>& server_content_encodings() const {
    return server_content_encodings_;
  }

  // POSTs a framed body to path. Response bytes go to consume when the
  // response is of the framing media type, whatever its status (a 400 carries
  // a framed protocol error); the status is returned for the caller to judge.
  // Other media types or HTTP errors without a framed body -> Protocol error
  // naming the status and the server's reason line.
  ClientResult<HttpStatus> post_frames(const std::string& path, BodyProducer produce,
                                       BodyConsumer consume, ProgressLine* progress = nullptr);

  // GETs an absolute http:// URL (a content redirect's blob, another host
  // than the server's, no token sent) with Accept: media_type; each body
  // chunk goes to consume (false: abort). Errors name the URL; a status
  // other than 200 is an error.
  ClientResult<void> get_url(const std::string& url, std::string_view media_type,
                             const std::function<bool(framing::ByteView)>& consume, ProgressLine* progress = nullptr);

  // Response body bytes received from the server (handshake and framed
  // answers) and from redirect URLs, since the transport was made.
  std::uint64_t bytes_from_server() const { return response_bytes_; }
  std::uint64_t bytes_from_redirects() const { return bytes_from_redirects_; }
  // HTTP body bytes received (every response: handshake, frames, refusals)
  // and sent (request bodies) through this transport so far.
  std::uint64_t response_bytes() const { return response_bytes_; }
  std::uint64_t request_bytes() const { return request_bytes_; }

 private:
  std::unique_ptr<httplib::Client> make_client() const;
  // After a failed send: the refusal an empty-bodied POST to path gets, if any.
  std::optional<ClientError> probe_refusal(const std::string& path);

  ServerUrl url_;
  TransportOptions options_;
  std::optional<std::string> api_path_;
  std::optional<std::vector<std::string>> server_content_encodings_;
  std::uint64_t bytes_from_redirects_ = 0;
  std::uint64_t response_bytes_ = 0;
  std::uint64_t request_bytes_ = 0;
};

}  // namespace hgrpc::client
