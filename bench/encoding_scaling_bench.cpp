// Content encodings on N output streams at once: N threads, each encoding
// with its own long-lived context (as hgrpcd's compression pool runs one
// stream per worker). Bytes/s counts all threads over wall time, so the
// scaling factor is bytes_per_second(N) / bytes_per_second(1).
// Run: build-bench/bench/encoding_scaling_bench
#include <benchmark/benchmark.h>

#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "framing/content_encoding.hpp"

using namespace hgrpc::framing;

namespace {

constexpr std::size_t kPayload = 32 * 1024;
constexpr std::size_t kPayloadsPerThread = 32;  // 1 MiB per thread per iteration
// 8 MiB of distinct payloads, more than zstd's window at level 3 (2 MiB), so
// no stream finds its earlier input again.
constexpr std::size_t kDistinctPayloads = 256;

// Text-like bytes (words and some noise), different per seed.
Bytes sample(std::size_t size, unsigned seed) {
  static constexpr std::string_view kWords[] = {"changeset ", "manifest ", "node ", "0123456789abcdef",
                                                "delta ", "file/path/", "\n", "author <a@b> "};
  std::mt19937 rng(seed);
  Bytes out;
  while (out.size() < size) {
    append(out, as_bytes(kWords[rng() % std::size(kWords)]));
    if (rng() % 4 == 0) out.push_back(static_cast<std::uint8_t>(rng()));
  }
  out.resize(size);
  return out;
}

// range(0): encoding, range(1): streams (= threads).
void BM_EncodeStreams(benchmark::State& state) {
  const auto enc = static_cast<Encoding>(state.range(0));
  const auto streams = static_cast<std::size_t>(state.range(1));
  static const std::vector<Bytes> payloads = [] {
    std::vector<Bytes> p;
    for (unsigned i = 0; i < kDistinctPayloads; ++i) p.push_back(sample(kPayload, 200 + i));
    return p;
  }();
  std::vector<std::unique_ptr<Encoder>> encoders;
  for (std::size_t s = 0; s < streams; ++s) encoders.push_back(make_encoder(enc));
  std::size_t round = 0;
  for (auto _ : state) {
    std::vector<std::thread> threads;
    for (std::size_t s = 0; s < streams; ++s) {
      threads.emplace_back([&, s] {
        Bytes out;
        out.reserve(2 * kPayload);
        for (std::size_t i = 0; i < kPayloadsPerThread; ++i) {
          out.clear();
          (void)encoders[s]->encode(payloads[(round * kPayloadsPerThread + s * 97 + i) % payloads.size()], out);
          benchmark::DoNotOptimize(out.data());
        }
      });
    }
    for (auto& t : threads) t.join();
    ++round;
  }
  state.SetLabel(std::string(encoding_name(enc)) + " x" + std::to_string(streams));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * streams * kPayloadsPerThread * kPayload));
}

void streams_args(benchmark::internal::Benchmark* b) {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::vector<int> counts{1, 2};
  if (cores > 2) counts.push_back(cores);
  for (auto enc : {Encoding::Zstd8mb, Encoding::Zlib}) {
    for (int n : counts) b->Args({static_cast<int>(enc), n});
  }
}
// A second per case: one iteration is ~5 ms, and a VM's clock and neighbours vary.
BENCHMARK(BM_EncodeStreams)->Apply(streams_args)->UseRealTime()->MinTime(1.0)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
