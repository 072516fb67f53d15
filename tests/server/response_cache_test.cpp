// The response cache: recorded responses replay into the same frames, their
// serialized form round-trips and refuses anything else, LRU eviction and
// admission, single flight, and answers through BodyProcessor.
#include <doctest/doctest.h>
#include <zstd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "framing/client_reactor.hpp"
#include "server/body_processor.hpp"
#include "server/response_cache.hpp"
#include "tests/server/test_server.hpp"  // decode; command_support

using namespace hgrpc::server;
namespace fr = hgrpc::framing;
using fr::Bytes;
using fr::json;

namespace {

// The planned frames a sink produces, flattened to comparable text: type,
// flags, payload and spliced bytes of each.
struct Planned {
  fr::ResponseEmitter emitter{1, 1};
  std::vector<std::tuple<int, int, Bytes, Bytes>> frames;
  fr::PlannedFrames held;  // as drained (their spliced bytes may reference a cached answer)
  ResponseSink sink;
  explicit Planned(bool splices)
      : sink(
            emitter,
            [this](fr::PlannedFrames& fs, fr::ResponseEmitter&) {
              for (auto& f : fs) {
                const auto spliced = f.spliced.view();
                frames.emplace_back(static_cast<int>(f.type), f.flags, f.payload, Bytes(spliced.begin(), spliced.end()));
              }
              held.insert(held.end(), std::make_move_iterator(fs.begin()), std::make_move_iterator(fs.end()));
              fs.clear();
              return true;
            },
            64, splices) {}
};

// Every kind of sink call, in an order a handler may make them.
void write_everything(ResponseSink& s) {
  s.value(json::object({{"totalitems", 2}}));
  s.value(json::array({1, 2, 3}));
  s.encoded(fr::cbor_encode(json("text")));
  s.bytes_begin(10);
  s.bytes_chunk(fr::as_bytes("01234"));
  s.spliced_chunk(fr::to_bytes("ZSTDFRAMES"), 5);
  s.bytes_begin();
  s.bytes_chunk(fr::as_bytes("indefinite"));
  s.bytes_end();
  s.bytes(fr::as_bytes(std::string(300, 'x')));
}

CachedResponse recorded() {
  Planned p(true);
  ResponseRecorder recorder(1 << 20);
  p.sink.record_into(&recorder);
  write_everything(p.sink);
  REQUIRE_FALSE(recorder.overflowed());
  return recorder.take();
}

std::shared_ptr<const CachedResponse> response_of(std::size_t bytes) {
  CachedResponse r;
  r.values(Bytes(bytes, 0x40));
  return std::make_shared<const CachedResponse>(std::move(r));
}

}  // namespace

TEST_CASE("response cache: a recorded response replays into the frames of the original") {
  Planned original(true);
  ResponseRecorder recorder(1 << 20);
  original.sink.record_into(&recorder);
  write_everything(original.sink);
  original.sink.finish();
  const CachedResponse r = recorder.take();
  // Values merge into one segment; each other call is one (bytes() of 300
  // is a head and five chunks of the sink's 64-byte batches).
  CHECK(r.segments().size() == 13);
  CHECK(r.has_spliced());
  CHECK(r.payload_bytes() == fr::cbor_encode(json::object({{"totalitems", 2}})).size() + 4 + 5 + 5 + 5 + 10 + 300);

  Planned replayed(true);
  REQUIRE(r.replay(replayed.sink));
  replayed.sink.finish();
  CHECK(replayed.frames == original.frames);
}

