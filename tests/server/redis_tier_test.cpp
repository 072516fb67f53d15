// RedisTier against a real redis-server on 127.0.0.1 (started and stopped
// here), a port nobody listens on, and a socket that accepts and never answers.
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

#include <doctest/doctest.h>

#include "server/cached_response.hpp"
#include "server/redis_tier.hpp"
#include "tests/support/redis_server.hpp"

using namespace hgrpc::server;
using hgrpc::framing::Bytes;
using Clock = std::chrono::steady_clock;
using hgrpc::test::free_port;
using hgrpc::test::LocalSocket;
using hgrpc::test::redis_raw;
using hgrpc::test::RedisServer;

namespace {

RedisTierOptions local(int port, std::chrono::milliseconds timeout = std::chrono::milliseconds(200)) {
  RedisTierOptions o;
  o.address = {"127.0.0.1", port, 0};
  o.timeout = timeout;
  o.ttl = std::chrono::seconds(60);
  return o;
}

const std::string kDigest(64, 'a');

Bytes sample_value() {
  CachedResponse r;
  const Bytes cbor = {0xa1, 0x46, 's', 't', 'a', 't', 'u', 's', 0x42, 'o', 'k'};
  r.values(cbor);
  r.bytes_begin(3);
  r.bytes_chunk(Bytes{'a', 'b', 'c'});
  r.bytes_end();
  return r.serialize();
}

}  // namespace

TEST_CASE("redis tier: URLs parse or fail naming the URL") {
  auto a = parse_redis_url("redis://cache.example:6380/2");
  REQUIRE(a);
  CHECK(a->host == "cache.example");
  CHECK(a->port == 6380);
  CHECK(a->db == 2);
  auto v6 = parse_redis_url("redis://[::1]:7000");
  REQUIRE(v6);
  CHECK(v6->host == "::1");
  CHECK(v6->port == 7000);
  CHECK(v6->db == 0);
  auto d = parse_redis_url("redis://h");
  REQUIRE(d);
  CHECK(d->port == 6379);

  CHECK(parse_redis_url("memcached://h:11211").error() ==
        "--cache-url \"memcached://h:11211\": the scheme must be redis:// (redis://HOST:PORT[/DB])");
  CHECK(parse_redis_url("redis://h:0").error() == "--cache-url \"redis://h:0\": port \"0\" is not a number from 1 to 65535");
  CHECK(parse_redis_url("redis://h:65536").error() ==
        "--cache-url \"redis://h:65536\": port \"65536\" is not a number from 1 to 65535");
  CHECK(parse_redis_url("redis://h:x1").error() == "--cache-url \"redis://h:x1\": port \"x1\" is not a number from 1 to 65535");
  CHECK(parse_redis_url("redis://:6379").error() == "--cache-url \"redis://:6379\": no host");
  CHECK(parse_redis_url("redis://h:1/-1").error() ==
        "--cache-url \"redis://h:1/-1\": database \"-1\" is not a number from 0 to 2147483647");
  CHECK(parse_redis_url("redis://u:p@h:1").error() == "--cache-url \"redis://u:p@h:1\": credentials are not supported");
  CHECK(parse_redis_url("redis://::1:6379").error() ==
        "--cache-url \"redis://::1:6379\": an IPv6 host must be in brackets: redis://[ADDRESS]:PORT");
  auto made = make_shared_tier("redis://127.0.0.1:6379/3", std::chrono::milliseconds(200), std::chrono::seconds(1));
  REQUIRE(made);
  CHECK((*made)->describe() == "redis://127.0.0.1:6379/3");
  CHECK(make_shared_tier("http://h", std::chrono::milliseconds(200), std::chrono::seconds(1)).error() ==
        "--cache-url \"http://h\": the scheme must be redis:// (redis://HOST:PORT[/DB])");
}

TEST_CASE("redis tier: a serialized CachedResponse round-trips byte for byte, an absent key is nullopt") {
  const int port = free_port();
  RedisServer redis(port);
  RedisTier tier(local(port));
  CHECK_FALSE(tier.get(kDigest).has_value());
  const Bytes value = sample_value();
  tier.put(kDigest, value);
  auto got = tier.get(kDigest);
  REQUIRE(got);
  CHECK(*got == value);
  auto parsed = CachedResponse::parse(*got);
  REQUIRE(parsed);
  CHECK(parsed->segments().size() == 4);
  // Stored under the documented key, with the TTL.
  CHECK(redis_raw(port, "EXISTS hgrpcd:v1:" + kDigest + "\r\n") == ":1\r\n");
  const std::string ttl = redis_raw(port, "TTL hgrpcd:v1:" + kDigest + "\r\n");
  CHECK((ttl == ":60\r\n" || ttl == ":59\r\n"));
  const auto s = tier.stats();
  CHECK(s.gets == 2);
  CHECK(s.hits == 1);
  CHECK(s.puts == 1);
  CHECK(s.failures == 0);
  CHECK(s.skipped == 0);
}

TEST_CASE("redis tier: a dead server is a counted failure, then skipped while backing off") {
  const int port = free_port();  // nothing listens there
  RedisTier tier(local(port));
  const auto start = Clock::now();
  CHECK_FALSE(tier.get(kDigest).has_value());
  CHECK(tier.stats().failures == 1);
  CHECK_FALSE(tier.get(kDigest).has_value());
  tier.put(kDigest, sample_value());
  // A refused connection does not wait for the timeout; generous bound against a hang.
  CHECK(Clock::now() - start < std::chrono::seconds(2));
  const auto s = tier.stats();
  CHECK(s.failures == 1);
  CHECK(s.skipped == 2);
  CHECK(s.gets == 0);
  CHECK(s.puts == 0);
}

TEST_CASE("redis tier: a server that never answers costs about the timeout, then is skipped") {
  LocalSocket silent(true);  // the kernel accepts; nobody reads or writes
  RedisTier tier(local(silent.port, std::chrono::milliseconds(200)));
  const auto start = Clock::now();
  CHECK_FALSE(tier.get(kDigest).has_value());
  // Without the timeout this would block for ever; the bound is loose.
  CHECK(Clock::now() - start < std::chrono::seconds(3));
  CHECK(tier.stats().failures == 1);
  const auto again = Clock::now();
  CHECK_FALSE(tier.get(kDigest).has_value());
  CHECK(Clock::now() - again < std::chrono::seconds(1));
  CHECK(tier.stats().skipped == 1);
}

TEST_CASE("redis tier: after a failure and the back-off, the tier is used again") {
  const int port = free_port();
  RedisTierOptions o = local(port);
  o.backoff_initial = std::chrono::milliseconds(100);
  RedisTier tier(o);
  CHECK_FALSE(tier.get(kDigest).has_value());  // nothing there yet
  CHECK(tier.stats().failures == 1);
  RedisServer redis(port);
  std::this_thread::sleep_for(std::chrono::milliseconds(150));  // past the 100 ms back-off
  const Bytes value = sample_value();
  tier.put(kDigest, value);
  auto got = tier.get(kDigest);
  REQUIRE(got);
  CHECK(*got == value);
  const auto s = tier.stats();
  CHECK(s.failures == 1);
  CHECK(s.puts == 1);
  CHECK(s.hits == 1);
}
