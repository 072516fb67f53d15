// The hgrpc command line end to end against a running hgrpcd (ephemeral
// 127.0.0.1 port, stopped on scope exit), plus a fake HTTP server for the
// transport failures hgrpcd never produces.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <random>
#include <thread>

#include "client/base64.hpp"
#include "client_test_support.hpp"
#include "framing/cbor.hpp"
#include "framing/response_emitter.hpp"
#include "framing/stream.hpp"

using namespace hgrpc::client;
using namespace hgrpc::client::test;
using hgrpc::framing::json;

namespace {

// One hgrpcd for the whole suite run (started on first use).
Server& shared_server() {
  static Server server;
  return server;
}

json parse_line(const std::string& line) {
  json j = json::parse(line, nullptr, false);
  REQUIRE_FALSE(j.is_discarded());
  return j;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    auto nl = text.find('\n', start);
    out.push_back(text.substr(start, nl - start));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return out;
}

// A port nothing listens on: bind one without listening, note it, close it.
int unused_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string slurp_b64(const std::string& s) {
  auto raw = base64_decode(s);
  REQUIRE(raw);
  return std::string(raw->begin(), raw->end());
}

std::string b64(const std::string& s) { return base64_encode(hgrpc::framing::as_bytes(s)); }

// A local HTTP server answering every request with a fixed response.
class FakeServer {
 public:
  FakeServer(int status, std::string content_type, std::string body) {
    auto handler = [=](const httplib::Request&, httplib::Response& res) {
      res.status = status;
      res.set_content(body, content_type.c_str());
    };
    server_.Get(".*", handler);
    server_.Post(".*", [=](const httplib::Request&, httplib::Response& res, const httplib::ContentReader& reader) {
      reader([](const char*, std::size_t) { return true; });  // drain the body
      res.status = status;
      res.set_content(body, content_type.c_str());
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeServer() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/"; }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace

TEST_CASE("cli: --help for every subcommand, usage errors exit 2") {
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"--help"}, {"capabilities", "--help"}, {"call", "--help"}, {"batch", "--help"},
           {"apply", "--help"}, {"fold", "--help"}, {"diff", "--help"}, {"frames", "--help"},
           {"frames", "decode", "--help"}, {"frames", "encode", "--help"}}) {
    CAPTURE(args.front());
    auto r = run_hgrpc(args);
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("Usage: ") != std::string::npos);
  }
  CHECK(run_hgrpc({"call", "--help"}).out.find("NAME[[]][:TYPE]=VALUE") != std::string::npos);
  CHECK(run_hgrpc({"--help"}).out.find("Exit codes: 0 success, 1 command error, 2 usage error, 3 protocol") !=
        std::string::npos);

  auto none = run_hgrpc({});
  CHECK(none.exit_code == 2);
  auto missing = run_hgrpc({"call", "http://127.0.0.1:1/"});
  CHECK(missing.exit_code == 2);
  CHECK(missing.err.find("COMMAND is required") != std::string::npos);
  CHECK(run_hgrpc({"call", "http://127.0.0.1:1/", "diff", "--encoding", "gzip"}).exit_code == 2);
  CHECK(run_hgrpc({"call", "http://127.0.0.1:1/", "diff", "--bogus"}).exit_code == 2);
  auto bad_arg = run_hgrpc({"call", "http://127.0.0.1:1/", "diff", "--arg", "size:int=x"});
  CHECK(bad_arg.exit_code == 2);
  CHECK(bad_arg.err == "hgrpc: --arg size: 'x' is not an integer\n");
  auto bad_url = run_hgrpc({"call", "https://127.0.0.1:1/", "diff"});
  CHECK(bad_url.exit_code == 2);
  CHECK(bad_url.err.find("https is not supported") != std::string::npos);
  auto no_file = run_hgrpc({"apply", "http://127.0.0.1:1/", "--base", "/nonexistent/base"});
  CHECK(no_file.exit_code == 2);
  CHECK(no_file.err.find("cannot read /nonexistent/base") != std::string::npos);
}

TEST_CASE("cli: capabilities through the handshake and through a direct API URL") {
  Server& s = shared_server();
  auto r = run_hgrpc({"capabilities", s.url()});
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.empty());
  json caps = parse_line(lines_of(r.out).at(0));
  CHECK(caps["commands"].contains("diff"));
  CHECK(caps["commands"]["diff"]["args"]["a"]["type"] == json::object({{"$bytes", b64("bytes")}}));
  CHECK(caps["framingmediatypes"] ==
        json::array({json::object({{"$bytes", b64("application/mercurial-exp-framing-0006")}})}));

