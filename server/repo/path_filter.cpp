#include "server/repo/path_filter.hpp"

#include "framing/cbor.hpp"
#include "server/repo/repo_command.hpp"

namespace hgrpc::server::repo {

namespace {

hgrpc::unexpected<CommandError> error(std::string message, std::vector<std::string> args = {}) {
  return hgrpc::unexpected<CommandError>(CommandError{std::move(message), std::move(args)});
}

std::string normalise(std::string_view p) {
  while (!p.empty() && p.front() == '/') p.remove_prefix(1);
  while (!p.empty() && p.back() == '/') p.remove_suffix(1);
  if (p == ".") return {};
  return std::string(p);
}

}  // namespace

hgrpc::expected<PathFilter, CommandError> PathFilter::parse(const json& filter) {
  PathFilter out;
  if (filter.is_null()) return out;
  if (!filter.is_object()) return error("pathfilter must be a map");
  for (const auto& [key, value] : filter.items()) {
    if (key != "include" && key != "exclude") return error("unknown pathfilter key: %s", {key});
    if (!value.is_array()) return error("pathfilter %s must be a list", {key});
    for (const auto& item : value) {
      const auto text = framing::bytes_or_text(item);
      if (!text) return error("pathfilter %s patterns must be bytes", {key});
      const std::string& pattern = *text;
      Pattern p{};
      if (pattern.starts_with("path:")) {
        p = {false, normalise(std::string_view(pattern).substr(5))};
      } else if (pattern.starts_with("rootfilesin:")) {
        p = {true, normalise(std::string_view(pattern).substr(12))};
      } else {
        return error("%s pattern must begin with `path:` or `rootfilesin:`; got %s", {key, pattern});
      }
      (key == "include" ? out.include_ : out.exclude_).push_back(std::move(p));
    }
    if (key == "include" && !value.empty()) out.has_include_ = true;
  }
  return out;
}

bool PathFilter::pattern_matches(const Pattern& p, std::string_view path) {
  if (p.root_files_in) {
    std::size_t slash = path.rfind('/');
    std::string_view dir = slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
    return dir == p.dir;
  }
  if (p.dir.empty()) return true;
  return path == p.dir || (path.starts_with(p.dir) && path.size() > p.dir.size() && path[p.dir.size()] == '/');
}

bool PathFilter::matches(std::string_view path) const {
  if (has_include_) {
    bool any = false;
    for (const auto& p : include_) any = any || pattern_matches(p, path);
    if (!any) return false;
  }
  for (const auto& p : exclude_) {
    if (pattern_matches(p, path)) return false;
  }
  return true;
}

}  // namespace hgrpc::server::repo
