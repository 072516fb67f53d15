// lookup {key: bytes}: one node. Resolution order (scmutil.revsymbol):
// `tip`, `null`; a decimal rev (negative counts from the end); a full hex
// node; a bookmark; a branch (its tip: the last open head, else the last
// head); a unique hex prefix of a served node. A rev number or full node of
// a hidden changeset fails with "filtered revision '%s' (not in 'served'
// subset)"; anything else unknown (bookmarks on hidden nodes included) with
// "unknown revision '%s'". Not resolved: `.` (a server has no working copy
// we read) and tags.
#include <charconv>

#include "server/repo/repo_commands.hpp"
#include "server/repo/served_view.hpp"

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

Lookup resolve(const store::Snapshot& snapshot, const std::string& key) {
  const auto& cl = snapshot.changelog();
  if (key == "null") return store::kNullNode;
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
  auto branches = snapshot.branchmap();
  if (!branches) return hgrpc::unexpected<CommandError>(store_error(branches.error()));
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
        auto node = resolve(call.snapshot, string_of(call.args["key"]));
        if (!node) return node.error();
        if (!sink.value(node_value(*node))) return sink_failure(sink);
        return std::nullopt;
      },
      std::move(context));
}

}  // namespace hgrpc::server::repo