  auto text = run_hgrpc({"--bytes", "text", "capabilities", s.api_url()});
  REQUIRE(text.exit_code == 0);
  json caps2 = parse_line(lines_of(text.out).at(0));
  CHECK(caps2["commands"]["diff"]["args"]["a"]["type"] == "bytes");
  CHECK(caps2["framingmediatypes"] == json::array({"application/mercurial-exp-framing-0006"}));
  CHECK(caps2["commands"].size() == caps["commands"].size());
}

TEST_CASE("cli: call with every argument form and every encoding") {
  Server& s = shared_server();
  TempDir dir;
  spit(dir.file("a"), "line 1\nline 2\n");
  spit(dir.file("b"), "line 1\nline two\n");
  // The server's diff: its exact delta is the server's business; every
  // encoding and argument form must give the same one, and it must apply.
  auto first = run_hgrpc({"call", s.url(), "diff", "--arg", "a=@" + dir.file("a"), "--arg", "b=@" + dir.file("b")});
  REQUIRE(first.exit_code == 0);
  json expected = parse_line(first.out);
  REQUIRE(expected.contains("$bytes"));
  std::string delta = slurp_b64(expected["$bytes"].get<std::string>());
  spit(dir.file("delta"), delta);
  auto applied = run_hgrpc({"apply", s.url(), "--base", dir.file("a"), dir.file("delta")});
  REQUIRE(applied.exit_code == 0);
  CHECK(applied.out == "line 1\nline two\n");
  for (const char* encoding : {"identity", "zlib", "zstd-8mb"}) {
    CAPTURE(encoding);
    auto r = run_hgrpc({"call", s.url(), "diff", "--arg", "a=@" + dir.file("a"), "--arg", "b=@" + dir.file("b"),
                    "--encoding", encoding});
    REQUIRE(r.exit_code == 0);
    CHECK(r.err.empty());
    CHECK(parse_line(r.out) == expected);
  }
  auto j = run_hgrpc({"call", s.api_url(), "diff", "--args-json",
                  R"({"a": "line 1\nline 2\n", "b": {"$bytes": ")" + b64("line 1\nline two\n") + R"("}})"});
  REQUIRE(j.exit_code == 0);
  CHECK(parse_line(j.out) == expected);

  auto items = run_hgrpc({"call", s.url(), "diff", "--data-item", dir.file("a"), "--data-item", dir.file("b"),
                      "--output", dir.file("out")});
  REQUIRE(items.exit_code == 0);
  CHECK(items.out.empty());
  CHECK(slurp(dir.file("out")) == delta);

  auto size = run_hgrpc({"call", s.url(), "patchedsize", "--arg", "size:int=14", "--arg", "patches[]=@" + dir.file("out")});
  REQUIRE(size.exit_code == 0);
  CHECK(size.out == "16\n");  // "line 1\nline two\n"
  auto raw = run_hgrpc({"call", s.url(), "patchedsize", "--arg", "size:int=14", "--arg", "patches[]=@" + dir.file("out"),
                        "-o", "-"});
  CHECK(raw.out == "16\n");  // not a byte string: JSON
}

