// ClientReactor: request frames (checked against Mercurial 5.8's bytes),
// response decoding, and seeded round trips through both reactors in all
// three encodings.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <random>
#include <thread>
#include <string>
#include <variant>
#include <vector>

#include "framing/client_reactor.hpp"
#include "framing/frame_reader.hpp"
#include "framing/python_literal.hpp"
#include "framing/response_emitter.hpp"
#include "framing/server_reactor.hpp"
#include "tests/framing/reactor_test_util.hpp"
#include "tests/support/test_support.hpp"

using namespace hgrpc::framing;
using test::owned;
using T = FrameType;
using hgrpc::test::unhex;

namespace {

// Feeds bytes to a FrameReader in random chunks; calls on(frame) per frame.
template <class F>
void feed_chunked(ByteView bytes, std::mt19937& rng, F&& on) {
  FrameReader reader(kMaxPayloadWireLimit);
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    const std::size_t n = std::min<std::size_t>(bytes.size() - pos, 1 + rng() % 97);
    reader.feed(bytes.subspan(pos, n));
    pos += n;
    while (true) {
      auto f = reader.next();
      REQUIRE(f.has_value());
      if (!*f) break;
      on(**f);
    }
  }
  REQUIRE(reader.finish().has_value());
}

struct Collected {
  std::map<std::uint16_t, std::vector<json>> values;
  std::map<std::uint16_t, int> ends;
  std::map<std::uint16_t, json> command_errors;
  std::vector<ErrorResponse> error_responses;
  std::vector<TextOutput> texts;
  std::vector<Progress> progress;
  std::vector<std::string> protocol_errors;
};

void collect(std::vector<ClientEvent> events, Collected& c) {
  for (auto& ev : events) {
    if (auto* v = std::get_if<ResponseValue>(&ev)) c.values[v->request_id].push_back(v->value);
    if (auto* e = std::get_if<ResponseEnd>(&ev)) c.ends[e->request_id]++;
    if (auto* e = std::get_if<CommandError>(&ev)) c.command_errors[e->request_id] = e->error;
    if (auto* e = std::get_if<ErrorResponse>(&ev)) c.error_responses.push_back(*e);
    if (auto* e = std::get_if<TextOutput>(&ev)) c.texts.push_back(*e);
    if (auto* e = std::get_if<Progress>(&ev)) c.progress.push_back(*e);
    if (auto* e = std::get_if<ProtocolError>(&ev)) c.protocol_errors.push_back(e->message);
  }
}

// The commands a server reactor runs for a request body fed in seeded chunks;
// any protocol error fails the test.
std::vector<RunCommand> serve_chunked(ByteView body, std::mt19937& rng) {
  ServerReactor r;
  std::vector<RunCommand> runs;
  feed_chunked(body, rng, [&](const Frame& f) {
    auto a = r.on_frame(f);
    if (auto* e = std::get_if<ProtocolError>(&a)) FAIL(e->message);
    if (auto* run = std::get_if<RunCommand>(&a)) runs.push_back(*run);
  });
  CHECK_FALSE(r.on_input_end().has_value());
  return runs;
}

Bytes pseudo_random_bytes(std::size_t n, std::mt19937& rng) {
  Bytes b(n);
  for (auto& x : b) x = static_cast<std::uint8_t>(rng());
  return b;
}

}  // namespace

TEST_CASE("client reactor: request frames equal Mercurial 5.8's") {
  // Offering Mercurial's three profiles (hgrpc's default offers
  // zstd-8mb-frames first: see the side-channels test), the bytes are Mercurial's.
  ClientReactorOptions mercurial;
  mercurial.content_encodings.assign(std::begin(kMercurialEncodings), std::end(kMercurialEncodings));
  ClientReactor c(mercurial);
  Bytes out;
  json args = json::object({{"base", cbor_bytes(std::string(10, 'x'))}});
  auto id1 = c.call_command("putdelta", args, out, ByteView(to_bytes("hello")));
  auto id3 = c.call_command("heads", json::object(), out);
  REQUIRE(id1);
  REQUIRE(id3);
  CHECK(*id1 == 1);
  CHECK(*id3 == 3);
  CHECK(test::hex(out) ==
        "2a00000100010182a150636f6e74656e74656e636f64696e677383487a7374642d386d62447a6c6962486964656e"
        "746974792500000100010019a24461726773a144626173654a78787878787878787878446e616d654870757464656c"
        "7461050000010001002268656c6c6f0c00000300010011a1446e616d65456865616473");
}

