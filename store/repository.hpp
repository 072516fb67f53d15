#pragma once
// A Mercurial repository opened for reading, and consistent snapshots of it.
//
// Repository::open checks the requirements and picks the store kind once.
// snapshot() re-opens the revlogs and re-reads phases and bookmarks, so
// commits made while we run are seen by the next snapshot without a
// restart. Within one snapshot the changelog length is fixed: revs past it
// are never exposed, whatever other revlogs already hold. Filelogs are opened
// on first use (after the changelog, so they hold at least what it references).
// A Repository and its snapshots may be used from many threads at once.
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "store/branchmap.hpp"
#include "store/changelog.hpp"
#include "store/error.hpp"
#include "store/file.hpp"
#include "store/manifest.hpp"
#include "store/phases.hpp"
#include "store/requirements.hpp"
#include "store/revlog.hpp"

namespace hgrpc::store {

struct RepositoryOptions {
  RevlogOptions revlog;  // the changelog's and manifest's (and filelogs', but for the cache)
  // Filelogs: recent full texts kept per filelog, and filelogs a snapshot
  // keeps open (least recently used closed first, their caches freed).
  // Commands walk files one at a time, so a few suffice; together they bound
  // what filelog caches hold: max_open_filelogs x filelog_cache_bytes.
  std::uint64_t filelog_cache_bytes = std::uint64_t{8} << 20;
  std::size_t max_open_filelogs = 8;
  std::uint64_t max_metadata_bytes = std::uint64_t{64} << 20;  // phaseroots, bookmarks, obsstore check
};

class Snapshot {
 public:
  const Revlog& changelog() const;
  const Revlog& manifestlog() const;
  // The filelog of a tracked file's path (an empty revlog if it has none).
  Result<Revlog> filelog(const std::string& path) const;
  // Where that filelog's index lives, relative to the store directory.
  std::string filelog_index_path(const std::string& path) const;

  const RepositoryLayout& layout() const;

  int size() const { return changelog().size(); }
  Phase phase(int rev) const;
  // In the served view: not secret, archived or internal (nor descended from one).
  bool is_served(int rev) const { return phase(rev) < kSecret; }
  // Served revs in ascending order.
  std::vector<int> served_revs() const;
  // Bookmarks on nodes of this snapshot's changelog, by name.
  const std::map<std::string, Node>& bookmarks() const;

  Result<ChangelogEntry> changeset(int rev) const;
  // Every path some changeset of this snapshot lists as changed (its files
  // field: added, modified or removed), sorted, each once: the filelogs a
  // clone touches. Computed once per state of the repository and extended
  // by the appended changesets when a commit lands.
  Result<std::shared_ptr<const std::vector<std::string>>> changed_paths() const;
  // Those paths whose filelog has revisions linked to this snapshot's
  // changesets (linkrev below its length: a commit still being written is
  // not counted), with how many: what a clone's filesdata sends, in path
  // order. Computed once per state of the repository.
  struct ChangedFile {
    std::string path;
    std::size_t linked_revisions = 0;
  };
  Result<std::shared_ptr<const std::vector<ChangedFile>>> changed_files() const;
  // The revs of `log` linked to this snapshot's changesets, ascending.
  std::vector<int> linked_revs(const Revlog& log) const;
  // The manifest of a changelog rev.
  Result<Manifest> manifest_of_changeset(int rev) const;
  // The manifestlog rev a changelog rev names (kNullRev: the empty manifest).
  Result<int> manifest_rev_of_changeset(int rev) const;
  // That manifest's text, unparsed (empty for the null manifest).
  Result<std::shared_ptr<const Bytes>> manifest_text_of_changeset(int rev) const;
  // Branch heads of the served view.
  Result<std::map<std::string, std::vector<BranchHead>>> branchmap() const;
  // What every answer on this snapshot depends on: the changelog's length
  // and tip node (append-only, so they name its whole content, as
  // Mercurial's branch cache key does), the phaseroots and bookmarks text.
  // Equal keys: equal answers (the server's response cache keys on it).
  const std::string& state_key() const;

 private:
  friend class Repository;
  struct Base;
  struct State;
  std::shared_ptr<const State> state_;
};

class Repository {
 public:
  static Result<Repository> open(const std::filesystem::path& root, const RepositoryOptions& options = {});

  const RepositoryLayout& layout() const { return *layout_; }
  // A snapshot of the current state. The changelog and manifest indexes,
  // phases and bookmarks are read again only when one of the files they
  // come from changed (metadata_files' stamps: size, mtime, ctime, inode);
  // otherwise the snapshot shares them with the previous one.
  Result<Snapshot> snapshot() const;
  std::vector<std::filesystem::path> metadata_files() const;

 private:
  struct BaseCache;
  Result<std::shared_ptr<Snapshot::Base>> read_base(std::vector<FileStamp> stamps) const;
  std::shared_ptr<const RepositoryLayout> layout_;
  RepositoryOptions options_;
  std::shared_ptr<BaseCache> bases_;
};

}  // namespace hgrpc::store
