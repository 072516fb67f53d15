// A request body through the server's BodyProcessor, in-process, with the
// standard command registry: what hgrpcd does with a POST body after the HTTP
// checks. Byte 0 seeds the chunk sizes; byte 1 picks the URL (bit 0: small
// limits, bit 1: rw/, bits 2-4: the URL's command); the rest is the body.
// Invariants: finish() always returns an outcome in the documented set; a
// framed outcome's bytes are whole frames; a 400 framed body is exactly one
// error-response frame on stream 2; feeding after the outcome is a no-op.
#include <array>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "framing/frame.hpp"
#include "framing/frame_reader.hpp"
#include "server/body_processor.hpp"
#include "server/command_registry.hpp"

using namespace hgrpc;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

constexpr std::array<std::string_view, 8> kTargets{
    "multirequest", "multirequest", "applypatches", "diff",
    "foldpatches",  "patchedsize",  "capabilities", "nosuchcommand"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  static const server::CommandRegistry registry = server::CommandRegistry::standard();
  std::uint32_t state = data[0] | 1u;
  const std::uint8_t mode = data[1];

  server::BodyOptions o;
  if (mode & 1) {
    o.max_frame_size = 1024;
    o.reactor.max_request_bytes = 256;
    o.reactor.max_receiving_requests = 2;
    o.reactor.input_streams.max_open_streams = 2;
    o.reactor.input_streams.decoder.max_decoded_bytes = 512;
    o.reactor.cbor.max_depth = 4;
    o.reactor.max_frame_size = 1024;  // emitted: several frames per response
    o.limits.max_output_bytes = 300;
  }
  // Commands on fuzzed inputs stay cheap: diff and applypatches are linear or
  // near-linear in the (libFuzzer -max_len bounded) input.
  server::BodyTarget target{(mode & 2) != 0, std::string(kTargets[(mode >> 2) & 7])};
  const framing::ByteView body(data + 2, size - 2);

  framing::Bytes out;
  server::BodyProcessor p(registry, target, o, nullptr, hgrpc::server::OutputMux::appending_to(out));
  std::size_t pos = 0;
  bool going = true;
  while (pos < body.size()) {
    state ^= state << 13, state ^= state >> 17, state ^= state << 5;  // xorshift32
    const std::size_t n = std::min<std::size_t>(body.size() - pos, 1 + state % 64);
    const bool more = p.feed(body.subspan(pos, n));
    if (!going) check(!more);  // once decided, stays decided
    going = more;
    pos += n;
  }
  const server::BodyResult r = p.finish();
  if (r.framed) check(p.write_output().has_value());

  check(r.status == 200 || r.status == 400 || r.status == 403 || r.status == 500);
  if (!r.framed) {
    check(r.status != 200);
    check(!r.text.empty());
    return 0;
  }
  // The framed output: whole frames only, within the emitted frame size.
  framing::FrameReader back(framing::kMaxPayloadWireLimit);
  back.feed(out);
  std::size_t frames = 0;
  framing::FrameHeader last{};
  while (true) {
    auto f = back.next();
    check(f.has_value());
    if (!*f) break;
    ++frames;
    last = (*f)->header;
    check(last.length <= std::max<std::size_t>(o.reactor.max_frame_size, 1024));
  }
  check(back.finish().has_value());
  check(frames == p.frames_out());
  check(out.size() == p.bytes_out());
  if (r.status == 400) {
    check(r.protocol_error);
    check(frames == 1);
    check(last.type == static_cast<std::uint8_t>(framing::FrameType::ErrorResponse));
    check(last.stream_id == 2);
  }
  if (r.protocol_error && r.status == 200) {
    check(last.type == static_cast<std::uint8_t>(framing::FrameType::ErrorResponse));
  }
  return 0;
}
