// lookup {key: bytes}: one node, resolved as Mercurial's scmutil.revsymbol
// on the served view: `.`, `tip`, `null`; a decimal rev (negative counts
// from the end); a full hex node; then the names in namespace order:
// bookmarks, tags (served_tags.hpp), branches (the branch's tip: its last
// open head, else its last head); last a unique hex prefix of a served node.
// A rev number or full node of a hidden changeset fails with "filtered
// revision '%s' (not in 'served' subset)"; anything else unknown (names on
// hidden or unknown nodes included) with "unknown revision '%s'".
// `.` is the working directory's parent (.hg/dirstate): 5.8 answers it even
// when it is secret, which hands the client a node it cannot pull; we say
// "filtered revision '.'" instead.
#include <algorithm>
#include <charconv>

#include "server/repo/repo_commands.hpp"
#include "server/repo/served_tags.hpp"
#include "server/repo/served_view.hpp"
#include "store/working_parent.hpp"

namespace hgrpc::server::repo {

namespace {

using Lookup = hgrpc::expected<store::Node, CommandError>;

hgrpc::unexpected<CommandError> unknown(const std::string& key) {
  return hgrpc::unexpected<CommandError>(CommandError{"unknown revision '%s'", {key}});
}
hgrpc::unexpected<CommandError> filtered(const std::string& key) {
  return hgrpc::unexpected<CommandError>(CommandError{"filtered revision '%s' (not in 'served' subset)", {key}});
}

bool is_hex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  }
  return !s.empty();
}

std::optional<Lookup> by_rev_number(const store::Snapshot& snapshot, const std::string& key) {
  long long r = 0;
  auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), r);
  if (ec != std::errc() || end != key.data() + key.size() || std::to_string(r) != key) return std::nullopt;
  if (r < 0) r += snapshot.size();
  if (r < 0 || r >= snapshot.size()) return std::nullopt;
  if (!snapshot.is_served(static_cast<int>(r))) return filtered(key);
  return snapshot.changelog().node(static_cast<int>(r));
}

Lookup store_failure(const store::Error& e) { return hgrpc::unexpected<CommandError>(store_error(e)); }

Lookup resolve(const store::Snapshot& snapshot, const RepoCommandOptions& options, const std::string& key) {
  const auto& cl = snapshot.changelog();
  if (key == "null") return store::kNullNode;
  if (key == ".") {
    auto p1 = store::working_parent(snapshot.layout());
    if (!p1) return store_failure(p1.error());
    auto rev = cl.rev(*p1);
    if (!rev || *rev >= snapshot.size()) return unknown(key);
    if (*rev >= 0 && !snapshot.is_served(*rev)) return filtered(key);
    return *p1;
  }
  if (key == "tip") {
    auto served = snapshot.served_revs();
    return served.empty() ? store::kNullNode : cl.node(served.back());
  }
  if (auto r = by_rev_number(snapshot, key)) return *r;
  if (key.size() == 40) {
    if (auto node = store::unhex(key)) {
      if (auto rev = cl.rev(*node); rev && *rev >= 0) {
        if (!snapshot.is_served(*rev)) return filtered(key);
        return *node;
      }
    }
  }
  // A bookmark on a hidden changeset is not a name of the served view.
  if (auto it = snapshot.bookmarks().find(key); it != snapshot.bookmarks().end() && served_rev(snapshot, it->second))
    return it->second;
  auto tags = served_tags(snapshot, options.max_localtags_bytes);
  if (!tags) return store_failure(tags.error());
  if (auto it = tags->find(key); it != tags->end()) {
    // A tag on an unknown or hidden node names nothing: the search goes on.
    if (it->second.size() == store::kNullNode.size()) {
      store::Node node;
      std::copy(it->second.begin(), it->second.end(), node.begin());
      if (served_rev(snapshot, node)) return node;
    }
  }
  auto branches = snapshot.branchmap();
  if (!branches) return store_failure(branches.error());
  if (auto it = branches->find(key); it != branches->end() && !it->second.empty()) {
    int tip = it->second.back().rev;
    for (auto h = it->second.rbegin(); h != it->second.rend(); ++h) {
      if (!h->closed) {
        tip = h->rev;
        break;
      }
    }
    return cl.node(tip);
  }
  if (is_hex(key) && key.size() <= 40) {
    std::string prefix = key;
    for (char& c : prefix) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    // As Mercurial: the null node is a candidate too, and a prefix of the
    // working directory's pseudo-node (ff...) is never resolved.
    if (std::string(40, 'f').starts_with(prefix)) return unknown(key);
    std::optional<store::Node> match;
    if (std::string(40, '0').starts_with(prefix)) match = store::kNullNode;
    for (int r : snapshot.served_revs()) {
      if (!store::hex(cl.node(r)).starts_with(prefix)) continue;
      if (match) return hgrpc::unexpected<CommandError>(CommandError{"ambiguous identifier: %s", {key}});
      match = cl.node(r);
    }
    if (match) return *match;
  }
  return unknown(key);
}

}  // namespace

CommandSpec lookup_command(Context context) {
  return repo_command(
      "lookup", {ArgSpec{.name = "key", .type = ArgType::Bytes, .required = true}},
      [](const RepoCall& call, RecordSink& sink) -> RepoError {
        auto node = resolve(call.snapshot, call.options, string_of(call.args["key"]));
        if (!node) return node.error();
        if (!sink.value(node_value(*node))) return sink_failure(sink);
        return std::nullopt;
      },
      std::move(context));
}

}  // namespace hgrpc::server::repo
