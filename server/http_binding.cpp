#include "server/http_binding.hpp"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <mutex>
#include <optional>
#include <unordered_map>

#include <fmt/format.h>

#include "framing/content_encoding.hpp"
#include "framing/zstd_context_pool.hpp"
#include "server/auth.hpp"
#include "server/body_pace.hpp"
#include "server/body_processor.hpp"
#include "server/capabilities.hpp"
#include "server/client_address.hpp"
#include "server/compression_pool.hpp"
#include "server/connection_pool.hpp"
#include "server/connection_stream.hpp"
#include "server/handshake.hpp"
#include "server/redis_tier.hpp"
#include "server/response_cache.hpp"
#include "server/route.hpp"
#include "server/site.hpp"

namespace hgrpc::server {

namespace {

using Clock = std::chrono::steady_clock;

// What the access log and the metrics need about the request being served.
// One request is served per worker thread at a time, from the pre-routing
// handler to the logger (which cpp-httplib calls after the response went out,
// on the same thread), so the state lives in a thread_local.
struct RequestState {
  bool active = false;
  Clock::time_point start;
  std::chrono::system_clock::time_point wall;
  std::string client;
  std::string label = "other";
  CommandTally commands;
  CommandTally cache;
  CommandTally redirect;
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  bool counted_client = false;  // holds a RequestsPerClient slot
  bool over_client_limit = false;
};
thread_local RequestState tl_request;

void text(httplib::Response& res, int status, std::string_view line) {
  res.status = status;
  res.set_content(std::string(line) + "\n", "text/plain");
}

// The declared Content-Length (0 when absent), read as cpp-httplib reads it
// when it receives the body.
std::uint64_t content_length(const httplib::Request& req) {
  return req.get_header_value<std::uint64_t>("Content-Length");
}

bool has_body(const httplib::Request& req) {
  return content_length(req) > 0 ||
         req.get_header_value("Transfer-Encoding").find("chunked") != std::string::npos;
}

// Bytes of an unwanted body read and dropped so that the client, which sends
// its whole body before reading, gets our answer rather than a reset.
constexpr std::uint64_t kDrainBytes = 1u << 20;

// A response sent before the body was read: the connection cannot be reused.
void close_if_body_unread(const httplib::Request& req, httplib::Response& res) {
  if (has_body(req)) res.set_header("Connection", "close");
}

// An early answer to a POST: drop a body of up to kDrainBytes (the
// connection stays usable); a larger one is left unread and the connection
// closed.
void drain_or_close(const httplib::Request& req, httplib::Response& res,
                    const httplib::ContentReader* reader) {
  if (reader == nullptr || !has_body(req) || content_length(req) > kDrainBytes) {
    close_if_body_unread(req, res);
    return;
  }
  std::uint64_t dropped = 0;
  const bool complete = (*reader)([&](const char*, std::size_t len) {
    dropped += len;
    return dropped <= kDrainBytes;
  });
  if (!complete) res.set_header("Connection", "close");
}

// Set when the response being written says Connection: close: the
// connection pool then closes the connection instead of waiting for another
// request on it.
thread_local bool tl_close_after = false;

// Longest POST path routed: cpp-httplib matches POST paths against our route
// pattern with libstdc++'s std::regex, which recurses once per character
// (~250 bytes of stack each) and would overflow a worker's small stack on a
// long path. Our command paths are far shorter.
constexpr std::size_t kMaxPostPathBytes = 256;

// Requests being served per client behind a trusted proxy (by
// X-Forwarded-For), for --max-connections-per-client.
class RequestsPerClient {
 public:
  bool try_acquire(const std::string& client, std::size_t limit) {
    std::lock_guard lock(mutex_);
    auto& n = counts_[client];
    if (n >= limit) return false;
    ++n;
    return true;
  }
  void release(const std::string& client) {
    std::lock_guard lock(mutex_);
    auto it = counts_.find(client);
    if (it != counts_.end() && --it->second == 0) counts_.erase(it);
  }