TEST_CASE("response cache: the pre-encoded form is whole zstd frames of the whole response") {
  // A stored revlog chunk: one whole zstd frame made elsewhere.
  Bytes stored;
  REQUIRE(fr::make_encoder(fr::Encoding::Zstd8mbFrames)->end_frame(fr::as_bytes("56789"), stored));
  CachedResponse r;
  r.values(fr::cbor_encode(json::object({{"totalitems", 1}})));
  r.bytes_begin(10);
  r.bytes_chunk(fr::as_bytes("01234"));
  r.spliced(stored, 5);
  const auto pre = r.pre_encoded_form();
  REQUIRE(pre);
  CHECK(pre->is_pre_encoded());
  CHECK(pre->segments().size() == 1);
  CHECK(pre->payload_bytes() == r.payload_bytes());
  CHECK(pre->has_spliced());

  Planned replayed(true);
  REQUIRE(pre->replay(replayed.sink));
  replayed.sink.finish();
  Bytes pieces;
  for (const auto& [type, flags, payload, spliced] : replayed.frames) {
    CHECK(payload.empty());
    fr::append(pieces, spliced);
  }
  // The stored frame is in there as it was, and the whole decodes to the
  // octets of the response, its status map first.
  CHECK(std::search(pieces.begin(), pieces.end(), stored.begin(), stored.end()) != pieces.end());
  Bytes octets;
  REQUIRE(fr::make_decoder(fr::Encoding::Zstd8mbFrames)->decode(pieces, octets));
  Bytes expected = fr::cbor_encode(json::object({{"status", testing::bin("ok")}}));
  fr::append(expected, fr::cbor_encode(json::object({{"totalitems", 1}})));
  expected.push_back(0x4a);  // byte string of 10
  fr::append(expected, fr::as_bytes("0123456789"));
  CHECK(octets == expected);
  // Replayed with its owner, the frames reference the cached bytes (the
  // owner is held by them) and carry the same bytes.
  const auto owner = std::make_shared<const CachedResponse>(*pre);
  {
    Planned referencing(true);
    REQUIRE(owner->replay(referencing.sink, owner));
    referencing.sink.finish();
    CHECK(owner.use_count() > 1);
    CHECK(referencing.frames == replayed.frames);
  }
  CHECK(owner.use_count() == 1);
  CHECK(replayed.held.size() == replayed.frames.size());
  // Already in that form: kept as it is; and it survives the shared tier's serialization.
  CHECK(pre->pre_encoded_form()->serialize() == pre->serialize());
  auto back = CachedResponse::parse(pre->serialize());
  REQUIRE(back);
  CHECK(back->is_pre_encoded());
}

// A recording of three stored chunks of 3000 'q's: two spliced, the third
// one whose frame does not declare its size (kept as it is by a
// recompression: it might decode to anything).
struct StoredChunks {
  std::string text = std::string(3000, 'q');
  Bytes stored, unsized;
  CachedResponse recording;
  StoredChunks() {
    REQUIRE(fr::make_encoder(fr::Encoding::Zstd8mbFrames)->end_frame(fr::as_bytes(text), stored));
    unsized.resize(ZSTD_compressBound(text.size()));
    ZSTD_CCtx* cctx = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 0);
    unsized.resize(ZSTD_compress2(cctx, unsized.data(), unsized.size(), text.data(), text.size()));
    ZSTD_freeCCtx(cctx);
    REQUIRE(ZSTD_getFrameContentSize(unsized.data(), unsized.size()) == ZSTD_CONTENTSIZE_UNKNOWN);
    recording.values(fr::cbor_encode(json::object({{"totalitems", 3}})));
    for (int i = 0; i < 2; ++i) {
      recording.bytes_begin(text.size());
      recording.spliced(stored, text.size());
    }
    recording.bytes_begin(text.size());
    recording.spliced(unsized, text.size());
  }
};

// Records what is written to it.
class FakeTier : public SharedCacheTier {
 public:
  std::optional<Bytes> get(const std::string&) override { return std::nullopt; }
  void put(const std::string& digest, fr::ByteView value) override {
    std::lock_guard lock(mutex);
    puts.emplace_back(digest, Bytes(value.begin(), value.end()));
  }
  std::string describe() const override { return "fake"; }
  SharedCacheTierStats stats() const override { return {}; }
  std::mutex mutex;
  std::vector<std::pair<std::string, Bytes>> puts;
};

