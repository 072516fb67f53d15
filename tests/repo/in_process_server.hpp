#pragma once
// A request body served in-process, as hgrpcd serves one POST: through
// server::BodyProcessor (all output written once the body is read), the
// response decoded frame by frame by a client reactor.
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "client/fetch.hpp"
#include "framing/client_reactor.hpp"
#include "framing/frame_reader.hpp"
#include "framing/stream.hpp"
#include "server/body_processor.hpp"
#include "tests/repo/repo_support.hpp"

namespace repo_test {

namespace fr = hgrpc::framing;
namespace cl = hgrpc::client;

// A response body as its receiver reads it, whatever its frame and
// compression boundaries: per (request id, frame type) the decoded payload
// octets, and whether any stream was zstd-8mb-frames.
struct DecodedBody {
  std::map<std::pair<std::uint16_t, std::uint8_t>, hgrpc::framing::Bytes> octets;
  bool frames_profile = false;
};
inline DecodedBody decode_body(hgrpc::framing::ByteView out) {
  namespace fr = hgrpc::framing;
  DecodedBody d;
  fr::FrameReader reader(0xFFFFFF);
  reader.feed(out);
  fr::InputStreams streams(false);
  for (std::size_t i = 0;; ++i) {
    auto f = reader.next();
    REQUIRE(f);
    if (!*f) break;
    auto decoded = streams.accept(i, **f);
    if (!decoded) FAIL("frame " << i << ": " << decoded.error().message);
    const auto sid = (**f).header.stream_id;
    d.frames_profile = d.frames_profile || streams.encoding_of(sid) == fr::Encoding::Zstd8mbFrames;
    if (*decoded) fr::append(d.octets[{(**decoded).header.request_id, (**decoded).header.type}], (**decoded).payload);
  }
  return d;
}

// The response body hgrpcd gives for `body` posted to .../ro/<target>
// (a command name, or multirequest); the status must be 200.
// With the test cache on (repo_support.hpp: test_cache) the body is served
// twice, the second time from the cache (memory or the shared tier), and the
// second answer must equal the first byte for byte; on a zstd-8mb-frames
// stream a cached answer is pre-encoded (its zstd frames cut elsewhere), so
// there the decoded octets of every response must be equal.
inline hgrpc::framing::Bytes serve_body(const hgrpc::server::CommandRegistry& registry, const std::string& target,
                                        hgrpc::framing::ByteView body,
                                        hgrpc::server::ResponseCache* cache = test_cache()) {
  namespace fr = hgrpc::framing;
  const auto serve_once = [&] {
    fr::Bytes out;
    hgrpc::server::BodyOptions options;
    options.cache = cache;
    hgrpc::server::BodyProcessor processor(registry, hgrpc::server::BodyTarget{false, target}, options, nullptr,
                                           hgrpc::server::OutputMux::appending_to(out));
    processor.feed(body);
    REQUIRE(processor.finish().status == 200);
    REQUIRE(processor.write_output());
    return out;
  };
  fr::Bytes out = serve_once();
  if (cache != nullptr) {
    cache->settle();  // the first answer's recompression and tier write
    const fr::Bytes again = serve_once();
    const auto first = decode_body(out);
    REQUIRE(decode_body(again).octets == first.octets);
    if (!first.frames_profile) REQUIRE(again == out);
  }
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

// The client's Exchange served in-process: one request body through
// BodyProcessor, outcomes in call order. `tamper` may change response values
// (a broken server).
inline cl::Exchange in_process(const srv::CommandRegistry& registry, std::function<void(std::vector<json>&)> tamper = {}) {
  return [&registry, tamper](const std::vector<cl::Call>& calls) -> cl::ClientResult<std::vector<cl::Outcome>> {
    fr::ClientReactor reactor(fr::ClientReactorOptions{});
    fr::Bytes body;
    std::map<std::uint16_t, std::size_t> index;
    for (std::size_t i = 0; i < calls.size(); ++i) {
      auto id = reactor.call_command(calls[i].command, calls[i].args, body);
      REQUIRE(id);
      index[*id] = i;
    }
    const fr::Bytes out =
        serve_body(registry, calls.size() == 1 ? calls[0].command : std::string(srv::kMultiRequest), body);
    std::vector<cl::Outcome> outcomes(calls.size());
    for (auto& ev : response_events(reactor, out)) {
      if (auto* v = std::get_if<fr::ResponseValue>(&ev)) outcomes[index.at(v->request_id)].values.push_back(std::move(v->value));
      if (auto* e = std::get_if<fr::CommandError>(&ev)) {
        outcomes[index.at(e->request_id)].kind = cl::Outcome::Kind::CommandError;
        outcomes[index.at(e->request_id)].message =
            e->error.contains("message") ? cl::format_error_message(e->error.at("message")) : e->error.dump();
      }
    }
    if (tamper) {
      for (auto& o : outcomes) tamper(o.values);
    }
    return outcomes;
  };
}

inline std::string compare(const std::string& mode, const fs::path& src, const fs::path& dst) {
  fs::path log = dst.string() + "." + mode + ".log";
  std::string cmd = "/usr/bin/python3 " + shell_quote(std::string(HGRPC_SOURCE_DIR) + "/tests/store/compare_repos.py") + " " +
                    mode + " " + shell_quote(src.string()) + " " + shell_quote(dst.string()) + " >" +
                    shell_quote(log.string()) + " 2>&1";
  int rc = std::system(cmd.c_str());
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  return rc == 0 ? std::string() : "exit " + std::to_string(rc) + ":\n" + text.str();
}

inline fs::path scratch(const std::string& name) {
  fs::path dir = fs::path(HGRPC_BINARY_DIR) / "clone-scratch" / (name + "." + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

}  // namespace repo_test
