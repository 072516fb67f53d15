#pragma once
// The entries of one section of a repository's .hg/hgrc, in file order, as
// Mercurial's config parser reads the simple cases: "[section]" headers,
// "key = value" lines (surrounding whitespace trimmed), '#' and ';'
// comments. Continuation lines, %include and %unset are not followed (what
// we read, [paths] and [phases], does not need them). A missing file has no
// entries.
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hgrpc::store {

std::vector<std::pair<std::string, std::string>> hgrc_section(const std::filesystem::path& hgrc_file,
                                                              std::string_view section);

}  // namespace hgrpc::store