TEST_CASE("response cache: the recompressed pre-encoded form decodes the stored frames into its own") {
  const StoredChunks chunks;
  const auto& [text, stored, unsized, r] = chunks;
  const auto kept = r.pre_encoded_form();
  const auto whole = r.pre_encoded_form({.recompress_spliced = true});
  REQUIRE(kept);
  REQUIRE(whole);
  const auto pieces_of = [](const CachedResponse& c) {
    Planned p(true);
    REQUIRE(c.replay(p.sink));
    p.sink.finish();
    Bytes pieces;
    for (const auto& [type, flags, payload, spliced] : p.frames) fr::append(pieces, spliced);
    return pieces;
  };
  const Bytes a = pieces_of(*kept), b = pieces_of(*whole);
  CHECK(std::search(a.begin(), a.end(), stored.begin(), stored.end()) != a.end());
  CHECK(std::search(b.begin(), b.end(), stored.begin(), stored.end()) == b.end());
  CHECK(std::search(b.begin(), b.end(), unsized.begin(), unsized.end()) != b.end());
  CHECK(b.size() < a.size());
  Bytes octets_a, octets_b;
  REQUIRE(fr::make_decoder(fr::Encoding::Zstd8mbFrames)->decode(a, octets_a));
  REQUIRE(fr::make_decoder(fr::Encoding::Zstd8mbFrames)->decode(b, octets_b));
  CHECK(octets_b == octets_a);
  Bytes expected = fr::cbor_encode(json::object({{"status", testing::bin("ok")}}));
  fr::append(expected, fr::cbor_encode(json::object({{"totalitems", 3}})));
  for (int i = 0; i < 3; ++i) fr::append(expected, fr::cbor_encode(testing::bin(text)));
  CHECK(octets_b == expected);
}

TEST_CASE("response cache: --cache-recompress swaps a kept answer for its recompressed form after the first answer") {
  const StoredChunks chunks;
  const auto spliced = std::make_shared<const CachedResponse>(*chunks.recording.pre_encoded_form());
  const auto recording = std::make_shared<const CachedResponse>(chunks.recording);
  const Bytes recompressed = chunks.recording.pre_encoded_form({.recompress_spliced = true})->serialize();
  REQUIRE(recompressed != spliced->serialize());
  auto owned_tier = std::make_unique<FakeTier>();
  FakeTier& tier = *owned_tier;
  ResponseCache cache(ResponseCacheOptions{.recompress = true}, std::move(owned_tier));
  auto lead = cache.lookup("k");
  REQUIRE(lead.outcome == CacheOutcome::Miss);
  cache.complete("k", lead, spliced, false, recording);
  cache.settle();
  const auto hit = cache.lookup("k");
  REQUIRE(hit.outcome == CacheOutcome::Hit);
  CHECK(hit.response != spliced);
  CHECK(hit.response->serialize() == recompressed);
  auto s = cache.stats();
  CHECK(s.recompressed == 1);
  CHECK(s.recompress_skipped == 0);
  CHECK(s.recompress_pending == 0);
  CHECK(s.bytes == hit.response->memory_bytes() + 1);
  // The tier gets the recompressed form only, once it is made.
  REQUIRE(tier.puts.size() == 1);
  CHECK(tier.puts[0].first == ResponseCache::digest("k"));
  CHECK(tier.puts[0].second == recompressed);

  // A form that is not smaller than what is kept is not swapped in: here
  // the "spliced" answer is a tiny stand-in.
  const auto tiny = response_of(10);
  auto other = cache.lookup("t");
  cache.complete("t", other, tiny, false, recording);
  cache.settle();
  CHECK(cache.lookup("t").response == tiny);
  s = cache.stats();
  CHECK(s.recompressed == 1);
  CHECK(s.recompress_skipped == 1);
  REQUIRE(tier.puts.size() == 2);
  CHECK(tier.puts[1].second == tiny->serialize());
}

TEST_CASE("response cache: the recompressed form is made at its own zstd level") {
  std::string numbers;
  for (int i = 0; i < 40000; ++i) numbers += std::to_string(i * 7919 % 100003) + "\n";
  Bytes stored;
  REQUIRE(fr::make_encoder(fr::Encoding::Zstd8mbFrames)->end_frame(fr::as_bytes(numbers), stored));
  CachedResponse r;
  r.bytes_begin(numbers.size());
  r.spliced(stored, numbers.size());
  const auto fast = r.pre_encoded_form({.recompress_spliced = true, .zstd_level = 1});
  const auto small = r.pre_encoded_form({.recompress_spliced = true, .zstd_level = 19});
  REQUIRE(fast);
  REQUIRE(small);
  CHECK(small->memory_bytes() < fast->memory_bytes());
  const auto octets = [](const CachedResponse& c) {
    Planned p(true);
    REQUIRE(c.replay(p.sink));
    p.sink.finish();
    Bytes wire, out;
    for (const auto& [type, flags, payload, spliced] : p.frames) fr::append(wire, spliced);
    REQUIRE(fr::make_decoder(fr::Encoding::Zstd8mbFrames)->decode(wire, out));
    return out;
  };
  Bytes expected = fr::cbor_encode(json::object({{"status", testing::bin("ok")}}));
  fr::append(expected, fr::cbor_encode(testing::bin(numbers)));
  CHECK(octets(*fast) == expected);
  CHECK(octets(*small) == expected);
}