 private:
  std::mutex mutex_;
  std::unordered_map<std::string, std::size_t> counts_;
};

// cpp-httplib's stop() marks the server as shutting down, and content
// providers then stop writing: chunked responses in flight would be cut. To
// drain instead, shut the listening socket down: accept() fails, the accept
// loop ends, and listen_after_bind() returns once the workers have finished
// the requests in flight (keep-alive connections end at their next idle wait).
//
// Connections are handed to the ConnectionPool at accept instead of
// cpp-httplib's thread-per-connection loop; the pool's workers call back
// into serve_request() (cpp-httplib's request parser and router) once a
// request head is complete.
class DrainingServer : public httplib::Server {
 public:
  ConnectionPool* pool = nullptr;

  bool serve_request(httplib::Stream& stream, bool last, bool& connection_closed) {
    return process_request(stream, last, connection_closed, nullptr);
  }
  void stop_accepting() {
    const auto sock = svr_sock_.load();
    if (sock != INVALID_SOCKET) ::shutdown(sock, SHUT_RDWR);
  }
  // cpp-httplib listens with a backlog of 5 (compiled into Debian's library):
  // a burst of connects overflows it and the kernel drops or resets them.
  // listen() again on the bound socket sets a larger one.
  bool set_listen_backlog(int backlog) {
    const auto sock = svr_sock_.load();
    return sock != INVALID_SOCKET && ::listen(sock, backlog) == 0;
  }

 private:
  bool process_and_close_socket(socket_t sock) override {
    pool->admit(sock);
    return true;
  }
};

// cpp-httplib's task queue, given each accepted socket: the pool takes it
// at once (on the accept thread). shutdown() is called when the accept loop
// ends: the pool then finishes the requests in flight.
class PoolQueue : public httplib::TaskQueue {
 public:
  explicit PoolQueue(ConnectionPool& pool) : pool_(pool) {}
  void enqueue(std::function<void()> fn) override { fn(); }
  void shutdown() override { pool_.shutdown(); }

 private:
  ConnectionPool& pool_;
};

}  // namespace

struct HttpServer::Impl {
  Impl(Options o, const Site& s, AccessLog& l) : options(std::move(o)), site(s), log(l) {}

  Options options;
  const Site& site;
  AccessLog& log;
  Metrics metrics;
  std::unique_ptr<CompressionPool> pool;  // outlives the server's workers
  std::unique_ptr<framing::ZstdContextPool> zstd_contexts;  // likewise
  std::unique_ptr<ResponseCache> cache;  // likewise; null with --cache-bytes 0
  std::unique_ptr<SharedCacheTier> shared_tier;  // --cache-url, made in bind(), moved into cache
  std::unique_ptr<RedirectStore> redirects;  // likewise; null without --redirect-target
  DrainingServer http;
  std::unique_ptr<ConnectionPool> connections;  // destroyed before http
  RequestsPerClient requests_per_client;
  std::optional<TokenAuth> auth;
  TrustedProxies proxies;
  CommandLimits limits;
  BodyOptions body_options;

