// Request bodies through the real hgrpcd: commands good and bad, multirequest,
// content encodings, byte-by-byte bodies, concurrency, shutdown, memory.
#include <doctest/doctest.h>

#include <atomic>
#include <random>

#include "framing/content_encoding.hpp"
#include "framing/frame.hpp"
#include "tests/server/test_server.hpp"

using namespace hgrpc::server::testing;
namespace fr = hgrpc::framing;

namespace {

fr::ClientReactorOptions identity_only() {
  fr::ClientReactorOptions o;
  o.content_encodings = {fr::Encoding::Identity};
  return o;
}

Bytes delta(std::uint32_t start, std::uint32_t end, std::string_view data) {
  Bytes out;
  for (std::uint32_t v : {start, end, static_cast<std::uint32_t>(data.size())})
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
  fr::append(out, fr::as_bytes(data));
  return out;
}

Decoded roundtrip(TestServer& server, Call& call, const std::string& path, int status = 200) {
  auto c = server.client();
  auto r = post(c, path, call.body);
  CHECK(r.status == status);
  CHECK(r.content_type == kMedia);
  return decode(call.reactor, fr::as_bytes(r.body));
}

// A frame with a CBOR payload.
void frame(Bytes& out, std::uint16_t id, std::uint8_t stream, std::uint8_t sflags, fr::FrameType type,
           std::uint8_t flags, ByteView payload) {
  fr::FrameHeader h;
  h.request_id = id;
  h.stream_id = stream;
  h.stream_flags = sflags;
  h.type = static_cast<std::uint8_t>(type);
  h.flags = flags;
  fr::append_frame(out, h, payload);
}

}  // namespace

TEST_CASE("http: every command, good and bad, through HTTP") {
  TestServer server;
  Call call(identity_only());
  const auto caps = call.add("capabilities", json::object());
  const auto apply = call.add("applypatches",
                              {{"base", bin("hello world")}, {"patches", json::array({json::binary(delta(0, 5, "HELLO"))})}});
  const auto size = call.add("patchedsize", {{"size", 11}, {"patches", json::array({json::binary(delta(0, 5, "HI"))})}});
  const auto diff = call.add("diff", {{"a", bin("abc\n")}, {"b", bin("abd\n")}});
  const auto fold = call.add("foldpatches", {{"patches", json::array({json::binary(delta(0, 1, "x")), json::binary(delta(1, 2, "y"))})}});
  const auto bad_arg = call.add("applypatches", {{"base", 5}, {"patches", json::array()}});
  const auto bad_patch = call.add("applypatches", {{"base", bin("ab")}, {"patches", json::array({json::binary(delta(5, 9, "x"))})}});
  const auto unknown = call.add("nosuchcommand", json::object());
  Decoded d = roundtrip(server, call, kApi + "/ro/multirequest");
  REQUIRE_FALSE(d.protocol_error);
  CHECK(d.values[caps].at(0).at("commands").contains("diff"));
  REQUIRE(d.values[apply].size() == 1);
  CHECK(str(d.values[apply][0]) == "HELLO world");
  CHECK(d.values[size] == std::vector<json>{8});
  CHECK(d.values[diff].size() == 1);
  CHECK(d.values[fold].size() == 1);
  REQUIRE(d.command_errors.count(bad_arg) == 1);
  CHECK(error_msg(d.command_errors[bad_arg]) == "argument %s: expected %s, got %s");
  CHECK(d.command_errors[bad_arg].at("message").at(0).at("args").at(0) == bin("base"));
  CHECK(d.command_errors.count(bad_patch) == 1);
  REQUIRE(d.command_errors.count(unknown) == 1);
  CHECK(error_msg(d.command_errors[unknown]) == "wire protocol command not available: %s");
  CHECK(d.ended.size() == 5);
}

