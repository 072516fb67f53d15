#include "client/transport.hpp"

#include <algorithm>
#include <cctype>

#include <httplib.h>

#include "store/stage_clock.hpp"

namespace hgrpc::client {

using framing::Bytes;
using framing::ByteView;
using framing::json;

namespace {

// The media type of a Content-Type value, lower-cased, without parameters.
std::string media_type(const std::string& content_type) {
  std::string t = content_type.substr(0, content_type.find(';'));
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.pop_back();
  std::size_t start = 0;
  while (start < t.size() && std::isspace(static_cast<unsigned char>(t[start]))) ++start;
  t.erase(0, start);
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return std::tolower(c); });
  return t;
}

// First line of an error body, bounded, for messages.
std::string reason_line(const std::string& body) {
  std::string line = body.substr(0, body.find('\n'));
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.size() > 200) line = line.substr(0, 200) + "...";
  return line;
}

std::string status_text(int status, const std::string& reason) {
  std::string s = "HTTP " + std::to_string(status);
  if (!reason.empty()) s += " " + reason;
  return s;
}

ClientError transport_error(const ServerUrl& url, httplib::Error e) {
  switch (e) {
    case httplib::Error::Connection:
      return {ErrorKind::Protocol, "cannot connect to " + url.host_port + ": server unreachable"};
    case httplib::Error::ConnectionTimeout:
      return {ErrorKind::Protocol, "cannot connect to " + url.host_port + ": connection timed out"};
    case httplib::Error::Read:
      return {ErrorKind::Protocol, "connection to " + url.host_port + " failed while reading the response (closed or timed out)"};
    case httplib::Error::Write:
      return {ErrorKind::Protocol, "connection to " + url.host_port + " failed while sending the request (closed by the server?)"};
    default:
      return {ErrorKind::Protocol, "request to " + url.host_port + " failed: " + httplib::to_string(e)};
  }
}

constexpr std::size_t kErrorBodyLimit = 4096;

}  // namespace

HttpTransport::HttpTransport(ServerUrl url, TransportOptions options)
    : url_(std::move(url)), options_(std::move(options)) {}
HttpTransport::~HttpTransport() = default;
HttpTransport::HttpTransport(HttpTransport&&) noexcept = default;
HttpTransport& HttpTransport::operator=(HttpTransport&&) noexcept = default;

std::unique_ptr<httplib::Client> HttpTransport::make_client() const {
  auto client = std::make_unique<httplib::Client>(url_.scheme_host_port);
  client->set_connection_timeout(options_.connect_timeout);
  client->set_read_timeout(options_.read_timeout);
  client->set_write_timeout(options_.write_timeout);
  client->set_decompress(false);  // frames carry their own content encodings
  if (!options_.token.empty()) client->set_bearer_token_auth(options_.token);
  return client;
}

ClientResult<json> HttpTransport::handshake() {
  auto client = make_client();
  httplib::Headers headers = {{"X-HgProto-1", "cbor"}, {"X-HgUpgrade-1", std::string(kApiName)}};
  std::string body;
  bool too_large = false;
  store::StageScope network(store::Stage::Network);
  auto res = client->Get(url_.path + "?cmd=capabilities", headers,
                         [&](const char* data, std::size_t n) {
                           if (body.size() + n > options_.max_handshake_bytes) {
                             too_large = true;
                             return false;
                           }
                           body.append(data, n);
                           response_bytes_ += n;
                           return true;
                         });
  if (too_large) {
    return client_fail(ErrorKind::Protocol, "handshake answer from " + url_.host_port + " exceeds " +
                                                std::to_string(options_.max_handshake_bytes) + " bytes");
  }
  if (!res) return hgrpc::unexpected<ClientError>(transport_error(url_, res.error()));
  std::string type = media_type(res->get_header_value("Content-Type"));
  if (res->status != 200) {
    return client_fail(ErrorKind::Protocol, "handshake with " + url_.host_port + url_.path + " failed: " +
                                                status_text(res->status, res->reason) + ": " + reason_line(body));
  }
  if (type == "application/mercurial-0.1") {
    return client_fail(ErrorKind::Protocol, "server at " + url_.host_port + url_.path + " does not offer the " +
                                                std::string(kApiName) + " API (it answered the version 1 handshake)");
  }
  if (type != kCborMediaType) {
    return client_fail(ErrorKind::Protocol, "handshake answer is not " + std::string(kCborMediaType) +
                                                " (Content-Type: " + res->get_header_value("Content-Type") + ")");
  }
  auto value = framing::cbor_decode_one(framing::as_bytes(body), {"handshake answer", false, "one map"});
  if (!value) return client_fail(ErrorKind::Protocol, value.error().message);
  if (!value->is_object()) return client_fail(ErrorKind::Protocol, "handshake answer is not a CBOR map");
  return std::move(*value);
}

