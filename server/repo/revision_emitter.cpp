#include "server/repo/revision_emitter.hpp"

#include <unordered_set>
#include <variant>

#include "framing/content_encoding.hpp"
#include "mpatch/mpatch.hpp"
#include "store/revlog_index.hpp"

namespace hgrpc::server::repo {

namespace {

// zstd-8mb-frames streams are decoded with an 8 MiB window at most.
constexpr std::uint64_t kSpliceWindowBytes = std::uint64_t{1} << framing::kZstd8mbWindowLog;

constexpr std::uint16_t kUnservableFlags =
    store::kRevFlagCensored | store::kRevFlagEllipsis | store::kRevFlagExtStored;

CommandError revision_error(const store::Revlog& log, int rev, const std::string& what) {
  return CommandError{"%s", {log.name() + ": rev " + std::to_string(rev) + ": " + what}};
}

// One revision's record map. Encoded directly (one per revision: the json
// map it replaces cost more than the rest of the record's path), with the
// bytes cbor_encode gives that map: byte-string keys in sorted order.
struct Record {
  const store::Node* node = nullptr;
  const store::Node* p1 = nullptr;  // with p2: the parents field
  const store::Node* p2 = nullptr;
  const store::Node* linknode = nullptr;
  const store::Node* delta_base = nullptr;
  std::string_view kind;  // "revision" or "delta"; empty: no fieldsfollowing
  std::uint64_t size = 0;

  framing::Bytes encode() const {
    using namespace framing;
    auto key = [](std::string_view k, Bytes& out) { cbor_append_bytes(as_bytes(k), out); };
    auto node_bytes = [](const store::Node& n, Bytes& out) { cbor_append_bytes(ByteView(n.data(), n.size()), out); };
    Bytes out;
    out.reserve(160);
    cbor_append_map_head(1 + (p1 != nullptr) + (linknode != nullptr) + (delta_base != nullptr) + !kind.empty(), out);
    if (delta_base) {
      key("deltabasenode", out);
      node_bytes(*delta_base, out);
    }
    if (!kind.empty()) {
      key("fieldsfollowing", out);
      cbor_append_array_head(1, out);
      cbor_append_array_head(2, out);
      cbor_append_bytes(as_bytes(kind), out);
      cbor_append_uint(size, out);
    }
    if (linknode) {
      key("linknode", out);
      node_bytes(*linknode, out);
    }
    key("node", out);
    node_bytes(*node, out);
    if (p1) {
      key("parents", out);
      cbor_append_array_head(2, out);
      node_bytes(*p1, out);
      node_bytes(*p2, out);
    }
    return out;
  }
};

// The record, then rev's stored chunk (delta or full text, as `kind` says):
// on a sink that splices, as it is when it is a zstd frame the stream can
// carry (no decompression here, no compression in the output stream); else
// decompressed.
RepoError send_stored(const store::Revlog& log, int rev, std::string_view kind, Record record,
                      std::uint64_t splice_min_bytes, RecordSink& sink) {
  record.kind = kind;
  std::optional<store::StoredDelta> delta;
  if (sink.splices()) {
    auto chunk = log.stored_zstd_chunk_or_delta(rev, kSpliceWindowBytes);
    if (!chunk) return store_error(chunk.error());
    auto* z = std::get_if<store::StoredZstdChunk>(&*chunk);
    if (z && z->frame.size() < splice_min_bytes) {  // smaller recompressed in the stream
      auto d = log.stored_delta(rev);
      if (!d) return store_error(d.error());
      chunk->emplace<store::StoredDelta>(std::move(*d));
      z = nullptr;
    }
    if (z) {
      record.size = z->size;
      if (!sink.encoded_value(record.encode()) || !sink.spliced_bytes(std::move(z->frame), z->size))
        return sink_failure(sink);
      return std::nullopt;
    }
    delta = std::move(std::get<store::StoredDelta>(*chunk));
  } else {
    auto d = log.stored_delta(rev);
    if (!d) return store_error(d.error());
    delta = std::move(*d);
  }
  record.size = delta->data.size();
  if (!sink.encoded_value(record.encode()) || !sink.bytes(delta->data)) return sink_failure(sink);
  return std::nullopt;
}

// The record, then `data` (a computed delta or a rebuilt full text).
RepoError send_bytes(std::string_view kind, Record record, ByteView data, RecordSink& sink) {
  record.kind = kind;
  record.size = data.size();
  if (!sink.encoded_value(record.encode()) || !sink.bytes(data)) return sink_failure(sink);
  return std::nullopt;
}

}  // namespace

RepoError emit_revisions(const store::Revlog& log, std::span<const int> revs, const EmitFields& fields,
                         const std::function<store::Node(int)>& linknode, RecordSink& sink) {
  std::unordered_set<int> emitted;
  int previous = store::kNullRev;
  for (int rev : revs) {
    const auto& e = log.entry(rev);
    Record record;
    record.node = &e.node;
    if (fields.parents) {
      record.p1 = &log.node(e.p1);
      record.p2 = &log.node(e.p2);
    }
    store::Node link{};
    if (fields.linknode) {
      link = linknode(rev);
      record.linknode = &link;
    }
    if (!fields.revision) {
      if (!sink.encoded_value(record.encode())) return sink_failure(sink);
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
    const int base = client_has(e.p1) ? e.p1 : previous;
    RepoError failed;
    if (client_has(stored_base)) {
      record.delta_base = &log.node(stored_base);
      failed = send_stored(log, rev, "delta", record, fields.splice_min_bytes, sink);
    } else if (base == store::kNullRev && stored_base == store::kNullRev && sink.splices()) {
      // A full text stored as one: its chunk is the revision.
      failed = send_stored(log, rev, "revision", record, fields.splice_min_bytes, sink);
    } else {
      auto text = log.rawtext(rev);
      if (!text) return store_error(text.error());
      if (base != store::kNullRev) {
        auto base_text = log.rawtext(base);
        if (!base_text) return store_error(base_text.error());
        // Whole lines, as Mercurial's own deltas: its clients read a
        // manifest delta's inserted bytes as manifest lines (readdelta).
        mpatch::Bytes delta = mpatch::line_diff(**base_text, **text);
        record.delta_base = &log.node(base);
        failed = send_bytes("delta", record, delta, sink);
      } else {
        failed = send_bytes("revision", record, **text, sink);
      }
    }
    if (failed) return failed;
    emitted.insert(rev);
    previous = rev;
  }
  return std::nullopt;
}

}  // namespace hgrpc::server::repo
