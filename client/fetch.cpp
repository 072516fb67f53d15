#include "client/fetch.hpp"

#include <algorithm>
#include <functional>
#include <optional>
#include <set>
#include <unordered_map>

#include "client/revision_stream.hpp"
#include "client/write_lanes.hpp"
#include "store/stage_clock.hpp"

namespace hgrpc::client {
namespace {

using framing::json;
using store::Node;


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

// One call whose values go to `stream` as they arrive; then the stream must
// be complete.
ClientResult<void> call_streaming(const Exchange& exchange, FetchSummary& summary, const std::string& command,
                                  json args, RevisionStream& stream) {
  auto outcomes = run_round(exchange, summary, {Call{command, std::move(args), std::nullopt}},
                            [&](std::size_t, json&& value) { return stream.feed(std::move(value)); });
  if (!outcomes) return hgrpc::unexpected<ClientError>(outcomes.error());
  return stream.finish();
}

// A received revision queued for a writer thread: its data is copied out
// of the decoded value, which the reader reuses.
struct QueuedRevision {
  store::IncomingRevision revision;
  store::Bytes data;

  explicit QueuedRevision(const store::IncomingRevision& in) : revision(in), data(in.data.begin(), in.data.end()) {}
  const store::IncomingRevision& view() {
    revision.data = store::ByteView(data.data(), data.size());
    return revision;
  }
};

// The filelog a write lane has open: only that lane's jobs touch it.
struct LaneFilelog {
  std::string path;
  store::RevlogWriter* log = nullptr;
};

std::vector<Node> slice(const std::vector<Node>& all, std::size_t start, std::size_t size) {
  return std::vector<Node>(all.begin() + static_cast<std::ptrdiff_t>(start),
                           all.begin() + static_cast<std::ptrdiff_t>(std::min(all.size(), start + size)));
}

// The heads of the roots' ancestors and added[0, end). added is in
// changelog order, so that set is closed under ancestry, and the
// changesetdagrange from dag_heads(start) to dag_heads(end) is exactly
// added[start, end): a few nodes instead of the batch's list. The roots (the
// common heads) stay in the list where they are parents: only their
// ancestors count.
std::vector<Node> dag_heads(const std::vector<Node>& roots, const FetchedChangesets& f, std::size_t end) {
  std::vector<bool> is_parent(end, false);
  for (std::size_t i = 0; i < end; ++i) {
    for (const Node& p : {f.added_parents[i].first, f.added_parents[i].second}) {
      if (auto at = f.position(p); at && *at < end) is_parent[*at] = true;
    }
  }
  std::vector<Node> heads(roots);
  for (std::size_t i = 0; i < end; ++i) {
    if (!is_parent[i]) heads.push_back(f.added[i]);
  }
  return heads;
}

}  // namespace

store::RepositoryWriterOptions WriterLimits::writer_options() const {
  store::RepositoryWriterOptions o;
  o.revlog.cache_bytes = revlog_cache_bytes;
  o.revlog.zstd_level = zstd_level;
  o.max_open_filelogs = max_open_filelogs;
  return o;
}

std::string progress_counts(const FetchSummary& c) {
  return "changesets " + std::to_string(c.changesets) + ", manifests " + std::to_string(c.manifests) + "/" +
         std::to_string(c.manifests_expected) + ", file revisions " + std::to_string(c.file_revisions);
}

Exchange Exchange::streaming(Streaming streaming) {
  Exchange e;
  e.streaming_ = std::move(streaming);
  return e;
}

ClientResult<std::vector<Outcome>> Exchange::operator()(const std::vector<Call>& calls) const {
  if (collecting_) return collecting_(calls);
  std::vector<std::vector<json>> values(calls.size());
  auto outcomes = streaming_(calls, [&](std::size_t index, json&& value) -> ClientResult<void> {
    if (index < values.size()) values[index].push_back(std::move(value));
    return {};
  });
  if (!outcomes) return outcomes;
  for (std::size_t i = 0; i < outcomes->size() && i < values.size(); ++i) (*outcomes)[i].values = std::move(values[i]);
  return outcomes;
}

ClientResult<std::vector<Outcome>> Exchange::operator()(const std::vector<Call>& calls, const ValueConsumer& consume) const {
  if (streaming_) return streaming_(calls, consume);
  auto outcomes = collecting_(calls);
  if (!outcomes) return outcomes;
  for (std::size_t i = 0; i < outcomes->size(); ++i) {
    // An error outcome's values are not results (run_round reports the error).
    if ((*outcomes)[i].kind != Outcome::Kind::Ok) continue;
    for (auto& value : (*outcomes)[i].values) {
      if (auto taken = consume(i, std::move(value)); !taken) return hgrpc::unexpected<ClientError>(taken.error());
    }
    (*outcomes)[i].values.clear();
  }
  return outcomes;
}

namespace {

// The checks of run_round after the exchange.
ClientResult<std::vector<Outcome>> judge_round(ClientResult<std::vector<Outcome>> outcomes, FetchSummary& summary,
                                               const std::vector<Call>& calls) {
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

}  // namespace

ClientResult<std::vector<Outcome>> run_round(const Exchange& exchange, FetchSummary& summary,
                                             const std::vector<Call>& calls) {
  return judge_round(exchange(calls), summary, calls);
}

ClientResult<std::vector<Outcome>> run_round(const Exchange& exchange, FetchSummary& summary,
                                             const std::vector<Call>& calls, const ValueConsumer& values) {
  return judge_round(exchange(calls, values), summary, calls);
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
  // Lane 0 writes the manifest log, the others filelogs, so the manifests
  // are still being written while the files arrive. lane_files is declared
  // before the lanes, whose jobs use it (the lanes stop first).
  const std::size_t lane_count = options.write_threads > 0 ? options.write_threads + 1 : 1;
  std::vector<LaneFilelog> lane_files(lane_count);
  WriteLanes lanes(options.write_threads > 0 ? lane_count : 0, options.write_queue_bytes);
  auto& cl = writer.changelog();
  const int first_rev = cl.size();
  fetched.first_rev = first_rev;

  std::vector<const char*> fields{"parents", "revision"};
  if (options.want_phases_and_bookmarks) fields.insert(fields.begin(), {"bookmarks", "phase"});
  json args{{"revisions", json::array({json{{"type", framing::cbor_bytes(std::string_view("changesetdagrange"))},
                                            {"roots", node_list(roots)}, {"heads", node_list(heads)}}})},
            {"fields", field_set(fields)}};
  // What was received is indexed compactly (client/node_index.hpp): the rev
  // a changeset will have is first_rev + fetched.position(node).
  auto spool = TextSpool::open(options.spool_dir.empty() ? std::filesystem::temp_directory_path() : options.spool_dir);
  if (!spool) return hgrpc::unexpected<ClientError>(spool.error());
  fetched.texts = std::move(*spool);
  std::vector<Node> manifest_order;  // the manifests to fetch, first seen first
  std::vector<int> manifest_linkrevs;  // the first linkrev of each
  NodeIndex manifest_index;
  auto pending = [&](const Node& n) { return fetched.position(n).has_value(); };
  std::optional<std::string> phase;  // of the record being read
  auto on_record = [&](const json& rec) -> ClientResult<bool> {
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
    phase.reset();
    if (rec.contains("phase")) {
      phase = framing::bytes_or_text(rec.at("phase"));
      if (phase != "public" && phase != "draft") return protocol_error(where + "unknown phase");
    }
    if (!rec.contains("fieldsfollowing")) {  // a bookmark-only or phase-only record
      if (phase == "public") fetched.public_nodes.push_back(*node);
      return false;
    }
    return true;
  };
  auto on_revision = [&](store::IncomingRevision& rev, const RevisionRecord& record) -> ClientResult<void> {
    const std::string& where = record.where;
    summary.revision_bytes += rev.data.size();
    if (rev.delta_base) return protocol_error(where + "changesets must be sent as full revisions");
    if (cl.rev(rev.node) || pending(rev.node)) return {};  // already have it
    for (const Node& p : {rev.p1, rev.p2}) {
      if (!cl.rev(p) && !pending(p)) return protocol_error(where + "its parent " + store::hex(p) + " was neither sent before it nor is in the repository");
    }
    const Node computed = [&] {
      store::StageScope hashing(store::Stage::Hash);
      return store::hash_revision(rev.p1, rev.p2, rev.data);
    }();
    if (computed != rev.node) {
      return protocol_error("00changelog.i: node " + store::hex(rev.node) + ": hash mismatch: the received text does not hash to it");
    }
    if (rev.data.size() < 40) return protocol_error(where + "changeset text too short");
    auto manifest = store::unhex(store::as_chars(rev.data.first(40)));
    if (!manifest) return protocol_error(where + "the text does not start with a manifest node");
    const int linkrev = first_rev + static_cast<int>(fetched.added.size());
    if (*manifest != store::kNullNode && !manifest_index.find(manifest_order, *manifest)) {
      manifest_order.push_back(*manifest);
      manifest_linkrevs.push_back(linkrev);
      manifest_index.add(manifest_order, manifest_order.size() - 1);
    }
    fetched.added.push_back(rev.node);
    fetched.added_index.add(fetched.added, fetched.added.size() - 1);
    fetched.added_parents.emplace_back(rev.p1, rev.p2);
    fetched.added_phases.push_back(phase == "draft" ? store::kDraft : store::kPublic);
    // Only the text is kept, on disk (the changelog is written last, from it).
    return fetched.texts->append(rev.data);
  };
  auto changesets = RevisionStream::changesets(on_record, on_revision);
  if (auto read = call_streaming(exchange, summary, "changesetdata", std::move(args), changesets); !read) {
    return hgrpc::unexpected<ClientError>(read.error());
  }
  summary.changesets += fetched.added.size();
  summary.manifests_expected += manifest_order.size();
  if (options.changelog_with_files) {
    // On the manifest lane, before the manifests: the job reads the spool
    // and the added nodes, which the reader from now on only looks up in.
    auto queued = lanes.submit(0, 0, [&writer, &fetched]() -> ClientResult<void> {
      auto appended = append_changesets(writer, fetched);
      writer.changelog().release_cache();  // nothing more is added to it
      return appended;
    });
    if (!queued) return hgrpc::unexpected<ClientError>(queued.error());
  }

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
    std::size_t in_batch = 0;
    auto stream = RevisionStream::manifests(batch.size(), [&](store::IncomingRevision& rev, const RevisionRecord&) -> ClientResult<void> {
      summary.revision_bytes += rev.data.size();
      auto link = manifest_index.find(manifest_order, rev.node);
      if (!link) return protocol_error("manifestdata: node " + store::hex(rev.node) + " was not asked for");
      rev.linkrev = manifest_linkrevs[*link];
      summary.manifests += 1;
      report(static_cast<double>(++in_batch) / static_cast<double>(batch.size()), false);
      // The manifest log is one revlog: always the first lane.
      return lanes.submit(0, rev.data.size(), [&writer, queued = QueuedRevision(rev)]() mutable -> ClientResult<void> {
        auto added = writer.manifestlog().add(queued.view());
        if (!added) return from_store(added.error());
        return {};
      });
    });
    // Not waited for: the manifest lane goes on while the files are read
    // (its error, if any, is the next submit's or the last wait's).
    if (auto read = call_streaming(exchange, summary, "manifestdata", std::move(margs), stream); !read) {
      if (auto written = lanes.wait(); !written) return hgrpc::unexpected<ClientError>(written.error());
      return hgrpc::unexpected<ClientError>(read.error());
    }
    steps_done += 1;
    report(0, true);
  }

