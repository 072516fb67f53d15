#include "client/fetch.hpp"

#include <algorithm>
#include <optional>
#include <set>

namespace hgrpc::client {
namespace {

using framing::json;
using store::Node;


std::optional<Node> node_of(const json& v) {
  if (!v.is_binary()) return std::nullopt;
  return store::node_from_bytes(store::ByteView(v.get_binary().data(), v.get_binary().size()));
}

json field_set(const std::vector<const char*>& names) {
  json items = json::array();
  for (const char* n : names) items.push_back(framing::cbor_bytes(std::string_view(n)));
  return framing::cbor_set(items);
}

std::size_t batch_size(const json& descriptor, const char* command, std::size_t fallback) {
  const json* commands = descriptor.contains("commands") ? &descriptor.at("commands") : nullptr;
  if (!commands || !commands->contains(command)) return fallback;
  const json& c = commands->at(command);
  if (!c.contains("recommendedbatchsize") || !c.at("recommendedbatchsize").is_number_unsigned()) return fallback;
  return std::max<std::size_t>(1, c.at("recommendedbatchsize").get<std::size_t>());
}

// One call; its values.
ClientResult<std::vector<json>> call(const Exchange& exchange, FetchSummary& summary, const std::string& command,
                                     json args) {
  auto outcomes = run_round(exchange, summary, {Call{command, std::move(args), std::nullopt}});
  if (!outcomes) return hgrpc::unexpected<ClientError>(outcomes.error());
  return std::move((*outcomes)[0].values);
}

// One revision record of changesetdata / manifestdata / filesdata at
// values[pos] and its byte string after it.
ClientResult<store::IncomingRevision> read_revision(const std::string& what, const std::vector<json>& values,
                                                    std::size_t& pos, std::uint64_t index) {
  if (pos >= values.size() || !values[pos].is_object()) return protocol_error(what + ": revision record " + std::to_string(index) + " is missing");
  const json& rec = values[pos++];
  auto node = rec.contains("node") ? node_of(rec.at("node")) : std::nullopt;
  if (!node) return protocol_error(what + ": record " + std::to_string(index) + " has no 20-byte node");
  const std::string where = what + ": node " + store::hex(*node) + ": ";
  if (!rec.contains("parents") || !rec.at("parents").is_array() || rec.at("parents").size() != 2) {
    return protocol_error(where + "no parents");
  }
  auto p1 = node_of(rec.at("parents")[0]);
  auto p2 = node_of(rec.at("parents")[1]);
  if (!p1 || !p2) return protocol_error(where + "parents are not 20-byte nodes");
  if (!rec.contains("fieldsfollowing") || !rec.at("fieldsfollowing").is_array() || rec.at("fieldsfollowing").size() != 1) {
    return protocol_error(where + "expected exactly one field following");
  }
  const json& field = rec.at("fieldsfollowing")[0];
  auto kind = field.is_array() && !field.empty() ? framing::bytes_or_text(field[0]) : std::nullopt;
  if (pos >= values.size() || !values[pos].is_binary()) return protocol_error(where + "its data is missing");
  const auto& data = values[pos++].get_binary();
  store::IncomingRevision in;
  in.node = *node;
  in.p1 = *p1;
  in.p2 = *p2;
  in.data = store::ByteView(data.data(), data.size());
  if (kind == "delta") {
    auto base = rec.contains("deltabasenode") ? node_of(rec.at("deltabasenode")) : std::nullopt;
    if (!base) return protocol_error(where + "a delta without a 20-byte deltabasenode");
    in.delta_base = *base;
  } else if (kind != "revision") {
    return protocol_error(where + "unknown field following (expected revision or delta)");
  }
  return in;
}

// Reads `count` revision records from values[pos] into `add(record, in)`.
template <class Add>
ClientResult<void> read_revisions(const std::string& what, const std::vector<json>& values, std::size_t& pos,
                                  std::uint64_t count, FetchSummary& summary, Add add) {
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::size_t at = pos;
    auto in = read_revision(what, values, pos, i);
    if (!in) return hgrpc::unexpected<ClientError>(in.error());
    summary.revision_bytes += in->data.size();
    if (auto added = add(values[at], *in); !added) return added;
  }
  return {};
}

std::uint64_t count_of(const json& v, const char* key) {
  return v.is_object() && v.contains(key) && v.at(key).is_number_unsigned() ? v.at(key).get<std::uint64_t>() : ~std::uint64_t{0};
}

std::vector<Node> slice(const std::vector<Node>& all, std::size_t start, std::size_t size) {
  return std::vector<Node>(all.begin() + static_cast<std::ptrdiff_t>(start),
                           all.begin() + static_cast<std::ptrdiff_t>(std::min(all.size(), start + size)));
}

}  // namespace