TEST_CASE("client reactor: a request spanning frames, with data of exactly one frame") {
  ClientReactorOptions o;
  o.content_encodings.clear();
  ClientReactor c(o);
  Bytes out;
  json args = json::object({{"k", cbor_bytes(std::string(40000, 'x'))}});
  REQUIRE(c.call_command("big", args, out, ByteView(to_bytes(std::string(32768, 'y')))));
  auto frames = test::split_frames(out);
  REQUIRE(frames.size() == 4);
  // Headers as Mercurial writes them (length, request, stream, flags, type|flags).
  Bytes h(8);
  const char* expected[] = {"008000010001011d", "551c00010001001a", "0080000100010021", "0000000100010022"};
  Bytes request;
  for (int i = 0; i < 4; ++i) {
    encode_header(frames[i].header, h.data());
    CHECK(test::hex(h) == expected[i]);
    if (i < 2) append(request, frames[i].payload);
  }
  json m = json::object({{"name", cbor_bytes("big")}, {"args", args}});
  CHECK(request == cbor_encode(m));
  CHECK(frames[2].payload == to_bytes(std::string(32768, 'y')));
}

TEST_CASE("client reactor: decodes a Mercurial 5.8 zlib response") {
  // Mercurial's server with contentencodings [zlib]; results b'customreadonly
  // bytes response' and {b'a': [1, 2, b'x' * 100]}: {status: ok} compresses to
  // the zlib header only, the rest arrives with the eos frame's flush.
  const Bytes wire = unhex(
      "0500000100020192447a6c69620200000100020431789c3b000001000204325ae8565c9258525aec949f1d219b5c5a"
      "5c929f5b949a98929f9753a9905459925aac50945a5c909f579cbad031b199912922a5820e00000000ffff");
  ClientReactor c;
  c.expect_request(1);
  Collected got;
  for (auto& f : test::split_frames(wire)) collect(c.on_frame(f.view()), got);
  CHECK(got.protocol_errors.empty());
  REQUIRE(got.values[1].size() == 2);
  CHECK(got.values[1][0] == cbor_bytes("customreadonly bytes response"));
  CHECK(format_python_literal(got.values[1][1]) == "{b'a': [1, 2, b'" + std::string(100, 'x') + "']}");
  CHECK(got.ends[1] == 1);
  CHECK_FALSE(c.on_input_end().has_value());
}