  void configure();
  void on_request_start(const httplib::Request& req);
  void end_request();
  bool serve_one(httplib::Stream& stream, bool last);
  void on_logged(const httplib::Request& req, const httplib::Response& res);
  void handle_without_body(const httplib::Request& req, httplib::Response& res);
  void handle_post(const httplib::Request& req, httplib::Response& res,
                   const httplib::ContentReader* reader);
  bool check_auth(const httplib::Request& req, httplib::Response& res, const Route& route);
};

void HttpServer::Impl::configure() {
  limits.max_output_bytes = options.max_output_bytes;
  limits.max_frame_size = options.max_frame_size;
  limits.max_body_bytes = options.max_body_bytes;

  body_options.max_frame_size = options.max_frame_size;
  auto& ro = body_options.reactor;
  ro.max_request_bytes = static_cast<std::size_t>(options.max_request_bytes);
  ro.max_receiving_requests = options.max_receiving_requests;
  ro.input_streams.decoder.max_decoded_bytes = options.max_stream_decoded_bytes;
  ro.input_streams.max_open_streams = options.max_open_streams;
  ro.max_frame_size = std::min<std::size_t>(framing::kDefaultEmitFrameSize, options.max_frame_size);
  body_options.limits = limits;
  body_options.response_window_bytes = options.response_window_bytes;
  body_options.max_queued_bytes = options.response_window_bytes;
  body_options.spool_memory_bytes = options.spool_bytes;
  if (options.cache_bytes > 0) {
    ResponseCacheOptions co;
    co.max_bytes = options.cache_bytes;
    co.max_entry_bytes = std::min(options.cache_entry_bytes, options.cache_bytes);
    co.admission = options.cache_admit_second ? CacheAdmission::Second : CacheAdmission::First;
    co.recompress = options.cache_recompress;
    co.recompress_level = options.cache_recompress_level;
    co.wait = std::chrono::milliseconds(static_cast<std::int64_t>(options.cache_wait * 1000));
    cache = std::make_unique<ResponseCache>(co, std::move(shared_tier));
    body_options.cache = cache.get();
    metrics.cache = cache.get();
  }
  if (!options.redirect_targets.empty()) {
    redirects = std::make_unique<RedirectStore>(options.redirect_targets, options.redirect_min_bytes);
    redirects->set_failure_log([this](const std::string& why) { log.note("content redirect failed: " + why); });
    body_options.redirects = redirects.get();
    metrics.redirects = redirects.get();
  }
  const std::size_t compress = effective_compress_threads(options);
  body_options.mux.max_streams = compress;
  pool = std::make_unique<CompressionPool>(compress > 1 ? compress : 0);

  const std::size_t threads = effective_threads(options);
  // Never more idle than were ever in use at once: one per output stream of
  // each body being served.
  zstd_contexts = std::make_unique<framing::ZstdContextPool>(threads * compress);
  ro.encoder.zstd_pool = zstd_contexts.get();
  ro.encoding_preference.clear();
  for (const auto& name : options.encodings) ro.encoding_preference.push_back(*framing::encoding_from_name(name));
  PoolLimits pool_limits;
  pool_limits.max_workers = options.max_connections;
  pool_limits.min_workers = threads;
  pool_limits.max_open = options.max_open_connections;
  pool_limits.max_per_client = options.max_connections_per_client;
  const auto ms = [](double seconds) {
    return std::chrono::milliseconds(static_cast<std::int64_t>(std::ceil(seconds * 1000)));
  };
  pool_limits.header_timeout = ms(options.header_timeout);
  pool_limits.read_timeout = ms(options.read_timeout);
  pool_limits.write_timeout = ms(options.write_timeout);
  pool_limits.keep_alive_timeout = ms(options.keep_alive_timeout);
  pool_limits.keep_alive_max = options.keep_alive_max;
  connections = std::make_unique<ConnectionPool>(
      pool_limits, metrics.connections,
      [this](httplib::Stream& stream, bool last) { return serve_one(stream, last); },
      [this](std::string_view peer) { return proxies.trusted(peer); });
  // A burst's zstd contexts (each holding the window of its last stream) go
  // with its workers: one is kept, as after the first zstd response.
  connections->set_on_quiet([this] { zstd_contexts->trim(1); });
  http.pool = connections.get();
  http.new_task_queue = [this] { return new PoolQueue(*connections); };
  const auto set_timeout = [](double seconds, auto&& setter) {
    const auto whole = static_cast<time_t>(seconds);
    setter(whole, static_cast<time_t>((seconds - static_cast<double>(whole)) * 1e6));
  };
  set_timeout(options.read_timeout, [&](time_t s, time_t us) { http.set_read_timeout(s, us); });
  set_timeout(options.write_timeout, [&](time_t s, time_t us) { http.set_write_timeout(s, us); });
  http.set_keep_alive_timeout(std::max<time_t>(1, static_cast<time_t>(std::ceil(options.keep_alive_timeout))));
  http.set_keep_alive_max_count(options.keep_alive_max);
  // Responses are written in several pieces (headers, chunks, last chunk):
  // with Nagle on, the last one waits for the client's delayed ACK (~40 ms).
  http.set_tcp_nodelay(true);
  // Bodies of handlers without a content reader (never ours) stay bounded.
  http.set_payload_max_length(static_cast<std::size_t>(options.max_body_bytes));

  http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    on_request_start(req);
    if (tl_request.over_client_limit) {
      res.set_header("Retry-After", "1");
      res.set_header("Connection", "close");
      text(res, 503, fmt::format("too many requests in progress from {} (--max-connections-per-client {})",
                                 tl_request.client, options.max_connections_per_client));
      return httplib::Server::HandlerResponse::Handled;
    }
    if (req.method == "POST" && req.path.size() > kMaxPostPathBytes) {
      res.set_header("Connection", "close");
      text(res, 404, fmt::format("no such command (the path is longer than {} bytes)", kMaxPostPathBytes));
      return httplib::Server::HandlerResponse::Handled;
    }
    if (req.method == "POST") return httplib::Server::HandlerResponse::Unhandled;
    handle_without_body(req, res);
    return httplib::Server::HandlerResponse::Handled;
  });
  http.Post(".*", [this](const httplib::Request& req, httplib::Response& res,
                         const httplib::ContentReader& reader) { handle_post(req, res, &reader); });
  http.Post(".*", [this](const httplib::Request& req, httplib::Response& res) {
    handle_post(req, res, nullptr);
  });
  http.set_exception_handler([this](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    log.note("internal error: " + what);
    text(res, 500, "internal server error");
  });
  http.set_logger([this](const httplib::Request& req, const httplib::Response& res) { on_logged(req, res); });
  // Runs after cpp-httplib added its connection headers, before they are
  // written: a response that closes the connection must not also announce
  // Keep-Alive, and the pool must close it right after the response.
  http.set_post_routing_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.get_header_value_count("Connection") == 0) return;
    const bool close = res.get_header_value("Connection") == "close";
    if (!close) return;
    res.headers.erase("Connection");
    res.headers.erase("Keep-Alive");
    res.set_header("Connection", "close");
    tl_close_after = true;
  });
}

