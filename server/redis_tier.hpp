#pragma once
// RedisTier: the response cache's shared tier (--cache-url) on a Redis
// server, through hiredis. Several hgrpcd replicas point at one Redis and
// answer from what any of them computed.
//
// - Keys "hgrpcd:v1:<digest>", values CachedResponse::serialize() forms,
//   written with SET ... EX --cache-ttl. Why Redis: answers are tens of MiB
//   (memcached's default item limit is 1 MiB) and it evicts least recently
//   used keys itself (maxmemory-policy allkeys-lru).
// - Each operation is bounded by --cache-timeout: connect, and every read or
//   write on the socket (hiredis' socket timeouts).
// - Thread-safe: a small pool of connections behind a mutex; a connection is
//   used by one request at a time and dropped on any I/O failure.
// - A failure never becomes an error: the request is answered as without
//   the tier. After a connection or I/O failure the tier is skipped for a
//   back-off (1 s, doubling up to 30 s), so a dead or slow Redis costs one
//   request the timeout, not every request; when the back-off ends, one
//   request probes while the others go on skipping.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "compat/expected.hpp"
#include "server/response_cache.hpp"

struct redisContext;

namespace hgrpc::server {

// redis://HOST[:PORT][/DB]; HOST may be [v6 address].
struct RedisAddress {
  std::string host;
  int port = 6379;
  int db = 0;
};
hgrpc::expected<RedisAddress, std::string> parse_redis_url(std::string_view url);

struct RedisTierOptions {
  RedisAddress address;
  std::chrono::milliseconds timeout{200};       // --cache-timeout
  std::chrono::seconds ttl{86400};              // --cache-ttl
  std::size_t max_connections = 8;              // pooled; more requests wait up to `timeout`
  std::uint64_t max_value_bytes = std::uint64_t{512} << 20;  // Redis' proto-max-bulk-len default
  std::chrono::milliseconds backoff_initial{1000};
  std::chrono::milliseconds backoff_max{30000};
};

class RedisTier : public SharedCacheTier {
 public:
  explicit RedisTier(RedisTierOptions options);
  ~RedisTier() override;
  RedisTier(const RedisTier&) = delete;
  RedisTier& operator=(const RedisTier&) = delete;

  std::optional<framing::Bytes> get(const std::string& digest) override;
  void put(const std::string& digest, framing::ByteView value) override;
  std::string describe() const override;
  SharedCacheTierStats stats() const override;

  static std::string key(const std::string& digest) { return "hgrpcd:v1:" + digest; }

 private:
  struct ContextFree {
    void operator()(redisContext* c) const;
  };
  using Connection = std::unique_ptr<redisContext, ContextFree>;

  // A connection to use, or null: backing off (counted as skipped), the pool
  // is busy past the timeout, or connecting failed (counted, back-off begun).
  Connection acquire();
  // A connection back after a successful operation, or its failure (null).
  void release(Connection c);
  // A connection whose operation failed (I/O error, timeout): closed, and
  // the back-off begins.
  void lost(Connection c);
  void failed();
  Connection connect();

  RedisTierOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable returned_;
  std::vector<Connection> idle_;
  std::size_t open_ = 0;  // idle and in use
  std::chrono::steady_clock::time_point skip_until_{};
  std::chrono::milliseconds backoff_;
  bool probing_ = false;  // one request tries the tier after a back-off

  std::atomic<std::uint64_t> gets_{0}, hits_{0}, puts_{0}, failures_{0}, skipped_{0}, too_large_{0};
};

// The shared tier a --cache-url names (only redis:// for now). Connects
// lazily: a Redis that is down at start is a tier failure, not a start error.
hgrpc::expected<std::unique_ptr<SharedCacheTier>, std::string> make_shared_tier(std::string_view url,
                                                                                std::chrono::milliseconds timeout,
                                                                                std::chrono::seconds ttl);

}  // namespace hgrpc::server