TEST_CASE("client reactor: command errors, error responses, side channels") {
  ClientReactorOptions o;
  o.accept_text_output = true;
  o.accept_progress = true;
  ClientReactor c(o);
  Bytes req;
  for (int i = 0; i < 3; ++i) REQUIRE(c.call_command("x", json::object(), req));
  json s = json::object({{"contentencodings", json::array({cbor_bytes("zstd-8mb-frames"), cbor_bytes("zstd-8mb"),
                                                           cbor_bytes("zlib"), cbor_bytes("identity")})},
                         {"hgrpc-accept-frames", json::array({cbor_bytes("text-output"), cbor_bytes("progress")})}});
  CHECK(test::split_frames(req)[0].payload == cbor_encode(s));

  // The server side, through our own reactor and emitter.
  ServerReactor r;
  std::vector<RunCommand> runs;
  for (auto& f : test::split_frames(req)) {
    auto a = r.on_frame(f.view());
    if (auto* run = std::get_if<RunCommand>(&a)) runs.push_back(*run);
  }
  REQUIRE(runs.size() == 3);
  OutputStreamSet streams;
  streams.add(r.make_output_stream());
  PlannedFrames planned;
  auto e1 = r.make_emitter(1, 2);
  auto e3 = r.make_emitter(3, 2);
  auto e5 = r.make_emitter(5, 2);
  CHECK(e1.text_output(json::array({message_atom("hello %s\n", {"you"})}), planned));
  CHECK(e1.progress("files", 3, 10, "files", "a.txt", planned));
  e1.command_error("unknown argument %s", {"foo"}, planned);
  e3.value(json(1), planned);
  e3.command_error("late %s", {"failure"}, planned);
  e5.error_response(ErrorType::Server, "boom", planned);
  Bytes resp;
  REQUIRE(streams.render(planned, resp));

  Collected got;
  for (auto& f : test::split_frames(resp)) collect(c.on_frame(f.view()), got);
  CHECK(got.protocol_errors.empty());
  REQUIRE(got.command_errors.count(1));
  CHECK(format_python_literal(got.command_errors[1]) ==
        "{b'message': [{b'args': [b'foo'], b'msg': b'unknown argument %s'}]}");
  REQUIRE(got.texts.size() == 1);
  CHECK(format_python_literal(got.texts[0].atoms) == "[{b'args': [b'you'], b'msg': b'hello %s\\n'}]");
  REQUIRE(got.progress.size() == 1);
  CHECK(format_python_literal(got.progress[0].progress) ==
        "{b'item': 'a.txt', b'label': 'files', b'pos': 3, b'topic': 'files', b'total': 10}");
  CHECK(got.values[3] == std::vector<json>{json(1)});
  REQUIRE(got.error_responses.size() == 2);
  CHECK(got.error_responses[0].request_id == 3);
  CHECK(got.error_responses[0].type == "command");
  CHECK(format_python_literal(got.error_responses[0].message) ==
        "[{b'args': [b'failure'], b'msg': b'late %s'}]");
  CHECK(got.error_responses[1].request_id == 5);
  CHECK(got.error_responses[1].type == "server");
  CHECK(got.ends.empty());
  CHECK(c.pending_requests() == 0);
  CHECK_FALSE(c.on_input_end().has_value());
}

TEST_CASE("client reactor: protocol errors") {
  auto first_error = [](std::vector<OwnedFrame> frames) {
    ClientReactor c;
    c.expect_request(1);
    for (auto& f : frames) {
      for (auto& ev : c.on_frame(f.view())) {
        if (auto* e = std::get_if<ProtocolError>(&ev)) return e->message;
      }
    }
    auto end = c.on_input_end();
    return end ? end->message : std::string("none");
  };
  const Bytes ok = cbor_encode(json::object({{"status", cbor_bytes("ok")}}));
  CHECK(first_error({owned(1, 1, 1, T::CommandResponse, 2, ok)}) ==
        "frame 0 (command-response, request 1, stream 1): stream id 1 is odd; server streams are even");
  CHECK(first_error({owned(3, 2, 1, T::CommandResponse, 2, ok)}) ==
        "frame 0 (command-response, request 3, stream 2): frame for request 3, which has no pending response");
  CHECK(first_error({owned(1, 2, 1, T::CommandRequest, 1, ok)}) ==
        "frame 0 (command-request, request 1, stream 2): command-request frames are only sent by clients");
  CHECK(first_error({owned(1, 2, 1, T::CommandResponse, 3, ok)}) ==
        "frame 0 (command-response, request 1, stream 2): command-response frame has both continuation and eos flags");
  CHECK(first_error({owned(1, 2, 1, T::CommandResponse, 1, ok)}) ==
        "body ended before the response to request 1 was complete");
  CHECK(first_error({owned(1, 2, 1, T::CommandResponse, 2, ByteView(ok).first(3))}) ==
        "frame 0 (command-response, request 1, stream 2): response to request 1 ended inside a CBOR value");
  CHECK(first_error({owned(1, 2, 1, T::CommandResponse, 2, cbor_encode(json(1)))}) ==
        "frame 0 (command-response, request 1, stream 2): response to request 1 does not start with a status map");
  CHECK(first_error({owned(1, 2, 1, T::CommandResponse, 2,
                           cbor_encode(json::object({{"status", cbor_bytes("redirect")}})))}) ==
        "frame 0 (command-response, request 1, stream 2): response to request 1 has status 'redirect' without a "
        "location map");
  CHECK(first_error({owned(1, 2, 1, T::CommandResponse, 2,
                           cbor_encode(json::object({{"status", cbor_bytes("later")}})))}) ==
        "frame 0 (command-response, request 1, stream 2): response to request 1 has unsupported status 'later'");
  CHECK(first_error({owned(1, 2, 1, T::CommandResponse, 2, {})}) ==
        "frame 0 (command-response, request 1, stream 2): response to request 1 ended without a status map");
  CHECK(first_error({owned(1, 2, 1, T::StreamSettings, 2, cbor_encode(cbor_bytes("gzip")))}) ==
        "frame 0 (stream-settings, request 1, stream 2): unknown stream encoding profile 'gzip'");
  CHECK(first_error({owned(1, 2, 1, T::ErrorResponse, 0, cbor_encode(json::array()))}) ==
        "frame 0 (error-response, request 1, stream 2): error-response payload is not a map with type and message");
}

