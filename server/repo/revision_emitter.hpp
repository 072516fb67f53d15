#pragma once
// Emits manifest and file revisions in the wire shape of manifestdata,
// filedata and filesdata: per revision a map
//   {node, parents?, linknode?, deltabasenode?, fieldsfollowing?: [[revision|delta, len]]}
// followed by the revision bytes. Revisions go out in revlog order (parents
// first). What is sent for a revision, first that applies:
//   1. the stored delta, when its base is one the client has: emitted
//      earlier in this response, or p1/p2 with haveparents; on a sink that
//      splices (zstd-8mb-frames), a stored zstd chunk goes out as it is;
//   2. a delta computed against p1 (if the client has it) or else the
//      previously emitted revision;
//   3. the full rawtext.
// Revisions flagged censored, ellipsis or extstored are refused (their
// rawtext is not what a client can verify).
#include <functional>
#include <span>

#include "server/repo/repo_command.hpp"
#include "store/revlog.hpp"

namespace hgrpc::server::repo {

struct EmitFields {
  bool parents = false;
  bool revision = false;
  bool linknode = false;
  bool haveparents = false;
  std::uint64_t splice_min_bytes = 0;  // RepoCommandOptions::splice_min_bytes
};

// `revs` ascending and distinct. `linknode(rev)` is called only with
// fields.linknode.
RepoError emit_revisions(const store::Revlog& log, std::span<const int> revs, const EmitFields& fields,
                         const std::function<store::Node(int)>& linknode, RecordSink& sink);

}  // namespace hgrpc::server::repo
