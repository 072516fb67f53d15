// A request body through FrameReader + ServerReactor, as the server runs it:
// byte 0 seeds the chunk sizes, byte 1 picks small limits or the defaults,
// the rest is the body. Every RunCommand gets a tiny response (a value, a
// command error or an error-response) planned and rendered on the output
// stream, which must then decode with our client reactor. Invariants: after
// a ProtocolError every later frame errors too; requests are dispatched once.
#include <cstdint>
#include <cstdlib>
#include <set>
#include <variant>
#include <vector>

#include "framing/client_reactor.hpp"
#include "framing/frame_reader.hpp"
#include "framing/response_emitter.hpp"
#include "framing/server_reactor.hpp"
#include "framing/stream.hpp"

using namespace hgrpc::framing;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  std::uint32_t state = data[0] | 1u;
  ServerReactorOptions o;
  if (data[1] & 1) {
    o.max_request_bytes = 64;
    o.max_receiving_requests = 2;
    o.max_protocol_settings_bytes = 16;
    o.input_streams.max_open_streams = 2;
    o.input_streams.max_settings_bytes = 8;
    o.input_streams.decoder.max_decoded_bytes = 256;
    o.cbor.max_depth = 4;
    o.cbor.max_container_items = 8;
    o.max_frame_size = data[1] >> 1;  // raised to kMinFrameSize
  }
  const ByteView body(data + 2, size - 2);

  ServerReactor reactor(o);
  FrameReader reader;
  std::vector<OutputStream> out_streams;
  PlannedFrames planned;
  std::set<std::uint16_t> answered;
  bool errored = false;
  bool reused = false;  // a request id answered twice: the client check can't follow
  std::size_t pos = 0;
  while (pos < body.size()) {
    state ^= state << 13, state ^= state >> 17, state ^= state << 5;  // xorshift32
    const std::size_t n = std::min<std::size_t>(body.size() - pos, 1 + state % 64);
    reader.feed(body.subspan(pos, n));
    pos += n;
    while (true) {
      auto f = reader.next();
      if (!f || !*f) break;
      ServerAction a = reactor.on_frame(**f);
      if (errored) check(std::holds_alternative<ProtocolError>(a));
      if (std::holds_alternative<ProtocolError>(a)) errored = true;
      if (auto* run = std::get_if<RunCommand>(&a)) {
        check(run->args.is_object());
        if (out_streams.empty()) out_streams.push_back(reactor.make_output_stream());
        ResponseEmitter e = reactor.make_emitter(run->request_id, out_streams[0].id());
        switch (run->name.size() % 3) {
          case 0:
            e.value(json::object({{"name", cbor_bytes(run->name)}}), planned);
            if (run->data) e.value(cbor_bytes(*run->data), planned);
            e.end(planned);
            break;
          case 1:
            e.command_error("bad %s", {run->name}, planned);
            break;
          default:
            e.error_response(ErrorType::Server, run->name, planned);
        }
        reactor.on_response_done(run->request_id);
        reused |= !answered.insert(run->request_id).second;
      }
    }
  }
  if (!errored) (void)reactor.on_input_end();

  // The responses must render and decode.
  if (!out_streams.empty() && !reused) {
    Bytes wire;
    for (const auto& p : planned) check(out_streams[0].render(p, wire).has_value());
    ClientReactor client;
    for (auto id : answered) client.expect_request(id);
    FrameReader back(kMaxPayloadWireLimit);
    back.feed(wire);
    while (true) {
      auto f = back.next();
      check(f.has_value());
      if (!*f) break;
      for (auto& ev : client.on_frame(**f)) check(!std::holds_alternative<ProtocolError>(ev));
    }
  }
  return 0;
}