ClientResult<std::string> HttpTransport::api_path() {
  if (api_path_) return *api_path_;
  if (url_.direct_api) {
    api_path_ = url_.path;
    return *api_path_;
  }
  auto map = handshake();
  if (!map) return hgrpc::unexpected<ClientError>(map.error());
  const json& m = *map;
  auto apis = m.find("apis");
  if (apis == m.end() || !apis->is_object() || !apis->contains(std::string(kApiName))) {
    return client_fail(ErrorKind::Protocol, "server at " + url_.host_port + url_.path + " does not offer the " +
                                                std::string(kApiName) + " API");
  }
  const json& caps = (*apis)[std::string(kApiName)];
  if (auto it = caps.find("contentencodings"); caps.is_object() && it != caps.end() && it->is_array()) {
    std::vector<std::string> names;
    for (const auto& e : *it) {
      if (auto name = framing::bytes_or_text(e)) names.push_back(std::move(*name));
    }
    server_content_encodings_ = std::move(names);
  }
  std::string base = "api/";
  if (auto it = m.find("apibase"); it != m.end()) {
    auto text = framing::bytes_or_text(*it);
    if (!text) return client_fail(ErrorKind::Protocol, "handshake answer: apibase is not a string");
    base = std::move(*text);
  }
  if (!base.empty() && base.back() != '/') base += '/';
  api_path_ = url_.path + base + std::string(kApiName) + "/";
  return *api_path_;
}

std::optional<ClientError> HttpTransport::probe_refusal(const std::string& path) {
  auto client = make_client();
  httplib::Headers headers = {{"Accept", std::string(kFramingMediaType)}};
  auto res = client->Post(path, headers, "", std::string(kFramingMediaType));
  if (res) response_bytes_ += res->body.size();
  if (!res || res->status < 300) return std::nullopt;
  if (media_type(res->get_header_value("Content-Type")) == kFramingMediaType) return std::nullopt;
  return ClientError{ErrorKind::Protocol, status_text(res->status, res->reason) + ": " + reason_line(res->body)};
}

