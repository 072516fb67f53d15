// BodyProcessor in-process: outcomes, chunking, parallel output streams.
#include <doctest/doctest.h>

#include <random>
#include <set>

#include "framing/client_reactor.hpp"
#include "framing/frame_reader.hpp"
#include "server/body_processor.hpp"
#include "server/compression_pool.hpp"

using namespace hgrpc::server;
namespace fr = hgrpc::framing;
using fr::Bytes;
using fr::json;

namespace {

struct Run {
  Bytes out;
  BodyResult result;
  std::set<std::uint8_t> streams;
  bool spooled = false;  // requests ran while the body was read
};

CommandRegistry registry_with_push() {
  CommandRegistry r = CommandRegistry::standard();
  r.add(CommandSpec{.name = "pushthing",
                    .permission = "push",
                    .args = {},
                    .handler = [](const CommandInput&, ResponseSink& out) -> CommandStatus {
                      out.value(json(1));
                      return {};
                    }});
  return r;
}

Run run(const CommandRegistry& reg, BodyTarget target, const Bytes& body, std::size_t chunk = 0,
        CompressionPool* pool = nullptr, BodyOptions options = {}) {
  Run r;
  BodyProcessor p(reg, std::move(target), options, pool, hgrpc::server::OutputMux::appending_to(r.out));
  if (chunk == 0) chunk = body.size() + 1;
  for (std::size_t pos = 0; pos < body.size(); pos += chunk)
    p.feed(fr::ByteView(body).subspan(pos, std::min(chunk, body.size() - pos)));
  r.result = p.finish();
  r.spooled = p.spooled();
  if (r.result.framed) REQUIRE(p.write_output());
  fr::FrameReader reader(0xFFFFFF);
  reader.feed(r.out);
  for (;;) {
    auto f = reader.next();
    if (!f || !*f) break;
    r.streams.insert((*f)->header.stream_id);
  }
  return r;
}

json bin(std::string_view s) { return fr::cbor_bytes(s); }

std::map<std::uint16_t, std::vector<json>> values_of(fr::ClientReactor& c, const Bytes& out,
                                                     std::vector<std::string>* problems = nullptr) {
  std::map<std::uint16_t, std::vector<json>> values;
  fr::FrameReader reader(0xFFFFFF);
  reader.feed(out);
  for (;;) {
    auto f = reader.next();
    if (!f || !*f) break;
    for (auto& ev : c.on_frame(**f)) {
      if (auto* v = std::get_if<fr::ResponseValue>(&ev)) values[v->request_id].push_back(v->value);
      if (auto* e = std::get_if<fr::CommandError>(&ev); e && problems)
        problems->emplace_back(fr::as_chars(e->error.at("message").at(0).at("msg").get_binary()));
      if (auto* p = std::get_if<fr::ProtocolError>(&ev); p && problems) problems->push_back(p->message);
    }
  }
  return values;
}

}  // namespace

TEST_CASE("body: a push command under ro/ is 403 before output, a command error after") {
  const auto reg = registry_with_push();
  fr::ClientReactor first;
  Bytes body;
  REQUIRE(first.call_command("pushthing", json::object(), body));
  Run r = run(reg, {false, "multirequest"}, body);
  CHECK(r.result.status == 403);
  CHECK_FALSE(r.result.framed);
  CHECK(r.result.text == "insufficient permissions to execute command under ro/: pushthing");
  CHECK(r.out.empty());

  // Under rw/ it runs.
  fr::ClientReactor rw;
  Bytes rw_body;
  auto id = rw.call_command("pushthing", json::object(), rw_body);
  Run ok = run(reg, {true, "multirequest"}, rw_body);
  CHECK(ok.result.status == 200);
  CHECK(values_of(rw, ok.out)[*id] == std::vector<json>{1});

  // After output started: a command error for that request, the others go on.
  fr::ClientReactor later;
  Bytes later_body;
  auto a = later.call_command("capabilities", json::object(), later_body);
  auto b = later.call_command("pushthing", json::object(), later_body);
  auto c = later.call_command("diff", {{"a", bin("x")}, {"b", bin("y")}}, later_body);
  Run mixed = run(reg, {false, "multirequest"}, later_body);
  CHECK(mixed.result.status == 200);
  std::vector<std::string> problems;
  auto values = values_of(later, mixed.out, &problems);
  CHECK(values.count(*a) == 1);
  CHECK(values.count(*b) == 0);
  CHECK(values.count(*c) == 1);
  CHECK(problems == std::vector<std::string>{"insufficient permissions to execute command under ro/: %s"});
}

