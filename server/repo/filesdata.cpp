// filesdata {revisions: list, fields: set = {} over {firstchangeset,
// linknode, parents, revision}, haveparents: bool = False, pathfilter:
// dict = None}: {totalitems, totalpaths}, then per path (sorted)
// {path, totalitems: n} and exactly n file revisions in filelog order
// (revision_emitter.hpp); linknode is the first requested changeset that
// selected the revision. firstchangeset is accepted and has no effect.
//
// Which file revisions a changeset selects:
//   without haveparents: every entry of its manifest;
//   with haveparents: each file its changeset lists that is still in its
//     manifest (the node the changeset added to the filelog, by linkrev,
//     when there is one: no manifest rebuilt) (removed files are skipped: Mercurial 5.8 fails on them),
//     and only if its node differs from both parents' manifest entries
//     (a missing entry differs). A client that has the parents has those
//     nodes already, and the nodes it lacks are exactly the ones some
//     changeset introduces this way; a node equal to a parent's entry may be
//     absent from the manifests the client derives links from, which makes
//     a 5.8 client abort (notes §7.11).
// Each (path, node) is sent once.
//
// A request for every changeset of the snapshot with haveparents (a clone
// in one batch) selects every file revision whose linkrev the snapshot has,
// with the linkrev's changeset as linknode, read from the filelog indexes
// alone: no manifest is rebuilt. Mercurial's changegroup takes the same
// shortcut for a full clone (its "fastpathlinkrev"). The paths are those the
// changesets list.
#include <map>
#include <set>
#include <unordered_map>

#include "server/repo/path_filter.hpp"
#include "server/repo/repo_commands.hpp"
#include "server/repo/revision_emitter.hpp"
#include "server/repo/revision_specs.hpp"

namespace hgrpc::server::repo {

namespace {

// The manifests of the last few changesets read (a changeset's parents are
// usually just before it): parsed for a walk of every entry, as text for
// lookups of the few paths a changeset touched.
class ManifestCache {
 public:
  explicit ManifestCache(const store::Snapshot& snapshot) : snapshot_(snapshot) {}
  store::Result<std::shared_ptr<const store::Manifest>> parsed(int rev) {
    if (auto it = parsed_.find(rev); it != parsed_.end()) return it->second;
    auto m = snapshot_.manifest_of_changeset(rev);
    if (!m) return hgrpc::unexpected<store::Error>(m.error());
    auto shared = std::make_shared<const store::Manifest>(std::move(*m));
    remember(parsed_, rev, shared);
    return shared;
  }
  store::Result<std::shared_ptr<const store::Bytes>> text(int rev) {
    if (auto it = texts_.find(rev); it != texts_.end()) return it->second;
    auto t = snapshot_.manifest_text_of_changeset(rev);
    if (!t) return hgrpc::unexpected<store::Error>(t.error());
    remember(texts_, rev, *t);
    return t;
  }

 private:
  template <typename Map, typename Value>
  static void remember(Map& map, int rev, Value value) {
    if (map.size() >= kEntries) map.erase(map.begin());
    map.emplace(rev, std::move(value));
  }
  static constexpr std::size_t kEntries = 8;
  const store::Snapshot& snapshot_;
  std::map<int, std::shared_ptr<const store::Manifest>> parsed_;
  std::map<int, std::shared_ptr<const store::Bytes>> texts_;
};

// A manifest lookup whose errors name the changeset's manifest.
store::Result<std::optional<store::ManifestEntry>> lookup(const store::Bytes& text, const std::string& path,
                                                          const store::Snapshot& snap, int rev) {
  auto e = store::manifest_lookup(text, path);
  if (!e)
    return hgrpc::unexpected<store::Error>(
        store::Error{snap.manifestlog().name() + ": manifest of changeset rev " + std::to_string(rev) + ": " +
                     e.error().message});
  return e;
}

// Per path, the filelog rev each changeset rev added (its linkrev): the file
// node a changeset introduced, found without rebuilding its manifest. A
// filelog rev whose linkrev is C was first committed by C, so C's manifest
// has it and neither parent's does.
class IntroducedRevs {
 public:
  explicit IntroducedRevs(const store::Snapshot& snapshot) : snapshot_(snapshot) {}
  // The node `path`'s filelog got from changeset `rev`, if any.
  store::Result<std::optional<store::Node>> of(const std::string& path, int rev) {
    auto it = by_path_.find(path);
    if (it == by_path_.end()) {
      auto log = snapshot_.filelog(path);
      if (!log) return hgrpc::unexpected<store::Error>(log.error());
      std::unordered_map<int, store::Node> added;
      for (int r = 0; r < log->size(); ++r) added.emplace(log->entry(r).linkrev, log->entry(r).node);
      it = by_path_.emplace(path, std::move(added)).first;
    }
    auto found = it->second.find(rev);
    if (found == it->second.end()) return std::optional<store::Node>();
    return std::optional<store::Node>(found->second);
  }

