// CBOR encode/decode throughput for typical command arguments and for a
// large byte-string response fed in frame-sized chunks.
// Run: build/bench/cbor_bench
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <string>

#include "framing/cbor.hpp"

using namespace hgrpc::framing;

namespace {

Bytes filled(std::size_t n, std::uint8_t seed) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(seed + i * 31);
  return b;
}

// {name: b'applypatches', args: {base: <1 KiB>, patches: [10 x 200 B]}}
json command_args() {
  json patches = json::array();
  for (int i = 0; i < 10; ++i) patches.push_back(json::binary(filled(200, static_cast<std::uint8_t>(i))));
  return {{"name", cbor_bytes("applypatches")},
          {"args", {{"base", json::binary(filled(1024, 7))}, {"patches", std::move(patches)}}}};
}

void BM_EncodeCommandArgs(benchmark::State& state) {
  const json v = command_args();
  std::size_t size = 0;
  for (auto _ : state) {
    Bytes out = cbor_encode(v);
    size = out.size();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * size));
}
BENCHMARK(BM_EncodeCommandArgs);

void BM_DecodeCommandArgs(benchmark::State& state) {
  const Bytes data = cbor_encode(command_args());
  for (auto _ : state) {
    auto r = cbor_decode_all(data);
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * data.size()));
}
BENCHMARK(BM_DecodeCommandArgs);

// 64 MiB byte string (definite, or indefinite in 32 KiB chunks as a
// streaming response), fed to the decoder 32 KiB at a time.
void BM_DecodeLargeBytes(benchmark::State& state) {
  const bool indefinite = state.range(0) != 0;
  const Bytes payload = filled(64u << 20, 3);
  Bytes data;
  if (indefinite) {
    cbor_append_indefinite_bytes_begin(data);
    for (std::size_t off = 0; off < payload.size(); off += 32768) {
      cbor_append_bytes_chunk(ByteView(payload).subspan(off, 32768), data);
    }
    cbor_append_break(data);
  } else {
    cbor_encode(json::binary(payload), data);
  }
  for (auto _ : state) {
    CborDecoder d;
    for (std::size_t off = 0; off < data.size(); off += 32768) {
      auto r = d.feed(ByteView(data).subspan(off, std::min<std::size_t>(32768, data.size() - off)));
      if (!r) state.SkipWithError(r.error().message.c_str());
    }
    auto v = d.next();
    benchmark::DoNotOptimize(v);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * data.size()));
  state.SetLabel(indefinite ? "indefinite, 32 KiB chunks" : "definite");
}
BENCHMARK(BM_DecodeLargeBytes)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

void BM_EncodeLargeBytes(benchmark::State& state) {
  const json v = json::binary(filled(64u << 20, 3));
  for (auto _ : state) {
    Bytes out = cbor_encode(v);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * (64u << 20)));
}
BENCHMARK(BM_EncodeLargeBytes)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
