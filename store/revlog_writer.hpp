#pragma once
// Appends revisions to a version-1 revlog, as Mercurial 6.3.2 lays them out:
// 64-byte index entries, inline data until the data passes 131072 bytes
// (revlog.py's _maxinline; the check runs after every added revision), then
// split into .i (entries only) and .d (chunks), chunks compressed as
// revlog.compress does (see compress_chunk).
//
// Delta rule (a simplified sparse-revlog): the candidate base is p1 (p2 if
// p1 is null) in a generaldelta revlog, the previous revision otherwise
// (changelogs: "plain-cl-delta"). The delta is stored when its compressed
// chunk is no larger than the text, the chain it ends has at most
// max_chain_length revisions, and the chain's compressed bytes (snapshot
// included) stay within max_chain_ratio times the text (Mercurial's
// LIMIT_DELTA2TEXT = 2); otherwise the full text is stored. A delta received
// against that same base is stored as received (no new diff). With
// full_texts_as_received (the manifest log and filelogs), a revision received
// as a full text is stored as one: v2 servers (5.8's emitrevisions and
// hgrpcd) send full texts where their store holds a snapshot, so the chain
// is cut where the sender cut it, and diffing against p1 rarely passed the
// limits (bench repository: 5,411 diffs saved, the store byte for byte the same).
//
// Every revision is rebuilt to its full rawtext and its node checked
// against sha1(parents, text) before anything is written; a mismatch is an
// error naming the revlog and the node. A node already present is not added
// again (its rev is returned), as Mercurial's addgroup does.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "store/chunk.hpp"
#include "store/error.hpp"
#include "store/node.hpp"
#include "store/revlog.hpp"
#include "store/transaction.hpp"

namespace hgrpc::store {

struct RevlogWriterOptions {
  Compression compression = Compression::kZstd;
  int zstd_level = 3;                                  // Mercurial's default
  std::uint64_t max_inline_bytes = 131072;             // revlog.py _maxinline
  int max_chain_length = 1000;                         // SPARSE_REVLOG_MAX_CHAIN_LENGTH
  std::uint64_t max_chain_ratio = 2;                   // LIMIT_DELTA2TEXT
  std::uint64_t max_text_bytes = std::uint64_t{1} << 30;  // largest rawtext accepted
  std::uint64_t cache_bytes = std::uint64_t{32} << 20;    // recent full texts (delta bases)
  // Store only deltas of whole lines (mpatch::line_diff), and received
  // deltas only when they are so: Mercurial reads manifest deltas as lines.
  bool line_deltas = false;
  // Store a revision received as a full text as one (see above). Not for
  // the changelog: changesetdata sends every changeset as a full text.
  bool full_texts_as_received = false;
};

// A revision as a peer sends it: the full rawtext, or an mpatch delta
// against the rawtext of `delta_base` (which must be in the revlog; the null
// node means the empty text).
struct IncomingRevision {
  Node node{};
  Node p1{};
  Node p2{};
  int linkrev = 0;
  std::optional<Node> delta_base;
  ByteView data;
};

class RevlogWriter {
 public:
  // Opens (or creates, on the first add) store_dir/index_name and
  // store_dir/data_name. A new revlog is generaldelta if `generaldelta`; an
  // existing one keeps its format. Every file touched is recorded in `tx`,
  // which must outlive the writer. `name` is used in error messages.
  static Result<RevlogWriter> open(Transaction& tx, std::string index_name, std::string data_name,
                                   bool generaldelta, const RevlogWriterOptions& options = {});

  RevlogWriter(RevlogWriter&&) noexcept;
  RevlogWriter& operator=(RevlogWriter&&) noexcept;
  ~RevlogWriter();

  int size() const;
  std::optional<int> rev(const Node& node) const;  // kNullRev for the null node
  const Node& node(int rev) const;
  bool inline_data() const;
  bool has_data_file() const { return !inline_data(); }
  const std::string& name() const;

  // Verifies and appends one revision; returns its rev.
  Result<int> add(const IncomingRevision& revision);
  // Frees the cached full texts (delta bases): a writer that adds nothing
  // for a while; later adds rebuild bases from disk until it fills again.
  void release_cache();
  // The full rawtext of a rev of this revlog (kNullRev: empty).
  Result<std::shared_ptr<const Bytes>> rawtext(int rev);

 private:
  struct State;
  explicit RevlogWriter(std::unique_ptr<State> state);
  Result<void> split();
  std::unique_ptr<State> state_;
};

}  // namespace hgrpc::store