TEST_CASE("cli: command errors exit 1, HTTP and transport errors exit 3") {
  Server& s = shared_server();
  auto missing = run_hgrpc({"call", s.url(), "diff", "--arg", "a=x"});
  CHECK(missing.exit_code == 1);
  CHECK(missing.out.empty());
  CHECK(missing.err.find("hgrpc: diff: ") == 0);
  CHECK(missing.err.find("b") != std::string::npos);

  auto bad_delta = run_hgrpc({"call", s.url(), "applypatches", "--arg", "base=abc", "--arg", "patches[]=garbage"});
  CHECK(bad_delta.exit_code == 1);
  CHECK(bad_delta.err.find("delta 0") != std::string::npos);

  auto unknown = run_hgrpc({"call", s.url(), "nosuchcommand"});
  CHECK(unknown.exit_code == 3);
  CHECK(unknown.err.find("hgrpc: HTTP 404 Not Found: ") == 0);

  int port = unused_port();
  auto down = run_hgrpc({"call", "http://127.0.0.1:" + std::to_string(port) + "/", "diff"});
  CHECK(down.exit_code == 3);
  CHECK(down.err == "hgrpc: cannot connect to 127.0.0.1:" + std::to_string(port) + ": server unreachable\n");
  auto down_caps = run_hgrpc({"capabilities", "http://127.0.0.1:" + std::to_string(port) + "/"});
  CHECK(down_caps.exit_code == 3);
}

TEST_CASE("cli: --upload-encoding towards a server that does not list the profile is a usage error") {
  // A Mercurial-like handshake: the API is offered, without contentencodings.
  json handshake = json::object();
  handshake["apibase"] = hgrpc::framing::cbor_bytes("api/");
  handshake["apis"] = json::object({{"exp-http-v2-0003", json::object({{"commands", json::object()}})}});
  const auto body = hgrpc::framing::cbor_encode(handshake);
  FakeServer mercurial(200, "application/mercurial-cbor", std::string(body.begin(), body.end()));
  auto r = run_hgrpc({"--upload-encoding", "zlib", "call", mercurial.url(), "patchedsize"});
  CHECK(r.exit_code == 2);
  CHECK(r.err ==
        "hgrpc: --upload-encoding zlib: the server does not list it among the content encodings it decodes\n");
}

TEST_CASE("cli: a response of another media type, and HTTP errors with their reason line") {
  FakeServer html(200, "text/html", "<html>hello</html>");
  auto r = run_hgrpc({"call", html.url() + "api/exp-http-v2-0003", "diff"});
  CHECK(r.exit_code == 3);
  CHECK(r.err ==
        "hgrpc: response is not application/mercurial-exp-framing-0006 (Content-Type: text/html, HTTP 200 OK)\n");
  auto caps = run_hgrpc({"capabilities", html.url()});
  CHECK(caps.exit_code == 3);
  CHECK(caps.err == "hgrpc: handshake answer is not application/mercurial-cbor (Content-Type: text/html)\n");

  FakeServer v1(200, "application/mercurial-0.1", "lookup branchmap");
  auto old = run_hgrpc({"capabilities", v1.url()});
  CHECK(old.exit_code == 3);
  CHECK(old.err.find("does not offer the exp-http-v2-0003 API (it answered the version 1 handshake)") !=
        std::string::npos);

  FakeServer broken(503, "text/plain", "maintenance until 06:00\nsecond line");
  auto e = run_hgrpc({"call", broken.url() + "api/exp-http-v2-0003", "diff"});
  CHECK(e.exit_code == 3);
  CHECK(e.err == "hgrpc: HTTP 503 Service Unavailable: maintenance until 06:00\n");

  // 400 with a framed protocol error, as hgrpcd answers a body it rejects.
  hgrpc::framing::PlannedFrames planned;
  hgrpc::framing::ResponseEmitter emitter(1, 2);
  emitter.error_response(hgrpc::framing::ErrorType::Protocol, "frame 0 (command-request, request 1, stream 1): bad", planned);
  hgrpc::framing::OutputStream stream(2, nullptr);
  hgrpc::framing::Bytes framed;
  for (const auto& f : planned) REQUIRE(stream.render(f, framed));
  FakeServer rejecting(400, "application/mercurial-exp-framing-0006", std::string(framed.begin(), framed.end()));
  auto p = run_hgrpc({"call", rejecting.url() + "api/exp-http-v2-0003", "diff"});
  CHECK(p.exit_code == 3);
  CHECK(p.err ==
        "hgrpc: HTTP 400 Bad Request: protocol error: frame 0 (command-request, request 1, stream 1): bad\n");

  // The framing media type but bytes that break the rules: a protocol error.
  FakeServer garbage(200, "application/mercurial-exp-framing-0006", std::string("\x01\x00\x00\x01\x00\x01\x01\x31x", 9));
  auto g = run_hgrpc({"call", garbage.url() + "api/exp-http-v2-0003", "diff"});
  CHECK(g.exit_code == 3);
  CHECK(g.err.find("hgrpc: response: ") == 0);
}