TEST_CASE("response cache: a recompression whose stop flag is set gives up") {
  const StoredChunks chunks;
  std::atomic<bool> stop{true};
  CHECK_FALSE(chunks.recording.pre_encoded_form({.recompress_spliced = true, .stop = &stop}));
  stop = false;
  CHECK(chunks.recording.pre_encoded_form({.recompress_spliced = true, .stop = &stop}));
}

TEST_CASE("response cache: without --cache-recompress a recording is not recompressed") {
  const StoredChunks chunks;
  const auto spliced = std::make_shared<const CachedResponse>(*chunks.recording.pre_encoded_form());
  ResponseCache cache(ResponseCacheOptions{});
  auto lead = cache.lookup("k");
  cache.complete("k", lead, spliced, false, std::make_shared<const CachedResponse>(chunks.recording));
  cache.settle();
  CHECK(cache.lookup("k").response == spliced);
  CHECK(cache.stats().recompressed == 0);
}

TEST_CASE("response cache: a large pre-encoded answer is pieces that each decode on their own") {
  // A response may move to another output stream between two pieces, so
  // each must be whole zstd frames.
  Bytes text;
  std::uint32_t x = 12345;
  for (std::size_t i = 0; i < (std::size_t{900} << 10); ++i) {
    x = x * 1103515245u + 12345u;
    text.push_back(static_cast<std::uint8_t>('a' + (x >> 16) % 16));
  }
  CachedResponse r;
  r.bytes_begin(text.size());
  r.bytes_chunk(text);
  const auto pre = r.pre_encoded_form();
  REQUIRE(pre);
  CHECK(pre->segments().size() >= 2);
  Planned replayed(true);
  REQUIRE(pre->replay(replayed.sink));
  replayed.sink.finish();
  Bytes octets;
  std::size_t pieces = 0;
  for (const auto& [type, flags, payload, spliced] : replayed.frames) {
    if (spliced.empty()) continue;
    ++pieces;
    REQUIRE(fr::make_decoder(fr::Encoding::Zstd8mbFrames)->decode(spliced, octets));
  }
  CHECK(pieces == pre->segments().size());
  Bytes expected = fr::cbor_encode(json::object({{"status", testing::bin("ok")}}));
  const Bytes head = fr::cbor_encode(json::binary(text));
  fr::append(expected, head);
  CHECK(octets == expected);
}

TEST_CASE("response cache: the serialized form round-trips and refuses every truncation and foreign value") {
  const CachedResponse r = recorded();
  const Bytes wire = r.serialize();
  auto back = CachedResponse::parse(wire);
  REQUIRE(back);
  CHECK(back->serialize() == wire);
  CHECK(back->memory_bytes() == r.memory_bytes());
  for (std::size_t n = 0; n < wire.size(); ++n) CHECK_FALSE(CachedResponse::parse(fr::ByteView(wire).first(n)));
  Bytes longer = wire;
  longer.push_back(0);
  CHECK_FALSE(CachedResponse::parse(longer));
  Bytes magic = wire;
  magic[4] = '2';
  CHECK_FALSE(CachedResponse::parse(magic));
  Bytes piece = wire;
  piece[5 + 8] = 7;  // the first segment's piece: no such kind
  CHECK_FALSE(CachedResponse::parse(piece));
  // A segment count larger than the bytes could hold is refused before any allocation.
  Bytes count = fr::to_bytes("HGRC1");
  for (int i = 0; i < 8; ++i) count.push_back(0xff);
  CHECK_FALSE(CachedResponse::parse(count));
}

TEST_CASE("response cache: a recording past its limit is dropped and the handler goes on") {
  Planned p(false);
  ResponseRecorder recorder(200);
  p.sink.record_into(&recorder);
  p.sink.value(json::array({1}));
  CHECK_FALSE(recorder.overflowed());
  CHECK(p.sink.bytes(fr::as_bytes(std::string(300, 'y'))));
  CHECK(recorder.overflowed());
  CHECK(recorder.take().segments().empty());
  CHECK(p.sink.finish());
  CHECK_FALSE(p.frames.empty());
}

