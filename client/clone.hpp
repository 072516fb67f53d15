#pragma once
// `hgrpc clone`: the request sequence of Mercurial 5.8.1's exchangev2 clone
// (heads + known, and a lookup of each -r REV, in one body; then
// client/fetch.hpp's fetch of the whole DAG, or of the REVs' ancestors, with
// bookmarks and phases) written by store::RepositoryWriter into
// DEST.hgrpc-tmp-XXXXXX beside DEST,
// checked out (unless disabled) and renamed to DEST at the end. On any
// failure the temporary directory is removed: no DEST appears.
//
// The exchange is a function, so the same code runs over HTTP (run_calls)
// or in-process against a command registry (the tests).
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "client/errors.hpp"
#include "client/fetch.hpp"

namespace hgrpc::client {

struct CloneOptions {
  std::string source_url;  // written to .hg/hgrc as [paths] default
  bool checkout = true;    // false: -U
  std::vector<std::string> revs;  // -r: only these heads and their ancestors
  FetchProgress on_progress;
  WriterLimits writer;
};

struct CloneSummary {
  std::uint64_t changesets = 0;
  std::uint64_t manifests = 0;
  std::uint64_t file_revisions = 0;
  std::uint64_t revision_bytes = 0;  // received texts and deltas
  std::uint64_t requests = 0;        // request bodies (the handshake not counted)
  std::uint64_t checked_out_files = 0;
  std::string checked_out_node;      // empty with -U or for an empty repository
};

// `descriptor` is the server's API descriptor (the handshake's
// apis[exp-http-v2-0003], or the capabilities command's answer).
ClientResult<CloneSummary> clone_repository(const Exchange& exchange, const framing::json& descriptor,
                                            const std::filesystem::path& dest, const CloneOptions& options);

}  // namespace hgrpc::client
