#include "store/repository_writer.hpp"

#include <algorithm>
#include <deque>
#include <mutex>
#include <set>

#include "store/bookmarks.hpp"
#include "store/file.hpp"
#include "store/file_writer.hpp"
#include "store/path_encoding.hpp"
#include "store/path_validation.hpp"

namespace hgrpc::store {

namespace fs = std::filesystem;

namespace {

RevlogWriterOptions filelog_options(RevlogWriterOptions options) {
  options.full_texts_as_received = true;
  return options;
}

}  // namespace

struct RepositoryWriter::State {
  // Declared first, destroyed last: the revlog writers point at it.
  std::unique_ptr<Transaction> tx;
  RepositoryLayout layout;
  RepositoryWriterOptions options;
  bool generaldelta = true;
  std::optional<RevlogWriter> changelog;
  std::optional<RevlogWriter> manifestlog;
  std::mutex filelogs_mutex;  // filelog() and close_filelog() come from the fetch's writer threads
  std::map<std::string, RevlogWriter> filelogs;
  std::deque<std::string> filelog_order;  // oldest first, for closing
  std::set<std::string> fncache;          // entries as stored (encodedir'd)
  std::vector<std::string> fncache_added;
  std::optional<std::vector<PhaseRoot>> phase_roots;
  std::optional<std::map<std::string, Node>> bookmarks;

