// Frame reader throughput against memcpy of the same bytes, and the content
// encodings' speed and context reuse. Run: build/bench/framing_bench
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "framing/content_encoding.hpp"
#include "framing/frame_reader.hpp"

using namespace hgrpc::framing;

namespace {

constexpr std::size_t kFramePayload = 32 * 1024;
constexpr std::size_t kBodyFrames = 256;  // 8 MiB body

// Text-like bytes: words from a small vocabulary with some noise.
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

const Bytes& identity_body() {
  static const Bytes body = [] {
    Bytes b;
    const Bytes payload = sample(kFramePayload, 1);
    for (std::size_t i = 0; i < kBodyFrames; ++i) {
      append_frame(b, FrameHeader{0, 1, 2, 0, 0x03, command_response_flags::kContinuation}, payload);
    }
    return b;
  }();
  return body;
}

// Reads the body fed in chunks of state.range(0) bytes (0: one chunk).
void BM_FrameReader(benchmark::State& state) {
  const Bytes& body = identity_body();
  const std::size_t chunk = state.range(0) == 0 ? body.size() : static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {
    FrameReader r;
    std::size_t payload_bytes = 0;
    for (std::size_t pos = 0; pos < body.size(); pos += chunk) {
      r.feed(ByteView(body).subspan(pos, std::min(chunk, body.size() - pos)));
      while (auto f = r.next()) {
        if (!*f) break;
        payload_bytes += (*f)->payload.size();
        benchmark::DoNotOptimize((*f)->payload.data());
      }
    }
    benchmark::DoNotOptimize(payload_bytes);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_FrameReader)->Arg(0)->Arg(65536)->Arg(16384)->Arg(4096);

// The yardstick: copying the same bytes once.
void BM_Memcpy(benchmark::State& state) {
  const Bytes& body = identity_body();
  Bytes dst(body.size());
  for (auto _ : state) {
    std::memcpy(dst.data(), body.data(), body.size());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_Memcpy);

// One stream encoding 32 KiB payloads (one context for the whole run). The
// payloads differ, or zstd would just find the previous copy in its window.
void BM_Encode(benchmark::State& state) {
  const auto enc = static_cast<Encoding>(state.range(0));
  std::vector<Bytes> payloads;
  for (unsigned i = 0; i < 64; ++i) payloads.push_back(sample(kFramePayload, 2 + i));
  auto e = make_encoder(enc);
  Bytes out;
  std::size_t wire = 0, i = 0;
  for (auto _ : state) {
    out.clear();
    (void)e->encode(payloads[i++ % payloads.size()], out);
    wire += out.size();
  }
  state.SetLabel(std::string(encoding_name(enc)));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kFramePayload));
  state.counters["ratio"] = static_cast<double>(wire) / static_cast<double>(state.iterations() * kFramePayload);
}
BENCHMARK(BM_Encode)->Arg(static_cast<int>(Encoding::Zstd8mb))->Arg(static_cast<int>(Encoding::Zlib));

// One stream decoding 32 KiB payloads; bytes counted are decoded bytes.
void BM_Decode(benchmark::State& state) {
  const auto enc = static_cast<Encoding>(state.range(0));
  constexpr int kMessages = 64;
  std::vector<Bytes> frames;
  auto e = make_encoder(enc);
  for (int i = 0; i < kMessages; ++i) {
    Bytes out;
    (void)e->encode(sample(kFramePayload, 10 + static_cast<unsigned>(i)), out);
    frames.push_back(std::move(out));
  }
  Bytes out;
  out.reserve(kFramePayload * kMessages);
  for (auto _ : state) {
    DecoderLimits limits;
    limits.max_decoded_bytes = std::uint64_t{1} << 62;
    auto d = make_decoder(enc, limits);
    out.clear();
    for (const Bytes& f : frames) (void)d->decode(f, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetLabel(std::string(encoding_name(enc)));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kFramePayload * kMessages));
}
BENCHMARK(BM_Decode)->Arg(static_cast<int>(Encoding::Zstd8mb))->Arg(static_cast<int>(Encoding::Zlib));

// 1000 similar ~300-byte responses: one long-lived context (arg 1) against a
// fresh context per response (arg 0). Counter: encoded bytes per response.
void BM_ContextReuse(benchmark::State& state) {
  const auto enc = static_cast<Encoding>(state.range(0));
  const bool reuse = state.range(1) != 0;
  std::vector<Bytes> responses;
  const Bytes common = sample(250, 3);
  for (unsigned i = 0; i < 1000; ++i) {
    Bytes r = common;
    append(r, sample(50, 100 + i));
    responses.push_back(std::move(r));
  }
  std::size_t wire = 0;
  for (auto _ : state) {
    wire = 0;
    auto shared = make_encoder(enc);
    for (const Bytes& r : responses) {
      Bytes out;
      if (reuse) {
        (void)shared->encode(r, out);
      } else {
        (void)make_encoder(enc)->encode(r, out);
      }
      wire += out.size();
    }
  }
  state.SetLabel(std::string(encoding_name(enc)) + (reuse ? " long-lived" : " fresh per response"));
  state.counters["bytes_per_response"] = static_cast<double>(wire) / 1000.0;
}
BENCHMARK(BM_ContextReuse)
    ->Args({static_cast<int>(Encoding::Zstd8mb), 1})
    ->Args({static_cast<int>(Encoding::Zstd8mb), 0})
    ->Args({static_cast<int>(Encoding::Zlib), 1})
    ->Args({static_cast<int>(Encoding::Zlib), 0});

}  // namespace

BENCHMARK_MAIN();
