#include "server/route.hpp"

#include "server/body_processor.hpp"
#include "server/command_registry.hpp"
#include "server/handshake.hpp"
#include "server/text.hpp"

namespace hgrpc::server {

namespace {

Route not_found(std::string reason) {
  Route r;
  r.reason = std::move(reason);
  return r;
}

}  // namespace

std::string Route::label() const {
  switch (kind) {
    case RouteKind::ApiCommand: return command;
    case RouteKind::ApiIndex: return "api";
    case RouteKind::Handshake: return "handshake";
    case RouteKind::Healthz: return "healthz";
    case RouteKind::Metrics: return "metrics";
    case RouteKind::NotFound: break;
  }
  return "other";
}

Route route_request(std::string_view path, const std::optional<std::string>& cmd,
                    const CommandRegistry& registry) {
  if (path == "/") {
    if (cmd && *cmd == "capabilities") return Route{RouteKind::Handshake, false, {}, {}};
    if (cmd) return not_found("unknown wire protocol command: " + printable(*cmd));
    return not_found("hgrpcd: see /api/ for the available APIs");
  }
  if (path == "/healthz") return Route{RouteKind::Healthz, false, {}, {}};
  if (path == "/metrics") return Route{RouteKind::Metrics, false, {}, {}};
  if (path == "/api" || path == "/api/") return Route{RouteKind::ApiIndex, false, {}, {}};
  constexpr std::string_view api = "/api/";
  if (!path.starts_with(api)) return not_found("not found: " + printable(path));

  std::string_view rest = path.substr(api.size());
  const auto slash = rest.find('/');
  const auto name = rest.substr(0, slash);
  if (name != kHttpV2Api)
    return not_found("unknown API: " + printable(name) + "; known APIs: " + std::string(kHttpV2Api));
  rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
  const auto slash2 = rest.find('/');
  const auto permission = rest.substr(0, slash2);
  const auto command = slash2 == std::string_view::npos ? std::string_view{} : rest.substr(slash2 + 1);
  if (permission.empty() || slash2 == std::string_view::npos)
    return not_found("requests to the API must name a permission (ro or rw) and a command");
  if (permission != "ro" && permission != "rw")
    return not_found("unknown permission: " + printable(permission) + " (ro or rw)");
  if (command.empty() || command.find('/') != std::string_view::npos ||
      (command != kMultiRequest && registry.find(command) == nullptr))
    return not_found("unknown wire protocol command: " + printable(command));
  Route r;
  r.kind = RouteKind::ApiCommand;
  r.read_write = permission == "rw";
  r.command = std::string(command);
  return r;
}

bool header_names_media_type(std::string_view header, std::string_view media_type) {
  while (!header.empty()) {
    const auto comma = header.find(',');
    auto entry = header.substr(0, comma);
    entry = trim(entry.substr(0, entry.find(';')));
    if (iequals(entry, media_type)) return true;
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace hgrpc::server
