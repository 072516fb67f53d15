#pragma once
// Support of the repository-command tests: the fixture repositories (built
// once per build tree by make_repo_fixtures.py with Debian's hg, rebuilt when
// the script changes), Mercurial's own answers for them (oracle.py, Debian's
// mercurial package in-process), a registry serving one of them, and
// helpers to decode what the commands answer.
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>

#include <unistd.h>

#include "framing/cbor.hpp"
#include "mpatch/mpatch.hpp"
#include "server/command_registry.hpp"
#include "server/repo/repo_commands.hpp"
#include "server/redis_tier.hpp"
#include "server/response_cache.hpp"
#include "store/node.hpp"
#include "store/repository.hpp"
#include "tests/support/redis_server.hpp"

namespace repo_test {

namespace fs = std::filesystem;
using hgrpc::framing::json;
using hgrpc::framing::cbor_bytes;
namespace srv = hgrpc::server;
namespace repo = hgrpc::server::repo;
namespace store = hgrpc::store;

inline std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// The directory holding zstd/, zlib/ and empty/.
inline fs::path fixtures() {
  static std::once_flag once;
  static fs::path dir = fs::path(HGRPC_BINARY_DIR) / "repo_fixtures";
  std::call_once(once, [] {
    const fs::path script = fs::path(HGRPC_SOURCE_DIR) / "tests/repo/make_repo_fixtures.py";
    const std::string stamp = std::to_string(std::hash<std::string>{}(read_text(script)));
    // Several test processes may start at once: build under a lock, once.
    const std::string cmd = "flock " + shell_quote(dir.string() + ".lock") + " sh -c " +
                            shell_quote("test \"$(cat " + shell_quote(dir.string() + ".stamp") + " 2>/dev/null)\" = " +
                                        stamp + " || { /usr/bin/python3 " + shell_quote(script.string()) + " " +
                                        shell_quote(dir.string()) + " >/dev/null 2>&1 && echo " + stamp + " > " +
                                        shell_quote(dir.string() + ".stamp") + "; }");
    REQUIRE(std::system(cmd.c_str()) == 0);
  });
  return dir;
}

// Mercurial's answers for fixture `name`.
inline const json& oracle(const std::string& name) {
  static std::mutex mutex;
  static std::map<std::string, json> cache;
  std::lock_guard lock(mutex);
  if (auto it = cache.find(name); it != cache.end()) return it->second;
  // Test cases run as parallel processes: each writes its own file.
  const fs::path out = fs::path(HGRPC_BINARY_DIR) / ("repo_oracle_" + name + "." + std::to_string(::getpid()) + ".json");
  const std::string cmd = "/usr/bin/python3 " +
                          shell_quote((fs::path(HGRPC_SOURCE_DIR) / "tests/repo/oracle.py").string()) + " " +
                          shell_quote((fixtures() / name).string()) + " > " + shell_quote(out.string());
  REQUIRE(std::system(cmd.c_str()) == 0);
  json parsed = json::parse(read_text(out));
  fs::remove(out);
  return cache[name] = std::move(parsed);
}

inline std::shared_ptr<const store::Repository> open_repo(const std::string& name) {
  auto r = store::Repository::open(fixtures() / name);
  REQUIRE_MESSAGE(r, (r ? "" : r.error().message));
  return std::make_shared<const store::Repository>(std::move(*r));
}

inline srv::CommandRegistry registry_for(const std::string& name, repo::RepoCommandOptions options = {}) {
  srv::CommandRegistry reg;
  repo::register_repository_commands(reg, open_repo(name), options);
  return reg;
}

// HGRPC_TEST_RESPONSE_CACHE runs these tests with every request answered
// twice through a response cache, the second answer from the cache, and the
// two compared: every test then checks the cached answers too.
//   1     ctest's repo-cached/: the second answer from the cache's memory.
//   tier  ctest's repo-tier/: the cache keeps nothing in memory and shares a
//         tier, a redis-server this test process starts on 127.0.0.1 (and
//         kills at exit): the first answer is computed and written to Redis,
//         the second comes back from Redis (CachedResponse::serialize and
//         parse in between).
enum class TestCacheMode { Off, Memory, Tier };
inline TestCacheMode test_cache_mode() {
  static const TestCacheMode mode = [] {
    const char* v = std::getenv("HGRPC_TEST_RESPONSE_CACHE");
    const std::string s = v == nullptr ? "" : v;
    if (s == "1") return TestCacheMode::Memory;
    if (s == "tier") return TestCacheMode::Tier;
    return TestCacheMode::Off;
  }();
  return mode;
}

inline srv::ResponseCache* test_cache() {
  constexpr std::uint64_t kGiB = std::uint64_t{1} << 30;
  switch (test_cache_mode()) {
    case TestCacheMode::Off: return nullptr;
    case TestCacheMode::Memory: {
      static srv::ResponseCache cache(srv::ResponseCacheOptions{.max_bytes = kGiB, .max_entry_bytes = kGiB});
      return &cache;
    }
    case TestCacheMode::Tier: {
      // Declared in this order so that the cache (and its tier writer)
      // goes before the server.
      static hgrpc::test::RedisServer redis(hgrpc::test::free_port());
      // The tier's answers are also recompressed (--cache-recompress), so
      // every zstd-8mb-frames test checks that form too.
      static srv::ResponseCache cache(
          srv::ResponseCacheOptions{.max_bytes = 0, .max_entry_bytes = kGiB, .recompress = true}, [] {
        srv::RedisTierOptions o;
        o.address = {"127.0.0.1", redis.port(), 0};
        o.timeout = std::chrono::seconds(5);  // a loaded CI machine; a failure shows as a missing tier hit
        o.ttl = std::chrono::seconds(600);
        return std::make_unique<srv::RedisTier>(o);
      }());
      static const pid_t owner = ::getpid();
      // A forked child (the killed-pull tests) has no tier writer thread and
      // would share the parent's Redis connections: it answers uncached.
      if (::getpid() != owner) return nullptr;
      return &cache;
    }
  }
  return nullptr;
}

// Before the second answer: the first one's recompression and shared-tier
// write are done.
inline void test_cache_written() {
  if (test_cache() != nullptr) test_cache()->settle();
}

// The count the second answer of a data command adds to.
inline std::uint64_t test_cache_answers() {
  const auto s = test_cache()->stats();
  return test_cache_mode() == TestCacheMode::Tier ? s.tier_hits : s.hits;
}

inline srv::CommandResult run(const srv::CommandRegistry& reg, const std::string& command, const json& args) {
  const srv::CommandSpec* spec = reg.find(command);
  REQUIRE(spec != nullptr);
  auto first = reg.run(*spec, args, std::nullopt, srv::CommandLimits{}, test_cache());
  if (test_cache() == nullptr) return first;
  test_cache_written();
  const auto hits = test_cache_answers();
  auto second = reg.run(*spec, args, std::nullopt, srv::CommandLimits{}, test_cache());
  REQUIRE(first.has_value() == second.has_value());
  if (first) {
    CHECK(*first == *second);
    // Data commands answer the second time from the cache.
    if (reg.find(command)->name.ends_with("data")) CHECK(test_cache_answers() == hits + 1);
  } else {
    CHECK(srv::format_command_error(first.error()) == srv::format_command_error(second.error()));
  }
  return second;
}

// Runs a command that must succeed.
inline srv::CommandOutput ok(const srv::CommandRegistry& reg, const std::string& command, const json& args) {
  auto r = run(reg, command, args);
  REQUIRE_MESSAGE(r, (r ? std::string() : srv::format_command_error(r.error())));
  return std::move(*r);
}

// The formatted error of a command that must fail.
inline std::string fails(const srv::CommandRegistry& reg, const std::string& command, const json& args) {
  auto r = run(reg, command, args);
  REQUIRE_FALSE(r);
  return srv::format_command_error(r.error());
}

inline std::string hex_of(const json& v) {
  const auto& b = v.get_binary();
  return store::hex(store::ByteView(b.data(), b.size()));
}
inline std::string str_of(const json& v) {
  const auto& b = v.get_binary();
  return std::string(b.begin(), b.end());
}
inline json node_arg(const std::string& hex) {
  auto n = store::unhex(hex);
  REQUIRE(n);
  return cbor_bytes(store::ByteView(n->data(), n->size()));
}
inline json set_of(std::initializer_list<const char*> items) {
  json out = json::array();
  for (const char* i : items) out.push_back(cbor_bytes(i));
  return out;
}
inline json node_list(const std::vector<std::string>& hexes) {
  json out = json::array();
  for (const auto& h : hexes) out.push_back(node_arg(h));
  return out;
}

// Rebuilds the revisions of a manifestdata/filedata/filesdata stretch:
// `records` from `pos`, `count` revision records each followed by its
// bytes. `texts` (node hex -> rawtext) holds what the client has; each
// rebuilt text is hash-checked and added. With parents_received, each
// parent must have been received (or be null) before its child.
struct Rebuilt {
  std::vector<std::string> nodes;  // in the order received
  std::map<std::string, json> records;
};
inline Rebuilt rebuild(const srv::CommandOutput& records, std::size_t& pos, std::size_t count,
                       std::map<std::string, store::Bytes>& texts, bool parents_received = true) {
  Rebuilt out;
  for (std::size_t i = 0; i < count; ++i) {
    REQUIRE(pos < records.size());
    const json& rec = records[pos++];
    const std::string node = hex_of(rec.at("node"));
    CAPTURE(node);
    const json& parents = rec.at("parents");
    for (const auto& p : parents) {
      if (!parents_received) break;
      std::string ph = hex_of(p);
      CHECK_MESSAGE((ph == std::string(40, '0') || texts.contains(ph)), "parent before child: " << ph);
    }
    const json& ff = rec.at("fieldsfollowing");
    REQUIRE(ff.size() == 1);
    const std::string kind = str_of(ff[0][0]);
    REQUIRE(pos < records.size());
    const auto& data = records[pos++].get_binary();
    REQUIRE(ff[0][1].get<std::size_t>() == data.size());
    store::Bytes text;
    if (kind == "revision") {
      CHECK_FALSE(rec.contains("deltabasenode"));
      text.assign(data.begin(), data.end());
    } else {
      REQUIRE(kind == "delta");
      const std::string base = hex_of(rec.at("deltabasenode"));
      REQUIRE_MESSAGE(texts.contains(base), "delta base the client lacks: " << base);
      std::vector<hgrpc::mpatch::ByteView> deltas{hgrpc::mpatch::ByteView(data.data(), data.size())};
      auto applied = hgrpc::mpatch::apply(texts.at(base), deltas);
      REQUIRE(applied);
      text = std::move(*applied);
    }
    auto p1 = store::unhex(hex_of(parents[0]));
    auto p2 = store::unhex(hex_of(parents[1]));
    CHECK(store::hex(store::hash_revision(*p1, *p2, text)) == node);
    texts[node] = std::move(text);
    out.nodes.push_back(node);
    out.records[node] = rec;
  }
  return out;
}

inline std::string sha1_hex(const store::Bytes& b) { return store::hex(store::sha1(b)); }

}  // namespace repo_test