TEST_CASE("round trip: client requests through the server reactor, seeded chunking") {
  const unsigned seed = std::random_device{}();
  CAPTURE(seed);
  std::mt19937 rng(seed);
  for (auto upload : {std::optional<Encoding>{}, std::optional<Encoding>{Encoding::Identity},
                      std::optional<Encoding>{Encoding::Zlib}, std::optional<Encoding>{Encoding::Zstd8mb}}) {
    CAPTURE(upload ? std::string(encoding_name(*upload)) : std::string("none"));
    ClientReactorOptions o;
    o.upload_encoding = upload;
    o.max_frame_size = kMinFrameSize + rng() % 300;
    CAPTURE(o.max_frame_size);
    ClientReactor c(o);
    Bytes body;
    std::vector<std::pair<json, std::optional<Bytes>>> sent;
    for (int i = 0; i < 6; ++i) {
      json args = json::object({{"blob", cbor_bytes(pseudo_random_bytes(rng() % 700, rng))},
                                {"text", std::string(rng() % 500, 'a')},
                                {"i", i}});
      std::optional<Bytes> data;
      if (i % 2) data = pseudo_random_bytes(rng() % 2000, rng);
      REQUIRE(c.call_command("cmd" + std::to_string(i), args, body,
                             data ? std::optional<ByteView>(*data) : std::nullopt));
      sent.emplace_back(args, data);
    }
    const std::vector<RunCommand> runs = serve_chunked(body, rng);
    REQUIRE(runs.size() == 6);
    for (int i = 0; i < 6; ++i) {
      CHECK(runs[i].request_id == 1 + 2 * i);
      CHECK(runs[i].name == "cmd" + std::to_string(i));
      CHECK(runs[i].args == sent[i].first);
      CHECK(runs[i].data == sent[i].second);
    }
  }
}

