#pragma once
// Settings and limits of the repository commands. Every limit bounds what
// one request can make the server do; the defaults allow a full clone of a
// large repository in one request per command.
#include <cstddef>
#include <cstdint>

namespace hgrpc::server::repo {

struct RepoCommandOptions {
  // phases.publish: a publishing repository reports every served changeset
  // as public (changesetdata) and says `publishing: True` (listkeys phases).
  bool publishing = true;
  // Advertised as recommendedbatchsize (Mercurial's defaults).
  std::uint64_t manifestdata_batch_size = 100000;
  std::uint64_t filesdata_batch_size = 50000;
  // Nodes in one list argument (known, manifestdata, filedata, and the node
  // lists of a revision specifier).
  std::size_t max_nodes = 1000000;
  // Revision specifiers in one `revisions` argument.
  std::size_t max_revision_specifiers = 1000;
  // Changesets one changesetdata/filesdata request may resolve to.
  std::size_t max_changesets = 10000000;
  // File revisions one filesdata request may select.
  std::size_t max_file_revisions = 50000000;
  // filesdata of every changeset with haveparents (a clone in one batch)
  // takes the file revisions and linknodes from the filelog indexes alone;
  // false: the general per-changeset selection (tests compare the two).
  bool filesdata_whole_repository_fast_path = true;
  // Largest .hg/localtags read by lookup (committed .hgtags revisions are
  // bounded by the revlog's max_text_bytes).
  std::uint64_t max_localtags_bytes = std::uint64_t{16} << 20;
  // Stored zstd chunks smaller than this are not spliced into a
  // zstd-8mb-frames response but decompressed and recompressed in the
  // stream, where the stream's context makes them smaller (bench/results.md:
  // fewer bytes for more server CPU). 0: every spliceable chunk is spliced.
  std::uint64_t splice_min_bytes = 0;
};

}  // namespace hgrpc::server::repo
