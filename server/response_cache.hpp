#pragma once
// ResponseCache: successful responses of cacheable commands, kept as
// CachedResponses (see cached_response.hpp) under a key that names the
// command, its canonical arguments and data, the repository state the answer
// depends on and whether the response splices stored zstd frames.
//
// - Bounded in bytes (--cache-bytes), least recently used evicted first.
//   LRU because what is hot is a small set of large responses (the current
//   heads' clone, asked by a CI fleet) and recency tracks it with one list;
//   frequency counts buy little when a repository's new commit makes every
//   old key unreachable anyway.
// - Admission (--cache-admit): `first` stores every answer that fits;
//   `second` stores an answer only when its key was asked before (a bounded
//   "doorkeeper" set of key hashes) or other requests waited for it, so a
//   stream of one-off pulls does not evict the clone everybody asks for.
// - Single flight: while one request computes a key, identical requests wait
//   for it (at most --cache-wait) and replay its answer; past the wait, or
//   when the first fails, they compute on their own.
// - Shared tier (optional, --cache-url): a miss asks it before computing,
//   and a stored answer is also written to it. Its failures are counted and
//   otherwise ignored: the answer is computed as without it.
// - Recompression (--cache-recompress): a kept zstd-8mb-frames answer is
//   first the stream's own bytes (stored chunks spliced); one background
//   thread then compresses it whole (CachedResponse::pre_encoded_form) and
//   swaps the smaller form in. The first answer, and the identical requests
//   waiting for it, never wait for that pass.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "framing/bytes.hpp"
#include "server/cached_response.hpp"
#include "server/command_registry.hpp"
#include "server/response_sink.hpp"

namespace hgrpc::server {

enum class CacheAdmission { First, Second };

struct ResponseCacheOptions {
  std::uint64_t max_bytes = std::uint64_t{64} << 20;        // --cache-bytes
  std::uint64_t max_entry_bytes = std::uint64_t{32} << 20;  // larger answers are not kept
  CacheAdmission admission = CacheAdmission::First;
  std::chrono::milliseconds wait{10000};  // an identical request waits this long for the first
  std::size_t doorkeeper_keys = 65536;    // key hashes remembered for `second`
  // --cache-recompress (hgrpcd's default is on): a zstd-8mb-frames answer's
  // stored chunks are decoded and compressed with the rest in the
  // background, after it is kept; recordings waiting for that hold at most
  // 2 x max_entry_bytes, more are not recompressed.
  bool recompress = false;
  // --cache-recompress-level: zstd level of that pass. Above the streams'
  // own 3 because it is paid once, off the request path, and saved on
  // every hit (bench repository: 3 -> 21.6 MB, 9 -> 20.9 MB, for 0.4 s ->
  // 1.6 s of the background thread).
  int recompress_level = 9;
};

// What a shared tier did (the hgrpcd_cache_tier_* metrics).
struct SharedCacheTierStats {
  std::uint64_t gets = 0;       // lookups sent to the tier
  std::uint64_t hits = 0;       // ... that found a value
  std::uint64_t puts = 0;       // values written
  std::uint64_t failures = 0;   // operations that failed (connect, I/O, timeout, error reply)
  std::uint64_t skipped = 0;    // operations not tried: backing off after a failure, or pool busy
  std::uint64_t too_large = 0;  // values larger than the tier accepts, not written
};

// A store several hgrpcd replicas share (Redis). Keys are the cache's
// digests (64 hex digits); values CachedResponse::serialize() forms.
class SharedCacheTier {
 public:
  virtual ~SharedCacheTier() = default;
  // nullopt: absent, or the tier failed (it counts its own failures).
  virtual std::optional<framing::Bytes> get(const std::string& digest) = 0;
  virtual void put(const std::string& digest, framing::ByteView value) = 0;
  // A name for logs: "redis://127.0.0.1:6379".
  virtual std::string describe() const = 0;
  virtual SharedCacheTierStats stats() const = 0;
};

struct ResponseCacheStats {
  std::uint64_t hits = 0;           // answered from memory
  std::uint64_t shared = 0;         // waited for an identical request and replayed its answer
  std::uint64_t tier_hits = 0;      // answered from the shared tier
  std::uint64_t misses = 0;         // computed
  std::uint64_t stores = 0;         // answers kept
  std::uint64_t not_admitted = 0;   // `second`: answers seen once, not kept
  std::uint64_t too_large = 0;      // answers above max_entry_bytes
  std::uint64_t evictions = 0;
  std::uint64_t wait_timeouts = 0;  // waited --cache-wait in vain, then computed
  std::uint64_t tier_dropped = 0;   // shared-tier writes dropped (queue full)
  std::uint64_t recompressed = 0;   // answers swapped for their recompressed form
  std::uint64_t recompress_skipped = 0;  // not recompressed: queue full, evicted, or not smaller
  std::uint64_t recompress_pending = 0;  // answers waiting for (or in) the recompression pass
  std::uint64_t bytes = 0;          // memory held now
  std::uint64_t entries = 0;
  std::uint64_t waiting = 0;        // requests waiting for an identical one now
};

class ResponseCache {
 public:
  explicit ResponseCache(ResponseCacheOptions options, std::unique_ptr<SharedCacheTier> tier = nullptr);
  ~ResponseCache();

