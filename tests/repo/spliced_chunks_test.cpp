// Stored chunks sent as they are: a client that lists zstd-8mb-frames gets
// the zstd chunks of a zstd store spliced into its response streams, byte for
// byte as they are on disk, and decodes exactly the values a zstd-8mb client
// (which gets everything recompressed) and the in-process command give.
#include <algorithm>
#include <set>

#include "framing/client_reactor.hpp"
#include "store/chunk.hpp"
#include "tests/repo/in_process_server.hpp"
#include "tests/repo/repo_support.hpp"

using namespace repo_test;
namespace fr = hgrpc::framing;

namespace {

struct Served {
  fr::Bytes wire;
  std::vector<json> values;
};

// One command in one body, the client listing `encodings`.
Served serve(const srv::CommandRegistry& reg, const std::string& command, const json& args,
             std::vector<fr::Encoding> encodings, srv::ResponseCache* cache = test_cache()) {
  fr::ClientReactorOptions options;
  options.content_encodings = std::move(encodings);
  fr::ClientReactor reactor(options);
  fr::Bytes body;
  REQUIRE(reactor.call_command(command, args, body));
  Served s;
  s.wire = serve_body(reg, command, body, cache);
  for (auto& ev : response_events(reactor, s.wire)) {
    if (auto* v = std::get_if<fr::ResponseValue>(&ev)) s.values.push_back(std::move(v->value));
    REQUIRE_FALSE(std::holds_alternative<fr::CommandError>(ev));
  }
  return s;
}

// filesdata of every changeset with haveparents, as a full clone asks it.
json full_clone_filesdata_args(const json& oracle_of_fixture) {
  std::vector<std::string> nodes;
  for (const auto& c : oracle_of_fixture.at("changesets")) nodes.push_back(c.at("node").get<std::string>());
  return json{{"revisions", json::array({{{"type", cbor_bytes("changesetexplicit")}, {"nodes", node_list(nodes)}}})},
              {"fields", set_of({"linknode", "parents", "revision"})},
              {"haveparents", true}};
}

bool contains(const fr::Bytes& hay, const store::Bytes& needle) {
  return std::search(hay.begin(), hay.end(), needle.begin(), needle.end()) != hay.end();
}

// The stored chunks a full clone's filesdata sends as they are: those a
// zstd-8mb-frames stream can carry, of every stored delta (the client has
// every base) and of each filelog's first revision (a full text the client
// gets whole). A full text later in a filelog goes out as a computed delta.
std::vector<store::Bytes> spliceable_chunks(const std::string& fixture) {
  auto repo = open_repo(fixture);
  auto snap = repo->snapshot();
  REQUIRE(snap);
  std::vector<store::Bytes> out;
  for (const auto& [path, _] : oracle(fixture).at("files").items()) {
    auto log = snap->filelog(path);
    REQUIRE(log);
    for (int r = 0; r < log->size(); ++r) {
      auto chunk = log->raw_chunk(r);
      REQUIRE(chunk);
      const bool sent_as_stored = r == 0 || log->delta_parent(r) != store::kNullRev;
      if (sent_as_stored && store::whole_zstd_frame_size(*chunk, std::uint64_t{1} << 30, std::uint64_t{8} << 20))
        out.push_back(*chunk);
    }
  }
  return out;
}

}  // namespace

TEST_CASE("repo: a zstd-8mb-frames client gets stored zstd chunks as they are, and the same values") {
  const json& o = oracle("zstd");
  auto reg = registry_for("zstd");
  const json args = full_clone_filesdata_args(o);
  const auto want = ok(reg, "filesdata", args);  // in process: never spliced

  // The zlib fixture has the same history, hence the same cache keys, and
  // its answers splice nothing: with the test cache on, this test's answers
  // go through a cache of its own, so that the first one is computed here.
  srv::ResponseCache own(srv::ResponseCacheOptions{.max_bytes = 1 << 30, .max_entry_bytes = 1 << 30});
  srv::ResponseCache* cache = test_cache() != nullptr ? &own : nullptr;
  const Served frames = serve(reg, "filesdata", args,
                              {fr::Encoding::Zstd8mbFrames, fr::Encoding::Zstd8mb, fr::Encoding::Identity}, cache);
  const Served plain = serve(reg, "filesdata", args, {fr::Encoding::Zstd8mb, fr::Encoding::Identity}, cache);
  CHECK(frames.values == want);
  CHECK(plain.values == want);

  const auto chunks = spliceable_chunks("zstd");
  REQUIRE(chunks.size() >= 3);  // the fixture has compressible file revisions
  std::size_t spliced = 0, recompressed = 0;
  for (const auto& c : chunks) {
    spliced += contains(frames.wire, c);
    recompressed += contains(plain.wire, c);
  }
  // A full clone with haveparents has every stored base: all go out as stored.
  CHECK(spliced == chunks.size());
  CHECK(recompressed == 0);
  // The stream says which profile it is.
  CHECK(contains(frames.wire, store::Bytes{0x4f, 'z', 's', 't', 'd', '-', '8', 'm', 'b', '-', 'f', 'r', 'a', 'm', 'e', 's'}));
}

