// The patch engine: fold + apply of long chains and large texts, diff of text
// and binary data, against memcpy of the same output size. Inputs come from a
// seeded generator (fixed seeds), so runs are comparable.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "bench/median.hpp"
#include "bench/mpatch_chains.hpp"
#include "mpatch/mpatch.hpp"

using namespace hgrpc::mpatch;
using namespace hgrpc::bench;

namespace {

void report(benchmark::State& state, const Chain& c) {
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * c.output));
  state.counters["deltas"] = static_cast<double>(c.deltas.size());
  state.counters["hunks"] = static_cast<double>(c.hunks);
  state.counters["output_bytes"] = static_cast<double>(c.output);
}

void BM_fold_apply_chain_1MiB_1000(benchmark::State& state) {
  const Chain& c = chain_1mib();
  Bytes out;
  for (auto _ : state) {
    auto r = apply_into(c.base, c.views, out);
    if (!r) state.SkipWithError(r.error().message.c_str());
    benchmark::DoNotOptimize(out.data());
  }
  report(state, c);
}
BENCHMARK(BM_fold_apply_chain_1MiB_1000)->Unit(benchmark::kMillisecond);

void BM_fold_only_1MiB_1000(benchmark::State& state) {
  const Chain& c = chain_1mib();
  for (auto _ : state) {
    auto r = fold(c.views);
    benchmark::DoNotOptimize(r->data());
  }
  report(state, c);
}
BENCHMARK(BM_fold_only_1MiB_1000)->Unit(benchmark::kMillisecond);

void BM_memcpy_1MiB(benchmark::State& state) {
  const Chain& c = chain_1mib();
  Bytes src(c.output, 1), dst(c.output);
  for (auto _ : state) {
    std::memcpy(dst.data(), src.data(), src.size());
    benchmark::DoNotOptimize(dst.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * c.output));
}
BENCHMARK(BM_memcpy_1MiB)->Unit(benchmark::kMillisecond);

void BM_fold_apply_64MiB_10_reused(benchmark::State& state) {
  const Chain& c = chain_64mib();
  Bytes out;
  for (auto _ : state) {
    auto r = apply_into(c.base, c.views, out);
    if (!r) state.SkipWithError(r.error().message.c_str());
    benchmark::DoNotOptimize(out.data());
  }
  report(state, c);
}
BENCHMARK(BM_fold_apply_64MiB_10_reused)->Unit(benchmark::kMillisecond);

// The fold share of the case above.
void BM_fold_only_64MiB_10(benchmark::State& state) {
  const Chain& c = chain_64mib();
  for (auto _ : state) {
    auto r = fold(c.views);
    benchmark::DoNotOptimize(r->data());
  }
  report(state, c);
}
BENCHMARK(BM_fold_only_64MiB_10)->Unit(benchmark::kMillisecond);

void BM_fold_apply_64MiB_10_fresh(benchmark::State& state) {
  const Chain& c = chain_64mib();
  for (auto _ : state) {
    auto r = hgrpc::mpatch::apply(c.base, c.views);
    if (!r) state.SkipWithError(r.error().message.c_str());
    benchmark::DoNotOptimize(r->data());
  }
  report(state, c);
}
BENCHMARK(BM_fold_apply_64MiB_10_fresh)->Unit(benchmark::kMillisecond);

void BM_memcpy_64MiB_reused(benchmark::State& state) {
  const Chain& c = chain_64mib();
  Bytes dst(c.output);
  for (auto _ : state) {
    std::memcpy(dst.data(), c.base.data(), std::min(c.base.size(), dst.size()));
    benchmark::DoNotOptimize(dst.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * c.output));
}
BENCHMARK(BM_memcpy_64MiB_reused)->Unit(benchmark::kMillisecond);

