#include "client/url.hpp"

#include <charconv>

namespace hgrpc::client {

ClientResult<ServerUrl> parse_url(std::string_view url) {
  auto bad = [&](std::string why) {
    return client_fail(ErrorKind::Usage, "invalid URL '" + std::string(url) + "': " + why);
  };
  constexpr std::string_view kScheme = "http://";
  if (!url.starts_with(kScheme)) {
    if (url.starts_with("https://")) return bad("https is not supported; use http:// (e.g. behind a TLS proxy)");
    return bad("expected http://HOST[:PORT][/PATH]");
  }
  std::string_view rest = url.substr(kScheme.size());
  auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "/" : rest.substr(slash);
  if (path.find_first_of("?#") != std::string_view::npos) return bad("query and fragment are not allowed");
  if (authority.empty()) return bad("missing host");
  if (authority.find('@') != std::string_view::npos) {
    return bad("credentials in the URL are not supported; use --token-file or HGRPC_TOKEN");
  }
  // Port: after the last ':' unless inside an [IPv6] literal.
  if (auto colon = authority.rfind(':'); colon != std::string_view::npos &&
                                         authority.find(']', colon) == std::string_view::npos) {
    auto port = authority.substr(colon + 1);
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc{} || end != port.data() + port.size() || value == 0 || value > 65535) {
      return bad("port '" + std::string(port) + "' is not a number from 1 to 65535");
    }
  }
  ServerUrl out;
  out.host_port = std::string(authority);
  out.scheme_host_port = std::string(kScheme) + out.host_port;
  out.path = std::string(path);
  if (!out.path.ends_with('/')) out.path += '/';
  std::string_view trimmed(out.path);
  trimmed.remove_suffix(1);
  out.direct_api = trimmed.ends_with("/" + std::string(kApiName));
  return out;
}

}  // namespace hgrpc::client
