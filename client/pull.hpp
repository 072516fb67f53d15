#pragma once
// `hgrpc pull`: fetches into an existing repository what the server has and
// it lacks, as Mercurial's pull does.
//
// 1. Locks: .hg/wlock, then .hg/store/lock (store/lock.hpp), each waited for
//    up to lock_timeout. An abandoned journal of an interrupted run is rolled
//    back first (PullSummary::recovered says so).
// 2. Discovery, first round (one request body): heads, known(local heads),
//    listkeys bookmarks and phases, and a lookup of each -r REV. A remote
//    head we have and a local head the server knows are common, with their
//    ancestors. If every local head is known (the usual case), that is all.
//    Otherwise further rounds ask known() of a sample of the undecided local
//    changesets: from each head of the undecided set, the changesets 0, 1,
//    2, 4, 8, ... parents down (first parents first), at most
//    discovery_sample per round. A known changeset decides its ancestors,
//    an unknown one its descendants, so every round decides at least the
//    sample and the rounds end; the common heads are exact, not estimated.
// 3. The fetch (client/fetch.hpp) of ::heads - ::common when a head is
//    missing; nothing to fetch sends no further request.
// 4. Phases and bookmarks from the first round's listkeys, as a pull over
//    Mercurial's own protocol applies them: every changeset that is an
//    ancestor of a pulled head and public on the server becomes public (a
//    local public changeset never becomes draft; a local secret one the
//    server has becomes draft); bookmarks merge as 6.3.2's
//    bookmarks.updatefromremote does (added; fast-forwarded when the local
//    one is an ancestor of the remote one; kept when the remote one is an
//    ancestor of the local one; otherwise the remote one is stored as
//    NAME@ALIAS, ALIAS the [paths] name of the URL, else NAME@1..NAME@99).
//    listkeys rather than changesetdata's phase and bookmark records, so a
//    pull with nothing new still learns phase moves and bookmark moves in
//    its single request.
// 5. One transaction (store/transaction.hpp) for all of it: a failure rolls
//    the repository back to what it was.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "client/errors.hpp"
#include "client/fetch.hpp"

namespace hgrpc::client {

struct PullOptions {
  std::string source_url;          // matched against [paths] to name divergent bookmarks
  std::vector<std::string> revs;   // -r: only these heads and their ancestors
  std::size_t discovery_sample = 200;  // nodes per known() round after the first
  std::chrono::milliseconds lock_timeout = std::chrono::seconds(600);
  std::function<void(const std::string& message)> on_wait;  // "waiting for lock ..."
  FetchProgress on_progress;
  WriterLimits writer;
};

struct PullSummary {
  FetchSummary fetch;
  std::uint64_t discovery_rounds = 0;
  std::uint64_t common_heads = 0;
  std::uint64_t phase_changes = 0;       // existing changesets whose phase changed
  std::vector<std::string> bookmark_messages;  // "adding remote bookmark X", ...
  bool recovered = false;                // an interrupted transaction was rolled back first
};

// `root` is the working directory of the repository (holding .hg).
ClientResult<PullSummary> pull_repository(const Exchange& exchange, const framing::json& descriptor,
                                          const std::filesystem::path& root, const PullOptions& options);

// DEST's [paths] default, if set.
std::optional<std::string> default_path(const std::filesystem::path& root);
// The repository containing `dir` (the nearest ancestor holding .hg).
std::optional<std::filesystem::path> find_repository(const std::filesystem::path& dir);

}  // namespace hgrpc::client
