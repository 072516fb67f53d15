#include "server/repo/revision_emitter.hpp"

#include <unordered_set>
#include <variant>

#include "mpatch/mpatch.hpp"
#include "store/revlog_index.hpp"

namespace hgrpc::server::repo {

namespace {

// zstd-8mb-frames streams are decoded with an 8 MiB window at most.
constexpr std::uint64_t kSpliceWindowBytes = std::uint64_t{8} << 20;

constexpr std::uint16_t kUnservableFlags =
    store::kRevFlagCensored | store::kRevFlagEllipsis | store::kRevFlagExtStored;

CommandError revision_error(const store::Revlog& log, int rev, const std::string& what) {
  return CommandError{"%s", {log.name() + ": rev " + std::to_string(rev) + ": " + what}};
}

json fields_following(std::string_view kind, std::size_t size) {
  return json::array({json::array({framing::cbor_bytes(kind), size})});
}

// The record, then rev's stored chunk (delta or full text, as `kind` says):
// on a sink that splices, as it is when it is a zstd frame the stream can
// carry (no decompression here, no compression in the output stream); else
// decompressed.
RepoError send_stored(const store::Revlog& log, int rev, std::string_view kind, json record, RecordSink& sink) {
  std::optional<store::StoredDelta> delta;
  if (sink.splices()) {
    auto chunk = log.stored_zstd_chunk_or_delta(rev, kSpliceWindowBytes);
    if (!chunk) return store_error(chunk.error());
    if (auto* z = std::get_if<store::StoredZstdChunk>(&*chunk)) {
      record["fieldsfollowing"] = fields_following(kind, z->size);
      if (!sink.value(std::move(record)) || !sink.spliced_bytes(std::move(z->frame), z->size)) return sink_failure(sink);
      return std::nullopt;
    }
    delta = std::move(std::get<store::StoredDelta>(*chunk));
  } else {
    auto d = log.stored_delta(rev);
    if (!d) return store_error(d.error());
    delta = std::move(*d);
  }
  record["fieldsfollowing"] = fields_following(kind, delta->data.size());
  if (!sink.value(std::move(record)) || !sink.bytes(delta->data)) return sink_failure(sink);
  return std::nullopt;
}

}  // namespace

RepoError emit_revisions(const store::Revlog& log, std::span<const int> revs, const EmitFields& fields,
                         const std::function<store::Node(int)>& linknode, RecordSink& sink) {
  std::unordered_set<int> emitted;
  int previous = store::kNullRev;
  for (int rev : revs) {
    const auto& e = log.entry(rev);
    json record = {{"node", node_value(e.node)}};
    if (fields.parents) record["parents"] = parents_value(log.node(e.p1), log.node(e.p2));
    if (fields.linknode) record["linknode"] = node_value(linknode(rev));
    if (!fields.revision) {
      if (!sink.value(std::move(record))) return sink_failure(sink);
      emitted.insert(rev);
      previous = rev;
      continue;
    }
    if (e.flags & kUnservableFlags)
      return revision_error(log, rev, "flagged censored, ellipsis or extstored: cannot be served");
    auto client_has = [&](int r) {
      return r != store::kNullRev && (emitted.contains(r) || (fields.haveparents && (r == e.p1 || r == e.p2)));
    };
    const int stored_base = log.delta_parent(rev);
    if (client_has(stored_base)) {
      record["deltabasenode"] = node_value(log.node(stored_base));
      if (auto failed = send_stored(log, rev, "delta", std::move(record), sink)) return failed;
    } else if (const int base = client_has(e.p1) ? e.p1 : previous;
               base == store::kNullRev && stored_base == store::kNullRev && sink.splices()) {
      // A full text stored as one: its chunk is the revision.
      if (auto failed = send_stored(log, rev, "revision", std::move(record), sink)) return failed;
    } else {
      auto text = log.rawtext(rev);
      if (!text) return store_error(text.error());
      if (base != store::kNullRev) {
        auto base_text = log.rawtext(base);
        if (!base_text) return store_error(base_text.error());
        // Whole lines, as Mercurial's own deltas: its clients read a
        // manifest delta's inserted bytes as manifest lines (readdelta).
        mpatch::Bytes delta = mpatch::line_diff(**base_text, **text);
        record["deltabasenode"] = node_value(log.node(base));
        record["fieldsfollowing"] = fields_following("delta", delta.size());
        if (!sink.value(std::move(record)) || !sink.bytes(delta)) return sink_failure(sink);
      } else {
        record["fieldsfollowing"] = fields_following("revision", (*text)->size());
        if (!sink.value(std::move(record)) || !sink.bytes(**text)) return sink_failure(sink);
      }
    }
    emitted.insert(rev);
    previous = rev;
  }
  return std::nullopt;
}

}  // namespace hgrpc::server::repo
