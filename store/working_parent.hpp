#pragma once
// The working directory's first parent, Mercurial's `.`: the first 20 bytes
// of .hg/dirstate (p1, p2, then entries), or with dirstate-v2 the 32-byte
// padded p1 after the "dirstate-v2\n" marker of the docket. A missing or
// empty dirstate means the null node; anything shorter than the parents is
// damage ("working directory state appears damaged!", as Mercurial says).
#include "store/error.hpp"
#include "store/node.hpp"
#include "store/requirements.hpp"

namespace hgrpc::store {

Result<Node> working_parent(const RepositoryLayout& layout);

}  // namespace hgrpc::store
