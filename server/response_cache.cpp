#include "server/response_cache.hpp"

#include <array>
#include <functional>
#include <initializer_list>
#include <stdexcept>

#include <openssl/evp.h>

#include "framing/bytes.hpp"

namespace hgrpc::server {

struct ResponseCache::Flight {
  std::mutex mutex;
  std::condition_variable done_cv;
  bool done = false;
  std::size_t waiting = 0;  // followers, counted under the cache's mutex
  std::shared_ptr<const CachedResponse> response;
};

ResponseCache::ResponseCache(ResponseCacheOptions options, std::unique_ptr<SharedCacheTier> tier)
    : options_(options), tier_(std::move(tier)) {
  if (tier_) tier_thread_ = std::thread([this] { tier_writer(); });
  if (options_.recompress) recompress_thread_ = std::thread([this] { recompressor(); });
}

ResponseCache::~ResponseCache() {
  // The recompressor first: its last job may still queue a tier write.
  {
    std::lock_guard lock(recompress_mutex_);
    recompress_stopping_ = true;
  }
  recompress_cv_.notify_all();
  if (recompress_thread_.joinable()) recompress_thread_.join();
  {
    std::lock_guard lock(tier_mutex_);
    stopping_ = true;
  }
  tier_cv_.notify_all();
  if (tier_thread_.joinable()) tier_thread_.join();
}

namespace {

// sha256 hex of the parts, each preceded by its length (so that no two
// different lists of parts hash the same bytes).
std::string sha256_hex(std::initializer_list<framing::ByteView> parts) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  bool ok = ctx && EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) == 1;
  for (auto p : parts) {
    const std::uint64_t n = p.size();
    ok = ok && EVP_DigestUpdate(ctx.get(), &n, sizeof n) == 1 && EVP_DigestUpdate(ctx.get(), p.data(), p.size()) == 1;
  }
  std::array<unsigned char, 32> out{};
  unsigned int size = 0;
  if (!ok || EVP_DigestFinal_ex(ctx.get(), out.data(), &size) != 1 || size != out.size())
    throw std::runtime_error("OpenSSL SHA-256 failed");
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(64);
  for (auto b : out) {
    hex += kDigits[b >> 4];
    hex += kDigits[b & 0xF];
  }
  return hex;
}

}  // namespace

std::string ResponseCache::digest(const std::string& key) { return sha256_hex({framing::as_bytes(key)}); }

std::optional<std::string> response_cache_key(std::string_view command, const framing::json& args,
                                              std::optional<framing::ByteView> data, std::string_view state,
                                              bool splices) {
  const framing::Bytes cbor = framing::cbor_encode(args);
  const std::uint64_t data_size = data ? data->size() : 0;
  if (cbor.size() + data_size > kMaxCachedRequestBytes) return std::nullopt;
  const framing::Bytes has_data{static_cast<std::uint8_t>(data ? 1 : 0)};
  std::string key(command);
  key += splices ? "|spliced|" : "|plain|";
  key += sha256_hex({framing::as_bytes(state), cbor, has_data, data.value_or(framing::ByteView{})});
  return key;
}

ResponseCache::Lookup ResponseCache::lookup(const std::string& key) {
  std::unique_lock lock(mutex_);
  if (auto it = index_.find(key); it != index_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second);
    ++stats_.hits;
    return Lookup{it->second->response, CacheOutcome::Hit, nullptr};
  }
  if (auto f = flights_.find(key); f != flights_.end()) {
    // Another request computes this answer: wait for it.
    auto flight = f->second;
    ++flight->waiting;
    ++waiting_;
    lock.unlock();
    bool done = false;
    {
      std::unique_lock fl(flight->mutex);
      done = flight->done_cv.wait_for(fl, options_.wait, [&] { return flight->done; });
    }
    lock.lock();
    --waiting_;
    if (done && flight->response) {
      ++stats_.shared;
      return Lookup{flight->response, CacheOutcome::Shared, nullptr};
    }
    if (!done) ++stats_.wait_timeouts;
    ++stats_.misses;
    return Lookup{nullptr, CacheOutcome::Uncached, nullptr};
  }
  auto flight = std::make_shared<Flight>();
  flights_.emplace(key, flight);
  if (tier_) {
    // Ask the shared tier before computing (outside the lock: it may be slow).
    lock.unlock();
    std::shared_ptr<const CachedResponse> found;
    if (auto bytes = tier_->get(digest(key))) {
      if (auto parsed = CachedResponse::parse(*bytes)) found = std::make_shared<const CachedResponse>(std::move(*parsed));
    }
    lock.lock();
    if (found) {
      ++stats_.tier_hits;
      if (found->memory_bytes() + key.size() <= options_.max_entry_bytes) insert_locked(key, found);
      lock.unlock();
      finish_flight(key, flight, found);
      return Lookup{found, CacheOutcome::TierHit, nullptr};
    }
  }
  ++stats_.misses;
  return Lookup{nullptr, CacheOutcome::Miss, std::move(flight)};
}

