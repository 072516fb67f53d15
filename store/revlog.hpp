#pragma once
// One revlog (changelog, manifest or filelog), opened at one moment: its
// index is read once and fixed, so every reader of this object sees the
// same revisions even while Mercurial appends to the files. Re-open to see
// new revisions. Copies share their state; every method is safe to call from
// many threads at once (pread on a shared descriptor, a lazily built node
// map, a mutex-guarded cache of recent full texts).
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "store/error.hpp"
#include "store/node.hpp"
#include "store/revlog_index.hpp"

namespace hgrpc::store {

struct RevlogOptions {
  bool verify_hashes = true;                              // check each rebuilt rawtext's node
  std::uint64_t max_text_bytes = std::uint64_t{1} << 30;  // largest rawtext we rebuild
  std::uint64_t max_delta_bytes = std::uint64_t{1} << 30; // largest decompressed delta
  std::uint64_t max_index_bytes = std::uint64_t{1} << 30; // largest .i file we read
  std::uint64_t cache_bytes = std::uint64_t{8} << 20;     // recent full texts kept per revlog
};

// A rev's stored delta: base == kNullRev means `data` is a full text.
struct StoredDelta {
  int base = kNullRev;
  Bytes data;
};

// A rev's chunk as stored, when it is one whole zstd frame that declares its
// size (see whole_zstd_frame_size): sent as it is, it decodes to the stored
// delta (or full text, base == kNullRev) of `size` bytes.
struct StoredZstdChunk {
  int base = kNullRev;
  Bytes frame;
  std::uint64_t size = 0;
};

class Revlog {
 public:
  // `index_path` names the .i file and `data_path` the .d file; `name` is
  // what error messages call it (e.g. "data/a.txt.i"). A missing index is an
  // empty revlog.
  static Result<Revlog> open(const std::filesystem::path& index_path,
                             const std::filesystem::path& data_path, std::string name,
                             const RevlogOptions& options = {});
  // A revlog over bytes in memory (for the fuzzer and tests): the .i file's
  // bytes and, when not inline, the .d file's.
  static Result<Revlog> from_memory(Bytes index_file, Bytes data_file, std::string name,
                                    const RevlogOptions& options = {});
  // store_dir/<radix>.i and .d, e.g. open(store, "00manifest").
  static Result<Revlog> open(const std::filesystem::path& store_dir, const std::string& radix,
                             const RevlogOptions& options = {});

  int size() const;
  const IndexEntry& entry(int rev) const;  // 0 <= rev < size()
  const std::string& name() const;
  bool generaldelta() const;
  bool inline_data() const;

  // The rev whose node is `node`: kNullRev for the null node, nullopt if unknown.
  std::optional<int> rev(const Node& node) const;
  const Node& node(int rev) const;  // kNullNode for kNullRev

  // The rev this rev's chunk is a delta against, or kNullRev for a full text.
  int delta_parent(int rev) const;
  // The chunk as stored on disk (compressed, with its header byte).
  Result<Bytes> raw_chunk(int rev) const;
  // The decompressed stored delta (or full text) of a rev.
  Result<StoredDelta> stored_delta(int rev) const;
  // The stored chunk as it is when it is a whole zstd frame needing a window
  // of at most max_window bytes, else the decompressed stored delta: one read.
  Result<std::variant<StoredZstdChunk, StoredDelta>> stored_zstd_chunk_or_delta(int rev,
                                                                              std::uint64_t max_window) const;
  // The full rawtext, rebuilt along the delta chain (and hash-checked unless
  // disabled). Refuses revisions flagged censored, ellipsis or extstored.
  Result<std::shared_ptr<const Bytes>> rawtext(int rev) const;

 private:
  struct State;
  // The most bytes rev's stored chunk may decompress to.
  std::uint64_t stored_size_limit(int rev) const;
  // Decompresses rev's chunk (its flags already checked by the caller).
  Result<StoredDelta> delta_of_chunk(int rev, ByteView chunk) const;
  explicit Revlog(std::shared_ptr<State> state) : state_(std::move(state)) {}
  std::shared_ptr<State> state_;
};

}  // namespace hgrpc::store