TEST_CASE("cli: batch prints one line per command in input order") {
  Server& s = shared_server();
  TempDir dir;
  spit(dir.file("base"), "abc\n");
  std::string delta = std::string("\0\0\0\0\0\0\0\x04\0\0\0\x04", 12) + "xyz\n";
  spit(dir.file("delta"), delta);
  spit(dir.file("batch.jsonl"),
       "{\"command\": \"diff\", \"args\": {\"a\": \"abc\", \"b\": \"abd\"}}\n"
       "\n"
       "{\"command\": \"patchedsize\", \"args\": {\"size\": 3, \"patches\": []}}\n"
       "{\"command\": \"diff\", \"args\": {\"a\": \"abc\"}}\n"
       "{\"command\": \"applypatches\", \"data_items\": [\"" + dir.file("base") + "\", \"" + dir.file("delta") + "\"]}\n");
  auto r = run_hgrpc({"batch", s.url(), dir.file("batch.jsonl"), "--encoding", "zlib"});
  CHECK(r.exit_code == 1);  // one command failed
  auto lines = lines_of(r.out);
  REQUIRE(lines.size() == 4);
  CHECK(parse_line(lines[0]) ==
        json::parse(R"({"command":"diff","values":[{"$bytes":")" + b64(std::string("\0\0\0\x02\0\0\0\x03\0\0\0\x01", 12) + "d") + R"("}]})"));
  CHECK(parse_line(lines[1]) == json::parse(R"({"command":"patchedsize","values":[3]})"));
  json err = parse_line(lines[2]);
  CHECK(err["command"] == "diff");
  CHECK(err["error_type"] == "command");
  CHECK(err["error"].get<std::string>().find("b") != std::string::npos);
  CHECK(parse_line(lines[3]) == json::parse(R"({"command":"applypatches","values":[{"$bytes":")" + b64("xyz\n") + R"("}]})"));

  spit(dir.file("ok.jsonl"), "{\"command\": \"patchedsize\", \"args\": {\"size\": 1, \"patches\": []}}\n");
  auto ok = run_hgrpc({"batch", s.url(), "-"}, slurp(dir.file("ok.jsonl")));
  CHECK(ok.exit_code == 0);
  CHECK(ok.out == "{\"command\":\"patchedsize\",\"values\":[1]}\n");

  spit(dir.file("bad.jsonl"), "{\"command\": \"diff\"}\n{\"args\": {}}\n");
  auto bad = run_hgrpc({"batch", s.url(), dir.file("bad.jsonl")});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err == "hgrpc: line 2: \"command\" is missing\n");
  spit(dir.file("bad2.jsonl"), "{\"command\": \"diff\", \"data\": 1}\n");
  auto bad2 = run_hgrpc({"batch", s.url(), dir.file("bad2.jsonl")});
  CHECK(bad2.exit_code == 2);
  CHECK(bad2.err == "hgrpc: line 1: unknown key \"data\" (expected command, args, data_file, data_items)\n");
}

