// Routes, checks and their statuses, the handshake, auth, health, metrics and
// the access log, against the real hgrpcd.
#include <doctest/doctest.h>

#include <fstream>

#include "tests/server/test_server.hpp"

using namespace hgrpc::server::testing;

namespace {

Bytes capabilities_body() {
  Call call;
  call.add("capabilities", json::object());
  return call.body;
}

}  // namespace

TEST_CASE("http: every check answers its status with a text/plain one-line reason") {
  TestServer server;
  auto c = server.client();
  const Bytes body = capabilities_body();

  SUBCASE("unknown API, permission or command: 404") {
    for (const std::string& path : std::vector<std::string>{"/api/exp-http-v2-0002/ro/capabilities", kApi + "/rx/capabilities",
                                   kApi + "/ro/nosuchcommand", kApi + "/ro", "/nowhere"}) {
      CAPTURE(path);
      auto r = post(c, path, body);
      CHECK(r.status == 404);
      CHECK(r.content_type == "text/plain");
      CHECK(r.body.find('\n') == r.body.size() - 1);
    }
    CHECK(post(c, kApi + "/ro/nosuchcommand", body).body == "unknown wire protocol command: nosuchcommand\n");
    CHECK(post(c, kApi + "/rx/capabilities", body).body == "unknown permission: rx (ro or rw)\n");
  }
  SUBCASE("method other than POST: 405 with Allow: POST") {
    for (const char* method : {"GET", "PUT", "DELETE", "PATCH", "OPTIONS"}) {
      CAPTURE(method);
      httplib::Request req;
      req.method = method;
      req.path = kApi + "/ro/capabilities";
      auto r = c.send(req);
      REQUIRE(r);
      CHECK(r->status == 405);
      CHECK(r->get_header_value("Allow") == "POST");
      CHECK(r->body == "commands require POST requests\n");
    }
  }
  SUBCASE("Accept other than the media type: 406") {
    auto r = post(c, kApi + "/ro/capabilities", body, {{"Accept", "*/*"}});
    CHECK(r.status == 406);
    CHECK(r.body == "client MUST specify Accept header with value: application/mercurial-exp-framing-0006\n");
    CHECK(post(c, kApi + "/ro/capabilities", body, {}).status == 406);
  }
  SUBCASE("Content-Type other than the media type: 415") {
    auto r = post(c, kApi + "/ro/capabilities", body, framing_headers(), "application/octet-stream");
    CHECK(r.status == 415);
    CHECK(r.body == "client MUST send Content-Type header with value: application/mercurial-exp-framing-0006\n");
  }
  SUBCASE("Accept and Content-Type with parameters or in a list are accepted") {
    auto r = post(c, kApi + "/ro/capabilities", body,
                  {{"Accept", "text/html, application/mercurial-exp-framing-0006;q=0.9"}},
                  "application/mercurial-exp-framing-0006; x=1");
    CHECK(r.status == 200);
  }
  SUBCASE("GET /api/ describes the APIs") {
    auto r = c.Get("/api/");
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->get_header_value("Content-Type") == "text/plain");
    CHECK(r->body == "hgrpcd serves these APIs under /api/<name>:\nexp-http-v2-0003\n");
  }
  SUBCASE("healthz") {
    auto r = c.Get("/healthz");
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->body == "ok\n");
  }
}

TEST_CASE("http: declared length over --max-body-bytes is 413, a streamed body over it too") {
  TestServer server({"--max-body-bytes", "1000"});
  auto c = server.client();
  Bytes big(1001, 0);
  auto r = post(c, kApi + "/ro/multirequest", big);
  CHECK(r.status == 413);
  CHECK(r.body == "request body of 1001 bytes exceeds the limit of 1000 bytes\n");

  // Chunked: no declared length, the limit applies while reading.
  auto c2 = server.client();
  auto streamed = c2.Post(
      (kApi + "/ro/multirequest").c_str(), framing_headers(),
      [](std::size_t offset, httplib::DataSink& sink) {
        if (offset >= 4000) {
          sink.done();
          return true;
        }
        std::string chunk(500, '\0');
        return sink.write(chunk.data(), chunk.size());
      },
      kMedia);
  REQUIRE(streamed);
  CHECK(streamed->status == 413);
  CHECK(streamed->body == "request body exceeds the limit of 1000 bytes\n");
}