  // What to do about one key.
  struct Flight;
  struct Lookup {
    std::shared_ptr<const CachedResponse> response;  // set: replay it
    CacheOutcome outcome = CacheOutcome::Miss;       // Hit, Shared, TierHit, Miss (lead) or Uncached
    std::shared_ptr<Flight> flight;                  // set: this request leads; complete() it
  };
  Lookup lookup(const std::string& key);
  // The leader's answer: the recording of a successful response, or nullptr
  // (failed, the peer left, or it overflowed: `too_large`). recording: the
  // answer as recorded, with its stored chunks, when response is its
  // spliced pre-encoded form and recompresses() (the background pass
  // starts from it).
  void complete(const std::string& key, Lookup& lead, std::shared_ptr<const CachedResponse> response,
                bool too_large = false, std::shared_ptr<const CachedResponse> recording = nullptr);

  std::uint64_t max_entry_bytes() const { return options_.max_entry_bytes; }
  bool recompresses() const { return options_.recompress; }
  ResponseCacheStats stats() const;
  const SharedCacheTier* tier() const { return tier_.get(); }
  // Blocks until every recompression and shared-tier write queued so far is
  // done (tests, and an orderly shutdown).
  void settle();

  // sha256 hex of the key: the shared tier's key.
  static std::string digest(const std::string& key);

 private:
  struct Entry {
    std::string key;
    std::shared_ptr<const CachedResponse> response;
    std::size_t bytes = 0;
  };
  void insert_locked(const std::string& key, std::shared_ptr<const CachedResponse> response);
  void finish_flight(const std::string& key, const std::shared_ptr<Flight>& flight,
                     std::shared_ptr<const CachedResponse> response);
  // Writes to the shared tier happen on one thread of their own, so that a
  // slow tier never delays an answer; a full queue drops the write.
  void queue_tier_put(std::string digest, std::shared_ptr<const CachedResponse> response);
  void tier_writer();
  // The recompression pass, on a thread of its own (--cache-recompress).
  struct RecompressJob {
    std::string key;
    std::shared_ptr<const CachedResponse> answer;     // what the cache holds now
    std::shared_ptr<const CachedResponse> recording;  // what it is recompressed from
  };
  bool queue_recompression(RecompressJob job);
  void recompressor();
  void swap_in(const RecompressJob& job, std::shared_ptr<const CachedResponse> better);

  ResponseCacheOptions options_;
  std::unique_ptr<SharedCacheTier> tier_;
  mutable std::mutex mutex_;
  std::list<Entry> lru_;  // most recent first
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
  std::unordered_map<std::string, std::shared_ptr<Flight>> flights_;
  std::unordered_set<std::size_t> doorkeeper_;
  std::uint64_t bytes_ = 0;
  std::uint64_t waiting_ = 0;
  ResponseCacheStats stats_;

  std::mutex tier_mutex_;
  std::condition_variable tier_cv_;
  std::list<std::pair<std::string, std::shared_ptr<const CachedResponse>>> tier_queue_;
  std::uint64_t tier_queued_bytes_ = 0;
  bool stopping_ = false;
  std::thread tier_thread_;

  mutable std::mutex recompress_mutex_;
  std::condition_variable recompress_cv_;
  std::list<RecompressJob> recompress_queue_;
  std::uint64_t recompress_queued_bytes_ = 0;  // recordings queued or in the pass
  std::size_t recompress_pending_ = 0;
  std::atomic<bool> recompress_stopping_{false};  // also stops a pass under way
  std::thread recompress_thread_;
};

// Requests whose arguments and data together exceed this are answered
// without the cache: hashing them would cost what the answer costs.
inline constexpr std::uint64_t kMaxCachedRequestBytes = std::uint64_t{1} << 20;

// The key of one request: the command, the repository state it is answered
// on (empty for the patch commands), whether the response splices stored
// zstd frames, and the sha256 of its canonical CBOR arguments and its data.
// nullopt: the request is too large to key (kMaxCachedRequestBytes).
std::optional<std::string> response_cache_key(std::string_view command, const framing::json& args,
                                              std::optional<framing::ByteView> data, std::string_view state,
                                              bool splices);

// Answers one cacheable request: replays a cached answer into sink, or runs
// compute() with the sink recording and keeps what it wrote when it
// succeeds. cache may be null (compute() alone).
CommandStatus answer_with_cache(ResponseCache* cache, const std::string& key, ResponseSink& sink,
                                const std::function<CommandStatus()>& compute);

}  // namespace hgrpc::server
