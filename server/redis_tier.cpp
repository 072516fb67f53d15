#include "server/redis_tier.hpp"

#include <hiredis/hiredis.h>
#include <sys/time.h>

#include <algorithm>
#include <charconv>
#include <climits>

#include <fmt/format.h>

namespace hgrpc::server {

namespace {

// A whole decimal number in [lo, hi], nothing else (no sign, no spaces).
std::optional<int> decimal(std::string_view s, int lo, int hi) {
  if (s.empty() || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) return std::nullopt;
  long long v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < lo || v > hi) return std::nullopt;
  return static_cast<int>(v);
}

timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

struct ReplyFree {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyFree>;

}  // namespace

hgrpc::expected<RedisAddress, std::string> parse_redis_url(std::string_view url) {
  const auto bad = [&](std::string_view why) {
    return hgrpc::unexpected<std::string>(fmt::format("--cache-url \"{}\": {}", url, why));
  };
  constexpr std::string_view scheme = "redis://";
  if (!url.starts_with(scheme)) return bad("the scheme must be redis:// (redis://HOST:PORT[/DB])");
  std::string_view rest = url.substr(scheme.size());
  if (rest.find('@') != std::string_view::npos) return bad("credentials are not supported");
  if (rest.find_first_of("?#") != std::string_view::npos) return bad("a query or fragment is not supported");
  const auto slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);

  RedisAddress a;
  std::string_view host, port;
  bool has_port = false;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return bad("the host's '[' has no ']'");
    host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return bad("expected ':PORT' after the host's ']'");
      has_port = true;
      port = after.substr(1);
    }
  } else {
    const auto colon = authority.rfind(':');
    if (colon != std::string_view::npos && authority.find(':') != colon)
      return bad("an IPv6 host must be in brackets: redis://[ADDRESS]:PORT");
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      has_port = true;
      port = authority.substr(colon + 1);
    }
  }
  if (host.empty()) return bad("no host");
  a.host = std::string(host);
  if (has_port) {
    auto p = decimal(port, 1, 65535);
    if (!p) return bad(fmt::format("port \"{}\" is not a number from 1 to 65535", port));
    a.port = *p;
  }
  if (slash != std::string_view::npos && slash + 1 < rest.size()) {
    const std::string_view db = rest.substr(slash + 1);
    auto d = decimal(db, 0, INT_MAX);
    if (!d) return bad(fmt::format("database \"{}\" is not a number from 0 to {}", db, INT_MAX));
    a.db = *d;
  }
  return a;
}

void RedisTier::ContextFree::operator()(redisContext* c) const { redisFree(c); }

RedisTier::RedisTier(RedisTierOptions options) : options_(std::move(options)), backoff_(options_.backoff_initial) {
  options_.max_connections = std::max<std::size_t>(options_.max_connections, 1);
}

RedisTier::~RedisTier() = default;

std::string RedisTier::describe() const {
  const auto& a = options_.address;
  const bool v6 = a.host.find(':') != std::string::npos;
  return fmt::format("redis://{}:{}/{}", v6 ? "[" + a.host + "]" : a.host, a.port, a.db);
}

SharedCacheTierStats RedisTier::stats() const {
  SharedCacheTierStats s;
  s.gets = gets_.load(std::memory_order_relaxed);
  s.hits = hits_.load(std::memory_order_relaxed);
  s.puts = puts_.load(std::memory_order_relaxed);
  s.failures = failures_.load(std::memory_order_relaxed);
  s.skipped = skipped_.load(std::memory_order_relaxed);
  s.too_large = too_large_.load(std::memory_order_relaxed);
  return s;
}

RedisTier::Connection RedisTier::connect() {
  const timeval tv = to_timeval(options_.timeout);
  Connection c(redisConnectWithTimeout(options_.address.host.c_str(), options_.address.port, tv));
  if (!c || c->err != 0) return nullptr;
  if (redisSetTimeout(c.get(), tv) != REDIS_OK) return nullptr;
  if (options_.address.db != 0) {
    Reply r(static_cast<redisReply*>(redisCommand(c.get(), "SELECT %d", options_.address.db)));
    if (!r || r->type != REDIS_REPLY_STATUS) return nullptr;
  }
  return c;
}

