#include "store/repository.hpp"

#include <algorithm>
#include <iterator>
#include <list>
#include <set>
#include <mutex>

#include "store/bookmarks.hpp"
#include "store/file.hpp"
#include "store/path_encoding.hpp"

namespace hgrpc::store {

// What a snapshot reads from the store's metadata files: shared by every
// snapshot taken while none of those files changes (their stamps, taken
// before reading, are its key), so a request does not re-read and re-parse
// the changelog and manifest indexes and recompute the phases when nothing
// was committed, and their text caches stay warm across requests.
struct Snapshot::Base {
  std::vector<FileStamp> stamps;
  Revlog changelog;
  Revlog manifestlog;
  std::vector<Phase> phases;
  std::map<std::string, Node> bookmarks;
  std::string state_key;

  // changed_paths(): computed on first use, for `covered` changesets whose
  // last is `covered_tip`; a later base whose changelog extends that one
  // starts from it and reads only the appended changesets.
  struct Paths {
    std::shared_ptr<const std::vector<std::string>> sorted;
    int covered = 0;
    Node covered_tip = kNullNode;
  };
  mutable std::mutex paths_mutex;
  mutable Paths paths;
  mutable std::mutex files_mutex;  // changed_files(): this state's only
  mutable std::shared_ptr<const std::vector<Snapshot::ChangedFile>> files;

  Base(Revlog cl, Revlog ml) : changelog(std::move(cl)), manifestlog(std::move(ml)) {}
};

struct Snapshot::State {
  std::shared_ptr<const RepositoryLayout> layout;
  RepositoryOptions options;
  std::shared_ptr<const Base> base;
  mutable std::mutex filelogs_mutex;
  mutable std::list<std::pair<std::string, Revlog>> filelogs;  // most recently used first