TEST_CASE("http: a single-command URL requires the frames to name that command") {
  TestServer server;
  Call call(identity_only());
  call.add("diff", {{"a", bin("a")}, {"b", bin("b")}});
  auto c = server.client();
  auto r = post(c, kApi + "/ro/capabilities", call.body);
  CHECK(r.status == 400);
  CHECK(r.content_type == "text/plain");
  CHECK(r.body == "command in frames (diff) must match the command in the URL (capabilities)\n");

  Call ok(identity_only());
  const auto a = ok.add("diff", {{"a", bin("a")}, {"b", bin("b")}});
  const auto b = ok.add("diff", {{"a", bin("x")}, {"b", bin("y")}});
  Decoded d = roundtrip(server, ok, kApi + "/rw/diff");
  CHECK(d.values[a].size() == 1);
  CHECK(d.values[b].size() == 1);
}

TEST_CASE("http: multirequest with interleaved requests, answers matched by request id") {
  TestServer server;
  fr::ClientReactor reactor(identity_only());
  reactor.expect_request(1);
  reactor.expect_request(3);
  const Bytes req1 = fr::cbor_encode({{"name", bin("applypatches")},
                                      {"args", {{"base", bin("one")}, {"patches", json::array()}}}});
  const Bytes req3 = fr::cbor_encode({{"name", bin("applypatches")},
                                      {"args", {{"base", bin("three")}, {"patches", json::array()}}}});
  using fr::FrameType;
  namespace crf = fr::command_request_flags;
  Bytes body;
  const std::size_t cut = req1.size() / 2;
  frame(body, 1, 1, fr::stream_flags::kBegin, FrameType::CommandRequest, crf::kNew | crf::kMore,
        ByteView(req1).first(cut));
  frame(body, 3, 1, 0, FrameType::CommandRequest, crf::kNew, req3);
  frame(body, 1, 1, 0, FrameType::CommandRequest, crf::kContinuation, ByteView(req1).subspan(cut));
  auto c = server.client();
  auto r = post(c, kApi + "/ro/multirequest", body);
  REQUIRE(r.status == 200);
  Decoded d = decode(reactor, fr::as_bytes(r.body));
  REQUIRE_FALSE(d.protocol_error);
  CHECK(str(d.values[1].at(0)) == "one");
  CHECK(str(d.values[3].at(0)) == "three");
  CHECK(d.ended == std::vector<std::uint16_t>{3, 1});  // request 3 completed first
}

TEST_CASE("http: each response content encoding") {
  TestServer server;
  for (auto e : {fr::Encoding::Identity, fr::Encoding::Zlib, fr::Encoding::Zstd8mb}) {
    CAPTURE(fr::encoding_name(e));
    fr::ClientReactorOptions o;
    o.content_encodings = {e};
    Call call(o);
    std::string text(100000, 'a');
    for (std::size_t i = 0; i < text.size(); i += 7) text[i] = static_cast<char>('a' + i % 26);
    const auto id = call.add("applypatches", {{"base", bin(text)}, {"patches", json::array()}});
    Decoded d = roundtrip(server, call, kApi + "/ro/applypatches");
    REQUIRE_FALSE(d.protocol_error);
    REQUIRE(d.values[id].size() == 1);
    CHECK(str(d.values[id][0]) == text);
    REQUIRE(!d.frames.empty());
    CHECK(d.frames[0].type == static_cast<std::uint8_t>(fr::FrameType::StreamSettings));
  }
}

