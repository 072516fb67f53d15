#pragma once
// Routes of hgrpcd, decided from the path alone (sans-HTTP, unit-tested):
//
//   /api/exp-http-v2-0003/<ro|rw>/<command>   ApiCommand (command: registered or multirequest)
//   /api, /api/                               ApiIndex (text/plain list of APIs)
//   /?cmd=capabilities                        Handshake
//   /healthz, /metrics                        Healthz, Metrics
//   anything else                             NotFound, with a one-line reason
#include <optional>
#include <string>
#include <string_view>

namespace hgrpc::server {

class CommandRegistry;

enum class RouteKind { ApiCommand, ApiIndex, Handshake, Healthz, Metrics, NotFound };

struct Route {
  RouteKind kind = RouteKind::NotFound;
  bool read_write = false;  // ApiCommand: rw/ (push and pull) rather than ro/ (pull)
  std::string command;      // ApiCommand: the command or "multirequest"
  std::string reason;       // NotFound: text/plain one-line reason
  // Metrics label: the command for ApiCommand, else a fixed route name.
  std::string label() const;
};

// cmd: the `cmd` query parameter, if any.
Route route_request(std::string_view path, const std::optional<std::string>& cmd,
                    const CommandRegistry& registry);

// True when the header (Accept or Content-Type) names media_type: one of its
// comma-separated entries, parameters after ';' ignored, case-insensitive.
bool header_names_media_type(std::string_view header, std::string_view media_type);

}  // namespace hgrpc::server
