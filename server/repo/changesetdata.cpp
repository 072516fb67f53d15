// changesetdata {revisions: list, fields: set = {}} over
// {bookmarks, parents, phase, revision}: {totalitems: N}, then per
// changeset (ascending within each specifier) {node, parents?, phase?,
// bookmarks?, fieldsfollowing?} and its full changelog text (changesets
// always go as full text: the client ignores deltas). With `bookmarks`,
// trailing {node, bookmarks} records for bookmarked served nodes not sent,
// sorted by node. Bookmarks on hidden nodes are never mentioned, nor
// divergent ones ("name@path"): the same bookmarks listkeys gives, which is
// what a pull over Mercurial's other protocols transfers.
//
// With `phase` and a changesetdagrange, also {node, phase: public} records
// (not counted in totalitems) for the public heads among the ancestors of
// its roots: the changesets the client already has may have become public
// since it got them. Mercurial 5.8 leaves this as a TODO, and its pulls
// never learn such phase moves; its client applies these records as it
// applies any phase (advanceboundary: the node and its ancestors).
#include <map>
#include <set>

#include "server/repo/repo_commands.hpp"
#include "server/repo/revision_specs.hpp"
#include "server/repo/served_view.hpp"

namespace hgrpc::server::repo {

namespace {

// The served revs named as roots of the changesetdagrange specifiers.
std::vector<int> dagrange_roots(const RepoCall& call, const json& revisions) {
  std::vector<int> roots;
  for (const auto& spec : revisions) {
    if (!spec.is_object() || !spec.contains("type") || !spec.contains("roots")) continue;
    if (framing::bytes_or_text(spec["type"]) != std::optional<std::string>("changesetdagrange")) continue;
    for (const auto& n : spec["roots"]) {
      auto node = node_of(n);
      if (!node) continue;
      if (auto rev = served_rev(call.snapshot, *node)) roots.push_back(*rev);
    }
  }
  return roots;
}

// Public revs among ::roots with no public child there, ascending.
std::vector<int> public_heads_below(const store::Snapshot& snap, const std::vector<int>& roots) {
  const auto& cl = snap.changelog();
  std::vector<char> below(static_cast<std::size_t>(snap.size()), 0), covered = below;
  for (int r : roots) below[static_cast<std::size_t>(r)] = 1;
  for (int rev = snap.size() - 1; rev >= 0; --rev) {
    if (!below[static_cast<std::size_t>(rev)]) continue;
    const auto& e = cl.entry(rev);
    const bool is_public = snap.phase(rev) == store::kPublic;
    for (int p : {e.p1, e.p2}) {
      if (p == store::kNullRev) continue;
      below[static_cast<std::size_t>(p)] = 1;
      if (is_public) covered[static_cast<std::size_t>(p)] = 1;  // ancestors of public are public
    }
  }
  std::vector<int> heads;
  for (int rev = 0; rev < snap.size(); ++rev)
    if (below[static_cast<std::size_t>(rev)] && !covered[static_cast<std::size_t>(rev)] &&
        snap.phase(rev) == store::kPublic)
      heads.push_back(rev);
  return heads;
}

RepoError run(const RepoCall& call, RecordSink& sink) {
  auto revs = resolve_revisions(call, call.args["revisions"]);
  if (!revs) return revs.error();
  const json& fields = call.args["fields"];
  const bool want_parents = has_field(fields, "parents");
  const bool want_phase = has_field(fields, "phase");
  const bool want_bookmarks = has_field(fields, "bookmarks");
  const bool want_revision = has_field(fields, "revision");
  const auto& cl = call.snapshot.changelog();

  std::map<store::Node, std::set<std::string>> marks;  // ordered by node: the trailing records' order
  if (want_bookmarks) {
    for (const auto& [name, node] : call.snapshot.bookmarks()) {
      if (served_rev(call.snapshot, node) && !is_divergent_bookmark(name)) marks[node].insert(name);
    }
  }
  auto marks_value = [](const std::set<std::string>& names) {
    json out = json::array();
    for (const auto& n : names) out.push_back(framing::cbor_bytes(n));
    return out;
  };

  if (!sink.value(json{{"totalitems", revs->size()}})) return sink_failure(sink);
  for (int rev : *revs) {
    const auto& e = cl.entry(rev);
    json record = {{"node", node_value(e.node)}};
    if (want_parents) record["parents"] = parents_value(cl.node(e.p1), cl.node(e.p2));
    if (want_phase) {
      auto phase = call.options.publishing ? store::kPublic : call.snapshot.phase(rev);
      record["phase"] = framing::cbor_bytes(store::phase_name(phase));
    }
    if (want_bookmarks) {
      if (auto it = marks.find(e.node); it != marks.end()) {
        record["bookmarks"] = marks_value(it->second);
        marks.erase(it);
      }
    }
    std::shared_ptr<const store::Bytes> text;
    if (want_revision) {
      auto t = cl.rawtext(rev);
      if (!t) return store_error(t.error());
      text = std::move(*t);
      record["fieldsfollowing"] = json::array({json::array({framing::cbor_bytes("revision"), text->size()})});
    }
    if (!sink.value(std::move(record))) return sink_failure(sink);
    if (text && !sink.bytes(*text)) return sink_failure(sink);
  }
  if (want_phase) {
    const std::set<int> sent(revs->begin(), revs->end());
    for (int rev : public_heads_below(call.snapshot, dagrange_roots(call, call.args["revisions"]))) {
      if (sent.contains(rev)) continue;
      if (!sink.value(json{{"node", node_value(cl.node(rev))}, {"phase", framing::cbor_bytes("public")}}))
        return sink_failure(sink);
    }
  }
  for (const auto& [node, names] : marks) {
    if (!sink.value(json{{"node", node_value(node)}, {"bookmarks", marks_value(names)}})) return sink_failure(sink);
  }
  return std::nullopt;
}

}  // namespace

CommandSpec changesetdata_command(Context context) {
  return cached_repo_command("changesetdata",
                      {fields_arg({"bookmarks", "parents", "phase", "revision"}),
                       ArgSpec{.name = "revisions", .type = ArgType::List, .required = true}},
                      run, std::move(context));
}

}  // namespace hgrpc::server::repo