TEST_CASE("round trip: responses in every encoding, over one or two streams, seeded chunking") {
  const unsigned seed = std::random_device{}();
  CAPTURE(seed);
  std::mt19937 rng(seed);
  for (Encoding enc : {Encoding::Identity, Encoding::Zlib, Encoding::Zstd8mb}) {
    for (bool two_streams : {false, true}) {
      CAPTURE(encoding_name(enc));
      CAPTURE(two_streams);
      ClientReactorOptions co;
      co.content_encodings = {enc};
      ClientReactor c(co);
      Bytes body;
      for (int i = 0; i < 3; ++i) REQUIRE(c.call_command("x", json::object(), body));

      ServerReactorOptions so;
      so.max_frame_size = 64 + rng() % 2000;
      CAPTURE(so.max_frame_size);
      ServerReactor r(so);
      int runs = 0;
      for (auto& f : test::split_frames(body)) runs += std::holds_alternative<RunCommand>(r.on_frame(f.view()));
      REQUIRE(runs == 3);
      REQUIRE(r.output_encoding() == enc);
      OutputStream s2 = r.make_output_stream();
      OutputStream s4 = r.make_output_stream();

      // Plan interleaved responses; request 3 moves to stream 4 midway.
      std::map<std::uint16_t, std::vector<json>> expected;
      PlannedFrames planned;
      std::vector<ResponseEmitter> emitters;
      for (std::uint16_t id : {1, 3, 5}) emitters.push_back(r.make_emitter(id, 2));
      for (int round = 0; round < 8; ++round) {
        for (auto& e : emitters) {
          if (two_streams && e.request_id() == 3 && round == 4) e.set_stream(4, planned);
          switch (rng() % 3) {
            case 0: {
              json v = json::object({{"round", round}, {"data", cbor_bytes(std::string(rng() % 3000, 'z'))}});
              e.value(v, planned);
              expected[e.request_id()].push_back(v);
              break;
            }
            case 1: {
              Bytes raw = pseudo_random_bytes(rng() % 5000, rng);
              e.encoded_value(cbor_encode(cbor_bytes(raw)), planned);
              expected[e.request_id()].push_back(cbor_bytes(raw));
              break;
            }
            default: {
              e.bytes_begin(planned);
              Bytes all;
              for (int k = 0; k < 3; ++k) {
                Bytes chunk = pseudo_random_bytes(rng() % 4000, rng);
                append(all, chunk);
                e.bytes_chunk(chunk, planned);
              }
              e.bytes_end(planned);
              expected[e.request_id()].push_back(cbor_bytes(all));
            }
          }
        }
      }
      for (auto& e : emitters) e.end(planned);

      // Render as the server would: each stream on its own, every planned
      // frame into its own buffer, then written in planned order.
      // Streams share no state: render each on its own thread.
      std::vector<Bytes> rendered(planned.size());
      std::atomic<int> render_failures{0};
      auto render_stream = [&](OutputStream* s) {
        for (std::size_t i = 0; i < planned.size(); ++i) {
          if (planned[i].stream_id == s->id() && !s->render(planned[i], rendered[i])) ++render_failures;
        }
      };
      std::thread t2(render_stream, &s2);
      std::thread t4(render_stream, &s4);
      t2.join();
      t4.join();
      REQUIRE(render_failures == 0);
      Bytes wire;
      for (auto& b : rendered) append(wire, b);
      for (auto& f : test::split_frames(wire)) {
        CHECK(f.payload.size() <= so.max_frame_size);
        if (f.header.type == static_cast<std::uint8_t>(T::CommandResponse) && !f.payload.empty()) {
          CHECK((f.header.stream_flags & stream_flags::kEncoded) != 0);
        }
      }

      Collected got;
      feed_chunked(wire, rng, [&](const Frame& f) { collect(c.on_frame(f), got); });
      CHECK(got.protocol_errors.empty());
      CHECK_FALSE(c.on_input_end().has_value());
      for (std::uint16_t id : {1, 3, 5}) {
        CAPTURE(id);
        CHECK(got.ends[id] == 1);
        CHECK(got.values[id] == expected[id]);
      }
    }
  }
}

