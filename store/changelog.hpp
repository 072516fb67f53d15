#pragma once
// A changelog entry's text:
//   <40 hex manifest node>\n<user>\n<time> <tz>[ <extras>]\n<file>\n...\n\n<description>
// Extras are "\0"-separated, escaped "key:value" pairs; a missing branch is "default".
#include <map>
#include <string>
#include <vector>

#include "store/error.hpp"
#include "store/node.hpp"

namespace hgrpc::store {

struct ChangelogEntry {
  Node manifest{};
  std::string user;
  double time = 0;       // seconds since the epoch (an int when Mercurial wrote it)
  int timezone = 0;      // seconds west of UTC; 0 when unparsable, as in Mercurial
  std::map<std::string, std::string> extras;  // always has "branch"
  std::vector<std::string> files;             // touched files, as listed
  std::string description;

  const std::string& branch() const { return extras.at("branch"); }
  bool closes_branch() const { return extras.contains("close"); }
};

// Parses a changelog rawtext. The empty text is the null revision's entry.
Result<ChangelogEntry> parse_changelog_entry(ByteView text);

// Undoes the escaping of one extra ("\\" "\n" "\r" "\0", "\xNN", octal, ...).
Result<std::string> unescape_extra(std::string_view text);

}  // namespace hgrpc::store
