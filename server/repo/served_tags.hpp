#pragma once
// The tags of the served view, as Mercurial's localrepo.tags()/_tagscache
// builds them: the .hgtags of every served head, oldest head first, each
// distinct file revision once (store/tags.hpp merges them, later heads
// win), then .hg/localtags (only its entries on served changesets); removed
// tags (null node) dropped. Values are nodes as written: a tag on an
// unknown or hidden node is kept here and simply names nothing.
#include <map>
#include <string>

#include "store/error.hpp"
#include "store/repository.hpp"

namespace hgrpc::server::repo {

// name -> node bytes (20 bytes for a well-formed entry).
store::Result<std::map<std::string, std::string>> served_tags(const store::Snapshot& snapshot,
                                                             std::uint64_t max_file_bytes);

}  // namespace hgrpc::server::repo