TEST_CASE("command data streaming: begin/send/end give call_command's exact frames") {
  for (std::size_t size : {std::size_t{0}, std::size_t{10}, std::size_t{128}, std::size_t{133}}) {
    CAPTURE(size);
    ClientReactorOptions o;
    o.max_frame_size = 64;
    Bytes data(size);
    for (std::size_t i = 0; i < size; ++i) data[i] = static_cast<std::uint8_t>(i * 7);
    ClientReactor whole(o);
    Bytes expected;
    REQUIRE(whole.call_command("cmd", json::object(), expected, ByteView(data)));
    // Streamed as the session does: full frames through send_data, the rest through end_data.
    ClientReactor streamed(o);
    Bytes body;
    auto id = streamed.begin_command("cmd", json::object(), body);
    REQUIRE(id);
    CHECK(*id == 1);
    CHECK(streamed.request_state(1) == RequestState::SendingData);
    ByteView rest = data;
    while (rest.size() >= 64) {
      REQUIRE(streamed.send_data(1, rest.first(64), body));
      rest = rest.subspan(64);
    }
    REQUIRE(streamed.end_data(1, rest, body));
    CHECK(streamed.request_state(1) == RequestState::AwaitingStatus);
    CHECK(test::hex(body) == test::hex(expected));
    // The frames: settings, have-data request, 64-byte continuations, a shorter eos.
    auto frames = test::split_frames(body);
    REQUIRE(frames.size() == 3 + size / 64);  // settings, request, data
    CHECK(frames[1].header.flags == (command_request_flags::kNew | command_request_flags::kHaveData));
    for (std::size_t i = 2; i + 1 < frames.size(); ++i) {
      CHECK(frames[i].header.flags == command_data_flags::kContinuation);
      CHECK(frames[i].payload.size() == 64);
    }
    CHECK(frames.back().header.flags == command_data_flags::kEos);
    CHECK(frames.back().payload.size() == size % 64);
  }
}

TEST_CASE("command data streaming: chunks of any size, encoded on stream 3, reach the server reactor whole") {
  const unsigned seed = hgrpc::test::test_seed();
  CAPTURE(seed);
  std::mt19937 rng(seed);
  for (auto upload : {Encoding::Identity, Encoding::Zlib, Encoding::Zstd8mb}) {
    CAPTURE(encoding_name(upload));
    ClientReactorOptions o;
    o.upload_encoding = upload;
    o.max_frame_size = 200;
    ClientReactor c(o);
    Bytes body;
    const Bytes data = pseudo_random_bytes(5000 + rng() % 3000, rng);
    REQUIRE(c.begin_command("upload", json::object({{"n", 1}}), body));
    ByteView rest = data;
    while (rest.size() > 700) {  // pieces unrelated to the frame size
      const std::size_t n = 1 + rng() % 700;
      REQUIRE(c.send_data(1, rest.first(n), body));
      rest = rest.subspan(n);
    }
    REQUIRE(c.end_data(1, rest, body));
    REQUIRE(c.call_command("after", json::object(), body));  // the stream goes on

    auto frames = test::split_frames(body);
    REQUIRE(frames.size() > 3);
    CHECK(frames[0].header.type == static_cast<std::uint8_t>(T::SenderProtocolSettings));
    CHECK(frames[1].header.stream_id == 3);
    CHECK(frames[1].header.type == static_cast<std::uint8_t>(T::StreamSettings));
    CHECK(frames[1].payload == cbor_encode(cbor_bytes(encoding_name(upload))));
    std::size_t encoded_data = 0;
    for (std::size_t i = 2; i < frames.size(); ++i) {
      CHECK(frames[i].header.stream_id == 3);
      CHECK(frames[i].payload.size() <= 200);
      if (frames[i].header.type == static_cast<std::uint8_t>(T::CommandData) && !frames[i].payload.empty()) {
        CHECK(frames[i].header.stream_flags == stream_flags::kEncoded);
        ++encoded_data;
      }
    }
    CHECK(encoded_data > 0);
    if (upload != Encoding::Identity) {
      // Compressed: the random bytes do not shrink, but the frames are not the plain data either.
      bool differs = false;
      for (const auto& f : frames) {
        if (f.header.type == static_cast<std::uint8_t>(T::CommandData) && !f.payload.empty() &&
            !std::equal(f.payload.begin(), f.payload.end(), data.begin(),
                        data.begin() + static_cast<std::ptrdiff_t>(std::min(f.payload.size(), data.size())))) {
          differs = true;
        }
      }
      CHECK(differs);
    }

    const std::vector<RunCommand> runs = serve_chunked(body, rng);
    REQUIRE(runs.size() == 2);
    CHECK(runs[0].name == "upload");
    CHECK(runs[0].args == json::object({{"n", 1}}));
    REQUIRE(runs[0].data);
    CHECK(*runs[0].data == data);
    CHECK(runs[1].name == "after");
    CHECK_FALSE(runs[1].data);
  }
}

