#pragma once
// The HTTP binding: cpp-httplib server, routes, checks, auth, limits, access
// log and metrics around BodyProcessor.
//
// A POST to /api/exp-http-v2-0003/<ro|rw>/<command> is checked in this order,
// each failure answered with a text/plain one-line reason: route and
// permission prefix (404), method (405, Allow: POST), auth (401 with
// WWW-Authenticate: Bearer, 403), Accept (406), Content-Type (415), declared
// Content-Length over --max-body-bytes (413). A body that outgrows the limit
// while streaming also gets 413. The body is then decoded as it arrives; the
// framed output is spooled (memory, then a temporary file) and sent with
// chunked transfer encoding once the body is consumed (cpp-httplib 0.11.4 is
// half-duplex).
#include <memory>
#include <string>

#include "compat/expected.hpp"
#include "server/access_log.hpp"
#include "server/site.hpp"
#include "server/metrics.hpp"
#include "server/options.hpp"

namespace hgrpc::server {

class HttpServer {
 public:
  // site: what is served (the patch commands, one repository or several); it
  // outlives the server.
  HttpServer(Options options, const Site& site, AccessLog& log);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds --listen:--port (port 0: any free port). Returns the bound port.
  // Errors: bad --token-file or --trusted-proxy, address in use.
  hgrpc::expected<int, std::string> bind();
  // Serves until stop(); returns once requests in flight have finished.
  void run();
  // Stops accepting new connections; requests in flight (and further requests
  // on their keep-alive connections, until idle) are served to the end, then
  // run() returns. Safe from any thread (not from a signal handler).
  void stop();

  Metrics& metrics();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hgrpc::server