std::string progress_counts(const FetchSummary& c) {
  return "changesets " + std::to_string(c.changesets) + ", manifests " + std::to_string(c.manifests) + "/" +
         std::to_string(c.manifests_expected) + ", file revisions " + std::to_string(c.file_revisions);
}

ClientResult<std::vector<Outcome>> run_round(const Exchange& exchange, FetchSummary& summary,
                                             const std::vector<Call>& calls) {
  auto outcomes = exchange(calls);
  summary.requests += 1;
  if (!outcomes) return hgrpc::unexpected<ClientError>(outcomes.error());
  if (outcomes->size() != calls.size()) return protocol_error(calls.front().command + ": an outcome is missing");
  for (std::size_t i = 0; i < calls.size(); ++i) {
    const Outcome& o = (*outcomes)[i];
    const std::string& command = calls[i].command;
    if (o.kind == Outcome::Kind::CommandError) return client_fail(ErrorKind::Command, command + ": " + o.message);
    if (o.kind == Outcome::Kind::ErrorResponse) return protocol_error(command + ": " + o.error_type + " error: " + o.message);
  }
  return outcomes;
}

ClientResult<std::vector<Node>> node_list_of(const std::string& command, const Outcome& outcome) {
  if (outcome.values.size() != 1 || !outcome.values[0].is_array()) return protocol_error(command + ": expected one list of nodes");
  std::vector<Node> nodes;
  for (const auto& h : outcome.values[0]) {
    auto n = node_of(h);
    if (!n) return protocol_error(command + ": an entry is not a 20-byte node");
    nodes.push_back(*n);
  }
  return nodes;
}

ClientResult<Node> node_of_lookup(const std::string& key, const Outcome& outcome) {
  auto n = outcome.values.size() == 1 ? node_of(outcome.values[0]) : std::nullopt;
  if (!n) return protocol_error("lookup of '" + key + "': expected one 20-byte node");
  return *n;
}

json node_list(const std::vector<Node>& nodes) {
  json out = json::array();
  for (const auto& n : nodes) out.push_back(framing::cbor_bytes(framing::ByteView(n.data(), n.size())));
  return out;
}

Call lookup_call(const std::string& key) { return Call{"lookup", json{{"key", framing::cbor_bytes(key)}}, std::nullopt}; }