void ResponseCache::insert_locked(const std::string& key, std::shared_ptr<const CachedResponse> response) {
  const std::size_t size = response->memory_bytes() + key.size();
  if (auto it = index_.find(key); it != index_.end()) {
    bytes_ -= it->second->bytes;
    lru_.erase(it->second);
    index_.erase(it);
  }
  while (!lru_.empty() && bytes_ + size > options_.max_bytes) {
    bytes_ -= lru_.back().bytes;
    index_.erase(lru_.back().key);
    lru_.pop_back();
    ++stats_.evictions;
  }
  if (size > options_.max_bytes) return;
  lru_.push_front(Entry{key, std::move(response), size});
  index_.emplace(key, lru_.begin());
  bytes_ += size;
  ++stats_.stores;
}

void ResponseCache::finish_flight(const std::string& key, const std::shared_ptr<Flight>& flight,
                                  std::shared_ptr<const CachedResponse> response) {
  {
    std::lock_guard lock(mutex_);
    if (auto f = flights_.find(key); f != flights_.end() && f->second == flight) flights_.erase(f);
  }
  {
    std::lock_guard fl(flight->mutex);
    flight->done = true;
    flight->response = std::move(response);
  }
  flight->done_cv.notify_all();
}

void ResponseCache::complete(const std::string& key, Lookup& lead, std::shared_ptr<const CachedResponse> response,
                             bool too_large, std::shared_ptr<const CachedResponse> recording) {
  auto flight = std::move(lead.flight);
  if (!flight) return;
  bool to_tier = false, kept = false;
  {
    std::lock_guard lock(mutex_);
    if (too_large) ++stats_.too_large;
    if (response) {
      bool admit = options_.admission == CacheAdmission::First || flight->waiting > 0;
      if (options_.admission == CacheAdmission::Second) {
        const std::size_t h = std::hash<std::string>{}(key);
        if (doorkeeper_.contains(h)) {
          admit = true;
        } else {
          if (doorkeeper_.size() >= options_.doorkeeper_keys) doorkeeper_.clear();
          doorkeeper_.insert(h);
        }
      }
      if (response->memory_bytes() + key.size() > options_.max_entry_bytes) {
        ++stats_.too_large;
      } else if (!admit) {
        ++stats_.not_admitted;
      } else {
        insert_locked(key, response);
        kept = true;
        to_tier = tier_ != nullptr;
      }
    }
  }
  // A recompressed answer goes to the tier once it is made (swap_in).
  if (kept && recording && options_.recompress && queue_recompression({key, response, std::move(recording)}))
    to_tier = false;
  if (to_tier) queue_tier_put(digest(key), response);
  finish_flight(key, flight, std::move(response));
}

bool ResponseCache::queue_recompression(RecompressJob job) {
  {
    std::lock_guard lock(recompress_mutex_);
    const auto size = job.recording->memory_bytes();
    if (recompress_queued_bytes_ + size > 2 * options_.max_entry_bytes) {
      std::lock_guard stats_lock(mutex_);
      ++stats_.recompress_skipped;
      return false;
    }
    recompress_queued_bytes_ += size;
    ++recompress_pending_;
    recompress_queue_.push_back(std::move(job));
  }
  recompress_cv_.notify_all();
  return true;
}

void ResponseCache::recompressor() {
  std::unique_lock lock(recompress_mutex_);
  for (;;) {
    recompress_cv_.wait(lock, [&] { return recompress_stopping_ || !recompress_queue_.empty(); });
    if (recompress_stopping_) return;  // what is queued stays spliced
    RecompressJob job = std::move(recompress_queue_.front());
    recompress_queue_.pop_front();
    lock.unlock();
    std::shared_ptr<const CachedResponse> better;
    if (auto whole = job.recording->pre_encoded_form(
            {.recompress_spliced = true, .zstd_level = options_.recompress_level, .stop = &recompress_stopping_}))
      better = std::make_shared<const CachedResponse>(std::move(*whole));
    swap_in(job, better);
    lock.lock();
    recompress_queued_bytes_ -= job.recording->memory_bytes();
    --recompress_pending_;
    if (recompress_pending_ == 0) recompress_cv_.notify_all();  // settle()
  }
}

