#include "client/pull.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "store/hgrc.hpp"
#include "store/lock.hpp"
#include "store/repository.hpp"
#include "store/repository_writer.hpp"
#include "store/stage_clock.hpp"
#include "store/transaction.hpp"

namespace hgrpc::client {
namespace {

namespace fs = std::filesystem;
using framing::json;
using store::Node;


// The changelog's graph: the repository's revs, then those the pull adds.
struct Graph {
  std::vector<Node> nodes;
  std::vector<std::pair<int, int>> parents;
  NodeIndex rev_of;  // over nodes (client/node_index.hpp)

  int size() const { return static_cast<int>(nodes.size()); }
  std::optional<int> rev(const Node& n) const {
    if (n == store::kNullNode) return store::kNullRev;
    auto position = rev_of.find(nodes, n);
    return position ? std::optional<int>(static_cast<int>(*position)) : std::nullopt;
  }
  void add(const Node& n, int p1, int p2) {
    nodes.push_back(n);
    rev_of.add(nodes, nodes.size() - 1);
    parents.emplace_back(p1, p2);
  }
  // Marks `from` and its ancestors in `mark` (value v where mark != v).
  void mark_ancestors(std::vector<signed char>& mark, int from, signed char v) const {
    std::vector<int> stack{from};
    while (!stack.empty()) {
      int r = stack.back();
      stack.pop_back();
      if (r < 0 || mark[static_cast<std::size_t>(r)] == v) continue;
      mark[static_cast<std::size_t>(r)] = v;
      stack.push_back(parents[static_cast<std::size_t>(r)].first);
      stack.push_back(parents[static_cast<std::size_t>(r)].second);
    }
  }
  bool is_ancestor(int a, int b) const {  // a is b or an ancestor of b
    if (a < 0) return true;
    std::vector<char> seen(static_cast<std::size_t>(size()), 0);
    std::vector<int> stack{b};
    while (!stack.empty()) {
      int r = stack.back();
      stack.pop_back();
      if (r == a) return true;
      if (r < a || seen[static_cast<std::size_t>(r)]) continue;
      seen[static_cast<std::size_t>(r)] = 1;
      stack.push_back(parents[static_cast<std::size_t>(r)].first);
      stack.push_back(parents[static_cast<std::size_t>(r)].second);
    }
    return false;
  }
};

constexpr signed char kUndecided = 0, kCommon = 1, kMissing = -1;

// Heads of the revs where keep(r).
template <class Keep>
std::vector<int> heads_of(const Graph& g, Keep keep) {
  std::vector<char> has_child(static_cast<std::size_t>(g.size()), 0);
  for (int r = 0; r < g.size(); ++r) {
    if (!keep(r)) continue;
    for (int p : {g.parents[static_cast<std::size_t>(r)].first, g.parents[static_cast<std::size_t>(r)].second})
      if (p >= 0) has_child[static_cast<std::size_t>(p)] = 1;
  }
  std::vector<int> heads;
  for (int r = 0; r < g.size(); ++r)
    if (keep(r) && !has_child[static_cast<std::size_t>(r)]) heads.push_back(r);
  return heads;
}

// Applies a known() answer for `revs` to the classification.
ClientResult<void> apply_known(const Graph& g, std::vector<signed char>& cls, const std::vector<int>& revs,
                               const Outcome& outcome) {
  if (outcome.values.size() != 1 || !outcome.values[0].is_binary() || outcome.values[0].get_binary().size() != revs.size()) {
    return protocol_error("known: expected one byte string of " + std::to_string(revs.size()) + " flags");
  }
  const auto& flags = outcome.values[0].get_binary();
  bool missing = false;
  for (std::size_t i = 0; i < revs.size(); ++i) {
    if (flags[i] == '1') {
      g.mark_ancestors(cls, revs[i], kCommon);
    } else if (flags[i] == '0') {
      if (cls[static_cast<std::size_t>(revs[i])] == kCommon) return protocol_error("known: node " + store::hex(g.nodes[static_cast<std::size_t>(revs[i])]) + " is unknown but an ancestor of a known one");
      cls[static_cast<std::size_t>(revs[i])] = kMissing;
      missing = true;
    } else {
      return protocol_error("known: a flag is neither '0' nor '1'");
    }
  }
  if (missing) {  // descendants of a missing changeset are missing
    for (int r = 0; r < g.size(); ++r) {
      for (int p : {g.parents[static_cast<std::size_t>(r)].first, g.parents[static_cast<std::size_t>(r)].second}) {
        if (p < 0 || cls[static_cast<std::size_t>(p)] != kMissing) continue;
        if (cls[static_cast<std::size_t>(r)] == kCommon) return protocol_error("known: node " + store::hex(g.nodes[static_cast<std::size_t>(r)]) + " is known but descends from an unknown one");
        cls[static_cast<std::size_t>(r)] = kMissing;
      }
    }
  }
  return {};
}

// From each head of the undecided revs, those 0, 1, 2, 4, ... steps down
// (breadth first, first parents first), at most `limit`.
std::vector<int> discovery_sample(const Graph& g, const std::vector<signed char>& cls, std::size_t limit) {
  auto undecided = [&](int r) { return r >= 0 && cls[static_cast<std::size_t>(r)] == kUndecided; };
  std::vector<int> sample;
  std::vector<char> taken(static_cast<std::size_t>(g.size()), 0);
  for (int head : heads_of(g, undecided)) {
    std::vector<int> level{head};
    std::set<int> seen{head};
    for (std::uint64_t distance = 0, next_pick = 0; !level.empty() && sample.size() < limit; ++distance) {
      if (distance == next_pick) {
        for (int r : level) {
          if (sample.size() >= limit) break;
          if (!taken[static_cast<std::size_t>(r)]) sample.push_back(r), taken[static_cast<std::size_t>(r)] = 1;
        }
        next_pick = next_pick == 0 ? 1 : next_pick * 2;
      }
      std::vector<int> below;
      for (int r : level)
        for (int p : {g.parents[static_cast<std::size_t>(r)].first, g.parents[static_cast<std::size_t>(r)].second})
          if (undecided(p) && seen.insert(p).second) below.push_back(p);
      level = std::move(below);
    }
    if (sample.size() >= limit) break;
  }
  return sample;
}

json known_args(const Graph& g, const std::vector<int>& revs) {
  std::vector<Node> nodes;
  for (int r : revs) nodes.push_back(g.nodes[static_cast<std::size_t>(r)]);
  return json{{"nodes", node_list(nodes)}};
}

// listkeys' map of byte strings.
ClientResult<std::map<std::string, std::string>> listkeys_of(const std::string& ns, const Outcome& outcome) {
  if (outcome.values.size() != 1 || !outcome.values[0].is_object()) return protocol_error("listkeys " + ns + ": expected one map");
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : outcome.values[0].items()) {
    auto v = framing::bytes_or_text(value);
    if (!v) return protocol_error("listkeys " + ns + ": the value of '" + key + "' is not a string");
    out.emplace(key, *v);
  }
  return out;
}

// The name under which a divergent remote bookmark is stored (nullopt: none left).
std::optional<std::string> divergent_name(const std::string& name, const Node& remote, const fs::path& hgrc,
                                          const std::string& url, const std::map<std::string, Node>& local) {
  const std::string base = name == "@" ? "" : name;
  std::optional<std::string> alias;
  for (const auto& [key, loc] : store::hgrc_section(hgrc, "paths")) {
    if (key.find(':') == std::string::npos && loc == url) alias = key;  // the last definition wins, as in hg
  }
  if (alias) return base + "@" + *alias;
  for (int x = 1; x < 100; ++x) {
    std::string n = base + "@" + std::to_string(x);
    auto it = local.find(n);
    if (it == local.end() || it->second == remote) return n;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> default_path(const fs::path& root) {
  std::optional<std::string> path;
  for (const auto& [key, value] : store::hgrc_section(root / ".hg" / "hgrc", "paths"))
    if (key == "default") path = value;
  return path;
}

std::optional<fs::path> find_repository(const fs::path& dir) {
  std::error_code ec;
  for (fs::path d = fs::absolute(dir, ec); !d.empty(); d = d.parent_path()) {
    if (fs::is_directory(d / ".hg", ec)) return d;
    if (d == d.root_path()) break;
  }
  return std::nullopt;
}

ClientResult<PullSummary> pull_repository(const Exchange& exchange, const json& descriptor, const fs::path& root,
                                          const PullOptions& options) {
  PullSummary summary;
  auto layout = store::read_layout(root);
  if (!layout) return client_fail(ErrorKind::Usage, layout.error().message);

  // Locks as Mercurial takes them for a pull: the working directory's, then the store's.
  store::LockOptions lock_options;
  lock_options.timeout = options.lock_timeout;
  auto waiting = [&](const std::string& what) {
    return [&options, what](const std::string& holder) {
      if (options.on_wait) options.on_wait("waiting for lock on " + what + " held by '" + holder + "'");
    };
  };
  lock_options.on_wait = waiting("working directory of " + root.string());
  auto wlock = store::Lock::acquire(layout->hg_dir / "wlock", "working directory of " + root.string(), lock_options);
  if (!wlock) return client_fail(ErrorKind::Usage, wlock.error().message);
  lock_options.on_wait = waiting("repository " + root.string());
  auto lock = store::Lock::acquire(layout->store_dir / "lock", "repository " + root.string(), lock_options);
  if (!lock) return client_fail(ErrorKind::Usage, lock.error().message);

  auto recovered = store::recover(layout->store_dir);
  if (!recovered) return from_store(recovered.error());
  summary.recovered = *recovered;

  auto repo = store::Repository::open(root);
  if (!repo) return from_store(repo.error());
  auto snap = repo->snapshot();
  if (!snap) return from_store(snap.error());
  Graph g;
  std::vector<store::Phase> phases;
  for (int r = 0; r < snap->size(); ++r) {
    const auto& e = snap->changelog().entry(r);
    g.add(e.node, e.p1, e.p2);
    phases.push_back(snap->phase(r));
  }
  const int old_size = g.size();
  const std::map<std::string, Node> local_marks = snap->bookmarks();

  // Discovery, first round.
  std::vector<signed char> cls(static_cast<std::size_t>(g.size()), kUndecided);
  std::vector<int> asked = heads_of(g, [](int) { return true; });
  if (asked.size() > options.discovery_sample) asked.resize(std::max<std::size_t>(options.discovery_sample, 1));
  std::vector<Call> first{Call{"heads", json::object(), std::nullopt}, Call{"known", known_args(g, asked), std::nullopt},
                          Call{"listkeys", json{{"namespace", framing::cbor_bytes("bookmarks")}}, std::nullopt},
                          Call{"listkeys", json{{"namespace", framing::cbor_bytes("phases")}}, std::nullopt}};
  for (const auto& rev : options.revs) first.push_back(lookup_call(rev));
  auto outcomes = run_round(exchange, summary.fetch, first);
  if (!outcomes) return hgrpc::unexpected<ClientError>(outcomes.error());
  summary.discovery_rounds = 1;
  auto remote_heads = node_list_of("heads", (*outcomes)[0]);
  if (!remote_heads) return hgrpc::unexpected<ClientError>(remote_heads.error());
  std::erase(*remote_heads, store::kNullNode);
  auto remote_marks = listkeys_of("bookmarks", (*outcomes)[2]);
  if (!remote_marks) return hgrpc::unexpected<ClientError>(remote_marks.error());
  auto remote_phases = listkeys_of("phases", (*outcomes)[3]);
  if (!remote_phases) return hgrpc::unexpected<ClientError>(remote_phases.error());
  std::vector<Node> wanted;  // the pulled heads
  if (options.revs.empty()) {
    wanted = *remote_heads;
  } else {
    for (std::size_t i = 0; i < options.revs.size(); ++i) {
      auto n = node_of_lookup(options.revs[i], (*outcomes)[4 + i]);
      if (!n) return hgrpc::unexpected<ClientError>(n.error());
      if (*n != store::kNullNode && std::find(wanted.begin(), wanted.end(), *n) == wanted.end()) wanted.push_back(*n);
    }
  }
  for (const Node& h : *remote_heads) {  // a remote head we have: common, with its ancestors
    if (auto r = g.rev(h)) g.mark_ancestors(cls, *r, kCommon);
  }
  if (auto applied = apply_known(g, cls, asked, (*outcomes)[1]); !applied) return hgrpc::unexpected<ClientError>(applied.error());
  // Further rounds while some local changesets are undecided.
  while (std::find(cls.begin(), cls.end(), kUndecided) != cls.end()) {
    std::vector<int> sample = discovery_sample(g, cls, std::max<std::size_t>(options.discovery_sample, 1));
    auto known = run_round(exchange, summary.fetch, {Call{"known", known_args(g, sample), std::nullopt}});
    if (!known) return hgrpc::unexpected<ClientError>(known.error());
    summary.discovery_rounds += 1;
    if (auto applied = apply_known(g, cls, sample, (*known)[0]); !applied) return hgrpc::unexpected<ClientError>(applied.error());
  }
  std::vector<Node> common;
  for (int r : heads_of(g, [&](int r) { return cls[static_cast<std::size_t>(r)] == kCommon; })) common.push_back(g.nodes[static_cast<std::size_t>(r)]);
  summary.common_heads = common.size();
  if (common.empty() && old_size > 0 && !remote_heads->empty()) {
    return client_fail(ErrorKind::Usage, "repository is unrelated (no changeset in common with the server)");
  }
  std::vector<Node> fetch_heads;
  for (const Node& n : wanted)
    if (!g.rev(n)) fetch_heads.push_back(n);

  // The fetch and the rest in one transaction.
  auto writer = store::RepositoryWriter::open(root, options.writer.writer_options());
  if (!writer) return from_store(writer.error());
  FetchOptions fetch_options;
  fetch_options.want_phases_and_bookmarks = false;  // from listkeys (see the header)
  fetch_options.on_progress = options.on_progress;
  fetch_options.spool_dir = root / ".hg";
  fetch_options.write_threads = options.writer.threads();
  fetch_options.write_queue_bytes = options.writer.write_queue_bytes;
  auto fetched = fetch_changesets(exchange, descriptor, *writer, common, fetch_heads, fetch_options, summary.fetch);
  if (!fetched) return hgrpc::unexpected<ClientError>(fetched.error());
  for (std::size_t i = 0; i < fetched->added.size(); ++i) {
    auto p1 = g.rev(fetched->added_parents[i].first);
    auto p2 = g.rev(fetched->added_parents[i].second);
    if (!p1 || !p2) return protocol_error("changesetdata: a parent of " + store::hex(fetched->added[i]) + " is unknown");
    g.add(fetched->added[i], *p1, *p2);
  }

  // Phases: what the server has of the pulled heads' ancestors.
  std::vector<signed char> in_pull(static_cast<std::size_t>(g.size()), 0);
  for (const Node& n : wanted) {
    auto r = g.rev(n);
    if (!r) return protocol_error("changesetdata: " + store::hex(n) + " was asked for and not sent");
    g.mark_ancestors(in_pull, *r, 1);
  }
  const bool publishing = remote_phases->contains("publishing") && (*remote_phases)["publishing"] == "True";
  std::vector<char> remote_draft(static_cast<std::size_t>(g.size()), 0);
  if (!publishing) {
    for (const auto& [key, value] : *remote_phases) {
      auto node = store::unhex(key);
      auto r = node ? g.rev(*node) : std::nullopt;
      if (r && *r >= 0 && value == "1") remote_draft[static_cast<std::size_t>(*r)] = 1;
    }
  }
  phases.resize(static_cast<std::size_t>(g.size()), store::kDraft);
  bool phases_changed = g.size() > old_size;
  for (int r = 0; r < g.size(); ++r) {
    const auto i = static_cast<std::size_t>(r);
    if (!in_pull[i]) continue;
    for (int p : {g.parents[i].first, g.parents[i].second})
      if (p >= 0 && remote_draft[static_cast<std::size_t>(p)]) remote_draft[i] = 1;
    const store::Phase theirs = remote_draft[i] ? store::kDraft : store::kPublic;
    const store::Phase now = r >= old_size ? theirs : std::min(phases[i], theirs);
    if (r < old_size && now != phases[i]) summary.phase_changes += 1, phases_changed = true;
    phases[i] = now;
  }
  if (phases_changed) {
    writer->set_phase_roots(store::phase_roots(g.parents, phases, [&](int r) { return g.nodes[static_cast<std::size_t>(r)]; }));
  }

  // Bookmarks (bookmarks.updatefromremote's merge).
  std::map<std::string, Node> marks = local_marks;
  for (const auto& [name, hexnode] : *remote_marks) {
    auto node = store::unhex(hexnode);
    if (!node) return protocol_error("listkeys bookmarks: '" + name + "' is not on a 40-hex node");
    if (name.empty() || name.find_first_of("\n\r") != std::string::npos) return protocol_error("listkeys bookmarks: a bad bookmark name");
    auto remote_rev = g.rev(*node);
    if (!remote_rev || *remote_rev < 0) continue;  // on a changeset we did not pull
    auto local = local_marks.find(name);
    if (local == local_marks.end()) {
      marks[name] = *node;
      summary.bookmark_messages.push_back("adding remote bookmark " + name);
      continue;
    }
    if (local->second == *node) continue;
    auto local_rev = g.rev(local->second);
    if (!local_rev) continue;
    const bool remote_older = *remote_rev < *local_rev;
    if (remote_older && g.is_ancestor(*remote_rev, *local_rev)) continue;  // the local one is ahead
    if (!remote_older && g.is_ancestor(*local_rev, *remote_rev)) {
      marks[name] = *node;
      summary.bookmark_messages.push_back("updating bookmark " + name);
      continue;
    }
    auto stored = divergent_name(name, *node, layout->hg_dir / "hgrc", options.source_url, local_marks);
    if (!stored) {
      summary.bookmark_messages.push_back("warning: failed to assign numbered name to divergent bookmark " + name);
      continue;
    }
    if (marks[*stored] == *node) continue;
    marks[*stored] = *node;
    summary.bookmark_messages.push_back("divergent bookmark " + name + " stored as " + *stored);
  }
  if (marks != local_marks) writer->set_bookmarks(std::move(marks));

  // Phases and bookmarks, then the changelog (see client/fetch.hpp).
  {
    store::StageScope writing(store::Stage::Write);
    if (auto written = writer->write_phases_and_bookmarks(); !written) return from_store(written.error());
    if (auto appended = append_changesets(*writer, *fetched); !appended) return hgrpc::unexpected<ClientError>(appended.error());
    if (auto committed = writer->commit(); !committed) return from_store(committed.error());
  }
  return summary;
}

}  // namespace hgrpc::client