TEST_CASE("response cache: least recently used answers are evicted to stay within max_bytes") {
  ResponseCacheOptions o;
  const std::size_t entry = response_of(1000)->memory_bytes() + 1;  // key "a" is one byte
  o.max_bytes = 2 * entry;
  ResponseCache cache(o);
  for (std::string key : {"a", "b"}) {
    auto l = cache.lookup(key);
    REQUIRE(l.outcome == CacheOutcome::Miss);
    cache.complete(key, l, response_of(1000));
  }
  CHECK(cache.lookup("a").outcome == CacheOutcome::Hit);  // a is now the most recent
  auto c = cache.lookup("c");
  cache.complete("c", c, response_of(1000));
  CHECK(cache.lookup("a").outcome == CacheOutcome::Hit);
  auto b = cache.lookup("b");
  CHECK(b.outcome == CacheOutcome::Miss);  // evicted
  cache.complete("b", b, nullptr);
  const auto s = cache.stats();
  CHECK(s.hits == 2);
  CHECK(s.misses == 4);
  CHECK(s.stores == 3);
  CHECK(s.evictions == 1);
  CHECK(s.entries == 2);
  CHECK(s.bytes == 2 * entry);
}

TEST_CASE("response cache: too large answers are not kept, `second` keeps an answer on its second request") {
  ResponseCacheOptions o;
  o.max_entry_bytes = 500;
  ResponseCache cache(o);
  auto big = cache.lookup("big");
  cache.complete("big", big, response_of(1000));
  CHECK(cache.lookup("big").outcome == CacheOutcome::Miss);
  CHECK(cache.stats().too_large == 1);

  o.max_entry_bytes = 1 << 20;
  o.admission = CacheAdmission::Second;
  ResponseCache second(o);
  for (int i = 0; i < 2; ++i) {
    auto l = second.lookup("k");
    REQUIRE(l.outcome == CacheOutcome::Miss);
    second.complete("k", l, response_of(10));
  }
  CHECK(second.lookup("k").outcome == CacheOutcome::Hit);
  CHECK(second.stats().not_admitted == 1);
  CHECK(second.stats().stores == 1);
}

