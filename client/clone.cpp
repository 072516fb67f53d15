#include "client/clone.hpp"

#include <stdlib.h>

#include <algorithm>
#include <cstring>
#include <map>

#include "store/phases.hpp"
#include "store/repository.hpp"
#include "store/repository_creation.hpp"
#include "store/repository_writer.hpp"
#include "store/stage_clock.hpp"
#include "store/working_copy.hpp"

namespace hgrpc::client {
namespace {

namespace fs = std::filesystem;
using framing::json;
using store::Node;


// The heads to clone: the remote heads, or the -r REVs as `lookup` resolves them.
ClientResult<std::vector<Node>> clone_heads(const Exchange& exchange, const CloneOptions& options, FetchSummary& summary) {
  std::vector<Call> first{Call{"heads", json::object(), std::nullopt},
                          Call{"known", json{{"nodes", json::array()}}, std::nullopt}};
  for (const auto& rev : options.revs) first.push_back(lookup_call(rev));
  auto outcomes = run_round(exchange, summary, first);
  if (!outcomes) return hgrpc::unexpected<ClientError>(outcomes.error());
  auto remote_heads = node_list_of("heads", (*outcomes)[0]);
  if (!remote_heads) return remote_heads;
  std::vector<Node> heads;
  if (options.revs.empty()) {
    for (const auto& n : *remote_heads)
      if (n != store::kNullNode) heads.push_back(n);
    return heads;
  }
  for (std::size_t i = 0; i < options.revs.size(); ++i) {
    auto n = node_of_lookup(options.revs[i], (*outcomes)[2 + i]);
    if (!n) return hgrpc::unexpected<ClientError>(n.error());
    if (*n != store::kNullNode && std::find(heads.begin(), heads.end(), *n) == heads.end()) heads.push_back(*n);
  }
  return heads;
}

// Everything into `root`, which holds a fresh repository.
ClientResult<CloneSummary> fetch_into(const Exchange& exchange, const json& descriptor, const fs::path& root,
                                      const CloneOptions& options) {
  FetchSummary fetch_summary;
  auto writer = store::RepositoryWriter::open(root, options.writer.writer_options());
  if (!writer) return from_store(writer.error());
  auto heads = clone_heads(exchange, options, fetch_summary);
  if (!heads) return hgrpc::unexpected<ClientError>(heads.error());
  FetchOptions fetch_options;
  fetch_options.on_progress = options.on_progress;
  fetch_options.spool_dir = root / ".hg";
  fetch_options.write_threads = options.writer.threads();
  fetch_options.write_queue_bytes = options.writer.write_queue_bytes;
  fetch_options.changelog_with_files = true;  // DEST is a temporary directory until the end
  auto fetched = fetch_changesets(exchange, descriptor, *writer, {}, *heads, fetch_options, fetch_summary);
  if (!fetched) return hgrpc::unexpected<ClientError>(fetched.error());

  // A fresh repository: rev r is fetched->added[r] (parents were checked on arrival).
  auto rev = [&](const Node& n) { return n == store::kNullNode ? store::kNullRev : static_cast<int>(fetched->position(n).value()); };
  std::vector<std::pair<int, int>> parents;
  for (const auto& [p1, p2] : fetched->added_parents) parents.emplace_back(rev(p1), rev(p2));
  writer->set_phase_roots(store::phase_roots(parents, fetched->added_phases, [&](int r) { return fetched->added[static_cast<std::size_t>(r)]; }));
  std::map<std::string, Node> bookmarks;  // with -r, only those on fetched changesets
  for (const auto& [name, node] : fetched->bookmarks)
    if (fetched->position(node)) bookmarks.emplace(name, node);
  writer->set_bookmarks(std::move(bookmarks));
  // Phases and bookmarks (the changelog was written during the fetch: see
  // client/fetch.hpp).
  {
    store::StageScope writing(store::Stage::Write);
    if (auto written = writer->write_phases_and_bookmarks(); !written) return from_store(written.error());
    if (auto committed = writer->commit(); !committed) return from_store(committed.error());
  }

  CloneSummary summary;
  summary.changesets = fetch_summary.changesets;
  summary.manifests = fetch_summary.manifests;
  summary.file_revisions = fetch_summary.file_revisions;
  summary.revision_bytes = fetch_summary.revision_bytes;
  summary.requests = fetch_summary.requests;
  if (options.checkout) {
    store::StageScope checking_out(store::Stage::Checkout);
    auto repo = store::Repository::open(root);
    if (!repo) return from_store(repo.error());
    auto snap = repo->snapshot();
    if (!snap) return from_store(snap.error());
    auto checkout_rev = store::default_checkout_rev(*snap);
    if (!checkout_rev) return from_store(checkout_rev.error());
    if (*checkout_rev != store::kNullRev) {
      auto checked = store::check_out(*snap, *checkout_rev, root);
      if (!checked) return from_store(checked.error());
      summary.checked_out_files = checked->files;
      summary.checked_out_node = store::hex(snap->changelog().node(*checkout_rev));
    }
  }
  return summary;
}

}  // namespace

ClientResult<CloneSummary> clone_repository(const Exchange& exchange, const json& descriptor, const fs::path& dest,
                                            const CloneOptions& options) {
  std::error_code ec;
  if (fs::exists(fs::symlink_status(dest, ec))) return client_fail(ErrorKind::Usage, "destination '" + dest.string() + "' exists");
  fs::path parent = dest.has_parent_path() ? dest.parent_path() : fs::path(".");
  std::string pattern = (parent / (dest.filename().string() + ".hgrpc-tmp-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    return client_fail(ErrorKind::Usage, "cannot create a directory beside '" + dest.string() + "': " + std::strerror(errno));
  }
  const fs::path temp = pattern;
  struct Cleanup {
    fs::path path;
    bool keep = false;
    ~Cleanup() {
      std::error_code ignored;
      if (!keep) fs::remove_all(path, ignored);
    }
  } cleanup{temp};

  store::NewRepositoryOptions create;
  create.default_path = options.source_url;
  if (auto created = store::create_repository(temp, create); !created) return from_store(created.error());
  auto summary = fetch_into(exchange, descriptor, temp, options);
  if (!summary) return summary;
  fs::rename(temp, dest, ec);
  if (ec) return client_fail(ErrorKind::Usage, "cannot rename " + temp.string() + " to " + dest.string() + ": " + ec.message());
  cleanup.keep = true;
  return summary;
}

}  // namespace hgrpc::client