TEST_CASE("http: a body whose streams use different encodings") {
  TestServer server;
  // Stream 1 identity, stream 3 zlib, stream 5 zstd-8mb: one command on each.
  fr::ClientReactor reactor(identity_only());
  Bytes body;
  using fr::FrameType;
  namespace sf = fr::stream_flags;
  const auto request = [](std::string_view base) {
    return fr::cbor_encode({{"name", bin("applypatches")}, {"args", {{"base", bin(base)}, {"patches", json::array()}}}});
  };
  frame(body, 1, 1, sf::kBegin, FrameType::CommandRequest, fr::command_request_flags::kNew, request("plain"));
  std::uint16_t id = 3;
  std::uint8_t stream = 3;
  for (auto e : {fr::Encoding::Zlib, fr::Encoding::Zstd8mb}) {
    const Bytes settings = fr::cbor_encode(bin(fr::encoding_name(e)));
    frame(body, id, stream, sf::kBegin, FrameType::StreamSettings, fr::settings_flags::kEos, settings);
    auto enc = fr::make_encoder(e);
    Bytes encoded;
    REQUIRE(enc->encode(request(std::string(fr::encoding_name(e)) + " text"), encoded));
    frame(body, id, stream, sf::kEncoded, FrameType::CommandRequest, fr::command_request_flags::kNew, encoded);
    id = static_cast<std::uint16_t>(id + 2);
    stream = static_cast<std::uint8_t>(stream + 2);
  }
  for (std::uint16_t r : {1, 3, 5}) reactor.expect_request(r);
  auto c = server.client();
  auto r = post(c, kApi + "/ro/multirequest", body);
  REQUIRE(r.status == 200);
  Decoded d = decode(reactor, fr::as_bytes(r.body));
  REQUIRE_FALSE(d.protocol_error);
  CHECK(str(d.values[1].at(0)) == "plain");
  CHECK(str(d.values[3].at(0)) == "zlib text");
  CHECK(str(d.values[5].at(0)) == "zstd-8mb text");
}

TEST_CASE("http: a body sent one byte per chunk gives the same answer") {
  TestServer server;
  Call whole(identity_only()), bytewise(identity_only());
  for (Call* call : {&whole, &bytewise}) {
    call->add("diff", {{"a", bin("line 1\nline 2\n")}, {"b", bin("line 1\nline two\n")}});
    call->add("capabilities", json::object());
  }
  auto c = server.client();
  auto expected = post(c, kApi + "/ro/multirequest", whole.body);
  const Bytes body = bytewise.body;
  auto c2 = server.client();
  auto r = c2.Post((kApi + "/ro/multirequest").c_str(), framing_headers(),
                   [&](std::size_t offset, httplib::DataSink& sink) {
                     if (offset >= body.size()) {
                       sink.done();
                       return true;
                     }
                     return sink.write(reinterpret_cast<const char*>(&body[offset]), 1);
                   },
                   kMedia);
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->body == expected.body);
  Decoded d = decode(bytewise.reactor, fr::as_bytes(r->body));
  CHECK_FALSE(d.protocol_error);
  CHECK(d.ended.size() == 2);
}

TEST_CASE("http: protocol errors, before and after output") {
  TestServer server;
  auto c = server.client();
  SUBCASE("nothing produced yet: 400 with one error-response frame") {
    Bytes body;
    // command-data for a request that was never announced.
    frame(body, 1, 1, fr::stream_flags::kBegin, fr::FrameType::CommandData, fr::command_data_flags::kEos, fr::to_bytes("x"));
    auto r = post(c, kApi + "/ro/multirequest", body);
    CHECK(r.status == 400);
    CHECK(r.content_type == kMedia);
    fr::FrameReader reader;
    reader.feed(fr::as_bytes(r.body));
    auto f = reader.next();
    REQUIRE(f);
    REQUIRE(*f);
    CHECK((*f)->header.type == static_cast<std::uint8_t>(fr::FrameType::ErrorResponse));
    CHECK((*f)->header.request_id == 1);
    CHECK((*f)->header.stream_id == 2);
    CHECK((*f)->header.stream_flags == fr::stream_flags::kBegin);
    auto v = fr::cbor_decode_all((*f)->payload);
    REQUIRE(v);
    CHECK(str((*v)[0].at("type")) == "protocol");
    CHECK_FALSE(str((*v)[0].at("message").at(0).at("msg")).empty());
    auto end = reader.next();
    REQUIRE(end);
    CHECK_FALSE(*end);  // exactly one frame
  }
  SUBCASE("a body that ends inside a frame") {
    Call call(identity_only());
    call.add("capabilities", json::object());
    Bytes body = call.body;
    body.resize(body.size() - 3);
    auto r = post(c, kApi + "/ro/multirequest", body);
    CHECK(r.status == 400);
  }
  SUBCASE("after output: the error-response frame ends the 200 response") {
    Call call(identity_only());
    const auto id = call.add("capabilities", json::object());
    Bytes body = call.body;
    frame(body, 99, 1, 0, fr::FrameType::CommandData, fr::command_data_flags::kEos, fr::to_bytes("x"));
    auto r = post(c, kApi + "/ro/multirequest", body);
    CHECK(r.status == 200);
    call.reactor.expect_request(99);
    Decoded d = decode(call.reactor, fr::as_bytes(r.body));
    CHECK(d.values[id].size() == 1);
    REQUIRE(d.error_responses.count(99) == 1);
    CHECK(d.error_responses[99].first == "protocol");
  }
}

