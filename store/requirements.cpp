#include "store/requirements.hpp"

#include <cctype>
#include <map>

#include "store/file.hpp"

namespace hgrpc::store {
namespace {

constexpr std::uint64_t kMaxRequiresBytes = 1 << 20;

// What we read and how: the accepted requirements.
const std::set<std::string>& accepted() {
  static const std::set<std::string> names{
      "revlogv1", "store", "fncache", "dotencode", "generaldelta", "sparserevlog",
      "revlog-compression-zstd", "exp-compression-none",
      "share-safe", "shared", "relshared",
      "persistent-nodemap",                                          // we ignore the .n/.nd files
      "dirstate-v2", "dirstate-tracked-key-v1", "exp-sparse",        // working copy only
      "bookmarksinstore",
      "internal-phase", "internal-phase-2", "exp-archived-phase",    // hidden phases
  };
  return names;
}

const std::map<std::string, std::string>& refused() {
  static const std::map<std::string, std::string> reasons{
      {"exp-revlogv2.2", "revlog v2 (96-byte entries, docket, sidedata) is not supported"},
      {"exp-changelog-v2", "changelog v2 is not supported"},
      {"exp-sidedata-flag", "sidedata is not supported"},
      {"exp-copies-sidedata-changeset", "copies stored in sidedata would be lost by clones"},
      {"treemanifest", "tree manifests are not supported (clients fetch the root manifest only)"},
      {"narrowhg-experimental", "a narrow store is incomplete"},
      {"lfs", "externally stored (lfs) revisions cannot be served"},
      {"largefiles", "largefiles would be served as bare standins"},
  };
  return reasons;
}

Result<std::set<std::string>> read_requires(const std::filesystem::path& path, bool allow_missing) {
  auto bytes = read_file(path, kMaxRequiresBytes);
  if (!bytes) return hgrpc::unexpected<Error>(bytes.error());
  if (!*bytes) {
    if (allow_missing) return std::set<std::string>{};
    return fail(path.string() + ": missing");
  }
  return parse_requires(as_chars(**bytes), path.string());
}

}  // namespace

std::string refusal_reason(const std::string& requirement) {
  if (accepted().contains(requirement)) return {};
  if (auto it = refused().find(requirement); it != refused().end()) return it->second;
  if (requirement.starts_with("exp-compression-")) return "this compression engine is not supported";
  return "unknown requirement";
}

Result<std::set<std::string>> parse_requires(std::string_view text, const std::string& file_name) {
  std::set<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || !std::isalnum(static_cast<unsigned char>(line[0]))) {
      return fail(file_name + ": corrupt requires file (line at offset " + std::to_string(start) + ")");
    }
    out.emplace(line);
    start = end + 1;
  }
  return out;
}

Result<RepositoryLayout> read_layout(const std::filesystem::path& root) {
  RepositoryLayout layout;
  layout.root = root;
  layout.hg_dir = root / ".hg";
  std::error_code ec;
  if (!std::filesystem::is_directory(layout.hg_dir, ec)) {
    return fail(root.string() + ": not a Mercurial repository (no .hg directory)");
  }
  auto local = read_requires(layout.hg_dir / "requires", true);
  if (!local) return hgrpc::unexpected<Error>(local.error());
  layout.requirements = *local;
  const auto& req = layout.requirements;

  std::filesystem::path source_hg = layout.hg_dir;  // the .hg that holds the store
  if (req.contains("shared") || req.contains("relshared")) {
    auto bytes = read_file(layout.hg_dir / "sharedpath", kMaxRequiresBytes);
    if (!bytes) return hgrpc::unexpected<Error>(bytes.error());
    if (!*bytes) return fail((layout.hg_dir / "sharedpath").string() + ": missing in a shared repository");
    std::string shared(as_chars(**bytes));
    while (!shared.empty() && shared.back() == '\n') shared.pop_back();
    source_hg = req.contains("relshared") ? (layout.hg_dir / shared).lexically_normal()
                                           : std::filesystem::path(shared);
    if (!std::filesystem::is_directory(source_hg, ec)) {
      return fail((layout.hg_dir / "sharedpath").string() + ": points to nonexistent directory " +
                  source_hg.string());
    }
  }
  if (req.contains("share-safe")) {
    auto store_req = read_requires(source_hg / "store" / "requires", false);
    if (!store_req) return hgrpc::unexpected<Error>(store_req.error());
    layout.requirements.insert(store_req->begin(), store_req->end());
  }

  for (const auto& r : req) {
    if (auto reason = refusal_reason(r); !reason.empty()) {
      return fail(root.string() + ": repository requires '" + r + "': " + reason);
    }
  }
  if (!req.contains("revlogv1")) {
    return fail(root.string() + ": repository lacks requirement 'revlogv1': revlog v0 is not supported");
  }
  if (req.contains("store")) {
    layout.store_dir = source_hg / "store";
    if (!req.contains("fncache")) {
      layout.store_kind = StoreKind::kEncoded;
    } else {
      layout.store_kind = req.contains("dotencode") ? StoreKind::kFncacheDotencode : StoreKind::kFncache;
    }
  } else {
    layout.store_dir = source_hg;
    layout.store_kind = StoreKind::kBasic;
  }
  layout.bookmarks_in_store = req.contains("bookmarksinstore");
  return layout;
}

}  // namespace hgrpc::store