  // The manifest log's texts are of no use to the files: freed once written.
  if (auto queued = lanes.submit(0, 0, [&writer]() -> ClientResult<void> {
        writer.manifestlog().release_cache();
        return {};
      });
      !queued) {
    return hgrpc::unexpected<ClientError>(queued.error());
  }

  // File revisions, in batches of changesets.
  std::set<std::string> paths_seen;
  std::vector<Node> batch_roots = roots;  // dag_heads(roots, fetched, 0): a batch's roots are the last one's heads
  for (std::size_t start = 0; start < fetched.added.size(); start += files_batch) {
    const std::size_t end = std::min(fetched.added.size(), start + files_batch);
    std::vector<Node> batch_heads = dag_heads(roots, fetched, end);
    json fargs{{"revisions", json::array({json{{"type", framing::cbor_bytes(std::string_view("changesetdagrange"))},
                                               {"roots", node_list(batch_roots)},
                                               {"heads", node_list(batch_heads)}}})},
               {"fields", field_set({"linknode", "parents", "revision"})}, {"haveparents", true}};
    std::string path;
    std::size_t lane = 0;
    std::uint64_t path_index = 0;
    // Each path of the batch goes to the file lane with the least queued
    // when it starts, and stays there (a server that sent a path twice
    // must not give one filelog to two threads); the batch ends with every
    // lane's filelog closed, so the next batch may choose again.
    std::unordered_map<std::string, std::size_t> path_lanes;
    auto file_lane = [&](const std::string& p) {
      if (lane_count == 1) return std::size_t{0};
      auto [it, added] = path_lanes.try_emplace(p, 0);
      if (added) it->second = lanes.least_loaded(1, lane_count - 1);
      return it->second;
    };
    auto on_path = [&](const std::string& p, std::uint64_t index, std::uint64_t items) -> ClientResult<void> {
      if (items > 0 && paths_seen.insert(p).second) summary.files += 1;
      path = p;
      path_index = index;
      // filesdata sends each path's revisions together, so the lane's
      // previous filelog is done with, and its text cache would only hold
      // memory.
      lane = file_lane(p);
      return lanes.submit(lane, 0, [&writer, &slot = lane_files[lane], p]() -> ClientResult<void> {
        if (slot.log && slot.path != p) {
          if (auto closed = writer.close_filelog(slot.path); !closed) return protocol_error("filesdata: " + closed.error().message);
          slot = LaneFilelog{};
        }
        auto opened = writer.filelog(p);
        if (!opened) return protocol_error("filesdata: " + opened.error().message);
        slot = LaneFilelog{p, *opened};
        return {};
      });
    };
    RevisionStream stream = RevisionStream::files(on_path, [&](store::IncomingRevision& rev, const RevisionRecord& record) -> ClientResult<void> {
      summary.revision_bytes += rev.data.size();
      auto link = record.linknode ? fetched.position(*record.linknode) : std::nullopt;
      if (!link) return protocol_error("filesdata: " + path + "@" + store::hex(rev.node) + ": linknode is not a received changeset");
      rev.linkrev = first_rev + static_cast<int>(*link);
      summary.file_revisions += 1;
      report(static_cast<double>(path_index) / static_cast<double>(stream.paths()), false);
      return lanes.submit(lane, rev.data.size(), [&slot = lane_files[lane], queued = QueuedRevision(rev)]() mutable -> ClientResult<void> {
        auto added = slot.log->add(queued.view());
        if (!added) return from_store(added.error());
        return {};
      });
    });
    auto read = call_streaming(exchange, summary, "filesdata", std::move(fargs), stream);
    for (std::size_t l = 0; l < lane_count; ++l) {  // each lane's last filelog
      (void)lanes.submit(l, 0, [&writer, &slot = lane_files[l]]() -> ClientResult<void> {
        if (!slot.log) return {};
        auto closed = writer.close_filelog(slot.path);
        slot = LaneFilelog{};
        if (!closed) return protocol_error("filesdata: " + closed.error().message);
        return {};
      });
    }
    if (auto written = lanes.wait(); !written) return hgrpc::unexpected<ClientError>(written.error());
    if (!read) return hgrpc::unexpected<ClientError>(read.error());
    batch_roots = std::move(batch_heads);
    steps_done += 1;
    report(0, true);
  }