void HttpServer::Impl::on_request_start(const httplib::Request& req) {
  auto& st = tl_request;
  st = RequestState{};
  st.active = true;
  st.start = Clock::now();
  st.wall = std::chrono::system_clock::now();
  st.client = proxies.client_address(req.remote_addr, req.get_header_value("X-Forwarded-For"));
  metrics.request_started();
  // Connections from a trusted proxy carry many clients: their requests are
  // counted per client instead (direct peers are counted per connection by
  // the pool).
  if (options.max_connections_per_client != 0 && proxies.trusted(req.remote_addr)) {
    st.counted_client = requests_per_client.try_acquire(st.client, options.max_connections_per_client);
    st.over_client_limit = !st.counted_client;
    if (st.over_client_limit) metrics.connections.refuse(Refusal::MaxConnectionsPerClient);
  }
}

void HttpServer::Impl::end_request() {
  auto& st = tl_request;
  if (st.counted_client) requests_per_client.release(st.client);
  st = RequestState{};
}

bool HttpServer::Impl::serve_one(httplib::Stream& stream, bool last) {
  tl_close_after = false;
  bool closed = false;
  const bool ok = http.serve_request(stream, last, closed);
  // A request cpp-httplib gave up on before the logger (the connection broke).
  if (tl_request.active) end_request();
  return ok && !closed && !tl_close_after;
}