// The ratio of the two cases above, measured in pairs: each iteration times
// one memcpy and one apply back to back, so that the machine's slower and
// faster moments fall on both. On a shared VM they last seconds (the
// ratio of 20-pair windows ranged 0.92-1.31 within one run), so there are
// many pairs, spread over several seconds, and every other pair runs the
// apply first, so that neither side always finds the caches as the other
// left them. The reported time is the apply's; the counters give the medians.
void BM_apply_vs_memcpy_64MiB_reused_paired(benchmark::State& state) {
  using Clock = std::chrono::steady_clock;
  const Chain& c = chain_64mib();
  Bytes out, dst(c.output);
  auto warm = apply_into(c.base, c.views, out);  // allocate and fault in once
  if (!warm) state.SkipWithError(warm.error().message.c_str());
  std::vector<double> apply_ms, memcpy_ms, ratios;
  auto run_memcpy = [&] {
    const auto t0 = Clock::now();
    std::memcpy(dst.data(), c.base.data(), std::min(c.base.size(), dst.size()));
    benchmark::DoNotOptimize(dst.data());
    memcpy_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  };
  auto run_apply = [&] {
    const auto t0 = Clock::now();
    auto r = apply_into(c.base, c.views, out);
    benchmark::DoNotOptimize(out.data());
    apply_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    if (!r) state.SkipWithError(r.error().message.c_str());
  };
  for (auto _ : state) {
    if (apply_ms.size() % 2 == 0) {
      run_memcpy();
      run_apply();
    } else {
      run_apply();
      run_memcpy();
    }
    ratios.push_back(apply_ms.back() / memcpy_ms.back());
    state.SetIterationTime(apply_ms.back() / 1e3);
  }
  report(state, c);
  state.counters["apply_ms_median"] = median(apply_ms);
  state.counters["memcpy_ms_median"] = median(memcpy_ms);
  state.counters["ratio_median"] = median(ratios);
}
BENCHMARK(BM_apply_vs_memcpy_64MiB_reused_paired)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(200);

void BM_memcpy_64MiB_fresh(benchmark::State& state) {
  const Chain& c = chain_64mib();
  for (auto _ : state) {
    Bytes dst;
    dst.reserve(c.output);
    dst.insert(dst.end(), c.base.begin(), c.base.begin() + static_cast<std::ptrdiff_t>(std::min(c.base.size(), c.output)));
    benchmark::DoNotOptimize(dst.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * c.output));
}
BENCHMARK(BM_memcpy_64MiB_fresh)->Unit(benchmark::kMillisecond);

void BM_diff_text_1MiB_1pct_lines(benchmark::State& state) {
  Rng rng(3);
  std::vector<std::string> lines;
  std::size_t size = 0;
  while (size < (1u << 20)) {
    lines.push_back(random_line(rng));
    size += lines.back().size();
  }
  const Bytes a = join(lines);
  std::size_t changed_bytes = 0, changed_lines = lines.size() / 100;
  for (std::size_t i = 0; i < changed_lines; ++i) {
    std::string& l = lines[pick(rng, 0, lines.size() - 1)];
    l = random_line(rng);
    changed_bytes += l.size();
  }
  const Bytes b = join(lines);
  Bytes d;
  for (auto _ : state) {
    d = diff(a, b);
    benchmark::DoNotOptimize(d.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * (a.size() + b.size())));
  state.counters["delta_bytes"] = static_cast<double>(d.size());
  // What a whole-line diff needs: each changed line plus a 12-byte header.
  state.counters["line_diff_bytes"] = static_cast<double>(changed_bytes + 12 * changed_lines);
}
BENCHMARK(BM_diff_text_1MiB_1pct_lines)->Unit(benchmark::kMillisecond);

void BM_diff_binary_1MiB_100x16(benchmark::State& state) {
  Rng rng(4);
  Bytes a(1u << 20);
  for (auto& c : a) c = static_cast<std::uint8_t>(rng());
  Bytes b = a;
  for (int i = 0; i < 100; ++i) {
    const std::size_t at = pick(rng, 0, b.size() - 16);
    for (std::size_t k = 0; k < 16; ++k) b[at + k] = static_cast<std::uint8_t>(rng());
  }
  Bytes d;
  for (auto _ : state) {
    d = diff(a, b);
    benchmark::DoNotOptimize(d.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * (a.size() + b.size())));
  state.counters["delta_bytes"] = static_cast<double>(d.size());
}
BENCHMARK(BM_diff_binary_1MiB_100x16)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
