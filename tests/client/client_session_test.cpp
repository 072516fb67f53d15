// Library-level tests of the client session halves: the request body writer
// (checked by our server reactor) and the response body reader (fed bodies
// built with the response emitter, responses completing out of order).
#include <doctest/doctest.h>

#include <random>

#include "client/session.hpp"
#include "client_test_support.hpp"
#include "framing/frame_reader.hpp"
#include "framing/response_emitter.hpp"
#include "framing/server_reactor.hpp"
#include "framing/stream.hpp"

using namespace hgrpc::client;
using namespace hgrpc::framing;

namespace {

Bytes write_body(ClientReactor& reactor, std::span<const Call> calls, std::size_t frame_size,
                 std::vector<std::uint16_t>* ids = nullptr) {
  RequestBodyWriter writer(reactor, calls, frame_size);
  Bytes body;
  for (;;) {
    auto more = writer.next(body);
    REQUIRE(more);
    if (!*more) break;
  }
  if (ids) {
    for (const auto& [id, index] : writer.ids()) {
      (void)index;
      ids->push_back(id);
    }
  }
  return body;
}

std::vector<RunCommand> serve(ByteView body) {
  FrameReader reader;
  ServerReactor server;
  std::vector<RunCommand> runs;
  reader.feed(body);
  for (;;) {
    auto f = reader.next();
    REQUIRE(f);
    if (!*f) break;
    auto action = server.on_frame(**f);
    if (auto* p = std::get_if<ProtocolError>(&action)) FAIL(p->message);
    if (auto* r = std::get_if<RunCommand>(&action)) runs.push_back(std::move(*r));
  }
  REQUIRE(reader.finish());
  CHECK_FALSE(server.on_input_end());
  return runs;
}

std::vector<FrameHeader> headers_of(ByteView body) {
  FrameReader reader;
  reader.feed(body);
  std::vector<FrameHeader> out;
  while (auto f = reader.next()) {
    if (!*f) break;
    out.push_back((*f)->header);
  }
  return out;
}

}  // namespace

TEST_CASE("request body: commands with args and with data streamed from files") {
  test::TempDir dir;
  std::string base(70000, 'b');
  std::string delta(32768 * 2 - 3, 'd');  // CBOR header (3 bytes) + data fill exactly 2 frames
  test::spit(dir.file("base"), base);
  test::spit(dir.file("delta"), delta);
  std::vector<Call> calls(3);
  calls[0].command = "diff";
  calls[0].args = json::object({{"a", cbor_bytes("x")}, {"b", cbor_bytes("y")}});
  calls[1].command = "applypatches";
  calls[1].data.emplace();
  calls[1].data->add_bytes_item_file(dir.file("base"));
  calls[1].data->add_bytes_item_file(dir.file("delta"));
  calls[2].command = "foldpatches";
  calls[2].data.emplace();
  calls[2].data->add_file(dir.file("delta"));

  ClientReactor reactor;
  std::vector<std::uint16_t> ids;
  Bytes body = write_body(reactor, calls, 32768, &ids);
  CHECK(ids == std::vector<std::uint16_t>{1, 3, 5});
  auto runs = serve(body);
  REQUIRE(runs.size() == 3);
  CHECK(runs[0].request_id == 1);
  CHECK(runs[0].name == "diff");
  CHECK(runs[0].args == calls[0].args);
  CHECK_FALSE(runs[0].data);
  CHECK(runs[1].request_id == 3);
  CHECK(runs[1].name == "applypatches");
  Bytes expected = cbor_encode(cbor_bytes(base));
  append(expected, cbor_encode(cbor_bytes(delta)));
  REQUIRE(runs[1].data);
  CHECK(*runs[1].data == expected);
  CHECK(runs[2].request_id == 5);
  REQUIRE(runs[2].data);
  CHECK(*runs[2].data == to_bytes(delta));

  // Data frames: full frames continue; the last is shorter (here: empty) and ends.
  std::vector<std::pair<std::uint32_t, std::uint8_t>> data3;
  for (const auto& h : headers_of(body)) {
    if (h.type == static_cast<std::uint8_t>(FrameType::CommandData) && h.request_id == 3) {
      data3.emplace_back(h.length, h.flags);
      CHECK(h.stream_id == 1);
      CHECK(h.stream_flags == 0);
    }
  }
  // 70005 + 65536 bytes = 4 full frames + 4469 bytes.
  CHECK(data3 == std::vector<std::pair<std::uint32_t, std::uint8_t>>{
                     {32768, 1}, {32768, 1}, {32768, 1}, {32768, 1}, {4469, 2}});
  std::vector<std::pair<std::uint32_t, std::uint8_t>> data5;
  for (const auto& h : headers_of(body)) {
    if (h.type == static_cast<std::uint8_t>(FrameType::CommandData) && h.request_id == 5) {
      data5.emplace_back(h.length, h.flags);
    }
  }
  CHECK(data5 == std::vector<std::pair<std::uint32_t, std::uint8_t>>{{32768, 1}, {32765, 2}});
}