ClientResult<FetchedChangesets> fetch_changesets(const Exchange& exchange, const json& descriptor,
                                                 store::RepositoryWriter& writer, const std::vector<Node>& roots,
                                                 const std::vector<Node>& heads, const FetchOptions& options,
                                                 FetchSummary& summary) {
  FetchedChangesets fetched;
  if (heads.empty()) return fetched;
  auto& cl = writer.changelog();
  const int first_rev = cl.size();

  std::vector<const char*> fields{"parents", "revision"};
  if (options.want_phases_and_bookmarks) fields.insert(fields.begin(), {"bookmarks", "phase"});
  json args{{"revisions", json::array({json{{"type", framing::cbor_bytes(std::string_view("changesetdagrange"))},
                                            {"roots", node_list(roots)}, {"heads", node_list(heads)}}})},
            {"fields", field_set(fields)}};
  // Kept in `fetched`: the changesets are written from it, last.
  auto values = call(exchange, summary, "changesetdata", std::move(args));
  if (!values) return hgrpc::unexpected<ClientError>(values.error());
  if (values->empty() || count_of((*values)[0], "totalitems") == ~std::uint64_t{0}) {
    return protocol_error("changesetdata: no totalitems header");
  }
  std::vector<store::IncomingRevision> pending;
  std::map<Node, int> pending_rev;  // node -> the rev it will have
  std::map<Node, int> manifest_linkrev;
  std::vector<Node> manifest_order;
  for (std::size_t pos = 1; pos < values->size();) {
    const json& rec = (*values)[pos];
    auto node = rec.is_object() && rec.contains("node") ? node_of(rec.at("node")) : std::nullopt;
    if (!node) return protocol_error("changesetdata: a record without a 20-byte node");
    const std::string where = "changesetdata: node " + store::hex(*node) + ": ";
    if (rec.contains("bookmarks")) {
      if (!rec.at("bookmarks").is_array()) return protocol_error(where + "bookmarks is not a list");
      for (const auto& b : rec.at("bookmarks")) {
        auto name = framing::bytes_or_text(b);
        if (!name || name->empty() || name->find_first_of("\n\r") != std::string::npos) return protocol_error(where + "a bad bookmark name");
        fetched.bookmarks[*name] = *node;
      }
    }
    std::optional<std::string> phase;
    if (rec.contains("phase")) {
      phase = framing::bytes_or_text(rec.at("phase"));
      if (phase != "public" && phase != "draft") return protocol_error(where + "unknown phase");
    }
    if (!rec.contains("fieldsfollowing")) {  // a bookmark-only or phase-only record
      ++pos;
      if (phase == "public") fetched.public_nodes.push_back(*node);
      continue;
    }
    auto rev = read_revision("changesetdata", *values, pos, pending.size());
    if (!rev) return hgrpc::unexpected<ClientError>(rev.error());
    summary.revision_bytes += rev->data.size();
    if (rev->delta_base) return protocol_error(where + "changesets must be sent as full revisions");
    if (cl.rev(rev->node) || pending_rev.contains(rev->node)) continue;  // already have it
    for (const Node& p : {rev->p1, rev->p2}) {
      if (!cl.rev(p) && !pending_rev.contains(p)) return protocol_error(where + "its parent " + store::hex(p) + " was neither sent before it nor is in the repository");
    }
    if (store::hash_revision(rev->p1, rev->p2, rev->data) != rev->node) {
      return protocol_error("00changelog.i: node " + store::hex(rev->node) + ": hash mismatch: the received text does not hash to it");
    }
    if (rev->data.size() < 40) return protocol_error(where + "changeset text too short");
    auto manifest = store::unhex(store::as_chars(rev->data.first(40)));
    if (!manifest) return protocol_error(where + "the text does not start with a manifest node");
    rev->linkrev = first_rev + static_cast<int>(pending.size());
    if (*manifest != store::kNullNode && manifest_linkrev.emplace(*manifest, rev->linkrev).second) manifest_order.push_back(*manifest);
    pending_rev.emplace(rev->node, rev->linkrev);
    fetched.added.push_back(rev->node);
    fetched.added_parents.emplace_back(rev->p1, rev->p2);
    fetched.added_phases.push_back(phase == "draft" ? store::kDraft : store::kPublic);
    pending.push_back(*rev);
  }
  summary.changesets += pending.size();
  summary.manifests_expected += manifest_order.size();

  // Progress: changesetdata, then each batch, one step each.
  const std::size_t manifest_batch = batch_size(descriptor, "manifestdata", 10000);
  const std::size_t files_batch = batch_size(descriptor, "filesdata", 50000);
  const double steps = 1.0 + static_cast<double>((manifest_order.size() + manifest_batch - 1) / manifest_batch) +
                       static_cast<double>((fetched.added.size() + files_batch - 1) / files_batch);
  double steps_done = 1;
  std::uint64_t since_report = 0;
  auto report = [&](double within_step, bool force) {
    if (!options.on_progress || (!force && ++since_report < 256)) return;
    since_report = 0;
    options.on_progress(summary, std::min(1.0, (steps_done + within_step) / steps));
  };
  report(0, true);

  // Manifests, in batches.
  for (std::size_t start = 0; start < manifest_order.size(); start += manifest_batch) {
    std::vector<Node> batch = slice(manifest_order, start, manifest_batch);
    json margs{{"tree", framing::cbor_bytes(std::string_view(""))}, {"nodes", node_list(batch)},
               {"fields", field_set({"parents", "revision"})}, {"haveparents", true}};
    auto mvalues = call(exchange, summary, "manifestdata", std::move(margs));
    if (!mvalues) return hgrpc::unexpected<ClientError>(mvalues.error());
    std::uint64_t total = mvalues->empty() ? ~std::uint64_t{0} : count_of((*mvalues)[0], "totalitems");
    if (total != batch.size()) return protocol_error("manifestdata: totalitems does not match the " + std::to_string(batch.size()) + " nodes asked for");
    std::size_t pos = 1, in_batch = 0;
    auto read = read_revisions("manifestdata", *mvalues, pos, total, summary, [&](const json&, store::IncomingRevision& rev) -> ClientResult<void> {
      auto link = manifest_linkrev.find(rev.node);
      if (link == manifest_linkrev.end()) return protocol_error("manifestdata: node " + store::hex(rev.node) + " was not asked for");
      rev.linkrev = link->second;
      auto added = writer.manifestlog().add(rev);
      if (!added) return from_store(added.error());
      summary.manifests += 1;
      report(static_cast<double>(++in_batch) / static_cast<double>(batch.size()), false);
      return {};
    });
    if (!read) return hgrpc::unexpected<ClientError>(read.error());
    steps_done += 1;
    report(0, true);
  }

  // File revisions, in batches of changesets.
  std::set<std::string> paths_seen;
  for (std::size_t start = 0; start < fetched.added.size(); start += files_batch) {
    json fargs{{"revisions", json::array({json{{"type", framing::cbor_bytes(std::string_view("changesetexplicit"))},
                                               {"nodes", node_list(slice(fetched.added, start, files_batch))}}})},
               {"fields", field_set({"linknode", "parents", "revision"})}, {"haveparents", true}};
    auto fvalues = call(exchange, summary, "filesdata", std::move(fargs));
    if (!fvalues) return hgrpc::unexpected<ClientError>(fvalues.error());
    std::uint64_t paths = fvalues->empty() ? ~std::uint64_t{0} : count_of((*fvalues)[0], "totalpaths");
    if (paths == ~std::uint64_t{0}) return protocol_error("filesdata: no totalpaths header");
    std::size_t pos = 1;
    for (std::uint64_t p = 0; p < paths; ++p) {
      if (pos >= fvalues->size()) return protocol_error("filesdata: path " + std::to_string(p) + " is missing");
      const json& header = (*fvalues)[pos++];
      auto path = header.is_object() && header.contains("path") ? framing::bytes_or_text(header.at("path")) : std::nullopt;
      std::uint64_t n = count_of(header, "totalitems");
      if (!path || n == ~std::uint64_t{0}) return protocol_error("filesdata: a path header without path or totalitems");
      if (n > 0 && paths_seen.insert(*path).second) summary.files += 1;
      auto filelog = writer.filelog(*path);
      if (!filelog) return protocol_error("filesdata: " + filelog.error().message);
      auto read = read_revisions("filesdata: " + *path, *fvalues, pos, n, summary, [&](const json& rec, store::IncomingRevision& rev) -> ClientResult<void> {
        auto link = rec.contains("linknode") ? node_of(rec.at("linknode")) : std::nullopt;
        auto linkrev = link ? pending_rev.find(*link) : pending_rev.end();
        if (linkrev == pending_rev.end()) return protocol_error("filesdata: " + *path + "@" + store::hex(rev.node) + ": linknode is not a received changeset");
        rev.linkrev = linkrev->second;
        auto added = (*filelog)->add(rev);
        if (!added) return from_store(added.error());
        summary.file_revisions += 1;
        report(static_cast<double>(p) / static_cast<double>(paths), false);
        return {};
      });
      if (!read) return hgrpc::unexpected<ClientError>(read.error());
    }
    steps_done += 1;
    report(0, true);
  }

  fetched.pending = std::move(pending);
  fetched.response = std::move(*values);  // the pending revisions' data stays where it is
  return fetched;
}

ClientResult<void> append_changesets(store::RepositoryWriter& writer, const FetchedChangesets& fetched) {
  for (const auto& rev : fetched.pending) {
    auto added = writer.changelog().add(rev);
    if (!added) return from_store(added.error());
    if (*added != rev.linkrev) return protocol_error("00changelog.i: node " + store::hex(rev.node) + " was written as rev " + std::to_string(*added) + ", not " + std::to_string(rev.linkrev));
  }
  return {};
}

Exchange http_exchange(HttpTransport& transport, const SessionOptions& options, ProgressLine* progress) {
  return [&transport, options, progress](const std::vector<Call>& calls) -> ClientResult<std::vector<Outcome>> {
    std::vector<Outcome> outcomes(calls.size());
    auto ran = run_calls(
        transport, calls, options,
        [&](std::size_t index, Outcome&& o) {
          if (index < outcomes.size()) outcomes[index] = std::move(o);
        },
        progress);
    if (!ran) return hgrpc::unexpected<ClientError>(ran.error());
    return outcomes;
  };
}

}  // namespace hgrpc::client
