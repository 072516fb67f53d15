// OutputMux: whatever renders where (pool threads, or inline for identity
// and small frames of an idle stream), the wire bytes are exactly those of
// rendering every frame in order on one thread.
#include <doctest/doctest.h>

#include <random>

#include "framing/content_encoding.hpp"
#include "server/output_mux.hpp"

using namespace hgrpc::server;
using namespace hgrpc::framing;

namespace {

// Responses of mixed sizes: 20 KiB ones go to the pool, 1-200 byte ones may
// render inline, interleaved so that small frames arrive while a large one of
// the same stream is still rendering.
std::vector<PlannedFrames> mixed_responses(std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<PlannedFrames> out;
  for (std::uint16_t id = 1; id <= 60; ++id) {
    const std::size_t size = rng() % 3 == 0 ? 20 * 1024 : 1 + rng() % 200;
    PlannedFrame f;
    f.request_id = id;
    f.type = FrameType::CommandResponse;
    f.flags = 0x02;  // eos
    f.encode = true;
    for (std::size_t i = 0; i < size; ++i) f.payload.push_back(static_cast<std::uint8_t>('a' + rng() % 4));
    out.push_back(PlannedFrames{std::move(f)});
  }
  return out;
}

Bytes render(CompressionPool* pool, OutputMuxOptions options, std::uint32_t seed) {
  std::uint8_t next_id = 2;
  Bytes wire;
  {
    OutputMux mux(
        pool, [&](bool) { auto id = next_id; next_id += 2; return OutputStream(id, make_encoder(Encoding::Zstd8mb)); },
        hgrpc::server::OutputMux::appending_to(wire),
        options);
    for (auto& r : mixed_responses(seed)) {
      const auto stream = mux.next_stream();
      for (auto& f : r) f.stream_id = stream;
      REQUIRE(mux.submit(r));
      CHECK(r.empty());
    }
    REQUIRE(mux.finish());
  }
  return wire;
}

}  // namespace

TEST_CASE("output mux: pool and inline rendering give the bytes of one thread rendering in order") {
  const std::uint32_t seed = std::random_device{}();
  INFO("seed " << seed);
  CompressionPool pool(2);
  for (std::size_t streams : {std::size_t{1}, std::size_t{2}}) {
    CAPTURE(streams);
    OutputMuxOptions inline_small{.max_streams = streams, .split_bytes = 8192};
    OutputMuxOptions never_inline = inline_small;
    never_inline.inline_render_bytes = 0;
    const Bytes reference = render(nullptr, inline_small, seed);  // no pool: all on this thread
    CHECK(reference.size() > 60 * 8);
    CHECK(render(&pool, inline_small, seed) == reference);
    CHECK(render(&pool, never_inline, seed) == reference);
  }
}
