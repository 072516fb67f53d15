// Interop with Mercurial's own framing code, without HTTP: Mercurial's
// clientreactor builds the request bodies (tests/interop/hg_client.py build),
// our FrameReader + ServerReactor + CommandRegistry + ResponseEmitter answer
// them, and Mercurial's clientreactor + cborutil decode our response
// (hg_client.py decode). The values Mercurial decodes must equal, exactly,
// what our ClientReactor decodes from the same bytes, and what we expect.
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "framing/client_reactor.hpp"
#include "framing/frame_reader.hpp"
#include "framing/server_reactor.hpp"
#include "mpatch/mpatch.hpp"
#include "tests/server/command_support.hpp"
#include "tests/support/test_support.hpp"

using namespace hgrpc::server;
using namespace hgrpc::server::testing;
namespace fw = hgrpc::framing;
namespace fs = std::filesystem;

namespace {

const char* const kPython = "/usr/bin/python3";

std::string script_path() { return std::string(HGRPC_SOURCE_DIR) + "/tests/interop/hg_client.py"; }

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// A scratch directory removed with everything in it.
struct TempDir {
  fs::path path;
  TempDir() {
    static std::atomic<int> counter{0};
    path = fs::temp_directory_path() /
           ("hgrpc-interop-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

Bytes read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}
void write_file(const fs::path& p, fw::ByteView data) {
  std::ofstream out(p, std::ios::binary);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

// Runs a shell command line to completion; returns its exit status.
int run_shell(const std::string& cmdline) {
  int status = std::system(cmdline.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Mercurial's modules must be there: a missing dependency fails the test
// loudly instead of skipping it.
void require_mercurial() {
  static const int status =
      run_shell(std::string(kPython) + " -c 'import mercurial.wireprotoframing, mercurial.utils.cborutil' 2>/dev/null");
  if (status != 0)
    FAIL("/usr/bin/python3 cannot import mercurial.wireprotoframing: install the Debian package "
         "`mercurial` (scripts/install-deps does) to run the interop tests");
}

using hgrpc::test::hex;

// Values in hg_client.py's JSON form: bytes as {"$hex": ...}.
json hexv(std::string_view s) { return json{{"$hex", hex(fw::as_bytes(s))}}; }
json hexv(const Bytes& b) { return json{{"$hex", hex(b)}}; }

json to_interop(const json& v) {
  if (v.is_binary()) return json{{"$hex", hex(v.get_binary())}};
  if (v.is_object()) {
    json out = json::object();
    for (const auto& [k, x] : v.items()) out[k] = to_interop(x);
    return out;
  }
  if (v.is_array()) {
    json out = json::array();
    for (const auto& x : v) out.push_back(to_interop(x));
    return out;
  }
  return v;
}

// Mercurial's clientreactor builds the request body described by spec.
Bytes hg_build(const json& spec) {
  TempDir dir;
  fs::path spec_file = dir.path / "spec.json";
  fs::path body_file = dir.path / "body.bin";
  std::ofstream(spec_file) << spec.dump();
  int status = run_shell(std::string(kPython) + " " + quote(script_path()) + " build " +
                         quote(spec_file.string()) + " > " + quote(body_file.string()));
  REQUIRE(status == 0);
  return read_file(body_file);
}

// Mercurial's clientreactor + cborutil decode a response body: its JSON lines.
std::vector<json> hg_decode(fw::ByteView response) {
  TempDir dir;
  fs::path in = dir.path / "response.bin";
  fs::path out = dir.path / "decoded.jsonl";
  write_file(in, response);
  int status = run_shell(std::string(kPython) + " " + quote(script_path()) + " decode " + quote(in.string()) +
                         " > " + quote(out.string()));
  std::ifstream lines(out);
  std::vector<json> result;
  std::string line;
  while (std::getline(lines, line)) result.push_back(json::parse(line));
  INFO("hg_client.py decode printed: " << json(result).dump());
  REQUIRE(status == 0);
  return result;
}

std::vector<std::string> hg_encoders() {
  TempDir dir;
  fs::path out = dir.path / "encoders.json";
  REQUIRE(run_shell(std::string(kPython) + " " + quote(script_path()) + " encoders > " + quote(out.string())) == 0);
  std::ifstream in(out);
  return json::parse(in).get<std::vector<std::string>>();
}

// Our server side of one body: FrameReader + ServerReactor + registry +
// ResponseEmitter, rendered through the reactor's output stream.
Bytes serve(fw::ByteView body, const CommandLimits& limits = {}) {
  fw::FrameReader reader;
  fw::ServerReactor reactor;
  fw::OutputStreamSet streams;
  std::optional<std::uint8_t> stream_id;
  Bytes out;
  reader.feed(body);
  for (;;) {
    auto next = reader.next();
    REQUIRE(next.has_value());
    if (!*next) break;
    auto action = reactor.on_frame(**next);
    if (auto* e = std::get_if<fw::ProtocolError>(&action)) FAIL("protocol error: " << e->message);
    auto* cmd = std::get_if<fw::RunCommand>(&action);
    if (!cmd) continue;
    if (!stream_id) stream_id = streams.add(reactor.make_output_stream()).id();
    fw::ResponseEmitter emitter = reactor.make_emitter(cmd->request_id, *stream_id);
    fw::PlannedFrames planned;
    const CommandSpec* spec = registry().find(cmd->name);
    if (!spec) {
      emitter.command_error("unknown command: %s", {cmd->name}, planned);
    } else {
      std::optional<fw::ByteView> data;
      if (cmd->data) data = fw::ByteView(*cmd->data);
      auto result = registry().run(*spec, cmd->args, data, limits);
      if (result) {
        for (const auto& v : *result) emitter.value(v, planned);
        emitter.end(planned);
      } else {
        emitter.command_error(result.error().message, result.error().args, planned);
      }
    }
    REQUIRE(streams.render(planned, out).has_value());
    reactor.on_response_done(cmd->request_id);
  }
  REQUIRE(reader.finish().has_value());
  auto end = reactor.on_input_end();
  if (end) FAIL("protocol error at end of input: " << end->message);
  return out;
}

// Our ClientReactor decoding the same response, as hg_client.py's JSON lines.
std::vector<json> our_decode(fw::ByteView response, int requests) {
  fw::ClientReactor client;
  for (int i = 0; i < requests; ++i) client.expect_request(static_cast<std::uint16_t>(1 + 2 * i));
  fw::FrameReader reader;
  reader.feed(response);
  std::map<std::uint16_t, json> values;
  std::vector<json> lines;
  for (;;) {
    auto next = reader.next();
    REQUIRE(next.has_value());
    if (!*next) break;
    for (auto& ev : client.on_frame(**next)) {
      if (auto* v = std::get_if<fw::ResponseValue>(&ev)) {
        auto [it, fresh] = values.try_emplace(v->request_id, json::array());
        it->second.push_back(to_interop(v->value));
      } else if (auto* end = std::get_if<fw::ResponseEnd>(&ev)) {
        json vs = values.count(end->request_id) ? values[end->request_id] : json::array();
        lines.push_back({{"request_id", end->request_id}, {"status", "ok"}, {"values", vs}});
      } else if (auto* ce = std::get_if<fw::CommandError>(&ev)) {
        lines.push_back({{"request_id", ce->request_id}, {"status", "error"}, {"error", to_interop(ce->error)}});
      } else if (auto* er = std::get_if<fw::ErrorResponse>(&ev)) {
        lines.push_back({{"request_id", er->request_id},
                         {"error_response", {{"type", hexv(er->type)}, {"message", to_interop(er->message)}}}});
      } else if (auto* pe = std::get_if<fw::ProtocolError>(&ev)) {
        FAIL("our client reactor: protocol error: " << pe->message);
      }
    }
  }
  REQUIRE_FALSE(client.on_input_end().has_value());
  return lines;
}

// The whole round: Mercurial builds, we serve, both decode; the two decodings
// must agree. Returns Mercurial's lines, keyed by request id.
std::map<int, json> round_trip(const json& spec, const CommandLimits& limits = {}) {
  require_mercurial();
  Bytes body = hg_build(spec);
  REQUIRE_FALSE(body.empty());
  Bytes response = serve(body, limits);
  std::vector<json> theirs = hg_decode(response);
  std::vector<json> ours = our_decode(response, static_cast<int>(spec["commands"].size()));
  CHECK(theirs == ours);
  std::map<int, json> by_id;
  for (const auto& line : theirs) by_id[line["request_id"].get<int>()] = line;
  CHECK(by_id.size() == spec["commands"].size());
  return by_id;
}

json ok(std::vector<json> values) { return json{{"status", "ok"}, {"values", json(std::move(values))}}; }
json without_id(json line) {
  line.erase("request_id");
  return line;
}

std::string repeat(std::string_view unit, std::size_t n) {
  std::string out;
  out.reserve(unit.size() * n);
  for (std::size_t i = 0; i < n; ++i) out += unit;
  return out;
}

// A text of numbered lines: large enough to span frames, compressible.
std::string lines_text(std::size_t n, std::string_view tag) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += "line " + std::to_string(i) + " " + std::string(tag) + "\n";
  return out;
}

}  // namespace

TEST_CASE("interop: Mercurial decodes our capabilities response") {
  json spec = {{"encodings", {"identity"}}, {"commands", {{{"name", "capabilities"}}}}};
  auto lines = round_trip(spec);
  json expected = to_interop(capabilities_map(registry(), {}));
  CHECK(without_id(lines[1]) == ok(json::array({expected})));
  // The keys a Mercurial 5.8 peer reads, as bytes on the wire.
  json caps = lines[1]["values"][0];
  CHECK(caps["framingmediatypes"] == json::array({hexv("application/mercurial-exp-framing-0006")}));
  CHECK(caps["commands"]["applypatches"]["permissions"] == json::array({hexv("pull")}));
}

TEST_CASE("interop: each command answers Mercurial's single requests (no encodings advertised)") {
  std::string base = "hello world";
  Bytes d = delta({{0, 5, "HELLO"}});
  Bytes d2 = delta({{11, 11, "!"}});
  struct Case {
    json command;
    json expected;
  };
  fw::ByteView one[] = {d};
  auto folded = hgrpc::mpatch::fold(one);
  REQUIRE(folded.has_value());
  auto command = [](std::string_view name, json args) {
    json c = {{"name", name}};
    if (!args.is_null()) c["args"] = std::move(args);
    return c;
  };
  std::vector<Case> cases = {
      {command("applypatches", {{"base", hexv(base)}, {"patches", {hexv(d), hexv(d2)}}}), ok({hexv("HELLO world!")})},
      {command("patchedsize", {{"size", 11}, {"patches", {hexv(d), hexv(d2)}}}), ok({12})},
      {command("diff", {{"a", hexv("")}, {"b", hexv("abc")}}), ok({hexv(delta({{0, 0, "abc"}}))})},
      {command("foldpatches", {{"patches", {hexv(d)}}}), ok({hexv(*folded)})},
      {command("capabilities", nullptr), ok({to_interop(capabilities_map(registry(), {}))})},
  };
  for (const auto& c : cases) {
    CAPTURE(c.command.dump());
    json spec = {{"encodings", nullptr}, {"commands", {c.command}}};
    auto lines = round_trip(spec);
    REQUIRE(lines.count(1) == 1);
    CHECK(without_id(lines[1]) == c.expected);
  }
}

TEST_CASE("interop: a zlib multirequest with results and command errors, matched by request id") {
  Bytes d = delta({{1, 2, "X"}});
  json spec = {
      {"encodings", {"zlib", "identity"}},
      {"commands",
       {{{"name", "applypatches"}, {"args", {{"base", hexv("abc")}, {"patches", {hexv(d)}}}}},
        {{"name", "applypatches"}, {"args", {{"patches", json::array()}}}},
        {{"name", "patchedsize"}, {"args", {{"size", -1}, {"patches", json::array()}}}},
        {{"name", "nosuchcommand"}},
        {{"name", "applypatches"}, {"args", {{"base", hexv("abc")}, {"patches", {hexv(delta({{2, 1, ""}}))}}}}},
        {{"name", "diff"}, {"args", {{"a", hexv("same")}, {"b", hexv("same")}}}}}},
  };
  auto lines = round_trip(spec);
  auto error = [](std::string_view msg, std::vector<std::string> args) {
    json atom = {{"msg", hexv(msg)}};
    if (!args.empty()) {
      atom["args"] = json::array();
      for (const auto& a : args) atom["args"].push_back(hexv(a));
    }
    return json{{"status", "error"}, {"error", {{"message", json::array({atom})}}}};
  };
  CHECK(without_id(lines[1]) == ok({hexv("aXc")}));
  CHECK(without_id(lines[3]) == error("missing required argument: %s", {"base"}));
  CHECK(without_id(lines[5]) == error("argument %s: must not be negative, got %s", {"size", "-1"}));
  CHECK(without_id(lines[7]) == error("unknown command: %s", {"nosuchcommand"}));
  CHECK(without_id(lines[9]) ==
        error("cannot apply patches: %s", {"delta 0, hunk 0 (offset 0): start 2 is after end 1"}));
  CHECK(without_id(lines[11]) == ok({hexv("")}));
}

TEST_CASE("interop: large arguments and results span frames, through zlib and identity") {
  std::string base = lines_text(4000, "base");  // ~50 KiB: the request spans frames
  std::string inserted = lines_text(3000, "new");
  Bytes d = delta({{0, 0, inserted}});
  std::string expected = inserted + base;
  for (const char* enc : {"zlib", "identity"}) {
    CAPTURE(enc);
    json spec = {{"encodings", {enc}},
                 {"commands", {{{"name", "applypatches"}, {"args", {{"base", hexv(base)}, {"patches", {hexv(d)}}}}}}}};
    auto lines = round_trip(spec);
    bool same = without_id(lines[1]) == ok({hexv(expected)});  // (no 100 KiB dump on failure)
    CHECK(same);
  }
}

TEST_CASE("interop: command data from Mercurial, definite and indefinite byte strings") {
  std::string a = lines_text(5000, "a");  // ~55 KiB of data: several command-data frames
  std::string b = lines_text(5000, "b");
  Bytes d1 = delta({{0, 0, ">"}});
  json spec = {
      {"encodings", {"zlib", "identity"}},
      {"commands",
       {{{"name", "applypatches"}, {"data", {json{{"$hex", hex(fw::as_bytes("abc"))}, {"$chunk", 1}}, hexv(d1)}}},
        {{"name", "diff"}, {"data", {hexv(a), json{{"$hex", hex(fw::as_bytes(b))}, {"$chunk", 4096}}}}},
        {{"name", "patchedsize"}, {"args", {{"size", 3}}}, {"data", {hexv(d1)}}},
        {{"name", "foldpatches"}, {"data", {hexv(d1), hexv(delta({{0, 1, "<"}}))}}},
        {{"name", "diff"}, {"data", {hexv("only one")}}}}},
  };
  auto lines = round_trip(spec);
  CHECK(without_id(lines[1]) == ok({hexv(">abc")}));
  REQUIRE(lines[3]["status"] == "ok");
  {
    // The delta Mercurial received turns a into b.
    std::string h = lines[3]["values"][0]["$hex"];
    Bytes delta_bytes;
    for (std::size_t i = 0; i + 1 < h.size(); i += 2)
      delta_bytes.push_back(static_cast<std::uint8_t>(std::stoi(h.substr(i, 2), nullptr, 16)));
    fw::ByteView views[] = {delta_bytes};
    auto applied = hgrpc::mpatch::apply(fw::as_bytes(a), views);
    REQUIRE(applied.has_value());
    CHECK(*applied == fw::to_bytes(b));
    CHECK(delta_bytes == hgrpc::mpatch::diff(fw::as_bytes(a), fw::as_bytes(b)));
  }
  CHECK(without_id(lines[5]) == ok({4}));
  REQUIRE(lines[7]["status"] == "ok");
  CHECK(without_id(lines[9]) ==
        json{{"status", "error"},
             {"error",
              {{"message", json::array({{{"msg", hexv("command data: expected 2 items (a, b), got %s")},
                                         {"args", json::array({hexv("1")})}}})}}}});
}

TEST_CASE("interop: zstd-8mb responses, when this Mercurial has zstd") {
  require_mercurial();
  auto encoders = hg_encoders();
  if (std::find(encoders.begin(), encoders.end(), "zstd-8mb") == encoders.end()) {
    MESSAGE("this Mercurial lacks zstd; zstd-8mb interop not checked");
    return;
  }
  std::string base = repeat("0123456789abcdef", 8192);  // 128 KiB
  Bytes d = delta({{16, 32, "-"}});
  json spec = {{"encodings", {"zstd-8mb", "zlib", "identity"}},
               {"commands",
                {{{"name", "applypatches"}, {"args", {{"base", hexv(base)}, {"patches", {hexv(d)}}}}},
                 {{"name", "capabilities"}}}}};
  Bytes body = hg_build(spec);
  Bytes response = serve(body);
  // The server chose zstd-8mb: its stream-settings frame names it.
  std::string text(response.begin(), response.end());
  CHECK(text.find("zstd-8mb") != std::string::npos);
  auto lines = round_trip(spec);
  std::string expected = base.substr(0, 16) + "-" + base.substr(32);
  bool same = without_id(lines[1]) == ok({hexv(expected)});  // (no 128 KiB dump on failure)
  CHECK(same);
  CHECK(without_id(lines[3]) == ok({to_interop(capabilities_map(registry(), {}))}));
}