TEST_CASE("request body: empty data sends one empty eos frame, small frame sizes") {
  test::TempDir dir;
  test::spit(dir.file("empty"), "");
  std::vector<Call> calls(1);
  calls[0].command = "foldpatches";
  calls[0].data.emplace();
  calls[0].data->add_file(dir.file("empty"));
  ClientReactor reactor;
  Bytes body = write_body(reactor, calls, 32768);
  auto headers = headers_of(body);
  REQUIRE(!headers.empty());
  CHECK(headers.back().type == static_cast<std::uint8_t>(FrameType::CommandData));
  CHECK(headers.back().flags == command_data_flags::kEos);
  CHECK(headers.back().length == 0);
  auto runs = serve(body);
  REQUIRE(runs.size() == 1);
  REQUIRE(runs[0].data);
  CHECK(runs[0].data->empty());

  calls[0].data.emplace();
  calls[0].data->add_literal(to_bytes("0123456789"));
  ClientReactorOptions small;
  small.max_frame_size = 4;
  ClientReactor small_frames(small);
  Bytes body2 = write_body(small_frames, calls, 4);
  auto runs2 = serve(body2);
  REQUIRE(runs2.size() == 1);
  CHECK(*runs2[0].data == to_bytes("0123456789"));
}

TEST_CASE("request body: with an upload encoding, requests and file data are encoded on stream 3") {
  test::TempDir dir;
  std::string text;
  for (int i = 0; text.size() < 100000; ++i) text += "row " + std::to_string(i) + " of a text that compresses\n";
  test::spit(dir.file("text"), text);
  for (auto upload : {Encoding::Identity, Encoding::Zlib, Encoding::Zstd8mb}) {
    CAPTURE(encoding_name(upload));
    std::vector<Call> calls(2);
    calls[0].command = "applypatches";
    calls[0].data.emplace();
    calls[0].data->add_file(dir.file("text"));
    calls[1].command = "patchedsize";
    ClientReactorOptions o;
    o.upload_encoding = upload;
    ClientReactor reactor(o);
    Bytes body = write_body(reactor, calls, 32768);
    std::size_t data_bytes_on_wire = 0;
    for (const auto& h : headers_of(body)) {
      if (h.type == static_cast<std::uint8_t>(FrameType::SenderProtocolSettings)) continue;
      CHECK(h.stream_id == 3);
      if (h.type == static_cast<std::uint8_t>(FrameType::CommandData)) {
        data_bytes_on_wire += h.length;
        if (h.length > 0) CHECK(h.stream_flags == stream_flags::kEncoded);
      }
    }
    // The compressing profiles shrink this text; identity carries it as it is.
    if (upload == Encoding::Identity) {
      CHECK(data_bytes_on_wire == text.size());
    } else {
      CHECK(data_bytes_on_wire < text.size() / 4);
    }
    auto runs = serve(body);
    REQUIRE(runs.size() == 2);
    REQUIRE(runs[0].data);
    CHECK(*runs[0].data == to_bytes(text));
    CHECK(runs[1].name == "patchedsize");
  }
}