void ResponseCache::swap_in(const RecompressJob& job, std::shared_ptr<const CachedResponse> better) {
  bool swapped = false;
  {
    std::lock_guard lock(mutex_);
    auto it = index_.find(job.key);
    // Still the entry it was made for (not evicted, not replaced), and smaller.
    if (better && it != index_.end() && it->second->response == job.answer &&
        better->memory_bytes() < job.answer->memory_bytes()) {
      const std::size_t size = better->memory_bytes() + job.key.size();
      bytes_ = bytes_ - it->second->bytes + size;
      it->second->response = better;
      it->second->bytes = size;
      swapped = true;
      ++stats_.recompressed;
    } else {
      ++stats_.recompress_skipped;
    }
  }
  if (tier_) queue_tier_put(digest(job.key), swapped ? better : job.answer);
}

void ResponseCache::queue_tier_put(std::string digest, std::shared_ptr<const CachedResponse> response) {
  {
    std::lock_guard lock(tier_mutex_);
    const auto size = response->memory_bytes();
    if (tier_queued_bytes_ + size > 2 * options_.max_entry_bytes) {
      std::lock_guard stats_lock(mutex_);
      ++stats_.tier_dropped;
      return;
    }
    tier_queued_bytes_ += size;
    tier_queue_.emplace_back(std::move(digest), std::move(response));
  }
  tier_cv_.notify_all();  // the writer, not a settle() waiter only
}

void ResponseCache::tier_writer() {
  std::unique_lock lock(tier_mutex_);
  for (;;) {
    tier_cv_.wait(lock, [&] { return stopping_ || !tier_queue_.empty(); });
    if (tier_queue_.empty()) return;  // stopping, nothing left
    auto [digest, response] = std::move(tier_queue_.front());
    tier_queue_.pop_front();
    lock.unlock();
    tier_->put(digest, response->serialize());
    lock.lock();
    tier_queued_bytes_ -= response->memory_bytes();
    if (tier_queue_.empty()) tier_cv_.notify_all();  // settle()
  }
}

void ResponseCache::settle() {
  {
    std::unique_lock lock(recompress_mutex_);
    recompress_cv_.wait(lock, [&] { return recompress_pending_ == 0 || recompress_stopping_; });
  }
  std::unique_lock lock(tier_mutex_);
  tier_cv_.wait(lock, [&] { return tier_queued_bytes_ == 0; });
}

ResponseCacheStats ResponseCache::stats() const {
  std::unique_lock lock(mutex_);
  auto s = stats_;
  s.bytes = bytes_;
  s.entries = lru_.size();
  s.waiting = waiting_;
  lock.unlock();
  std::lock_guard recompress_lock(recompress_mutex_);
  s.recompress_pending = recompress_pending_;
  return s;
}

CommandStatus answer_with_cache(ResponseCache* cache, const std::string& key, ResponseSink& sink,
                                const std::function<CommandStatus()>& compute) {
  if (cache == nullptr) return compute();
  auto lookup = cache->lookup(key);
  sink.set_cache_outcome(lookup.outcome);
  if (lookup.response) {
    lookup.response->replay(sink, lookup.response);
    return {};
  }
  if (!lookup.flight) return compute();  // waited in vain: compute, unrecorded
  ResponseRecorder recorder(cache->max_entry_bytes());
  sink.record_into(&recorder);
  CommandStatus status;
  try {
    status = compute();
  } catch (...) {
    sink.record_into(nullptr);
    cache->complete(key, lookup, nullptr);
    throw;
  }
  sink.record_into(nullptr);
  std::shared_ptr<const CachedResponse> answer, recording;
  if (status && sink.ok() && !recorder.overflowed()) {
    answer = std::make_shared<const CachedResponse>(recorder.take());
    // Kept as the stream would carry it: its replay is then a copy (and
    // the recording is what the background pass recompresses).
    if (sink.splices()) {
      if (auto whole = answer->pre_encoded_form()) {
        if (cache->recompresses() && answer->has_spliced()) recording = answer;
        answer = std::make_shared<const CachedResponse>(std::move(*whole));
      }
    }
  }
  cache->complete(key, lookup, std::move(answer), recorder.overflowed(), std::move(recording));
  return status;
}

}  // namespace hgrpc::server