TEST_CASE("http: capabilities handshake, version 2 and version 1") {
  TestServer server;
  auto c = server.client();
  SUBCASE("X-HgProto-1 with cbor and X-HgUpgrade-1 naming the API: CBOR map") {
    auto r = c.Get("/?cmd=capabilities", {{"X-HgProto-1", "0.1 0.2 cbor"},
                                           {"X-HgUpgrade-1", "exp-http-v2-0003"}});
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->get_header_value("Content-Type") == "application/mercurial-cbor");
    auto values = hgrpc::framing::cbor_decode_all(hgrpc::framing::as_bytes(r->body));
    REQUIRE(values);
    REQUIRE(values->size() == 1);
    const json& m = (*values)[0];
    CHECK(str(m.at("apibase")) == "api/");
    CHECK(m.at("v1capabilities").is_binary());
    const json& api = m.at("apis").at("exp-http-v2-0003");
    CHECK(api.at("commands").contains("applypatches"));
    CHECK(api.at("framingmediatypes") == json::array({bin(kMedia)}));
  }
  SUBCASE("the upgrade value split over X-HgUpgrade-1 and -2 is joined") {
    auto r = c.Get("/?cmd=capabilities", {{"X-HgProto-1", "cbor"},
                                           {"X-HgUpgrade-1", "exp-http-"},
                                           {"X-HgUpgrade-2", "v2-0003"}});
    REQUIRE(r);
    auto values = hgrpc::framing::cbor_decode_all(hgrpc::framing::as_bytes(r->body));
    REQUIRE(values);
    CHECK((*values)[0].at("apis").contains("exp-http-v2-0003"));
  }
  SUBCASE("an API the server lacks: CBOR with no apis") {
    auto r = c.Get("/?cmd=capabilities", {{"X-HgProto-1", "cbor"}, {"X-HgUpgrade-1", "exp-http-v9"}});
    REQUIRE(r);
    auto values = hgrpc::framing::cbor_decode_all(hgrpc::framing::as_bytes(r->body));
    REQUIRE(values);
    CHECK((*values)[0].at("apis") == json::object());
  }
  SUBCASE("without cbor in X-HgProto-1, or without the headers: version 1 answer") {
    for (const httplib::Headers& h : {httplib::Headers{}, httplib::Headers{{"X-HgProto-1", "0.1 0.2"},
                                                                           {"X-HgUpgrade-1", "exp-http-v2-0003"}}}) {
      auto r = c.Get("/?cmd=capabilities", h);
      REQUIRE(r);
      CHECK(r->status == 200);
      CHECK(r->get_header_value("Content-Type") == "application/mercurial-0.1");
      CHECK(r->body == "");
    }
  }
  SUBCASE("another version 1 command: 404") {
    auto r = c.Get("/?cmd=heads");
    REQUIRE(r);
    CHECK(r->status == 404);
  }
}

TEST_CASE("http: bearer token auth for rw/, and for ro/ with --auth-ro") {
  char path[] = "/tmp/hgrpcd-token-XXXXXX";
  const int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  close(fd);
  { std::ofstream(path) << "\n  s3cret-token  \nsecond-token\n"; }
  const Bytes body = capabilities_body();
  const auto bearer = [](std::string t) { return httplib::Headers{{"Accept", kMedia}, {"Authorization", "Bearer " + t}}; };
  {
    TestServer server({"--token-file", path});
    auto c = server.client();
    auto missing = post(c, kApi + "/rw/capabilities", body);
    CHECK(missing.status == 401);
    auto challenge = missing.headers.find("WWW-Authenticate");
    REQUIRE(challenge != missing.headers.end());
    CHECK(challenge->second == "Bearer");
    CHECK(post(c, kApi + "/rw/capabilities", body, bearer("wrong")).status == 403);
    CHECK(post(c, kApi + "/rw/capabilities", body, bearer("s3cret-token-")).status == 403);
    CHECK(post(c, kApi + "/rw/capabilities", body, bearer("s3cret-token")).status == 200);
    CHECK(post(c, kApi + "/rw/capabilities", body, bearer("second-token")).status == 200);
    CHECK(post(c, kApi + "/rw/capabilities", body, {{"Accept", kMedia}, {"Authorization", "Basic czNjcmV0"}}).status == 401);
    CHECK(post(c, kApi + "/ro/capabilities", body).status == 200);
    // Auth comes before Accept.
    CHECK(post(c, kApi + "/rw/capabilities", body, {}).status == 401);
  }
  {
    TestServer server({"--token-file", path, "--auth-ro"});
    auto c = server.client();
    CHECK(post(c, kApi + "/ro/capabilities", body).status == 401);
    CHECK(post(c, kApi + "/ro/capabilities", body, bearer("s3cret-token")).status == 200);
  }
  unlink(path);
}