namespace {

// A response body where request 3 completes before 1, 5 is a command error,
// 7 an error-response after data, and frames of 1 and 3 interleave.
Bytes out_of_order_response(Encoding encoding) {
  OutputStream stream(2, make_encoder(encoding));
  PlannedFrames planned;
  ResponseEmitter r1(1, 2), r3(3, 2), r5(5, 2), r7(7, 2);
  r1.value(cbor_bytes("first"), planned);
  r1.flush(planned);
  r3.value(json::object({{"k", json::array({1, -2})}}), planned);
  r3.bytes_begin(planned);
  std::string big(100000, 'z');
  r3.bytes_chunk(as_bytes(big), planned);
  r3.bytes_end(planned);
  r3.end(planned);
  r5.command_error("bad %s", {"thing"}, planned);
  r7.value(1, planned);
  r7.flush(planned);
  r7.error_response(ErrorType::Server, "boom", planned);
  r1.value(2, planned);
  r1.end(planned);
  Bytes body;
  for (const auto& f : planned) REQUIRE(stream.render(f, body));
  return body;
}

struct Collected {
  std::vector<std::size_t> completion_order;
  std::map<std::size_t, Outcome> outcomes;
};

Collected decode_response(ByteView body, std::size_t max_chunk, std::mt19937& rng, bool expect_ok = true) {
  ClientReactor reactor;
  Bytes ignored;
  std::map<std::uint16_t, std::size_t> ids;
  for (std::size_t i = 0; i < 4; ++i) {
    auto id = reactor.call_command("c", json::object(), ignored);
    REQUIRE(id);
    ids[*id] = i;
  }
  Collected c;
  ResponseBodyReader reader(reactor, ids, [&](std::size_t index, Outcome&& o) {
    c.completion_order.push_back(index);
    c.outcomes[index] = std::move(o);
  });
  std::size_t pos = 0;
  while (pos < body.size()) {
    std::size_t n = std::min<std::size_t>(body.size() - pos, 1 + rng() % max_chunk);
    auto ok = reader.feed(body.subspan(pos, n));
    REQUIRE(ok);
    pos += n;
  }
  auto end = reader.finish();
  CHECK(end.has_value() == expect_ok);
  return c;
}

}  // namespace

TEST_CASE("response body: outcomes complete out of order, in any chunking, all encodings") {
  for (Encoding e : {Encoding::Identity, Encoding::Zlib, Encoding::Zstd8mb}) {
    Bytes body = out_of_order_response(e);
    for (std::size_t max_chunk : {std::size_t{1}, std::size_t{7}, std::size_t{5000}, body.size()}) {
      std::uint32_t seed = 1000 + static_cast<std::uint32_t>(max_chunk);
      CAPTURE(encoding_name(e));
      CAPTURE(max_chunk);
      CAPTURE(seed);
      std::mt19937 rng(seed);
      auto c = decode_response(body, max_chunk, rng);
      // Call indexes: 0 = request 1, 1 = request 3, 2 = request 5, 3 = request 7.
      CHECK(c.completion_order == std::vector<std::size_t>{1, 2, 3, 0});
      REQUIRE(c.outcomes.size() == 4);
      CHECK(c.outcomes[0].kind == Outcome::Kind::Ok);
      CHECK(c.outcomes[0].values == std::vector<json>{cbor_bytes("first"), 2});
      CHECK(c.outcomes[1].kind == Outcome::Kind::Ok);
      REQUIRE(c.outcomes[1].values.size() == 2);
      CHECK(c.outcomes[1].values[0] == json::object({{"k", json::array({1, -2})}}));
      CHECK(c.outcomes[1].values[1] == cbor_bytes(std::string(100000, 'z')));
      CHECK(c.outcomes[2].kind == Outcome::Kind::CommandError);
      CHECK(c.outcomes[2].message == "bad thing");
      CHECK(c.outcomes[3].kind == Outcome::Kind::ErrorResponse);
      CHECK(c.outcomes[3].error_type == "server");
      CHECK(c.outcomes[3].message == "boom");
      CHECK(c.outcomes[3].values == std::vector<json>{1});
    }
  }
}

