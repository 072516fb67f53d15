#include "server/repo/served_tags.hpp"

#include <algorithm>
#include <set>

#include "server/repo/served_view.hpp"
#include "store/file.hpp"
#include "store/filelog.hpp"
#include "store/tags.hpp"

namespace hgrpc::server::repo {

store::Result<std::map<std::string, std::string>> served_tags(const store::Snapshot& snapshot,
                                                             std::uint64_t max_file_bytes) {
  store::TagMap all;
  auto log = snapshot.filelog(".hgtags");
  if (!log) return hgrpc::unexpected<store::Error>(log.error());
  if (log->size() > 0) {
    std::vector<int> heads = served_heads(snapshot, false);
    std::set<store::Node> seen;
    for (auto h = heads.rbegin(); h != heads.rend(); ++h) {  // oldest head first
      auto manifest = snapshot.manifest_of_changeset(*h);
      if (!manifest) return hgrpc::unexpected<store::Error>(manifest.error());
      const store::ManifestEntry* entry = manifest->find(".hgtags");
      if (!entry || !seen.insert(entry->node).second) continue;
      auto rev = log->rev(entry->node);
      if (!rev || *rev < 0) {
        return store::fail(snapshot.filelog_index_path(".hgtags") + ": file node " + store::hex(entry->node) +
                           " named by changeset " + store::hex(snapshot.changelog().node(*h)) + " is missing");
      }
      auto text = log->rawtext(*rev);
      if (!text) return hgrpc::unexpected<store::Error>(text.error());
      auto file = store::parse_file_revision(**text);  // .hgtags may carry copy metadata
      if (!file) return hgrpc::unexpected<store::Error>(file.error());
      store::merge_tags(all, store::parse_tags(store::as_chars(**text).substr(file->data_offset)));
    }
  }
  const auto local_path = snapshot.layout().hg_dir / "localtags";
  auto local = store::read_file(local_path, max_file_bytes);
  if (!local) return hgrpc::unexpected<store::Error>(local.error());
  if (*local) {
    store::TagMap file = store::parse_tags(store::as_chars(**local));
    std::erase_if(file, [&](const auto& item) {
      auto node = store::node_from_bytes(store::as_bytes(item.second.node));
      return !node || (*node != store::kNullNode && !served_rev(snapshot, *node));
    });
    store::merge_tags(all, file);
  }
  std::map<std::string, std::string> out;
  const std::string null(20, '\0');
  for (auto& [name, value] : all) {
    if (value.node != null) out.emplace(name, std::move(value.node));
  }
  return out;
}

}  // namespace hgrpc::server::repo