RedisTier::Connection RedisTier::acquire() {
  std::unique_lock lock(mutex_);
  if (skip_until_ != std::chrono::steady_clock::time_point{}) {
    // Backing off: skip until it ends, then let one request probe.
    if (probing_ || std::chrono::steady_clock::now() < skip_until_) {
      skipped_.fetch_add(1, std::memory_order_relaxed);
      return nullptr;
    }
    probing_ = true;
  }
  const bool room = returned_.wait_for(lock, options_.timeout,
                                       [&] { return !idle_.empty() || open_ < options_.max_connections; });
  if (!room) {  // every connection busy for the whole timeout
    skipped_.fetch_add(1, std::memory_order_relaxed);
    probing_ = false;  // a probe that never ran: the next request probes
    return nullptr;
  }
  if (!idle_.empty()) {
    Connection c = std::move(idle_.back());
    idle_.pop_back();
    return c;
  }
  ++open_;
  lock.unlock();
  Connection c = connect();
  if (!c) {
    {
      std::lock_guard relock(mutex_);
      --open_;
    }
    failed();
  }
  return c;
}

void RedisTier::release(Connection c) {
  std::lock_guard lock(mutex_);
  idle_.push_back(std::move(c));
  skip_until_ = {};
  probing_ = false;
  backoff_ = options_.backoff_initial;
  returned_.notify_one();
}

void RedisTier::lost(Connection c) {
  c.reset();
  {
    std::lock_guard lock(mutex_);
    --open_;
  }
  failed();
}

void RedisTier::failed() {
  failures_.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard lock(mutex_);
  // The idle connections most likely share the fate of the failed one
  // (Redis restarted or went away): the probe after the back-off connects anew.
  open_ -= idle_.size();
  idle_.clear();
  skip_until_ = std::chrono::steady_clock::now() + backoff_;
  backoff_ = std::min(backoff_ * 2, options_.backoff_max);
  probing_ = false;
  returned_.notify_all();
}

std::optional<framing::Bytes> RedisTier::get(const std::string& digest) {
  Connection c = acquire();
  if (!c) return std::nullopt;
  gets_.fetch_add(1, std::memory_order_relaxed);
  const std::string k = key(digest);
  Reply r(static_cast<redisReply*>(redisCommand(c.get(), "GET %b", k.data(), k.size())));
  if (!r) {  // I/O error or timeout: the connection is unusable
    lost(std::move(c));
    return std::nullopt;
  }
  std::optional<framing::Bytes> out;
  if (r->type == REDIS_REPLY_STRING) {
    hits_.fetch_add(1, std::memory_order_relaxed);
    const auto* p = reinterpret_cast<const std::uint8_t*>(r->str);
    out.emplace(p, p + r->len);
  } else if (r->type != REDIS_REPLY_NIL) {
    failures_.fetch_add(1, std::memory_order_relaxed);  // an error reply: Redis is there, keep the connection
  }
  release(std::move(c));
  return out;
}

void RedisTier::put(const std::string& digest, framing::ByteView value) {
  if (value.size() > options_.max_value_bytes) {
    too_large_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  Connection c = acquire();
  if (!c) return;
  const std::string k = key(digest);
  Reply r(static_cast<redisReply*>(redisCommand(c.get(), "SET %b %b EX %lld", k.data(), k.size(), value.data(),
                                                value.size(), static_cast<long long>(options_.ttl.count()))));
  if (!r) {
    lost(std::move(c));
    return;
  }
  if (r->type == REDIS_REPLY_STATUS) {
    puts_.fetch_add(1, std::memory_order_relaxed);
  } else {
    // An error reply (e.g. OOM under maxmemory): not stored; Redis is there.
    failures_.fetch_add(1, std::memory_order_relaxed);
  }
  release(std::move(c));
}

hgrpc::expected<std::unique_ptr<SharedCacheTier>, std::string> make_shared_tier(std::string_view url,
                                                                                std::chrono::milliseconds timeout,
                                                                                std::chrono::seconds ttl) {
  auto address = parse_redis_url(url);
  if (!address) return hgrpc::unexpected<std::string>(address.error());
  RedisTierOptions o;
  o.address = std::move(*address);
  o.timeout = timeout;
  o.ttl = ttl;
  return std::unique_ptr<SharedCacheTier>(std::make_unique<RedisTier>(std::move(o)));
}

}  // namespace hgrpc::server
