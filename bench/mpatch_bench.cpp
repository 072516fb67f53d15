// The patch engine: fold + apply of long chains and large texts, diff of text
// and binary data, against memcpy of the same output size. Inputs come from a
// seeded generator (fixed seeds), so runs are comparable.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "mpatch/mpatch.hpp"

using namespace hgrpc::mpatch;

namespace {

using Rng = std::mt19937_64;

std::size_t pick(Rng& rng, std::size_t lo, std::size_t hi) {
  return std::uniform_int_distribution<std::size_t>(lo, hi)(rng);
}

std::string random_line(Rng& rng) {
  static const char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz     ;(){}=+-0123456789";
  std::string line(pick(rng, 20, 80), ' ');
  for (char& c : line) c = kAlphabet[pick(rng, 0, sizeof kAlphabet - 2)];
  line.back() = '\n';
  return line;
}

void put32(Bytes& out, std::size_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}

Bytes join(const std::vector<std::string>& lines) {
  Bytes out;
  for (const auto& l : lines) out.insert(out.end(), l.begin(), l.end());
  return out;
}

// One revision: `edits` places, each replacing 0-3 lines by 0-3 new ones
// (never both 0). Updates `lines` and returns the delta.
Bytes revise(Rng& rng, std::vector<std::string>& lines, std::size_t edits) {
  std::vector<std::size_t> offsets(lines.size() + 1, 0);
  for (std::size_t i = 0; i < lines.size(); ++i) offsets[i + 1] = offsets[i] + lines[i].size();
  std::vector<std::size_t> at;
  for (std::size_t i = 0; i < edits; ++i) at.push_back(pick(rng, 0, lines.size() - 4));
  std::sort(at.begin(), at.end());
  Bytes delta;
  std::vector<std::string> next;
  std::size_t pos = 0;  // next line of `lines` not yet handled
  for (std::size_t a : at) {
    if (a < pos) continue;
    std::size_t removed = pick(rng, 0, 3), added = pick(rng, removed == 0 ? 1 : 0, 3);
    next.insert(next.end(), lines.begin() + static_cast<std::ptrdiff_t>(pos),
                lines.begin() + static_cast<std::ptrdiff_t>(a));
    std::string data;
    for (std::size_t k = 0; k < added; ++k) {
      next.push_back(random_line(rng));
      data += next.back();
    }
    put32(delta, offsets[a]);
    put32(delta, offsets[a + removed]);
    put32(delta, data.size());
    delta.insert(delta.end(), data.begin(), data.end());
    pos = a + removed;
  }
  next.insert(next.end(), lines.begin() + static_cast<std::ptrdiff_t>(pos), lines.end());
  lines = std::move(next);
  return delta;
}

struct Chain {
  Bytes base;
  std::vector<Bytes> deltas;
  std::vector<ByteView> views;
  std::size_t hunks = 0;
  std::size_t output = 0;
};

Chain make_chain(std::uint64_t seed, std::size_t base_bytes, std::size_t revisions,
                 std::size_t min_edits, std::size_t max_edits) {
  Rng rng(seed);
  std::vector<std::string> lines;
  std::size_t size = 0;
  while (size < base_bytes) {
    lines.push_back(random_line(rng));
    size += lines.back().size();
  }
  Chain c;
  c.base = join(lines);
  for (std::size_t r = 0; r < revisions; ++r) {
    const std::size_t edits = pick(rng, min_edits, max_edits);
    c.deltas.push_back(revise(rng, lines, edits));
  }
  for (const auto& d : c.deltas) {
    c.views.emplace_back(d.data(), d.size());
    c.hunks += decode(c.views.back())->size();
  }
  c.output = join(lines).size();
  return c;
}

const Chain& chain_1mib() {
  static const Chain c = make_chain(1, 1 << 20, 1000, 1, 8);
  return c;
}
const Chain& chain_64mib() {
  static const Chain c = make_chain(2, 64 << 20, 10, 6000, 6000);  // ~9,000 lines replaced
  return c;
}

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