TEST_CASE("cli: diff, apply and fold round trip through the server, inputs streamed as command data") {
  Server& s = shared_server();
  TempDir dir;
  std::uint32_t seed = 4242;
  CAPTURE(seed);
  std::mt19937 rng(seed);
  // Several MB of lines, so requests and responses span many frames.
  std::string a, b, c;
  for (int i = 0; i < 120000; ++i) {
    std::string line = "line " + std::to_string(i) + " " + std::to_string(rng() % 1000) + "\n";
    a += line;
    b += (rng() % 10 == 0) ? "changed " + line : line;
    c += (rng() % 10 == 0) ? "again " + line : line;
  }
  spit(dir.file("a"), a);
  spit(dir.file("b"), b);
  spit(dir.file("c"), c);
  REQUIRE(run_hgrpc({"diff", s.url(), dir.file("a"), dir.file("b"), "-o", dir.file("ab")}).exit_code == 0);
  REQUIRE(run_hgrpc({"diff", s.url(), dir.file("b"), dir.file("c"), "-o", dir.file("bc")}).exit_code == 0);
  auto applied = run_hgrpc({"apply", s.url(), "--base", dir.file("a"), dir.file("ab"), dir.file("bc")});
  REQUIRE(applied.exit_code == 0);
  CHECK(applied.out == c);
  CHECK(applied.err.empty());  // no progress line: stderr is not a terminal
  REQUIRE(run_hgrpc({"fold", s.url(), dir.file("ab"), dir.file("bc"), "-o", dir.file("ac")}).exit_code == 0);
  auto folded = run_hgrpc({"--quiet", "apply", s.url(), "--base", dir.file("a"), dir.file("ac"), "-o", dir.file("c2")});
  REQUIRE(folded.exit_code == 0);
  CHECK(slurp(dir.file("c2")) == c);

  auto bad = run_hgrpc({"apply", s.url(), "--base", dir.file("a"), dir.file("a")});  // a text is no delta
  CHECK(bad.exit_code == 1);
  CHECK(bad.err.find("hgrpc: applypatches: ") == 0);
}

TEST_CASE("cli: bearer token from --token-file or HGRPC_TOKEN") {
  TempDir dir;
  spit(dir.file("token"), "s3cret\n");
  spit(dir.file("wrong"), "nope\n");
  Server s({"--token-file", dir.file("token"), "--auth-ro"});
  std::vector<std::string> call = {"call", s.url(), "patchedsize", "--arg", "size:int=5", "--arg", "patches:json=[]"};
  auto anonymous = run_hgrpc(call);
  CHECK(anonymous.exit_code == 3);
  CHECK(anonymous.err.find("hgrpc: HTTP 401 Unauthorized") == 0);
  auto wrong = run_hgrpc(call, "", {"HGRPC_TOKEN=nope"});
  CHECK(wrong.exit_code == 3);
  CHECK(wrong.err.find("hgrpc: HTTP 403 Forbidden") == 0);
  auto env = run_hgrpc(call, "", {"HGRPC_TOKEN=s3cret"});
  CHECK(env.exit_code == 0);
  CHECK(env.out == "5\n");
  std::vector<std::string> with_file = {"--token-file", dir.file("token")};
  with_file.insert(with_file.end(), call.begin(), call.end());
  auto file = run_hgrpc(with_file, "", {"HGRPC_TOKEN=nope"});  // the file wins
  CHECK(file.exit_code == 0);
  CHECK(file.out == "5\n");
  auto missing = run_hgrpc({"--token-file", dir.file("absent"), "capabilities", s.url()});
  CHECK(missing.exit_code == 2);
}