void HttpServer::Impl::on_logged(const httplib::Request& req, const httplib::Response& res) {
  auto& st = tl_request;
  if (!st.active) {
    // A request cpp-httplib rejected before routing (malformed, URI too long).
    on_request_start(req);
  }
  AccessLogEntry e;
  e.time = st.wall;
  e.client = st.client;
  e.method = req.method;
  e.path = req.path;
  e.commands = std::move(st.commands);
  e.cache = std::move(st.cache);
  e.redirect = std::move(st.redirect);
  e.status = res.status;
  e.bytes_in = st.bytes_in != 0 ? st.bytes_in : req.body.size();
  e.bytes_out = st.bytes_out != 0 ? st.bytes_out : res.body.size();
  e.duration_ms = std::chrono::duration<double, std::milli>(Clock::now() - st.start).count();
  metrics.request_finished(st.label, res.status, e.bytes_in, e.bytes_out);
  log.write(e);
  end_request();
}

bool HttpServer::Impl::check_auth(const httplib::Request& req, httplib::Response& res,
                                  const Route& route) {
  if (!auth || (!route.read_write && !options.auth_ro)) return true;
  switch (auth->check(req.get_header_value("Authorization"))) {
    case AuthDecision::Allowed: return true;
    case AuthDecision::Missing:
      res.set_header("WWW-Authenticate", "Bearer");
      text(res, 401, "authorization required: send 'Authorization: Bearer <token>'");
      return false;
    case AuthDecision::Refused:
      text(res, 403, "the bearer token is not valid");
      return false;
  }
  return false;
}

void HttpServer::Impl::handle_without_body(const httplib::Request& req, httplib::Response& res) {
  std::optional<std::string> cmd;
  if (req.has_param("cmd")) cmd = req.get_param_value("cmd");
  const SiteRoute at = route_site(req.path, cmd, site);
  const Route& route = at.route;
  tl_request.label = at.listing ? "listing" : route.label();
  close_if_body_unread(req, res);
  const bool get = req.method == "GET" || req.method == "HEAD";
  if (at.listing) {
    if (!get) {
      res.set_header("Allow", "GET");
      text(res, 405, "this resource answers GET only");
      return;
    }
    const bool as_json = header_names_media_type(req.get_header_value("Accept"), "application/json") ||
                      (req.has_param("style") && req.get_param_value("style") == "json");
    res.status = 200;
    if (as_json)
      res.set_content(site_listing_json(site), "application/json");
    else
      res.set_content(site_listing_text(site), "text/plain");
    return;
  }
  switch (route.kind) {
    case RouteKind::NotFound:
      text(res, 404, route.reason);
      return;
    case RouteKind::ApiCommand:
      res.set_header("Allow", "POST");
      text(res, 405, "commands require POST requests");
      return;
    default:
      break;
  }
  if (!get) {
    res.set_header("Allow", "GET");
    text(res, 405, "this resource answers GET only");
    return;
  }
  switch (route.kind) {
    case RouteKind::Healthz:
      res.status = 200;
      res.set_content("ok\n", "text/plain");
      return;
    case RouteKind::Metrics:
      res.status = 200;
      res.set_content(metrics.render(), "text/plain; version=0.0.4");
      return;
    case RouteKind::ApiIndex:
      res.status = 200;
      res.set_content(fmt::format("hgrpcd serves these APIs under /api/<name>:\n{}\n", kHttpV2Api),
                      "text/plain");
      return;
    case RouteKind::Handshake: {
      auto answer = capabilities_handshake(
          [&](const std::string& name) -> std::optional<std::string> {
            if (!req.has_header(name)) return std::nullopt;
            return req.get_header_value(name);
          },
          at.mount->registry, limits);
      res.status = 200;
      res.set_content(std::move(answer.body), answer.content_type);
      return;
    }
    default:
      text(res, 404, "not found");
  }
}