TEST_CASE("repo: --splice-min-bytes: smaller stored chunks are recompressed in the stream, the larger spliced, the values the same") {
  const json& o = oracle("zstd");
  const json args = full_clone_filesdata_args(o);
  auto chunks = spliceable_chunks("zstd");
  REQUIRE(chunks.size() >= 3);
  std::vector<std::size_t> sizes;
  for (const auto& c : chunks) sizes.push_back(c.size());
  std::sort(sizes.begin(), sizes.end());
  REQUIRE(sizes.front() < sizes.back());
  // Between the smallest and the largest: some chunks on each side.
  const std::uint64_t min_bytes = sizes.back();
  repo::RepoCommandOptions options;
  options.splice_min_bytes = min_bytes;
  auto reg = registry_for("zstd", options);
  const auto want = ok(reg, "filesdata", args);
  srv::ResponseCache own(srv::ResponseCacheOptions{.max_bytes = 1 << 30, .max_entry_bytes = 1 << 30});
  srv::ResponseCache* cache = test_cache() != nullptr ? &own : nullptr;
  const Served frames = serve(reg, "filesdata", args,
                              {fr::Encoding::Zstd8mbFrames, fr::Encoding::Zstd8mb, fr::Encoding::Identity}, cache);
  CHECK(frames.values == want);
  std::size_t small = 0, large = 0;
  for (const auto& c : chunks) {
    CAPTURE(c.size());
    if (c.size() < min_bytes) {
      CHECK_FALSE(contains(frames.wire, c));
      ++small;
    } else {
      CHECK(contains(frames.wire, c));
      ++large;
    }
  }
  CHECK(small > 0);
  CHECK(large > 0);
}

TEST_CASE("repo: a zlib store splices nothing, manifestdata's values are the same either way") {
  const json& o = oracle("zlib");
  auto reg = registry_for("zlib");
  CHECK(spliceable_chunks("zlib").empty());
  std::vector<std::string> manifests;
  for (const auto& c : o.at("changesets")) manifests.push_back(c.at("manifest").get<std::string>());
  std::sort(manifests.begin(), manifests.end());
  manifests.erase(std::unique(manifests.begin(), manifests.end()), manifests.end());
  manifests.erase(std::remove(manifests.begin(), manifests.end(), std::string(40, '0')), manifests.end());
  const json args{{"tree", cbor_bytes("")}, {"nodes", node_list(manifests)}, {"fields", set_of({"parents", "revision"})},
                  {"haveparents", true}};
  const auto want = ok(reg, "manifestdata", args);
  CHECK(serve(reg, "manifestdata", args, {fr::Encoding::Zstd8mbFrames}).values == want);
  CHECK(serve(reg, "manifestdata", args, {fr::Encoding::Zlib}).values == want);
}

TEST_CASE("repo: --cache-recompress: a cached zstd-8mb-frames answer is first spliced, then compressed whole: fewer bytes, the same values") {
  const json& o = oracle("zstd");
  auto reg = registry_for("zstd");
  const json args = full_clone_filesdata_args(o);
  const auto want = ok(reg, "filesdata", args);
  srv::ResponseCache own(
      srv::ResponseCacheOptions{.max_bytes = 1 << 30, .max_entry_bytes = 1 << 30, .recompress = true});
  const std::vector<fr::Encoding> encodings{fr::Encoding::Zstd8mbFrames, fr::Encoding::Zstd8mb};
  const Served first = serve(reg, "filesdata", args, encodings, &own);   // computed: stored chunks spliced
  const Served cached = serve(reg, "filesdata", args, encodings, &own);  // from the cache
  CHECK(own.stats().hits == 3);  // serve_body answers twice; all but the first from the cache
  CHECK(own.stats().recompressed == 1);  // in the background, after the first answer
  CHECK(first.values == want);
  CHECK(cached.values == want);
  const auto chunks = spliceable_chunks("zstd");
  REQUIRE(chunks.size() >= 3);
  for (const auto& c : chunks) {
    CHECK(contains(first.wire, c));
    CHECK_FALSE(contains(cached.wire, c));
  }
  CHECK(cached.wire.size() < first.wire.size());
}