TEST_CASE("http: concurrent clients") {
  TestServer server({"--threads", "8"});
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      auto c = server.client();
      for (int i = 0; i < 10; ++i) {
        Call call;
        const std::string text = "client " + std::to_string(t) + " request " + std::to_string(i);
        const auto id = call.add("applypatches", {{"base", bin(text)}, {"patches", json::array()}});
        auto r = c.Post((kApi + "/ro/multirequest").c_str(), framing_headers(),
                        std::string(fr::as_chars(call.body)), kMedia);
        if (!r || r->status != 200) continue;
        Decoded d = decode(call.reactor, fr::as_bytes(r->body));
        if (!d.protocol_error && d.values[id].size() == 1 && str(d.values[id][0]) == text) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(ok.load() == 60);
}

TEST_CASE("http: SIGTERM lets the request in flight finish, then exits 0") {
  TestServer server({"--shutdown-grace", "20"});
  Call call(identity_only());
  const auto id = call.add("applypatches", {{"base", bin("in flight")}, {"patches", json::array()}});
  const Bytes body = call.body;
  std::atomic<bool> half_sent{false};
  std::optional<int> status;
  std::string response;
  std::thread client([&] {
    auto c = server.client();
    auto r = c.Post((kApi + "/ro/multirequest").c_str(), framing_headers(),
                    [&](std::size_t offset, httplib::DataSink& sink) {
                      if (offset >= body.size()) {
                        sink.done();
                        return true;
                      }
                      if (offset == 5) {
                        half_sent = true;
                        std::this_thread::sleep_for(std::chrono::milliseconds(700));
                      }
                      const std::size_t n = offset < 5 ? 5 : body.size() - offset;
                      return sink.write(reinterpret_cast<const char*>(&body[offset]), n);
                    },
                    kMedia);
    if (r) {
      status = r->status;
      response = r->body;
    } else {
      response = httplib::to_string(r.error());
    }
  });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!half_sent && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  CHECK(half_sent.load());
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ::kill(server.pid(), SIGTERM);
  client.join();
  CHECK(server.stop(SIGTERM) == 0);
  INFO("client: " << response << " log: " << server.log());
  REQUIRE(status);
  CHECK(*status == 200);
  Decoded d = decode(call.reactor, fr::as_bytes(response));
  REQUIRE(d.values[id].size() == 1);
  CHECK(str(d.values[id][0]) == "in flight");
  // No new connections after the stop.
  auto late = server.client();
  CHECK_FALSE(late.Get("/healthz"));
}

TEST_CASE("http: a 256 MiB streamed body of many commands keeps the server's memory bounded") {
  // The response cache would keep up to --cache-bytes of these answers: its
  // bound is its own (response_cache_test); this checks the streaming path.
  TestServer server({"--compress-threads", "2", "--cache-bytes", "0"});
  // Warm up, then take the baseline.
  {
    Call call(identity_only());
    call.add("capabilities", json::object());
    auto c = server.client();
    REQUIRE(post(c, kApi + "/ro/multirequest", call.body).status == 200);
  }
  const long baseline = server.status_kib("VmHWM").value_or(0);
  REQUIRE(baseline > 0);

  constexpr std::uint64_t kTotal = std::uint64_t{256} << 20;
  constexpr std::size_t kBase = 16 * 1024;
  std::mt19937 rng(1234);
  CAPTURE(1234);
  std::string base(kBase, '\0');
  for (auto& ch : base) ch = static_cast<char>('a' + rng() % 26);
  fr::ClientReactorOptions o;
  o.content_encodings = {fr::Encoding::Zstd8mb};  // the server compresses on its pool
  fr::ClientReactor reactor(o);
  std::uint64_t sent = 0;
  std::size_t commands = 0;
  Bytes pending;
  std::size_t pending_pos = 0;
  auto c = server.client();
  c.set_read_timeout(300);
  c.set_write_timeout(300);

  // Response side: decode as it arrives, keeping only counts.
  std::size_t values = 0, wrong = 0, errors = 0;
  fr::FrameReader reader(0xFFFFFF);
  std::optional<std::string> failure;
  Bytes carry;
  auto r = c.Post(
      (kApi + "/ro/multirequest").c_str(), framing_headers(),
      [&](std::size_t, httplib::DataSink& sink) {
        if (pending_pos == pending.size()) {
          if (sent >= kTotal) {
            sink.done();
            return true;
          }
          pending.clear();
          pending_pos = 0;
          base[commands % kBase] = static_cast<char>('a' + commands % 26);
          auto id = reactor.call_command("applypatches", {{"base", bin(base)}, {"patches", json::array()}}, pending);
          if (!id) return false;
          ++commands;
          sent += pending.size();
        }
        const std::size_t n = std::min<std::size_t>(pending.size() - pending_pos, 64 * 1024);
        const bool ok = sink.write(reinterpret_cast<const char*>(pending.data() + pending_pos), n);
        pending_pos += n;
        return ok;
      },
      kMedia);
  REQUIRE(r);
  CHECK(r->status == 200);
  const long peak = server.status_kib("VmHWM").value_or(0);
  MESSAGE("commands: " << commands << ", body: " << sent << " bytes, response: " << r->body.size()
                       << " bytes, server VmHWM " << baseline << " KiB -> " << peak << " KiB");
  CHECK(peak - baseline < 64 * 1024);
  reader.feed(fr::as_bytes(r->body));
  for (;;) {
    auto f = reader.next();
    if (!f || !*f) break;
    for (auto& ev : reactor.on_frame(**f)) {
      if (auto* v = std::get_if<fr::ResponseValue>(&ev)) {
        ++values;
        if (v->value.get_binary().size() != kBase) ++wrong;
      } else if (std::holds_alternative<fr::CommandError>(ev) || std::holds_alternative<fr::ErrorResponse>(ev) ||
                 std::holds_alternative<fr::ProtocolError>(ev)) {
        ++errors;
      }
    }
  }
  CHECK(values == commands);
  CHECK(wrong == 0);
  CHECK(errors == 0);
  (void)failure;
  (void)carry;
}

TEST_CASE("http: output past --spool-bytes is spilled to a file and comes back whole") {
  TestServer server({"--spool-bytes", "1MiB", "--compress-threads", "1"});
  Call call(identity_only());
  std::vector<std::pair<std::uint16_t, std::string>> expected;
  std::mt19937 rng(99);
  CAPTURE(99);
  for (int i = 0; i < 24; ++i) {
    std::string text(256 * 1024, '\0');
    for (auto& ch : text) ch = static_cast<char>(rng());
    expected.emplace_back(call.add("applypatches", {{"base", bin(text)}, {"patches", json::array()}}), text);
  }
  Decoded d = roundtrip(server, call, kApi + "/ro/multirequest");
  REQUIRE_FALSE(d.protocol_error);
  for (const auto& [id, text] : expected) {
    REQUIRE(d.values[id].size() == 1);
    CHECK(str(d.values[id][0]) == text);
  }
}

namespace {

// Our JSON value -> hg_client.py's JSON form ({"$hex": ...} for byte strings).
nlohmann::json to_hg_json(const json& v) {
  if (v.is_binary()) {
    static const char* digits = "0123456789abcdef";
    std::string hex;
    for (auto b : v.get_binary()) {
      hex += digits[b >> 4];
      hex += digits[b & 15];
    }
    return {{"$hex", hex}};
  }
  if (v.is_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& e : v) out.push_back(to_hg_json(e));
    return out;
  }
  if (v.is_object()) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [k, e] : v.items()) out[k] = to_hg_json(e);
    return out;
  }
  return v;
}