  // The manifest lane, if no files batch waited for it.
  if (auto written = lanes.wait(); !written) return hgrpc::unexpected<ClientError>(written.error());
  return fetched;
}

ClientResult<void> append_changesets(store::RepositoryWriter& writer, FetchedChangesets& fetched) {
  if (!fetched.added.empty() && (!fetched.texts || fetched.texts->count() != fetched.added.size())) {
    return protocol_error("00changelog.i: the spooled changeset texts are missing");
  }
  for (std::size_t i = 0; i < fetched.added.size(); ++i) {
    store::IncomingRevision rev;
    rev.node = fetched.added[i];
    rev.p1 = fetched.added_parents[i].first;
    rev.p2 = fetched.added_parents[i].second;
    rev.linkrev = fetched.first_rev + static_cast<int>(i);  // as the manifests and files were told
    auto text = fetched.texts->next();
    if (!text) return hgrpc::unexpected<ClientError>(text.error());
    rev.data = *text;
    auto added = writer.changelog().add(rev);
    if (!added) return from_store(added.error());
    if (*added != rev.linkrev) return protocol_error("00changelog.i: node " + store::hex(rev.node) + " was written as rev " + std::to_string(*added) + ", not " + std::to_string(rev.linkrev));
  }
  return {};
}

Exchange http_exchange(HttpTransport& transport, const SessionOptions& options, ProgressLine* progress) {
  return Exchange::streaming([&transport, options, progress](const std::vector<Call>& calls, const ValueConsumer& consume)
                                 -> ClientResult<std::vector<Outcome>> {
    std::vector<Outcome> outcomes(calls.size());
    std::optional<ClientError> refused;  // the consumer's error, which aborted the body
    auto ran = run_calls(
        transport, calls, options,
        [&](std::size_t index, Outcome&& o) {
          if (index < outcomes.size()) outcomes[index] = std::move(o);
        },
        progress,
        [&](std::size_t index, json&& value) -> framing::Result<void> {
          auto taken = consume(index, std::move(value));
          if (taken) return {};
          refused = taken.error();
          return framing::fail(refused->message);
        });
    if (refused) return hgrpc::unexpected<ClientError>(*refused);
    if (!ran) return hgrpc::unexpected<ClientError>(ran.error());
    return outcomes;
  });
}

}  // namespace hgrpc::client