TEST_CASE("body: any chunking of the body gives the same output") {
  const unsigned seed = 77;
  CAPTURE(seed);
  std::mt19937 rng(seed);
  fr::ClientReactorOptions o;
  o.upload_encoding = fr::Encoding::Zlib;
  fr::ClientReactor c(o);
  Bytes body;
  for (int i = 0; i < 20; ++i) {
    std::string text(rng() % 3000, 'q');
    REQUIRE(c.call_command("applypatches", {{"base", bin(text)}, {"patches", json::array()}}, body));
  }
  const auto reg = CommandRegistry::standard();
  Run whole = run(reg, {false, "multirequest"}, body);
  REQUIRE(whole.result.status == 200);
  for (std::size_t chunk : {std::size_t{1}, std::size_t{7}, std::size_t{8}, std::size_t{4096}}) {
    CAPTURE(chunk);
    Run parts = run(reg, {false, "multirequest"}, body, chunk);
    CHECK(parts.result.status == 200);
    CHECK(parts.out == whole.out);
  }
}

TEST_CASE("body: output spread over several streams on the pool decodes to the same values") {
  CompressionPool pool(2);
  BodyOptions options;
  options.mux.max_streams = 3;
  options.mux.split_bytes = 40000;  // a 200 kB answer crosses streams
  for (auto e : {fr::Encoding::Zstd8mb, fr::Encoding::Zlib}) {
    CAPTURE(fr::encoding_name(e));
    fr::ClientReactorOptions o;
    o.content_encodings = {e};
    fr::ClientReactor c(o);
    Bytes body;
    std::vector<std::pair<std::uint16_t, std::string>> expected;
    for (int i = 0; i < 12; ++i) {
      std::string text(i == 5 ? 200000 : 1000 + i, static_cast<char>('a' + i));
      for (std::size_t k = 0; k < text.size(); k += 13) text[k] = static_cast<char>('A' + k % 26);
      auto id = c.call_command("applypatches", {{"base", bin(text)}, {"patches", json::array()}}, body);
      REQUIRE(id);
      expected.emplace_back(*id, text);
    }
    Run r = run(CommandRegistry::standard(), {false, "multirequest"}, body, 1000, &pool, options);
    REQUIRE(r.result.status == 200);
    CHECK(r.streams == std::set<std::uint8_t>{2, 4, 6});
    std::vector<std::string> problems;
    auto values = values_of(c, r.out, &problems);
    CHECK(problems.empty());
    for (const auto& [id, text] : expected) {
      REQUIRE(values[id].size() == 1);
      CHECK(values[id][0].get_binary().size() == text.size());
      CHECK(std::string(fr::as_chars(values[id][0].get_binary())) == text);
    }
  }
}

TEST_CASE("body: protocol error before output is a 400 with one frame, an empty body is 200 and empty") {
  const auto reg = CommandRegistry::standard();
  Run bad = run(reg, {false, "multirequest"}, fr::to_bytes("\x01\x00\x00\x01\x00\x01\x01\x11X"));
  CHECK(bad.result.status == 400);
  CHECK(bad.result.protocol_error);
  CHECK(bad.result.framed);
  CHECK(bad.streams == std::set<std::uint8_t>{2});
  Run empty = run(reg, {false, "multirequest"}, Bytes{});
  CHECK(empty.result.status == 200);
  CHECK(empty.out.empty());
}

TEST_CASE("body: requests run early into the spool give the bytes of requests run after the body") {
  const auto reg = CommandRegistry::standard();
  fr::ClientReactorOptions o;
  o.content_encodings = {fr::Encoding::Identity};  // output sizes as written
  fr::ClientReactor c(o);
  Bytes body;
  for (int i = 0; i < 6; ++i)
    REQUIRE(c.call_command("applypatches", {{"base", bin(std::string(3000 + i, 'k'))}, {"patches", json::array()}}, body));
  // Then a protocol error: a command-data frame for a request never opened.
  const Bytes broken = fr::to_bytes(std::string("\x00\x00\x00\x63\x00\x01\x00\x22", 8));
  for (const bool with_error : {false, true}) {
    CAPTURE(with_error);
    Bytes all = body;
    if (with_error) fr::append(all, broken);
    BodyOptions deferred;
    BodyOptions early;
    early.max_queued_bytes = 1;  // every request runs as soon as it is complete
    Run late = run(reg, {false, "multirequest"}, all, 0, nullptr, deferred);
    Run now = run(reg, {false, "multirequest"}, all, 0, nullptr, early);
    CHECK(late.result.status == 200);
    CHECK(now.result.status == 200);
    CHECK(late.result.protocol_error == with_error);
    CHECK(now.result.protocol_error == with_error);
    CHECK_FALSE(late.spooled);
    CHECK(now.spooled);
    CHECK(now.out == late.out);
    CHECK(late.out.size() > 6 * 3000);
  }
}
