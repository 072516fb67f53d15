#pragma once
// Tags: .hgtags (committed, one file revision per head) and .hg/localtags
// hold "<hex node> <name>" lines. Within a file the last line of a name
// wins and the earlier ones are its history; across files (oldest head
// first, then localtags) a later file wins unless the earlier value
// supersedes it (Mercurial's tags.py rules, reimplemented). A node is kept
// as the bytes its hex decodes to: a line whose hex is not 40 digits still
// shadows the name's earlier values but never names a changeset.
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace hgrpc::store {

struct TagValue {
  std::string node;                  // raw bytes (20 for a well-formed node; 20 zero bytes: removed)
  std::vector<std::string> history;  // earlier values, oldest first
};

using TagMap = std::map<std::string, TagValue>;

// One tags file. Lines are split as Python's bytes.splitlines; a line
// without a space or whose node is not even-length hex is skipped; names
// are stripped of ASCII whitespace.
TagMap parse_tags(std::string_view text);

// Folds one file's tags into `all` (the file is newer than what `all` holds).
void merge_tags(TagMap& all, const TagMap& file);

}  // namespace hgrpc::store
