#include "client/clone.hpp"

#include <stdlib.h>

#include <cstring>
#include <map>
#include <optional>

#include "store/phases.hpp"
#include "store/repository.hpp"
#include "store/repository_creation.hpp"
#include "store/repository_writer.hpp"
#include "store/working_copy.hpp"

namespace hgrpc::client {
namespace {

namespace fs = std::filesystem;
using framing::json;
using store::Node;

hgrpc::unexpected<ClientError> protocol(const std::string& message) {
  return client_fail(ErrorKind::Protocol, message);
}
hgrpc::unexpected<ClientError> from_store(const store::Error& e) { return protocol(e.message); }

std::optional<Node> node_of(const json& v) {
  if (!v.is_binary()) return std::nullopt;
  return store::node_from_bytes(store::ByteView(v.get_binary().data(), v.get_binary().size()));
}

json node_list(const std::vector<Node>& nodes) {
  json out = json::array();
  for (const auto& n : nodes) out.push_back(framing::cbor_bytes(framing::ByteView(n.data(), n.size())));
  return out;
}

json field_set(std::initializer_list<const char*> names) {
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

// One call; its values, or the command's error as a Command error.
ClientResult<std::vector<json>> call(const Exchange& exchange, CloneSummary& summary, const std::string& command,
                                     json args) {
  std::vector<Call> calls{Call{command, std::move(args), std::nullopt}};
  auto outcomes = exchange(calls);
  summary.requests += 1;
  if (!outcomes) return hgrpc::unexpected<ClientError>(outcomes.error());
  if (outcomes->size() != 1) return protocol(command + ": no outcome");
  Outcome& o = (*outcomes)[0];
  if (o.kind == Outcome::Kind::CommandError) return client_fail(ErrorKind::Command, command + ": " + o.message);
  if (o.kind == Outcome::Kind::ErrorResponse) return protocol(command + ": " + o.error_type + " error: " + o.message);
  return std::move(o.values);
}

// Reads the revision records of manifestdata / filesdata: `count` maps,
// each followed by its byte string, into `add(record, in)`.
template <class Add>
ClientResult<void> read_revisions(const std::string& what, const std::vector<json>& values, std::size_t& pos,
                                  std::uint64_t count, CloneSummary& summary, Add add) {
  for (std::uint64_t i = 0; i < count; ++i) {
    if (pos >= values.size() || !values[pos].is_object()) return protocol(what + ": revision record " + std::to_string(i) + " is missing");
    const json& rec = values[pos++];
    auto node = rec.contains("node") ? node_of(rec.at("node")) : std::nullopt;
    if (!node) return protocol(what + ": record " + std::to_string(i) + " has no 20-byte node");
    const std::string where = what + ": node " + store::hex(*node) + ": ";
    if (!rec.contains("parents") || !rec.at("parents").is_array() || rec.at("parents").size() != 2) {
      return protocol(where + "no parents");
    }
    auto p1 = node_of(rec.at("parents")[0]);
    auto p2 = node_of(rec.at("parents")[1]);
    if (!p1 || !p2) return protocol(where + "parents are not 20-byte nodes");
    if (!rec.contains("fieldsfollowing") || !rec.at("fieldsfollowing").is_array() || rec.at("fieldsfollowing").size() != 1) {
      return protocol(where + "expected exactly one field following");
    }
    const json& field = rec.at("fieldsfollowing")[0];
    auto kind = field.is_array() && !field.empty() ? framing::bytes_or_text(field[0]) : std::nullopt;
    if (pos >= values.size() || !values[pos].is_binary()) return protocol(where + "its data is missing");
    const auto& data = values[pos++].get_binary();
    store::IncomingRevision in;
    in.node = *node;
    in.p1 = *p1;
    in.p2 = *p2;
    in.data = store::ByteView(data.data(), data.size());
    if (kind == "delta") {
      auto base = rec.contains("deltabasenode") ? node_of(rec.at("deltabasenode")) : std::nullopt;
      if (!base) return protocol(where + "a delta without a 20-byte deltabasenode");
      in.delta_base = *base;
    } else if (kind != "revision") {
      return protocol(where + "unknown field following (expected revision or delta)");
    }
    summary.revision_bytes += data.size();
    if (auto added = add(rec, in); !added) return added;
  }
  return {};
}

std::uint64_t count_of(const json& v, const char* key) {
  return v.is_object() && v.contains(key) && v.at(key).is_number_unsigned() ? v.at(key).get<std::uint64_t>() : ~std::uint64_t{0};
}

// Everything into `root`, which holds a fresh repository.
ClientResult<CloneSummary> fetch_into(const Exchange& exchange, const json& descriptor, const fs::path& root,
                                      const CloneOptions& options) {
  CloneSummary summary;
  auto writer = store::RepositoryWriter::open(root);
  if (!writer) return from_store(writer.error());

  // Discovery against an empty repository: the remote heads.
  std::vector<Call> first{Call{"heads", json::object(), std::nullopt},
                          Call{"known", json{{"nodes", json::array()}}, std::nullopt}};
  auto discovered = exchange(first);
  summary.requests += 1;
  if (!discovered) return hgrpc::unexpected<ClientError>(discovered.error());
  if (discovered->size() != 2 || (*discovered)[0].kind != Outcome::Kind::Ok || (*discovered)[0].values.size() != 1 ||
      !(*discovered)[0].values[0].is_array()) {
    return protocol("heads: expected one list of nodes");
  }
  std::vector<Node> heads;
  for (const auto& h : (*discovered)[0].values[0]) {
    auto n = node_of(h);
    if (!n) return protocol("heads: an entry is not a 20-byte node");
    if (*n != store::kNullNode) heads.push_back(*n);
  }

  std::vector<store::Phase> phases;
  std::vector<std::pair<int, int>> parents;
  std::map<std::string, Node> bookmarks;
  std::map<Node, int> manifest_linkrev;
  std::vector<Node> manifest_order;
  std::vector<Node> changeset_order;
  if (!heads.empty()) {
    json args{{"revisions", json::array({json{{"type", framing::cbor_bytes(std::string_view("changesetdagrange"))},
                                              {"roots", json::array()}, {"heads", node_list(heads)}}})},
              {"fields", field_set({"bookmarks", "parents", "phase", "revision"})}};
    auto values = call(exchange, summary, "changesetdata", std::move(args));
    if (!values) return hgrpc::unexpected<ClientError>(values.error());
    if (values->empty() || count_of((*values)[0], "totalitems") == ~std::uint64_t{0}) {
      return protocol("changesetdata: no totalitems header");
    }
    auto& cl = writer->changelog();
    for (std::size_t pos = 1; pos < values->size();) {
      const json& rec = (*values)[pos++];
      auto node = rec.is_object() && rec.contains("node") ? node_of(rec.at("node")) : std::nullopt;
      if (!node) return protocol("changesetdata: a record without a 20-byte node");
      const std::string where = "changesetdata: node " + store::hex(*node) + ": ";
      if (rec.contains("bookmarks")) {
        for (const auto& b : rec.at("bookmarks")) {
          auto name = framing::bytes_or_text(b);
          if (!name || name->empty() || name->find_first_of("\n\r") != std::string::npos) return protocol(where + "a bad bookmark name");
          bookmarks[*name] = *node;
        }
      }
      if (!rec.contains("fieldsfollowing")) continue;  // a bookmark-only record
      std::size_t one = 0;
      std::vector<json> single{rec, pos < values->size() ? (*values)[pos] : json()};
      ++pos;
      auto read = read_revisions("changesetdata", single, one, 1, summary, [&](const json& r, store::IncomingRevision& rev) -> ClientResult<void> {
        if (rev.delta_base) return protocol(where + "changesets must be sent as full revisions");
        rev.linkrev = cl.size();
        auto added = cl.add(rev);
        if (!added) return from_store(added.error());
        auto phase = r.contains("phase") ? framing::bytes_or_text(r.at("phase")) : std::optional<std::string>("public");
        if (phase != "public" && phase != "draft") return protocol(where + "unknown phase");
        phases.push_back(phase == "public" ? store::kPublic : store::kDraft);
        parents.emplace_back(cl.rev(rev.p1).value_or(store::kNullRev), cl.rev(rev.p2).value_or(store::kNullRev));
        if (rev.data.size() < 40) return protocol(where + "changeset text too short");
        auto manifest = store::unhex(store::as_chars(rev.data.first(40)));
        if (!manifest) return protocol(where + "the text does not start with a manifest node");
        if (*manifest != store::kNullNode && manifest_linkrev.emplace(*manifest, *added).second) manifest_order.push_back(*manifest);
        changeset_order.push_back(rev.node);
        return {};
      });
      if (!read) return hgrpc::unexpected<ClientError>(read.error());
    }
    summary.changesets = changeset_order.size();
  }

  // Manifests, in batches.
  const std::size_t manifest_batch = batch_size(descriptor, "manifestdata", 10000);
  for (std::size_t start = 0; start < manifest_order.size(); start += manifest_batch) {
    std::vector<Node> batch(manifest_order.begin() + static_cast<std::ptrdiff_t>(start),
                            manifest_order.begin() + static_cast<std::ptrdiff_t>(std::min(manifest_order.size(), start + manifest_batch)));
    json args{{"tree", framing::cbor_bytes(std::string_view(""))}, {"nodes", node_list(batch)},
              {"fields", field_set({"parents", "revision"})}, {"haveparents", true}};
    auto values = call(exchange, summary, "manifestdata", std::move(args));
    if (!values) return hgrpc::unexpected<ClientError>(values.error());
    std::uint64_t total = values->empty() ? ~std::uint64_t{0} : count_of((*values)[0], "totalitems");
    if (total != batch.size()) return protocol("manifestdata: totalitems does not match the " + std::to_string(batch.size()) + " nodes asked for");
    std::size_t pos = 1;
    auto read = read_revisions("manifestdata", *values, pos, total, summary, [&](const json&, store::IncomingRevision& rev) -> ClientResult<void> {
      auto link = manifest_linkrev.find(rev.node);
      if (link == manifest_linkrev.end()) return protocol("manifestdata: node " + store::hex(rev.node) + " was not asked for");
      rev.linkrev = link->second;
      auto added = writer->manifestlog().add(rev);
      if (!added) return from_store(added.error());
      summary.manifests += 1;
      return {};
    });
    if (!read) return hgrpc::unexpected<ClientError>(read.error());
  }

  // File revisions, in batches of changesets.
  const std::size_t files_batch = batch_size(descriptor, "filesdata", 50000);
  for (std::size_t start = 0; start < changeset_order.size(); start += files_batch) {
    std::vector<Node> batch(changeset_order.begin() + static_cast<std::ptrdiff_t>(start),
                            changeset_order.begin() + static_cast<std::ptrdiff_t>(std::min(changeset_order.size(), start + files_batch)));
    json args{{"revisions", json::array({json{{"type", framing::cbor_bytes(std::string_view("changesetexplicit"))},
                                              {"nodes", node_list(batch)}}})},
              {"fields", field_set({"linknode", "parents", "revision"})}, {"haveparents", true}};
    auto values = call(exchange, summary, "filesdata", std::move(args));
    if (!values) return hgrpc::unexpected<ClientError>(values.error());
    std::uint64_t paths = values->empty() ? ~std::uint64_t{0} : count_of((*values)[0], "totalpaths");
    if (paths == ~std::uint64_t{0}) return protocol("filesdata: no totalpaths header");
    std::size_t pos = 1;
    for (std::uint64_t p = 0; p < paths; ++p) {
      if (pos >= values->size()) return protocol("filesdata: path " + std::to_string(p) + " is missing");
      const json& header = (*values)[pos++];
      auto path = header.is_object() && header.contains("path") ? framing::bytes_or_text(header.at("path")) : std::nullopt;
      std::uint64_t n = count_of(header, "totalitems");
      if (!path || n == ~std::uint64_t{0}) return protocol("filesdata: a path header without path or totalitems");
      auto filelog = writer->filelog(*path);
      if (!filelog) return protocol("filesdata: " + filelog.error().message);
      auto read = read_revisions("filesdata: " + *path, *values, pos, n, summary, [&](const json& rec, store::IncomingRevision& rev) -> ClientResult<void> {
        auto link = rec.contains("linknode") ? node_of(rec.at("linknode")) : std::nullopt;
        auto linkrev = link ? writer->changelog().rev(*link) : std::nullopt;
        if (!linkrev || *linkrev < 0) return protocol("filesdata: " + *path + "@" + store::hex(rev.node) + ": linknode is not a received changeset");
        rev.linkrev = *linkrev;
        auto added = (*filelog)->add(rev);
        if (!added) return from_store(added.error());
        summary.file_revisions += 1;
        return {};
      });
      if (!read) return hgrpc::unexpected<ClientError>(read.error());
    }
  }

  auto& cl = writer->changelog();
  writer->set_phase_roots(store::phase_roots(parents, phases, [&](int r) { return cl.node(r); }));
  writer->set_bookmarks(std::move(bookmarks));
  if (auto committed = writer->commit(); !committed) return from_store(committed.error());

  if (options.checkout) {
    auto repo = store::Repository::open(root);
    if (!repo) return from_store(repo.error());
    auto snap = repo->snapshot();
    if (!snap) return from_store(snap.error());
    auto rev = store::default_checkout_rev(*snap);
    if (!rev) return from_store(rev.error());
    if (*rev != store::kNullRev) {
      auto checked = store::check_out(*snap, *rev, root);
      if (!checked) return from_store(checked.error());
      summary.checked_out_files = checked->files;
      summary.checked_out_node = store::hex(snap->changelog().node(*rev));
    }
  }
  return summary;
}

}  // namespace

ClientResult<CloneSummary> clone_repository(const Exchange& exchange, const json& descriptor, const fs::path& dest,
                                            const CloneOptions& options) {
  std::error_code ec;
  if (fs::exists(fs::symlink_status(dest, ec))) return client_fail(ErrorKind::Usage, "destination '" + dest.string() + "' exists");
  fs::path parent = dest.has_parent_path() ? dest.parent_path() : fs::path(".");
  std::string pattern = (parent / (dest.filename().string() + ".hgrpc-tmp-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    return client_fail(ErrorKind::Usage, "cannot create a directory beside '" + dest.string() + "': " + std::strerror(errno));
  }
  const fs::path temp = pattern;
  struct Cleanup {
    fs::path path;
    bool keep = false;
    ~Cleanup() {
      std::error_code ignored;
      if (!keep) fs::remove_all(path, ignored);
    }
  } cleanup{temp};

  store::NewRepositoryOptions create;
  create.default_path = options.source_url;
  if (auto created = store::create_repository(temp, create); !created) return from_store(created.error());
  auto summary = fetch_into(exchange, descriptor, temp, options);
  if (!summary) return summary;
  fs::rename(temp, dest, ec);
  if (ec) return client_fail(ErrorKind::Usage, "cannot rename " + temp.string() + " to " + dest.string() + ": " + ec.message());
  cleanup.keep = true;
  return summary;
}

Exchange http_exchange(HttpTransport& transport, const SessionOptions& options) {
  return [&transport, options](const std::vector<Call>& calls) -> ClientResult<std::vector<Outcome>> {
    std::vector<Outcome> outcomes(calls.size());
    auto ran = run_calls(transport, calls, options, [&](std::size_t index, Outcome&& o) {
      if (index < outcomes.size()) outcomes[index] = std::move(o);
    });
    if (!ran) return hgrpc::unexpected<ClientError>(ran.error());
    return outcomes;
  };
}

}  // namespace hgrpc::client