ClientResult<HttpStatus> HttpTransport::post_frames(const std::string& path, BodyProducer produce,
                                                    BodyConsumer consume, ProgressLine* progress) {
  auto client = make_client();
  std::optional<ClientError> failure;
  HttpStatus status;
  bool framed = false;
  std::string error_body;

  httplib::Request req;
  req.method = "POST";
  req.path = path;
  req.headers = {{"Content-Type", std::string(kFramingMediaType)},
                 {"Accept", std::string(kFramingMediaType)},
                 {"Transfer-Encoding", "chunked"}};
  // cpp-httplib 0.11 has no public call that streams a request body AND
  // receives the response through a callback; Request's provider fields are
  // what its own Post(..., ContentProviderWithoutLength) fills in.
  req.is_chunked_content_provider_ = true;
  req.content_length_ = 0;
  Bytes part;
  req.content_provider_ = [&](std::size_t, std::size_t, httplib::DataSink& sink) {
    part.clear();
    auto more = [&] {
      store::StageScope encoding(store::Stage::Other);
      return produce(part);
    }();
    if (!more) {
      failure = ClientError{ErrorKind::Protocol, "building the request body: " + more.error().message};
      return false;
    }
    if (!part.empty()) {
      if (!sink.write(reinterpret_cast<const char*>(part.data()), part.size())) return false;
      request_bytes_ += part.size();
      if (progress) progress->add_sent(part.size());
    }
    if (!*more) sink.done();
    return true;
  };
  req.response_handler = [&](const httplib::Response& r) {
    status.status = r.status;
    status.reason = r.reason;
    framed = media_type(r.get_header_value("Content-Type")) == kFramingMediaType;
    return true;
  };
  req.content_receiver = [&](const char* data, std::size_t n, std::uint64_t, std::uint64_t) {
    if (progress) progress->add_received(n);
    response_bytes_ += n;
    if (!framed) {
      if (error_body.size() < kErrorBodyLimit) error_body.append(data, std::min(n, kErrorBodyLimit - error_body.size()));
      return true;
    }
    store::StageScope decoding(store::Stage::Decode);  // and what the consumer does with the values
    auto ok = consume(status, ByteView(reinterpret_cast<const std::uint8_t*>(data), n));
    if (!ok) {
      failure = ClientError{ErrorKind::Protocol, ok.error().message};
      return false;
    }
    return true;
  };

  httplib::Response res;
  httplib::Error error = httplib::Error::Success;
  bool sent = [&] {
    store::StageScope network(store::Stage::Network);
    return client->send(req, res, error);
  }();
  if (failure) return hgrpc::unexpected<ClientError>(*failure);
  if (!sent) {
    if (status.status >= 400 && !framed) {
      return client_fail(ErrorKind::Protocol, status_text(status.status, status.reason) + ": " + reason_line(error_body));
    }
    if (error == httplib::Error::Write && status.status <= 0) {
      // The server refused before reading the body (404, 401, 403, 406...)
      // and closed while we were still sending, so its answer was lost. The
      // same headers with an empty body get that answer back.
      if (auto refused = probe_refusal(path)) return hgrpc::unexpected<ClientError>(*refused);
    }
    return hgrpc::unexpected<ClientError>(transport_error(url_, error));
  }
  if (!framed) {
    if (status.status >= 300) {
      return client_fail(ErrorKind::Protocol, status_text(status.status, status.reason) + ": " + reason_line(error_body));
    }
    return client_fail(ErrorKind::Protocol, "response is not " + std::string(kFramingMediaType) +
                                                " (Content-Type: " + res.get_header_value("Content-Type") + ", " +
                                                status_text(status.status, status.reason) + ")");
  }
  return status;
}

ClientResult<void> HttpTransport::get_url(const std::string& url, std::string_view media,
                                          const std::function<bool(ByteView)>& consume, ProgressLine* progress) {
  constexpr std::string_view kHttp = "http://";
  if (!url.starts_with(kHttp)) {
    return client_fail(ErrorKind::Protocol, "cannot fetch " + url + ": only http:// URLs are supported");
  }
  const auto slash = url.find('/', kHttp.size());
  const std::string origin = url.substr(0, slash);
  const std::string path = slash == std::string::npos ? "/" : url.substr(slash);
  if (origin.size() == kHttp.size()) return client_fail(ErrorKind::Protocol, "cannot fetch " + url + ": no host");
  httplib::Client client(origin);
  client.set_connection_timeout(options_.connect_timeout);
  client.set_read_timeout(options_.read_timeout);
  client.set_write_timeout(options_.write_timeout);
  client.set_decompress(false);
  int status = 0;
  bool aborted = false;
  std::string error_body;
  auto res = client.Get(
      path, httplib::Headers{{"Accept", std::string(media)}},
      [&](const httplib::Response& r) {
        status = r.status;
        return true;
      },
      [&](const char* data, std::size_t n) {
        if (status != 200) {
          if (error_body.size() < kErrorBodyLimit) error_body.append(data, std::min(n, kErrorBodyLimit - error_body.size()));
          return true;
        }
        if (progress) progress->add_received(n);
        bytes_from_redirects_ += n;
        if (!consume(ByteView(reinterpret_cast<const std::uint8_t*>(data), n))) {
          aborted = true;
          return false;
        }
        return true;
      });
  if (aborted) return client_fail(ErrorKind::Protocol, "fetching " + url + " was aborted");
  if (!res) return client_fail(ErrorKind::Protocol, "fetching " + url + " failed: " + httplib::to_string(res.error()));
  if (res->status != 200) {
    return client_fail(ErrorKind::Protocol, "fetching " + url + " failed: " + status_text(res->status, res->reason) +
                                                (error_body.empty() ? "" : ": " + reason_line(error_body)));
  }
  // The Content-Type is not checked: static servers label files by their
  // extension (a blob's name has none), and the caller checks the content.
  return {};
}

}  // namespace hgrpc::client