TEST_CASE("response cache: identical requests wait for the first and replay its answer") {
  ResponseCache cache(ResponseCacheOptions{});
  auto lead = cache.lookup("k");
  REQUIRE(lead.outcome == CacheOutcome::Miss);
  ResponseCache::Lookup followed;
  std::thread follower([&] { followed = cache.lookup("k"); });
  for (int i = 0; i < 10000 && cache.stats().waiting == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  REQUIRE(cache.stats().waiting == 1);
  const auto answer = response_of(10);
  cache.complete("k", lead, answer);
  follower.join();
  CHECK(followed.outcome == CacheOutcome::Shared);
  CHECK(followed.response == answer);
  CHECK(cache.stats().shared == 1);
  CHECK(cache.stats().waiting == 0);
}

TEST_CASE("response cache: a follower computes on its own when the first fails or takes too long") {
  ResponseCacheOptions o;
  o.wait = std::chrono::milliseconds(20);
  ResponseCache cache(o);
  auto lead = cache.lookup("k");
  auto timed_out = cache.lookup("k");  // the leader has not answered: the wait runs out
  CHECK(timed_out.outcome == CacheOutcome::Uncached);
  CHECK_FALSE(timed_out.response);
  CHECK_FALSE(timed_out.flight);
  CHECK(cache.stats().wait_timeouts == 1);

  o.wait = std::chrono::milliseconds(60000);
  ResponseCache failing(o);
  auto first = failing.lookup("k");
  ResponseCache::Lookup followed;
  std::thread follower([&] { followed = failing.lookup("k"); });
  for (int i = 0; i < 10000 && failing.stats().waiting == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  failing.complete("k", first, nullptr);
  follower.join();
  CHECK(followed.outcome == CacheOutcome::Uncached);
  CHECK(failing.stats().wait_timeouts == 0);
  // The key is free again: the next request leads.
  CHECK(failing.lookup("k").outcome == CacheOutcome::Miss);
}

TEST_CASE("response cache: keys differ by command, arguments, data, state and splicing") {
  const json args = json::object({{"a", 1}});
  const auto k = response_cache_key("diff", args, std::nullopt, "", false);
  REQUIRE(k);
  CHECK(k->starts_with("diff|plain|"));
  CHECK(k->size() == std::string("diff|plain|").size() + 64);
  CHECK(*response_cache_key("diff", args, std::nullopt, "", false) == *k);
  CHECK(*response_cache_key("diffs", args, std::nullopt, "", false) != *k);
  CHECK(*response_cache_key("diff", json::object({{"a", 2}}), std::nullopt, "", false) != *k);
  CHECK(*response_cache_key("diff", args, fr::ByteView{}, "", false) != *k);
  CHECK(*response_cache_key("diff", args, std::nullopt, "s", false) != *k);
  CHECK(*response_cache_key("diff", args, std::nullopt, "", true) != *k);
  const Bytes large(kMaxCachedRequestBytes, 0);
  CHECK_FALSE(response_cache_key("diff", args, fr::ByteView(large), "", false));
}

namespace {

// Bodies of applypatches requests through one client reactor listing
// `encodings`, served by BodyProcessor with `cache`; each answer decoded by
// that reactor.
struct PatchClient {
  fr::ClientReactor reactor;
  explicit PatchClient(std::vector<fr::Encoding> encodings)
      : reactor([&] {
          fr::ClientReactorOptions o;
          o.content_encodings = std::move(encodings);
          return o;
        }()) {}
  struct Answer {
    Bytes wire;
    std::string outcomes;
    std::vector<json> values;  // every request's values, in request order
  };
  Answer serve(ResponseCache& cache, const std::vector<std::string>& bases) {
    static const auto registry = CommandRegistry::standard();
    Bytes body;
    std::vector<std::uint16_t> ids;
    for (const auto& base : bases) {
      const json args = json::object(
          {{"base", testing::bin(base)}, {"patches", json::array({json::binary(testing::delta({{0, 1, "X"}}))})}});
      auto id = reactor.call_command("applypatches", args, body);
      REQUIRE(id);
      ids.push_back(*id);
    }
    Answer a;
    BodyOptions options;
    options.cache = &cache;
    BodyProcessor p(registry, BodyTarget{false, "applypatches"}, options, nullptr, hgrpc::server::OutputMux::appending_to(a.wire));
    p.feed(body);
    REQUIRE(p.finish().status == 200);
    REQUIRE(p.write_output());
    a.outcomes = p.cache_outcomes().to_string();
    const auto decoded = testing::decode(reactor, a.wire);
    REQUIRE_FALSE(decoded.protocol_error);
    for (auto id : ids) {
      REQUIRE(decoded.values.count(id));
      for (const auto& v : decoded.values.at(id)) a.values.push_back(v);
    }
    return a;
  }
};

}  // namespace

TEST_CASE("response cache: a patch command answered again comes from the cache with the same bytes") {
  for (const auto encoding : {fr::Encoding::Identity, fr::Encoding::Zstd8mb}) {
    CAPTURE(fr::encoding_name(encoding));
    ResponseCache cache(ResponseCacheOptions{});
    // Two clients, so that each body opens its stream afresh.
    const auto first = PatchClient({encoding}).serve(cache, {"abc"});
    const auto second = PatchClient({encoding}).serve(cache, {"abc"});
    CHECK(first.outcomes == "miss");
    CHECK(second.outcomes == "hit");
    CHECK(second.wire == first.wire);
    CHECK(second.values == first.values);
    CHECK(first.values == std::vector<json>{testing::bin("Xbc")});
    CHECK(cache.stats().entries == 1);
  }
}

TEST_CASE("response cache: on a zstd-8mb-frames stream a cached answer is pre-encoded and follows live frames") {
  ResponseCache cache(ResponseCacheOptions{});
  const auto frames = fr::Encoding::Zstd8mbFrames;
  const auto first = PatchClient({frames}).serve(cache, {"abc"});
  CHECK(first.outcomes == "miss");
  CHECK(first.values == std::vector<json>{testing::bin("Xbc")});
  // In one stream (one body): a live answer, the cached one as whole zstd
  // frames, and another live answer after it.
  const auto mixed = PatchClient({frames}).serve(cache, {"def", "abc", "ghi"});
  CHECK(mixed.outcomes == "miss*2,hit");
  CHECK(mixed.values == std::vector<json>{testing::bin("Xef"), testing::bin("Xbc"), testing::bin("Xhi")});
  // A fresh stream that starts with the pre-encoded answer decodes too.
  const auto fresh = PatchClient({frames}).serve(cache, {"abc"});
  CHECK(fresh.outcomes == "hit");
  CHECK(fresh.values == first.values);
}