void HttpServer::Impl::handle_post(const httplib::Request& req, httplib::Response& res,
                                   const httplib::ContentReader* reader) {
  const SiteRoute at = route_site(req.path, std::nullopt, site);
  const Route& route = at.route;
  tl_request.label = at.listing ? "listing" : route.label();
  if (route.kind != RouteKind::ApiCommand) {
    drain_or_close(req, res, reader);
    if (route.kind == RouteKind::NotFound) {
      text(res, 404, route.reason);
    } else {
      res.set_header("Allow", "GET");
      text(res, 405, "this resource answers GET only");
    }
    return;
  }
  // Checks in the documented order; the body stays unread until they pass.
  const auto refuse = [&] { drain_or_close(req, res, reader); };
  if (!check_auth(req, res, route)) return refuse();
  if (!header_names_media_type(req.get_header_value("Accept"), kFramingMediaType)) {
    text(res, 406, fmt::format("client MUST specify Accept header with value: {}", kFramingMediaType));
    return refuse();
  }
  if (!header_names_media_type(req.get_header_value("Content-Type"), kFramingMediaType)) {
    text(res, 415, fmt::format("client MUST send Content-Type header with value: {}", kFramingMediaType));
    return refuse();
  }
  const auto declared = content_length(req);
  if (declared > options.max_body_bytes) {
    text(res, 413, fmt::format("request body of {} bytes exceeds the limit of {} bytes", declared,
                               options.max_body_bytes));
    return refuse();
  }

  // The handlers run once the body is read, inside the content provider
  // below, writing through the mux straight to the socket (DataSink::write
  // blocks: that is the backpressure).
  // Chunks go straight to the connection (ConnectionStream::write_chunk)
  // when the response is plainly chunked, else through cpp-httplib's sink.
  struct Out {
    httplib::DataSink* sink = nullptr;
    ConnectionStream* direct = nullptr;
  };
  auto out = std::make_shared<Out>();
  auto body_ptr = std::make_shared<BodyProcessor>(
      at.mount->registry, BodyTarget{route.read_write, route.command}, body_options, pool.get(),
      [out](OutputMux::Pieces pieces) -> framing::Result<void> {
        for (auto b : pieces) tl_request.bytes_out += b.size();
        bool ok = true;
        if (out->direct) {
          ok = out->direct->write_chunk(pieces);
        } else {
          for (auto b : pieces) ok = ok && out->sink->write(reinterpret_cast<const char*>(b.data()), b.size());
        }
        if (!ok) return framing::fail("the client stopped reading the response");
        return {};
      },
      [this](std::string_view command, bool ok) { metrics.command_run(command, ok); });
  BodyProcessor& body = *body_ptr;

  std::uint64_t received = 0;
  bool too_large = false;
  bool too_slow = false;
  bool read_ok = true;
  const auto body_start = Clock::now();
  const BodyPace pace(std::chrono::duration<double>(options.read_timeout), options.min_body_rate,
                      body_start);
  // Past the limit up to kDrainBytes more are read and dropped.
  const auto consume = [&](const char* data, std::size_t len) {
    received += len;
    if (!pace.on_schedule(received, Clock::now())) {
      too_slow = true;
      return false;
    }
    if (received > options.max_body_bytes) {
      too_large = true;
      return received - options.max_body_bytes <= kDrainBytes;
    }
    // After an error the rest is read and dropped, so the client (which
    // sends its whole body before reading) gets the response.
    if (!body.done()) body.feed(framing::ByteView(reinterpret_cast<const std::uint8_t*>(data), len));
    return true;
  };
  if (reader != nullptr) {
    read_ok = (*reader)(consume);
  } else if (!req.body.empty()) {
    consume(req.body.data(), req.body.size());
  }
  tl_request.bytes_in = received;
  BodyResult result = body.finish();
  tl_request.commands = body.commands();
  metrics.frames_received(body.frames_in());
  if (result.protocol_error) metrics.protocol_error();

  if (too_large) {
    res.set_header("Connection", "close");
    text(res, 413, fmt::format("request body exceeds the limit of {} bytes", options.max_body_bytes));
    return;
  }
  if (too_slow) {
    res.set_header("Connection", "close");
    text(res, 408,
         fmt::format("request body too slow: {} bytes in {:.1f} s, below the minimum of {} bytes/s",
                     received, std::chrono::duration<double>(Clock::now() - body_start).count(),
                     pace.min_rate()));
    return;
  }
  if (!read_ok) {
    // The connection broke or timed out: nobody will read an answer.
    res.set_header("Connection", "close");
    text(res, 400, "incomplete request body");
    return;
  }
  if (!result.error.empty() && !result.protocol_error) log.note("server error: " + result.error);
  if (!result.framed) {
    text(res, result.status, result.text);
    return;
  }
  res.status = result.status;
  res.set_chunked_content_provider(
      std::string(kFramingMediaType),
      [this, body_ptr, out, &res](std::size_t, httplib::DataSink& sink) {
        out->sink = &sink;
        // cpp-httplib has written the head; it would compress (and frame
        // differently) only with a Content-Encoding, which our media type
        // never gets, but check rather than assume.
        if (res.get_header_value("Transfer-Encoding") == "chunked" && !res.has_header("Content-Encoding"))
          out->direct = ConnectionStream::current();
        auto r = body_ptr->write_output();
        tl_request.cache = body_ptr->cache_outcomes();
        tl_request.redirect = body_ptr->redirect_outcomes();
        metrics.frames_sent(body_ptr->frames_out());
        if (!r) return false;
        sink.done();
        return true;
      },
      nullptr);
}

