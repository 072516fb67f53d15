#pragma once
// Whether a tracked path (from a manifest or a peer) may be written, by the
// rules of Mercurial's pathauditor, applied before anything touches the
// disk: no empty, absolute or trailing-'/' path, no empty, "." or ".."
// component, no ".hg" component (case-insensitive, HFS+-ignorable code
// points removed, also ".hg." and the Windows short names "hg~N",
// "hg8b6c~N"), and no NUL, '\n' or '\r' (which the manifest and fncache
// formats cannot hold).
#include <string_view>

#include "store/error.hpp"

namespace hgrpc::store {

// The error says which rule, e.g.
//   path contains illegal component: a/../b
//   path 'sub/.hg/x' is inside nested repo 'sub'
Result<void> validate_tracked_path(std::string_view path);

}  // namespace hgrpc::store
