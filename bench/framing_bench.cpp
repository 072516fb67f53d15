// Frame reader throughput against memcpy of the same bytes, the server
// reactor's (small commands; command data), and the content encodings' speed
// and context reuse. Run: build/bench/framing_bench
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "framing/content_encoding.hpp"
#include "framing/cbor.hpp"
#include "framing/frame_reader.hpp"
#include "framing/server_reactor.hpp"

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

// A request body: `requests` small command requests (a patchedsize-like map)
// or, with data_bytes, one have-data request and its data in 32 KiB frames.
Bytes request_body(std::size_t requests, std::size_t data_bytes) {
  Bytes b;
  json m = json::object();
  m["name"] = cbor_bytes("patchedsize");
  m["args"] = json::object({{"size", 1000}, {"patches", json::array({cbor_bytes(std::string(40, 'p'))})}});
  const Bytes request = cbor_encode(m);
  for (std::size_t i = 0; i < requests; ++i) {
    const std::uint8_t flags = command_request_flags::kNew | (data_bytes ? command_request_flags::kHaveData : 0);
    append_frame(b, FrameHeader{0, static_cast<std::uint16_t>(1 + 2 * i), 1,
                                static_cast<std::uint8_t>(i == 0 ? stream_flags::kBegin : 0), 0x01, flags},
                 request);
  }
  if (data_bytes) {
    const Bytes payload = sample(kFramePayload, 2);
    for (std::size_t sent = 0; sent < data_bytes; sent += kFramePayload) {
      const bool last = sent + kFramePayload >= data_bytes;
      append_frame(b, FrameHeader{0, 1, 1, 0, 0x02, last ? command_data_flags::kEos : command_data_flags::kContinuation},
                   payload);
    }
  }
  return b;
}

// Frame reader + server reactor over a whole body, fed in 16 KiB chunks (as
// cpp-httplib hands it over); every RunCommand's response is marked done.
void run_reactor(benchmark::State& state, const Bytes& body, std::size_t expected_runs) {
  constexpr std::size_t kChunk = 16384;
  std::size_t frames = 0;
  for (auto _ : state) {
    FrameReader reader;
    ServerReactor reactor;
    std::size_t runs = 0;
    for (std::size_t pos = 0; pos < body.size(); pos += kChunk) {
      reader.feed(ByteView(body).subspan(pos, std::min(kChunk, body.size() - pos)));
      while (auto f = reader.next()) {
        if (!*f) break;
        ++frames;
        auto a = reactor.on_frame(**f);
        if (auto* run = std::get_if<RunCommand>(&a)) {
          ++runs;
          reactor.on_response_done(run->request_id);
        } else if (std::holds_alternative<ProtocolError>(a)) {
          state.SkipWithError("protocol error");
          return;
        }
      }
    }
    if (runs != expected_runs) state.SkipWithError("wrong number of commands");
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
  state.counters["frames/s"] = benchmark::Counter(static_cast<double>(frames), benchmark::Counter::kIsRate);
}

void BM_ServerReactorSmallCommands(benchmark::State& state) {
  static const Bytes body = request_body(1000, 0);
  run_reactor(state, body, 1000);
}
BENCHMARK(BM_ServerReactorSmallCommands);

void BM_ServerReactorCommandData(benchmark::State& state) {
  static const Bytes body = request_body(1, kFramePayload * kBodyFrames);
  run_reactor(state, body, 1);
}
BENCHMARK(BM_ServerReactorCommandData);

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