TEST_CASE("response body: truncated bodies and missing responses are errors") {
  Bytes body = out_of_order_response(Encoding::Identity);
  ClientReactor reactor;
  Bytes ignored;
  std::map<std::uint16_t, std::size_t> ids;
  for (std::size_t i = 0; i < 4; ++i) ids[*reactor.call_command("c", json::object(), ignored)] = i;
  std::size_t done = 0;
  ResponseBodyReader reader(reactor, ids, [&](std::size_t, Outcome&&) { ++done; });
  REQUIRE(reader.feed(ByteView(body).first(body.size() - 3)));
  auto end = reader.finish();
  REQUIRE_FALSE(end);
  CHECK(end.error().message.find("response: body ends inside frame") == 0);
  CHECK(done == 3);

  // Whole frames, but request 1 never ends.
  ClientReactor reactor2;
  std::map<std::uint16_t, std::size_t> ids2;
  for (std::size_t i = 0; i < 4; ++i) ids2[*reactor2.call_command("c", json::object(), ignored)] = i;
  ResponseBodyReader reader2(reactor2, ids2, [](std::size_t, Outcome&&) {});
  REQUIRE(reader2.feed(ByteView(body).first(body.size() - 8)));  // drop request 1's empty eos frame
  auto end2 = reader2.finish();
  REQUIRE_FALSE(end2);
  CAPTURE(end2.error().message);
  CHECK(end2.error().message.find("response: ") == 0);
  CHECK(end2.error().message.find('1') != std::string::npos);
}

TEST_CASE("response body: a content redirect is kept aside when offered, an error when not") {
  const json location = json::object({{"url", hgrpc::framing::cbor_bytes("http://127.0.0.1:1/b/x")},
                                      {"mediatype", hgrpc::framing::cbor_bytes("application/mercurial-cbor")}});
  const auto response = [&] {
    hgrpc::framing::PlannedFrames planned;
    hgrpc::framing::ResponseEmitter e1(1, 2);
    e1.value(json(5), planned);
    e1.end(planned);
    hgrpc::framing::ResponseEmitter e3(3, 2);
    e3.redirect_status(location, planned);
    e3.end(planned);
    hgrpc::framing::OutputStream stream(2, nullptr);
    Bytes out;
    for (const auto& f : planned) REQUIRE(stream.render(f, out));
    return out;
  }();
  for (bool offered : {true, false}) {
    CAPTURE(offered);
    ClientReactor reactor;
    Bytes ignored;
    std::map<std::uint16_t, std::size_t> ids;
    for (std::size_t i = 0; i < 2; ++i) ids[*reactor.call_command("c", json::object(), ignored)] = i;
    std::vector<std::size_t> done;
    ResponseBodyReader reader(reactor, ids, [&](std::size_t index, Outcome&&) { done.push_back(index); });
    reader.accept_redirects(offered);
    auto fed = reader.feed(response);
    if (!offered) {
      REQUIRE_FALSE(fed);
      CHECK(fed.error().message ==
            "response: request 3 was answered with a content redirect, which the client did not offer");
      continue;
    }
    REQUIRE(fed);
    REQUIRE(reader.finish());
    CHECK(done == std::vector<std::size_t>{0});  // the redirected call is reported once its blob is read
    REQUIRE(reader.redirected().size() == 1);
    CHECK(reader.redirected()[0].call_index == 1);
    CHECK(reader.redirected()[0].location == location);
  }
}