HttpServer::HttpServer(Options options, const Site& site, AccessLog& log)
    : impl_(std::make_unique<Impl>(std::move(options), site, log)) {}

HttpServer::~HttpServer() = default;

Metrics& HttpServer::metrics() { return impl_->metrics; }

hgrpc::expected<int, std::string> HttpServer::bind() {
  auto& o = impl_->options;
  if (!o.token_file.empty()) {
    auto a = TokenAuth::load(o.token_file);
    if (!a) return hgrpc::unexpected<std::string>(a.error());
    impl_->auth.emplace(std::move(*a));
  }
  auto proxies = TrustedProxies::parse(o.trusted_proxies);
  if (!proxies) return hgrpc::unexpected<std::string>(proxies.error());
  impl_->proxies = std::move(*proxies);
  if (!o.cache_url.empty()) {
    const auto timeout = std::chrono::milliseconds(std::max<std::int64_t>(1, std::llround(o.cache_timeout * 1000)));
    auto tier = make_shared_tier(o.cache_url, timeout, std::chrono::seconds(o.cache_ttl));
    if (!tier) return hgrpc::unexpected<std::string>(tier.error());
    impl_->shared_tier = std::move(*tier);
  }
  impl_->configure();
  if (impl_->cache && impl_->cache->tier())
    impl_->log.note(fmt::format("shared cache tier {} (timeout {} s, ttl {} s)", impl_->cache->tier()->describe(),
                                o.cache_timeout, o.cache_ttl));
  else if (!o.cache_url.empty())
    impl_->log.note("--cache-url is not used: --cache-bytes 0 turns the cache off");
  int port = o.port;
  if (port == 0) {
    port = impl_->http.bind_to_any_port(o.listen);
    if (port <= 0) return hgrpc::unexpected<std::string>("cannot bind " + o.listen + " (any port)");
  } else if (!impl_->http.bind_to_port(o.listen, port)) {
    return hgrpc::unexpected<std::string>(fmt::format("cannot bind {}:{}", o.listen, port));
  }
  if (!impl_->http.set_listen_backlog(o.listen_backlog))
    return hgrpc::unexpected<std::string>(
        fmt::format("cannot set the listen backlog to {}: {}", o.listen_backlog, std::strerror(errno)));
  return port;
}

void HttpServer::run() { impl_->http.listen_after_bind(); }

void HttpServer::stop() { impl_->http.stop_accepting(); }

}  // namespace hgrpc::server
