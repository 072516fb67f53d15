#pragma once
// A request body served in-process, as hgrpcd serves one POST: through
// server::BodyProcessor (all output written once the body is read), the
// response decoded frame by frame by a client reactor.
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "framing/client_reactor.hpp"
#include "framing/frame_reader.hpp"
#include "server/body_processor.hpp"

namespace repo_test {

// The response body hgrpcd gives for `body` posted to .../ro/<target>
// (a command name, or multirequest); the status must be 200.
inline hgrpc::framing::Bytes serve_body(const hgrpc::server::CommandRegistry& registry, const std::string& target,
                                        hgrpc::framing::ByteView body) {
  namespace fr = hgrpc::framing;
  fr::Bytes out;
  hgrpc::server::BodyProcessor processor(registry, hgrpc::server::BodyTarget{false, target},
                                         hgrpc::server::BodyOptions{}, nullptr,
                                         [&](fr::ByteView b) -> fr::Result<void> {
                                           fr::append(out, b);
                                           return {};
                                         });
  processor.feed(body);
  REQUIRE(processor.finish().status == 200);
  REQUIRE(processor.write_output());
  return out;
}

// Every event the client reactor makes of a response body.
inline std::vector<hgrpc::framing::ClientEvent> response_events(hgrpc::framing::ClientReactor& reactor,
                                                                 hgrpc::framing::ByteView out) {
  namespace fr = hgrpc::framing;
  std::vector<fr::ClientEvent> events;
  fr::FrameReader reader(0xFFFFFF);
  reader.feed(out);
  for (;;) {
    auto f = reader.next();
    REQUIRE(f);
    if (!*f) break;
    for (auto& ev : reactor.on_frame(**f)) events.push_back(std::move(ev));
  }
  return events;
}

}  // namespace repo_test