  bool uses_fncache() const {
    return layout.store_kind == StoreKind::kFncacheDotencode || layout.store_kind == StoreKind::kFncache;
  }
};

RepositoryWriter::RepositoryWriter(std::unique_ptr<State> state) : state_(std::move(state)) {}
RepositoryWriter::RepositoryWriter(RepositoryWriter&&) noexcept = default;
RepositoryWriter& RepositoryWriter::operator=(RepositoryWriter&&) noexcept = default;
RepositoryWriter::~RepositoryWriter() = default;

const RepositoryLayout& RepositoryWriter::layout() const { return state_->layout; }
RevlogWriter& RepositoryWriter::changelog() { return *state_->changelog; }
RevlogWriter& RepositoryWriter::manifestlog() { return *state_->manifestlog; }
void RepositoryWriter::set_phase_roots(std::vector<PhaseRoot> roots) { state_->phase_roots = std::move(roots); }
void RepositoryWriter::set_bookmarks(std::map<std::string, Node> marks) { state_->bookmarks = std::move(marks); }

Result<RepositoryWriter> RepositoryWriter::open(const fs::path& root, const RepositoryWriterOptions& options) {
  auto layout = read_layout(root);
  if (!layout) return hgrpc::unexpected<Error>(layout.error());
  auto state = std::make_unique<State>();
  state->layout = std::move(*layout);
  state->options = options;
  const auto& req = state->layout.requirements;
  state->options.revlog.compression = req.contains("revlog-compression-zstd") ? Compression::kZstd
                                      : req.contains("exp-compression-none")  ? Compression::kNone
                                                                              : Compression::kZlib;
  state->generaldelta = req.contains("generaldelta");
  const fs::path& store = state->layout.store_dir;
  if (auto recovered = recover(store); !recovered) return hgrpc::unexpected<Error>(recovered.error());
  auto tx = Transaction::begin(store);
  if (!tx) return hgrpc::unexpected<Error>(tx.error());
  state->tx = std::make_unique<Transaction>(std::move(*tx));

  auto cl = RevlogWriter::open(*state->tx, "00changelog.i", "00changelog.d", false, state->options.revlog);
  if (!cl) return hgrpc::unexpected<Error>(cl.error());
  state->changelog.emplace(std::move(*cl));
  RevlogWriterOptions manifest_options = state->options.revlog;
  manifest_options.line_deltas = true;
  manifest_options.full_texts_as_received = true;
  auto ml = RevlogWriter::open(*state->tx, "00manifest.i", "00manifest.d", state->generaldelta, manifest_options);
  if (!ml) return hgrpc::unexpected<Error>(ml.error());
  state->manifestlog.emplace(std::move(*ml));

  if (state->uses_fncache()) {
    auto text = read_file(store / "fncache", std::uint64_t{1} << 30);
    if (!text) return hgrpc::unexpected<Error>(text.error());
    if (*text) {
      std::string_view all = as_chars(**text);
      for (std::size_t pos = 0; pos < all.size();) {
        std::size_t nl = std::min(all.find('\n', pos), all.size());
        if (nl > pos) state->fncache.emplace(all.substr(pos, nl - pos));
        pos = nl + 1;
      }
    }
  }
  return RepositoryWriter(std::move(state));
}

Result<void> RepositoryWriter::note_fncache(const std::string& path, const RevlogWriter& writer) {
  State& s = *state_;
  if (!s.uses_fncache() || writer.size() == 0) return {};
  std::vector<std::string> entries{encode_dir(filelog_index_path(path))};
  if (writer.has_data_file()) entries.push_back(encode_dir(filelog_data_path(path)));
  for (auto& entry : entries) {
    if (s.fncache.insert(entry).second) s.fncache_added.push_back(std::move(entry));
  }
  return {};
}

Result<RevlogWriter*> RepositoryWriter::filelog(const std::string& path) {
  State& s = *state_;
  std::lock_guard lock(s.filelogs_mutex);
  if (auto it = s.filelogs.find(path); it != s.filelogs.end()) return &it->second;
  if (auto valid = validate_tracked_path(path); !valid) return hgrpc::unexpected<Error>(valid.error());
  while (!s.filelog_order.empty() && s.filelogs.size() >= std::max<std::size_t>(s.options.max_open_filelogs, 1)) {
    auto oldest = s.filelogs.find(s.filelog_order.front());
    if (auto n = note_fncache(oldest->first, oldest->second); !n) return hgrpc::unexpected<Error>(n.error());
    s.filelogs.erase(oldest);
    s.filelog_order.pop_front();
  }
  auto writer = RevlogWriter::open(*s.tx, encode_store_path(filelog_index_path(path), s.layout.store_kind),
                                   encode_store_path(filelog_data_path(path), s.layout.store_kind), s.generaldelta,
                                   filelog_options(s.options.revlog));
  if (!writer) return hgrpc::unexpected<Error>(writer.error());
  s.filelog_order.push_back(path);
  return &s.filelogs.emplace(path, std::move(*writer)).first->second;
}

Result<void> RepositoryWriter::close_filelog(const std::string& path) {
  State& s = *state_;
  std::lock_guard lock(s.filelogs_mutex);
  auto it = s.filelogs.find(path);
  if (it == s.filelogs.end()) return {};
  if (auto n = note_fncache(it->first, it->second); !n) return n;
  s.filelogs.erase(it);
  s.filelog_order.erase(std::find(s.filelog_order.begin(), s.filelog_order.end(), path));
  return {};
}

Result<void> RepositoryWriter::write_phases_and_bookmarks() {
  State& s = *state_;
  const fs::path& store = s.layout.store_dir;
  if (s.phase_roots) {
    if (auto t = s.tx->track_replace("phaseroots"); !t) return t;
    if (auto w = replace_file(store / "phaseroots", as_bytes(format_phaseroots(*s.phase_roots))); !w) return w;
    s.phase_roots.reset();
  }
  if (s.bookmarks) {
    fs::path file = s.layout.bookmarks_in_store ? store / "bookmarks" : s.layout.hg_dir / "bookmarks";
    if (auto t = s.tx->track_replace(file.lexically_relative(store).string()); !t) return t;
    if (auto w = replace_file(file, as_bytes(format_bookmarks(*s.bookmarks))); !w) return w;
    s.bookmarks.reset();
  }
  return {};
}

Result<void> RepositoryWriter::commit() {
  State& s = *state_;
  for (const auto& [path, writer] : s.filelogs) {
    if (auto n = note_fncache(path, writer); !n) return n;
  }
  const fs::path& store = s.layout.store_dir;
  // In a fixed order whatever order the writer threads closed filelogs in
  // (Mercurial reads fncache as a set).
  std::sort(s.fncache_added.begin(), s.fncache_added.end());
  if (!s.fncache_added.empty()) {
    if (auto t = s.tx->track_append("fncache"); !t) return t;
    auto file = AppendFile::open(store / "fncache");
    if (!file) return hgrpc::unexpected<Error>(file.error());
    std::string text;
    for (const auto& entry : s.fncache_added) text += entry + "\n";
    if (auto w = file->write(as_bytes(text)); !w) return w;
  }
  if (auto w = write_phases_and_bookmarks(); !w) return w;
  s.filelogs.clear();
  s.filelog_order.clear();
  s.changelog.reset();
  s.manifestlog.reset();
  return s.tx->commit();
}

}  // namespace hgrpc::store