TEST_CASE("http: /metrics counts requests, commands, bytes, frames and protocol errors") {
  TestServer server;
  auto c = server.client();
  // One connection, so each request is logged and counted before the next starts.
  c.set_keep_alive(true);
  const Bytes body = capabilities_body();
  REQUIRE(post(c, kApi + "/ro/capabilities", body).status == 200);
  REQUIRE(post(c, kApi + "/ro/multirequest", hgrpc::framing::to_bytes("garbage!")).status == 400);
  auto r = c.Get("/metrics");
  REQUIRE(r);
  CHECK(r->status == 200);
  const std::string& m = r->body;
  CHECK(m.find("hgrpcd_http_requests_total{command=\"capabilities\",status=\"200\"} 1\n") != std::string::npos);
  CHECK(m.find("hgrpcd_http_requests_total{command=\"multirequest\",status=\"400\"} 1\n") != std::string::npos);
  CHECK(m.find("hgrpcd_commands_total{command=\"capabilities\",outcome=\"ok\"} 1\n") != std::string::npos);
  CHECK(m.find("hgrpcd_protocol_errors_total 1\n") != std::string::npos);
  CHECK(m.find("hgrpcd_received_bytes_total " + std::to_string(body.size() + 8) + "\n") != std::string::npos);
  CHECK(m.find("hgrpcd_received_frames_total 2\n") != std::string::npos);  // settings + request
  CHECK(m.find("hgrpcd_requests_in_flight 1\n") != std::string::npos);      // this one
}

TEST_CASE("http: one access-log line per request, text and json") {
  const Bytes body = capabilities_body();
  {
    TestServer server;
    auto c = server.client();
    REQUIRE(post(c, kApi + "/ro/capabilities", body).status == 200);
    REQUIRE(c.Get("/healthz"));
    server.stop();
    const std::string log = server.log();
    CAPTURE(log);
    CHECK(log.find(" 127.0.0.1 \"POST /api/exp-http-v2-0003/ro/capabilities\" 200 in=" +
                   std::to_string(body.size()) + " out=") != std::string::npos);
    CHECK(log.find("commands=capabilities\n") != std::string::npos);
    CHECK(log.find(" 127.0.0.1 \"GET /healthz\" 200 in=0 out=3 ms=") != std::string::npos);
  }
  {
    TestServer server({"--log-format", "json", "--trusted-proxy", "127.0.0.0/8"});
    auto c = server.client();
    httplib::Headers h = framing_headers();
    h.emplace("X-Forwarded-For", "203.0.113.9, 10.0.0.1");
    REQUIRE(post(c, kApi + "/ro/capabilities", body, h).status == 200);
    server.stop();
    std::istringstream lines(server.log());
    std::string line;
    bool found = false;
    while (std::getline(lines, line)) {
      auto j = json::parse(line);
      if (!j.contains("path")) continue;
      found = true;
      CHECK(j["client"] == "10.0.0.1");  // the nearest hop that is not trusted
      CHECK(j["method"] == "POST");
      CHECK(j["status"] == 200);
      CHECK(j["commands"] == json{{"capabilities", 1}});
      CHECK(j["bytes_in"] == body.size());
      CHECK(j["bytes_out"].get<std::uint64_t>() > 0);
    }
    CHECK(found);
  }
}

TEST_CASE("http: --access-log off drops the request lines, keeps server messages") {
  const Bytes body = capabilities_body();
  TestServer server({"--access-log", "off"});
  auto c = server.client();
  REQUIRE(post(c, kApi + "/ro/capabilities", body).status == 200);
  REQUIRE(c.Get("/healthz"));
  server.stop();  // SIGTERM: the shutdown message still goes to the log
  const std::string log = server.log();
  CAPTURE(log);
  CHECK(log.find("capabilities") == std::string::npos);
  CHECK(log.find("/healthz") == std::string::npos);
  // (The in-flight count is not checked: the keep-alive connection may still
  // be between its last request's end and its log callback.)
  CHECK(log.find(" hgrpcd: signal 15: no new connections; ") != std::string::npos);
}

TEST_CASE("http: --help names every flag with its environment variable, env sets flags") {
  TestServer server;  // the binary exists and starts
  std::string out;
  FILE* p = popen((TestServer::binary() + " --help").c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  while (auto n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  CHECK(pclose(p) == 0);
  for (const char* env : {"HGRPCD_LISTEN", "HGRPCD_PORT", "HGRPCD_THREADS", "HGRPCD_MAX_BODY_BYTES",
                          "HGRPCD_MAX_FRAME_SIZE", "HGRPCD_MAX_OUTPUT_BYTES", "HGRPCD_COMPRESS_THREADS",
                          "HGRPCD_SPOOL_BYTES", "HGRPCD_TOKEN_FILE", "HGRPCD_AUTH_RO",
                          "HGRPCD_TRUSTED_PROXY", "HGRPCD_LOG_FORMAT", "HGRPCD_READ_TIMEOUT",
                          "HGRPCD_WRITE_TIMEOUT", "HGRPCD_SHUTDOWN_GRACE"}) {
    CAPTURE(env);
    CHECK(out.find(std::string("Env:") + env) != std::string::npos);
  }
  setenv("HGRPCD_MAX_BODY_BYTES", "100", 1);
  TestServer limited;
  unsetenv("HGRPCD_MAX_BODY_BYTES");
  auto c = limited.client();
  CHECK(post(c, kApi + "/ro/multirequest", Bytes(101, 0)).status == 413);
}