TEST_CASE("command data streaming: data for a request that is not sending data is refused") {
  ClientReactor c;
  Bytes body;
  REQUIRE(c.call_command("plain", json::object(), body));
  const std::size_t before = body.size();
  auto r = c.send_data(1, as_bytes("x"), body);
  REQUIRE_FALSE(r);
  CHECK(r.error().name == client_error_name(ClientReactorError::DataNotExpected));
  CHECK(r.error().message == "command data for request 1, which is awaiting-status, not sending data");
  auto unknown = c.end_data(9, {}, body);
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().message == "command data for request 9, which is not pending");
  CHECK(body.size() == before);
  REQUIRE(c.begin_command("up", json::object(), body));
  REQUIRE(c.end_data(3, {}, body));
  CHECK_FALSE(c.end_data(3, {}, body));  // already ended
}

TEST_CASE("content redirect: the emitter's redirect status map, as Mercurial 5.8 frames it, and the client's event") {
  ClientReactor c;
  Bytes req;
  REQUIRE(c.call_command("filesdata", json::object(), req));
  REQUIRE(c.call_command("filesdata", json::object(), req));
  json location = json::object({{"mediatype", cbor_bytes("application/mercurial-cbor")},
                                {"url", cbor_bytes("http://127.0.0.1:1/b/00")},
                                {"size", 70000}});
  PlannedFrames planned;
  ResponseEmitter e1(1, 2);
  e1.redirect_status(location, planned);
  e1.end(planned);
  // The status map alone in a continuation frame, then the empty eos frame
  // (wireprotoframing.createalternatelocationresponseframe + eos).
  REQUIRE(planned.size() == 2);
  CHECK(planned[0].flags == command_response_flags::kContinuation);
  CHECK(planned[0].payload ==
        cbor_encode(json::object({{"status", cbor_bytes("redirect")}, {"location", location}})));
  CHECK(planned[1].flags == command_response_flags::kEos);
  CHECK(planned[1].payload.empty());
  // A status map already sent: a handler bug.
  ResponseEmitter late(5, 2);
  late.value(json(1), planned);
  CHECK_THROWS_AS(late.redirect_status(location, planned), EmitterMisuse);
  planned.resize(2);
  // Request 3: a value after its redirect.
  ResponseEmitter e3(3, 2);
  e3.redirect_status(location, planned);
  e3.encoded_value(cbor_encode(json(7)), planned);
  e3.end(planned);
  OutputStream stream(2, nullptr);
  Bytes resp;
  for (auto& f : planned) REQUIRE(stream.render(f, resp));
  std::vector<ClientEvent> events;
  for (auto& f : test::split_frames(resp))
    for (auto& ev : c.on_frame(f.view())) events.push_back(std::move(ev));
  REQUIRE(events.size() >= 4);  // then already-errored for the last frame
  auto* r = std::get_if<ResponseRedirect>(&events[0]);
  REQUIRE(r != nullptr);
  CHECK(r->request_id == 1);
  CHECK(r->location == location);
  auto* end = std::get_if<ResponseEnd>(&events[1]);
  REQUIRE(end != nullptr);
  CHECK(end->request_id == 1);
  REQUIRE(std::get_if<ResponseRedirect>(&events[2]) != nullptr);
  auto* err = std::get_if<ProtocolError>(&events[3]);
  REQUIRE(err != nullptr);
  CHECK(err->message == "frame 3 (command-response, request 3, stream 2): response to request 3 has a value after its "
                        "content redirect");
}