std::string run_capture(const std::string& command) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) return out;
  char buf[65536];
  while (auto n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int status = pclose(p);
  if (status != 0) out += "\n[exit " + std::to_string(status) + "]";
  return out;
}

}  // namespace

TEST_CASE("http: Mercurial's client reactor talks to hgrpcd, its decoding equals ours") {
  const std::string script = std::string(HGRPC_SOURCE_DIR) + "/tests/interop/hg_client.py";
  if (access(script.c_str(), R_OK) != 0 || access("/usr/bin/python3", X_OK) != 0) {
    MESSAGE("tests/interop/hg_client.py or /usr/bin/python3 missing: skipped");
    return;
  }
  TestServer server;
  for (const char* encodings : {"null", "[\"identity\"]", "[\"zlib\", \"identity\"]"}) {
    CAPTURE(encodings);
    char dir_template[] = "/tmp/hgrpcd-interop-XXXXXX";
    REQUIRE(mkdtemp(dir_template) != nullptr);
    const std::string dir = dir_template;
    {
      std::ofstream spec(dir + "/spec.json");
      spec << R"({"encodings": )" << encodings << R"(, "commands": [
        {"name": "applypatches", "args": {"base": {"$hex": "68656c6c6f20776f726c64"},
          "patches": [{"$hex": "000000000000000500000005484f574459"}]}},
        {"name": "diff", "args": {"a": {"$hex": "610a620a"}, "b": {"$hex": "610a630a"}}},
        {"name": "patchedsize", "args": {"size": 3, "patches": []}},
        {"name": "applypatches", "args": {"base": 7, "patches": []}},
        {"name": "capabilities", "args": {}}]})";
    }
    const std::string body = run_capture("/usr/bin/python3 " + script + " build " + dir + "/spec.json");
    REQUIRE(body.find("[exit") == std::string::npos);
    auto c = server.client();
    auto r = c.Post((kApi + "/ro/multirequest").c_str(), framing_headers(), body, kMedia);
    REQUIRE(r);
    REQUIRE(r->status == 200);
    { std::ofstream(dir + "/response.bin", std::ios::binary) << r->body; }
    const std::string decoded = run_capture("/usr/bin/python3 " + script + " decode " + dir + "/response.bin");
    CAPTURE(decoded);
    std::remove((dir + "/spec.json").c_str());
    std::remove((dir + "/response.bin").c_str());
    rmdir(dir.c_str());

    // Ours: register the same request ids (Mercurial numbers them 1, 3, 5, ...).
    fr::ClientReactor reactor;
    for (std::uint16_t id : {1, 3, 5, 7, 9}) reactor.expect_request(id);
    Decoded ours = decode(reactor, fr::as_bytes(r->body));
    REQUIRE_FALSE(ours.protocol_error);

    std::istringstream lines(decoded);
    std::string line;
    int seen = 0;
    while (std::getline(lines, line)) {
      if (line.empty() || line[0] != '{') continue;
      auto j = nlohmann::json::parse(line);
      REQUIRE_FALSE(j.contains("protocol_error"));
      const auto id = j.at("request_id").get<std::uint16_t>();
      CAPTURE(id);
      ++seen;
      if (j.at("status") == "ok") {
        nlohmann::json mine = nlohmann::json::array();
        for (const auto& v : ours.values[id]) mine.push_back(to_hg_json(v));
        CHECK(j.at("values") == mine);
      } else {
        REQUIRE(ours.command_errors.count(id) == 1);
        CHECK(j.at("error") == to_hg_json(ours.command_errors[id]));
      }
    }
    CHECK(seen == 5);
  }
}