  State(std::shared_ptr<const RepositoryLayout> l, const RepositoryOptions& o, std::shared_ptr<const Base> b)
      : layout(std::move(l)), options(o), base(std::move(b)) {}
};

// The last base a snapshot was taken from, shared by copies of a Repository.
struct Repository::BaseCache {
  std::mutex mutex;
  std::shared_ptr<const Snapshot::Base> last;
};

namespace {

Result<std::string> read_text(const std::filesystem::path& path, std::uint64_t max_bytes) {
  auto bytes = read_file(path, max_bytes);
  if (!bytes) return hgrpc::unexpected<Error>(bytes.error());
  if (!*bytes) return std::string();
  return std::string(as_chars(**bytes));
}

}  // namespace

Result<Repository> Repository::open(const std::filesystem::path& root, const RepositoryOptions& options) {
  auto layout = read_layout(root);
  if (!layout) return hgrpc::unexpected<Error>(layout.error());
  Repository repo;
  repo.layout_ = std::make_shared<const RepositoryLayout>(std::move(*layout));
  repo.options_ = options;
  repo.bases_ = std::make_shared<BaseCache>();
  // Fail early on what every snapshot would refuse.
  if (auto s = repo.snapshot(); !s) return hgrpc::unexpected<Error>(s.error());
  return repo;
}

std::vector<std::filesystem::path> Repository::metadata_files() const {
  const auto& store = layout_->store_dir;
  return {store / "00changelog.i", store / "00changelog.d", store / "00manifest.i", store / "00manifest.d",
          store / "phaseroots", layout_->bookmarks_in_store ? store / "bookmarks" : layout_->hg_dir / "bookmarks"};
}

Result<Snapshot> Repository::snapshot() const {
  const auto& store = layout_->store_dir;
  // Without parsing obsolescence markers we would serve obsolete changesets.
  // A file holding only its 1-byte version header has no markers.
  std::error_code ec;
  auto obs_size = std::filesystem::file_size(store / "obsstore", ec);
  if (!ec && obs_size > 1) {
    return fail((store / "obsstore").string() + ": obsolescence markers are not supported");
  }
  const auto files = metadata_files();
  std::vector<FileStamp> stamps;
  stamps.reserve(files.size());
  for (const auto& f : files) stamps.push_back(file_stamp(f));

  std::shared_ptr<const Snapshot::Base> base;
  {
    std::lock_guard lock(bases_->mutex);
    if (bases_->last && bases_->last->stamps == stamps) base = bases_->last;
  }
  if (!base) {
    auto fresh = read_base(std::move(stamps));
    if (!fresh) return hgrpc::unexpected<Error>(fresh.error());
    std::lock_guard lock(bases_->mutex);
    if (bases_->last) {
      std::lock_guard paths_lock(bases_->last->paths_mutex);
      (*fresh)->paths = bases_->last->paths;  // extended or replaced on use
    }
    base = *fresh;
    bases_->last = base;
  }
  Snapshot snapshot;
  snapshot.state_ = std::make_shared<Snapshot::State>(layout_, options_, std::move(base));
  return snapshot;
}

Result<std::shared_ptr<Snapshot::Base>> Repository::read_base(std::vector<FileStamp> stamps) const {
  const auto& layout = *layout_;
  const auto& store = layout.store_dir;
  // The changelog first: it fixes what this snapshot exposes.
  auto changelog = Revlog::open(store, "00changelog", options_.revlog);
  if (!changelog) return hgrpc::unexpected<Error>(changelog.error());
  auto manifestlog = Revlog::open(store, "00manifest", options_.revlog);
  if (!manifestlog) return hgrpc::unexpected<Error>(manifestlog.error());

  auto base = std::make_shared<Snapshot::Base>(std::move(*changelog), std::move(*manifestlog));
  base->stamps = std::move(stamps);
  const Revlog& cl = base->changelog;

  auto roots_text = read_text(store / "phaseroots", options_.max_metadata_bytes);
  if (!roots_text) return hgrpc::unexpected<Error>(roots_text.error());
  auto roots = parse_phaseroots(*roots_text);
  if (!roots) return hgrpc::unexpected<Error>(with_context((store / "phaseroots").string() + ": ", roots.error()));
  std::vector<std::pair<int, int>> parents;
  parents.reserve(static_cast<std::size_t>(cl.size()));
  for (int r = 0; r < cl.size(); ++r) parents.emplace_back(cl.entry(r).p1, cl.entry(r).p2);
  base->phases = compute_phases(parents, *roots, [&cl](const Node& n) { return cl.rev(n); });

  auto marks_path = layout.bookmarks_in_store ? store / "bookmarks" : layout.hg_dir / "bookmarks";
  auto marks_text = read_text(marks_path, options_.max_metadata_bytes);
  if (!marks_text) return hgrpc::unexpected<Error>(marks_text.error());
  base->bookmarks = parse_bookmarks(*marks_text, [&cl](const Node& n) {
    auto r = cl.rev(n);
    return r && *r >= 0;
  });

  // Each part preceded by its length, so that no two states share a key.
  const auto part = [&](std::string_view p) {
    base->state_key += std::to_string(p.size());
    base->state_key += ':';
    base->state_key += p;
  };
  part(std::to_string(cl.size()));
  part(cl.size() > 0 ? hex(cl.entry(cl.size() - 1).node) : std::string());
  part(*roots_text);
  part(*marks_text);
  return base;
}

const RepositoryLayout& Snapshot::layout() const { return *state_->layout; }
const Revlog& Snapshot::changelog() const { return state_->base->changelog; }
const Revlog& Snapshot::manifestlog() const { return state_->base->manifestlog; }
Phase Snapshot::phase(int rev) const { return state_->base->phases.at(static_cast<std::size_t>(rev)); }
const std::map<std::string, Node>& Snapshot::bookmarks() const { return state_->base->bookmarks; }
const std::string& Snapshot::state_key() const { return state_->base->state_key; }

Result<std::shared_ptr<const std::vector<std::string>>> Snapshot::changed_paths() const {
  const Base& base = *state_->base;
  std::lock_guard lock(base.paths_mutex);
  Base::Paths& memo = base.paths;
  const Revlog& cl = changelog();
  const bool extends = memo.sorted && memo.covered <= cl.size() &&
                       (memo.covered == 0 || cl.node(memo.covered - 1) == memo.covered_tip);
  if (extends && memo.covered == cl.size()) return memo.sorted;
  const int from = extends ? memo.covered : 0;
  std::set<std::string> added;
  for (int rev = from; rev < cl.size(); ++rev) {
    auto cs = changeset(rev);
    if (!cs) return hgrpc::unexpected<Error>(cs.error());
    added.insert(cs->files.begin(), cs->files.end());
  }
  auto sorted = std::make_shared<std::vector<std::string>>();
  if (extends) {
    sorted->reserve(memo.sorted->size() + added.size());
    std::set_union(memo.sorted->begin(), memo.sorted->end(), added.begin(), added.end(), std::back_inserter(*sorted));
  } else {
    sorted->assign(added.begin(), added.end());
  }
  memo.sorted = std::move(sorted);
  memo.covered = cl.size();
  memo.covered_tip = cl.size() > 0 ? cl.node(cl.size() - 1) : kNullNode;
  return memo.sorted;
}

std::vector<int> Snapshot::linked_revs(const Revlog& log) const {
  std::vector<int> revs;
  for (int r = 0; r < log.size(); ++r) {
    if (log.entry(r).linkrev >= 0 && log.entry(r).linkrev < size()) revs.push_back(r);
  }
  return revs;
}

Result<std::shared_ptr<const std::vector<Snapshot::ChangedFile>>> Snapshot::changed_files() const {
  const Base& base = *state_->base;
  std::lock_guard lock(base.files_mutex);
  if (base.files) return base.files;
  auto paths = changed_paths();
  if (!paths) return hgrpc::unexpected<Error>(paths.error());
  auto files = std::make_shared<std::vector<ChangedFile>>();
  for (const auto& path : **paths) {
    auto log = filelog(path);
    if (!log) return hgrpc::unexpected<Error>(log.error());
    const std::size_t n = linked_revs(*log).size();
    if (n > 0) files->push_back(ChangedFile{path, n});
  }
  base.files = std::move(files);
  return base.files;
}

std::vector<int> Snapshot::served_revs() const {
  std::vector<int> revs;
  for (int r = 0; r < size(); ++r) {
    if (is_served(r)) revs.push_back(r);
  }
  return revs;
}

std::string Snapshot::filelog_index_path(const std::string& path) const {
  return encode_store_path(store::filelog_index_path(path), state_->layout->store_kind);
}

Result<Revlog> Snapshot::filelog(const std::string& path) const {
  std::lock_guard lock(state_->filelogs_mutex);
  auto& open = state_->filelogs;
  for (auto it = open.begin(); it != open.end(); ++it) {
    if (it->first != path) continue;
    open.splice(open.begin(), open, it);
    return open.front().second;
  }
  const auto kind = state_->layout->store_kind;
  const auto& store = state_->layout->store_dir;
  std::string index = encode_store_path(store::filelog_index_path(path), kind);
  std::string data = encode_store_path(store::filelog_data_path(path), kind);
  RevlogOptions options = state_->options.revlog;
  options.cache_bytes = state_->options.filelog_cache_bytes;
  auto revlog = Revlog::open(store / index, store / data, index, options);
  if (!revlog) return hgrpc::unexpected<Error>(revlog.error());
  open.emplace_front(path, *revlog);
  if (open.size() > std::max<std::size_t>(state_->options.max_open_filelogs, 1)) open.pop_back();
  return revlog;
}

Result<ChangelogEntry> Snapshot::changeset(int rev) const {
  auto text = changelog().rawtext(rev);
  if (!text) return hgrpc::unexpected<Error>(text.error());
  auto entry = parse_changelog_entry(**text);
  if (!entry) {
    return hgrpc::unexpected<Error>(with_context(changelog().name() + ": rev " + std::to_string(rev) + ": ", entry.error()));
  }
  return entry;
}

Result<int> Snapshot::manifest_rev_of_changeset(int rev) const {
  auto cs = changeset(rev);
  if (!cs) return hgrpc::unexpected<Error>(cs.error());
  auto mrev = manifestlog().rev(cs->manifest);
  if (!mrev) {
    return fail(changelog().name() + ": rev " + std::to_string(rev) + ": manifest node " +
                hex(cs->manifest) + " is not in " + manifestlog().name());
  }
  return *mrev;
}

Result<std::shared_ptr<const Bytes>> Snapshot::manifest_text_of_changeset(int rev) const {
  auto mrev = manifest_rev_of_changeset(rev);
  if (!mrev) return hgrpc::unexpected<Error>(mrev.error());
  if (*mrev == kNullRev) return std::make_shared<const Bytes>();
  return manifestlog().rawtext(*mrev);
}

Result<Manifest> Snapshot::manifest_of_changeset(int rev) const {
  auto mrev = manifest_rev_of_changeset(rev);
  if (!mrev) return hgrpc::unexpected<Error>(mrev.error());
  if (*mrev == kNullRev) return Manifest{};
  auto text = manifestlog().rawtext(*mrev);
  if (!text) return hgrpc::unexpected<Error>(text.error());
  auto manifest = Manifest::parse(**text);
  if (!manifest) {
    return hgrpc::unexpected<Error>(with_context(manifestlog().name() + ": rev " + std::to_string(*mrev) + ": ", manifest.error()));
  }
  return manifest;
}

Result<std::map<std::string, std::vector<BranchHead>>> Snapshot::branchmap() const {
  std::vector<ChangelogEntry> entries;
  std::vector<BranchRev> revs;
  std::vector<int> served = served_revs();
  entries.reserve(served.size());
  for (int r : served) {
    auto cs = changeset(r);
    if (!cs) return hgrpc::unexpected<Error>(cs.error());
    entries.push_back(std::move(*cs));
  }
  for (std::size_t i = 0; i < served.size(); ++i) {
    const IndexEntry& e = changelog().entry(served[i]);
    revs.push_back({served[i], e.p1, e.p2, &entries[i].branch(), entries[i].closes_branch()});
  }
  return compute_branchmap(revs);
}

}  // namespace hgrpc::store
