#pragma once
// filesdata's `pathfilter`: {include: [...], exclude: [...]} of patterns
// `path:P` (P itself and everything under it; `path:.` or `path:` is the
// whole repository) and `rootfilesin:D` (the files directly in D; `.` or ''
// is the root). No include list means everything; excludes win.
#include <string>
#include <string_view>
#include <vector>

#include "compat/expected.hpp"
#include "server/command_registry.hpp"

namespace hgrpc::server::repo {

class PathFilter {
 public:
  // `filter` is the argument (null: match everything). Bad shapes and
  // patterns are command errors in Mercurial's wording.
  static hgrpc::expected<PathFilter, CommandError> parse(const json& filter);
  bool matches(std::string_view path) const;

 private:
  struct Pattern {
    bool root_files_in;  // rootfilesin: (else path:)
    std::string dir;     // normalised: no leading/trailing '/', '' for the root
  };
  static bool pattern_matches(const Pattern& p, std::string_view path);
  bool has_include_ = false;
  std::vector<Pattern> include_;
  std::vector<Pattern> exclude_;
};

}  // namespace hgrpc::server::repo
