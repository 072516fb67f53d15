// Context reuse on one output stream: 1000 similar small responses (CBOR
// maps of ~300 bytes: same keys, different values, as a stream of
// per-revision answers looks) encoded by one long-lived context against a
// fresh context per response. Counters: total encoded bytes each way and
// their ratio (long-lived / fresh), computed in the same run.
// Run: build-bench/bench/context_reuse_bench
#include <benchmark/benchmark.h>
#define ZSTD_STATIC_LINKING_ONLY  // ZSTD_c_srcSizeHint (a parameter, no static symbols)
#include <zstd.h>

#include <random>
#include <string>
#include <vector>

#include "framing/cbor.hpp"
#include "framing/content_encoding.hpp"

using namespace hgrpc::framing;

namespace {

constexpr std::size_t kResponses = 1000;

Bytes random_bytes(std::mt19937_64& rng, std::size_t n) {
  Bytes b(n);
  for (auto& x : b) x = static_cast<std::uint8_t>(rng());
  return b;
}

// {node, p1, p2: 20-byte hashes, linkrev, size, flags, path, user, date,
// description}: about 300 bytes of CBOR each.
std::vector<Bytes> responses() {
  std::mt19937_64 rng(42);
  std::vector<Bytes> out;
  for (std::size_t i = 0; i < kResponses; ++i) {
    const json m{{"node", json::binary(random_bytes(rng, 20))},
                 {"p1", json::binary(random_bytes(rng, 20))},
                 {"p2", json::binary(Bytes(20, 0))},
                 {"linkrev", 100000 + i},
                 {"size", rng() % 1000000},
                 {"flags", 0},
                 {"path", cbor_bytes("src/module" + std::to_string(rng() % 50) + "/file" +
                                     std::to_string(rng() % 400) + ".py")},
                 {"user", cbor_bytes("Developer " + std::to_string(rng() % 20) + " <dev" +
                                     std::to_string(rng() % 20) + "@example.org>")},
                 {"date", json::array({1700000000 + i * 3600, 0})},
                 {"description", cbor_bytes("module" + std::to_string(rng() % 50) +
                                            ": fix the handling of empty revisions in the "
                                            "delta chain walker (issue" +
                                            std::to_string(1000 + rng() % 9000) + ")")}};
    out.push_back(cbor_encode(m));
  }
  return out;
}

std::size_t encoded_total(Encoding enc, const std::vector<Bytes>& rs, bool reuse) {
  std::size_t total = 0;
  auto shared = make_encoder(enc);
  Bytes out;
  for (const Bytes& r : rs) {
    out.clear();
    if (reuse) {
      (void)shared->encode(r, out);
    } else {
      (void)make_encoder(enc)->encode(r, out);
    }
    total += out.size();
  }
  return total;
}

// range(0): encoding. Times the long-lived context; counts both.
void BM_ContextReuseCbor(benchmark::State& state) {
  const auto enc = static_cast<Encoding>(state.range(0));
  const auto rs = responses();
  std::size_t raw = 0;
  for (const Bytes& r : rs) raw += r.size();
  std::size_t long_lived = 0;
  for (auto _ : state) long_lived = encoded_total(enc, rs, true);
  const std::size_t fresh = encoded_total(enc, rs, false);
  state.SetLabel(std::string(encoding_name(enc)));
  state.counters["raw_bytes"] = static_cast<double>(raw);
  state.counters["long_lived_bytes"] = static_cast<double>(long_lived);
  state.counters["fresh_bytes"] = static_cast<double>(fresh);
  state.counters["ratio"] = static_cast<double>(long_lived) / static_cast<double>(fresh);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * raw));
}
BENCHMARK(BM_ContextReuseCbor)
    ->Arg(static_cast<int>(Encoding::Zstd8mb))
    ->Arg(static_cast<int>(Encoding::Zlib))
    ->Unit(benchmark::kMillisecond);

// What a fresh context costs: one context created and used per response.
void BM_FreshContextPerResponse(benchmark::State& state) {
  const auto enc = static_cast<Encoding>(state.range(0));
  const auto rs = responses();
  for (auto _ : state) benchmark::DoNotOptimize(encoded_total(enc, rs, false));
  state.SetLabel(std::string(encoding_name(enc)));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kResponses));
}
BENCHMARK(BM_FreshContextPerResponse)
    ->Arg(static_cast<int>(Encoding::Zstd8mb))
    ->Arg(static_cast<int>(Encoding::Zlib))
    ->Unit(benchmark::kMillisecond);

// What a fresh zstd-8mb context per exchange could cost instead (hgrpcd
// makes one per output stream, i.e. per POST): range(0) 0: create, use, free
// (as now); 1: one context reset with ZSTD_reset_session_only per response (a
// pool); 2: fresh, with ZSTD_c_srcSizeHint set to the response size.
void BM_ZstdContextSetup(benchmark::State& state) {
  const int mode = static_cast<int>(state.range(0));
  const auto rs = responses();
  ZSTD_CCtx* pooled = ZSTD_createCCtx();
  Bytes out(4096);
  for (auto _ : state) {
    for (const Bytes& r : rs) {
      ZSTD_CCtx* c = pooled;
      if (mode == 1) {
        ZSTD_CCtx_reset(c, ZSTD_reset_session_only);
      } else {
        c = ZSTD_createCCtx();
        if (mode == 2) ZSTD_CCtx_setParameter(c, ZSTD_c_srcSizeHint, static_cast<int>(r.size()));
      }
      ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, 3);
      ZSTD_inBuffer in{r.data(), r.size(), 0};
      ZSTD_outBuffer o{out.data(), out.size(), 0};
      benchmark::DoNotOptimize(ZSTD_compressStream2(c, &o, &in, ZSTD_e_flush));
      if (c != pooled) ZSTD_freeCCtx(c);
    }
  }
  ZSTD_freeCCtx(pooled);
  static const char* const kLabels[] = {"fresh context (as now)", "pooled context, session reset",
                                        "fresh context, srcSizeHint"};
  state.SetLabel(kLabels[mode]);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kResponses));
}
BENCHMARK(BM_ZstdContextSetup)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