 private:
  const store::Snapshot& snapshot_;
  std::unordered_map<std::string, std::unordered_map<int, store::Node>> by_path_;
};

using LinkMap = std::unordered_map<store::Node, store::Node, store::NodeHash>;  // file node -> changeset

CommandError too_many(const RepoCall& call) {
  return CommandError{"too many file revisions requested (limit %s)", {std::to_string(call.options.max_file_revisions)}};
}

// The fast path for every changeset with haveparents (see the top). The
// header's counts come from the snapshot's changed_files(), counted once per
// state of the repository: a second clone reads each filelog once.
RepoError run_whole_repository(const RepoCall& call, const PathFilter& filter, const EmitFields& emit,
                               RecordSink& sink) {
  const auto& cl = call.snapshot.changelog();
  auto files = call.snapshot.changed_files();
  if (!files) return store_error(files.error());
  std::vector<const store::Snapshot::ChangedFile*> selected;
  std::size_t total = 0;
  for (const auto& file : **files) {
    if (!filter.matches(file.path)) continue;
    selected.push_back(&file);
    total += file.linked_revisions;
    if (total > call.options.max_file_revisions) return too_many(call);
  }
  if (!sink.value(json{{"totalitems", total}, {"totalpaths", selected.size()}})) return sink_failure(sink);
  for (const auto* file : selected) {
    auto log = call.snapshot.filelog(file->path);
    if (!log) return store_error(log.error());
    // Revisions of a commit still being written (linkrev past the
    // snapshot's changelog) are not the snapshot's.
    const std::vector<int> revs = call.snapshot.linked_revs(*log);
    if (revs.size() != file->linked_revisions) {
      // Only a filelog rewritten under a served changelog gets here; the
      // header said otherwise, so the answer cannot go on.
      return CommandError{"%s", {call.snapshot.filelog_index_path(file->path) + ": has " +
                                 std::to_string(revs.size()) + " revisions linked to the served changesets, not " +
                                 std::to_string(file->linked_revisions) + " (rewritten while served?)"}};
    }
    if (!sink.value(json{{"path", framing::cbor_bytes(file->path)}, {"totalitems", revs.size()}}))
      return sink_failure(sink);
    auto linknode = [&cl, &log](int r) { return cl.node(log->entry(r).linkrev); };
    if (auto e = emit_revisions(*log, revs, emit, linknode, sink)) return e;
  }
  return std::nullopt;
}

RepoError run(const RepoCall& call, RecordSink& sink) {
  auto revs = resolve_revisions(call, call.args["revisions"]);
  if (!revs) return revs.error();
  auto filter = PathFilter::parse(call.args["pathfilter"]);
  if (!filter) return filter.error();
  const bool haveparents = call.args["haveparents"].get<bool>();
  const auto& cl = call.snapshot.changelog();
  const json& fields = call.args["fields"];
  const EmitFields emit{.parents = has_field(fields, "parents"),
                        .revision = has_field(fields, "revision"),
                        .linknode = has_field(fields, "linknode"),
                        .haveparents = haveparents,
                        .splice_min_bytes = call.options.splice_min_bytes};
  // Requested revs are distinct and served: as many as the changelog has
  // means every changeset.
  if (haveparents && call.options.filesdata_whole_repository_fast_path &&
      revs->size() == static_cast<std::size_t>(cl.size())) {
    return run_whole_repository(call, *filter, emit, sink);
  }

  std::map<std::string, LinkMap> selected;
  std::size_t total = 0;
  ManifestCache manifests(call.snapshot);
  IntroducedRevs introduced(call.snapshot);
  auto select = [&](const std::string& path, const store::Node& fnode, const store::Node& csnode) -> RepoError {
    if (!filter->matches(path)) return std::nullopt;
    if (selected[path].emplace(fnode, csnode).second && ++total > call.options.max_file_revisions)
      return too_many(call);
    return std::nullopt;
  };
  for (int rev : *revs) {
    const store::Node& csnode = cl.node(rev);
    if (!haveparents) {
      auto md = manifests.parsed(rev);
      if (!md) return store_error(md.error());
      for (const auto& entry : (*md)->entries()) {
        if (auto e = select(entry.path, entry.node, csnode)) return e;
      }
      continue;
    }
    auto cs = call.snapshot.changeset(rev);
    if (!cs) return store_error(cs.error());
    // Manifests only for the paths whose node this changeset did not add
    // (a revert to an older node, a merge taking one side, a removal).
    std::shared_ptr<const store::Bytes> md;
    std::vector<std::pair<int, std::shared_ptr<const store::Bytes>>> parents;
    for (const auto& path : cs->files) {
      auto added = introduced.of(path, rev);
      if (!added) return store_error(added.error());
      if (added->has_value()) {
        if (auto e = select(path, **added, csnode)) return e;
        continue;
      }
      if (!md) {
        auto text = manifests.text(rev);
        if (!text) return store_error(text.error());
        md = *text;
        for (int p : {cl.entry(rev).p1, cl.entry(rev).p2}) {
          if (p < 0) continue;
          auto pm = manifests.text(p);
          if (!pm) return store_error(pm.error());
          parents.emplace_back(p, *pm);
        }
      }
      auto entry = lookup(*md, path, call.snapshot, rev);
      if (!entry) return store_error(entry.error());
      if (!entry->has_value()) continue;  // removed by this changeset
      bool in_parent = false;
      for (const auto& parent : parents) {
        auto pe = lookup(*parent.second, path, call.snapshot, parent.first);
        if (!pe) return store_error(pe.error());
        in_parent = in_parent || (pe->has_value() && (*pe)->node == (**entry).node);
      }
      if (in_parent) continue;
      if (auto e = select(path, (**entry).node, csnode)) return e;
    }
  }

  if (!sink.value(json{{"totalitems", total}, {"totalpaths", selected.size()}})) return sink_failure(sink);
  for (const auto& [path, links] : selected) {
    auto log = call.snapshot.filelog(path);
    if (!log) return store_error(log.error());
    std::vector<int> frevs;
    frevs.reserve(links.size());
    for (const auto& [fnode, csnode] : links) {
      auto r = log->rev(fnode);
      if (!r || *r < 0)
        return CommandError{"%s", {call.snapshot.filelog_index_path(path) + ": file node " + store::hex(fnode) +
                                   " named by a manifest is missing"}};
      frevs.push_back(*r);
    }
    std::sort(frevs.begin(), frevs.end());
    if (!sink.value(json{{"path", framing::cbor_bytes(path)}, {"totalitems", frevs.size()}})) return sink_failure(sink);
    auto linknode = [&links = links, &log](int r) { return links.at(log->node(r)); };  // clang 14: no implicit capture of a binding
    if (auto e = emit_revisions(*log, frevs, emit, linknode, sink)) return e;
  }
  return std::nullopt;
}

}  // namespace

CommandSpec filesdata_command(Context context) {
  json extra = {{"recommendedbatchsize", context->options.filesdata_batch_size}};
  return cached_repo_command(
      "filesdata",
      {fields_arg({"firstchangeset", "linknode", "parents", "revision"}), haveparents_arg(),
       ArgSpec{.name = "pathfilter", .type = ArgType::Dict, .required = false, .default_value = json(nullptr)},
       ArgSpec{.name = "revisions", .type = ArgType::List, .required = true}},
      run, std::move(context), std::move(extra));
}

}  // namespace hgrpc::server::repo
