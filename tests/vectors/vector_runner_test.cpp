// Runs every vector of media-type-spec/vectors/*.json (each a SUBCASE named
// "<file>: <vector>"). Adding a vector file needs no code change.
//
// Conventions beyond media-type-spec's format description:
//   - server: feeding stops at the first protocol-error (it is the last
//     action listed); a FrameReader error is reported as a protocol-error
//     with the reader's message; the body's end (FrameReader::finish, then
//     ServerReactor::on_input_end) must give expect.input_end_error or none.
//   - client: expect.protocol_error (optional) is the first ProtocolError;
//     none is allowed otherwise. expect.input_end_error as for the server.
//     A response's "error" is the status map's error map (CommandError) or
//     the error-response frame's map {type, message} (ErrorResponse).
//   - options: max_payload (FrameReader), and for the server reactor
//     max_request_bytes, max_receiving_requests, max_protocol_settings_bytes,
//     max_settings_bytes, max_open_streams, max_decoded_bytes.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "framing/client_reactor.hpp"
#include "framing/frame_reader.hpp"
#include "framing/human_notation.hpp"
#include "framing/python_literal.hpp"
#include "framing/server_reactor.hpp"
#include "tests/support/test_support.hpp"

using namespace hgrpc::framing;
using hgrpc::test::hex;
using hgrpc::test::unhex;
namespace fs = std::filesystem;

namespace {

struct Vector {
  std::string label;  // file: name
  nlohmann::json v;
};

const std::vector<Vector>& all_vectors() {
  static const std::vector<Vector> vectors = [] {
    std::vector<Vector> out;
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(fs::path(HGRPC_SOURCE_DIR) / "media-type-spec" / "vectors")) {
      if (e.path().extension() == ".json") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      std::ifstream in(f);
      const auto doc = nlohmann::json::parse(in);
      for (const auto& v : doc.at("vectors")) {
        out.push_back({f.filename().string() + ": " + v.at("name").get<std::string>(), v});
      }
    }
    return out;
  }();
  return vectors;
}


json literal(const nlohmann::json& text) {
  auto v = parse_python_literal(text.get<std::string>());
  INFO("literal: " << text.get<std::string>());
  REQUIRE(v.has_value());
  return *v;
}

std::size_t opt(const nlohmann::json& v, const char* key, std::size_t def) {
  if (!v.contains("options") || !v["options"].contains(key)) return def;
  return v["options"][key].get<std::size_t>();
}

// Reads every frame of hex; on(frame) returns false to stop. Returns the
// reader error, if any (mid-body or at the end).
template <class F>
std::optional<std::string> read_frames(const nlohmann::json& v, F&& on) {
  const Bytes body = unhex(v.at("hex").get<std::string>());
  FrameReader reader(opt(v, "max_payload", kDefaultMaxPayload));
  reader.feed(body);
  while (true) {
    auto f = reader.next();
    if (!f) return f.error().message;
    if (!*f) break;
    if (!on(**f)) return std::nullopt;
  }
  if (auto end = reader.finish(); !end) return end.error().message;
  return std::nullopt;
}

void run_frames(const nlohmann::json& v) {
  const auto& expect = v.at("expect");
  nlohmann::json frames = nlohmann::json::array();
  auto err = read_frames(v, [&](const Frame& f) {
    frames.push_back({{"request_id", f.header.request_id},
                      {"stream_id", f.header.stream_id},
                      {"stream_flags", f.header.stream_flags},
                      {"type", f.header.type},
                      {"flags", f.header.flags},
                      {"payload_hex", hex(f.payload)}});
    return true;
  });
  if (expect.contains("error")) {
    REQUIRE(err.has_value());
    CHECK(*err == expect["error"].get<std::string>());
  } else {
    if (err) FAIL_CHECK("reader error: " << *err);
    CHECK(frames.dump() == expect.at("frames").dump());
  }
}

void run_server(const nlohmann::json& v) {
  const auto& expect = v.at("expect");
  ServerReactorOptions o;
  o.max_request_bytes = opt(v, "max_request_bytes", o.max_request_bytes);
  o.max_receiving_requests = opt(v, "max_receiving_requests", o.max_receiving_requests);
  o.max_protocol_settings_bytes = opt(v, "max_protocol_settings_bytes", o.max_protocol_settings_bytes);
  o.input_streams.max_settings_bytes = opt(v, "max_settings_bytes", o.input_streams.max_settings_bytes);
  o.input_streams.max_open_streams = opt(v, "max_open_streams", o.input_streams.max_open_streams);
  o.input_streams.decoder.max_decoded_bytes =
      opt(v, "max_decoded_bytes", o.input_streams.decoder.max_decoded_bytes);
  ServerReactor r(o);
  std::vector<ServerAction> actions;
  bool errored = false;
  auto reader_error = read_frames(v, [&](const Frame& f) {
    auto a = r.on_frame(f);
    if (std::holds_alternative<WantFrame>(a)) return true;
    errored = std::holds_alternative<ProtocolError>(a);
    actions.push_back(std::move(a));
    return !errored;
  });
  std::optional<std::string> end_error;
  if (reader_error) {
    // A reader error inside the body is a protocol error; at its end, too.
    if (!errored) {
      actions.push_back(ProtocolError{*reader_error});
      errored = true;
    }
  }
  if (!errored) {
    if (auto e = r.on_input_end()) end_error = e->message;
  }
  const auto& want = expect.at("actions");
  REQUIRE(actions.size() == want.size());
  for (std::size_t i = 0; i < actions.size(); ++i) {
    CAPTURE(i);
    const auto& w = want[i];
    const std::string kind = w.at("action").get<std::string>();
    if (kind == "protocol-error") {
      REQUIRE(std::holds_alternative<ProtocolError>(actions[i]));
      CHECK(std::get<ProtocolError>(actions[i]).message == w.at("message").get<std::string>());
    } else {
      REQUIRE(kind == "run-command");
      if (auto* e = std::get_if<ProtocolError>(&actions[i])) FAIL("unexpected protocol error: " << e->message);
      const auto& run = std::get<RunCommand>(actions[i]);
      CHECK(run.request_id == w.at("request_id").get<int>());
      CHECK(run.name == w.at("command").get<std::string>());
      CHECK(format_python_literal(run.args) == format_python_literal(literal(w.at("args"))));
      if (w.at("data").is_null()) {
        CHECK_FALSE(run.data.has_value());
      } else {
        REQUIRE(run.data.has_value());
        CHECK(format_python_literal(cbor_bytes(*run.data)) ==
              format_python_literal(literal(w.at("data"))));
      }
    }
  }
  if (expect.contains("input_end_error")) {
    REQUIRE(end_error.has_value());
    CHECK(*end_error == expect["input_end_error"].get<std::string>());
  } else if (end_error) {
    FAIL_CHECK("unexpected input end error: " << *end_error);
  }
}

void run_client(const nlohmann::json& v) {
  const auto& expect = v.at("expect");
  ClientReactorOptions o;
  o.input_streams.decoder.max_decoded_bytes =
      opt(v, "max_decoded_bytes", o.input_streams.decoder.max_decoded_bytes);
  ClientReactor c(o);
  for (const auto& r : v.value("requests", nlohmann::json::array())) {
    c.expect_request(r.at("request_id").get<std::uint16_t>());
  }
  std::map<std::string, std::vector<json>> values;
  std::map<std::string, json> errors;
  std::optional<std::string> protocol_error;
  auto reader_error = read_frames(v, [&](const Frame& f) {
    for (auto& ev : c.on_frame(f)) {
      if (auto* rv = std::get_if<ResponseValue>(&ev)) values[std::to_string(rv->request_id)].push_back(rv->value);
      if (auto* ce = std::get_if<CommandError>(&ev)) errors[std::to_string(ce->request_id)] = ce->error;
      if (auto* er = std::get_if<ErrorResponse>(&ev)) {
        errors[std::to_string(er->request_id)] =
            json::object({{"type", cbor_bytes(er->type)}, {"message", er->message}});
      }
      if (auto* pe = std::get_if<ProtocolError>(&ev)) {
        if (!protocol_error) protocol_error = pe->message;
      }
    }
    return !protocol_error;
  });
  if (reader_error && !protocol_error) protocol_error = *reader_error;
  std::optional<std::string> end_error;
  if (!protocol_error) {
    if (auto e = c.on_input_end()) end_error = e->message;
  }
  if (expect.contains("protocol_error")) {
    REQUIRE(protocol_error.has_value());
    CHECK(*protocol_error == expect["protocol_error"].get<std::string>());
  } else if (protocol_error) {
    FAIL_CHECK("unexpected protocol error: " << *protocol_error);
  }
  if (expect.contains("input_end_error")) {
    REQUIRE(end_error.has_value());
    CHECK(*end_error == expect["input_end_error"].get<std::string>());
  } else if (end_error) {
    FAIL_CHECK("unexpected input end error: " << *end_error);
  }
  const auto responses = expect.value("responses", nlohmann::json::object());
  for (auto it = responses.begin(); it != responses.end(); ++it) {
    const std::string id = it.key();
    const auto& want = it.value();
    CAPTURE(id);
    const auto& got = values[id];
    const auto& want_values = want.at("values");
    REQUIRE(got.size() == want_values.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      CAPTURE(i);
      CHECK(format_python_literal(got[i]) == format_python_literal(literal(want_values[i])));
    }
    if (want.at("error").is_null()) {
      CHECK(errors.count(id) == 0);
    } else {
      REQUIRE(errors.count(id) == 1);
      CHECK(format_python_literal(errors[id]) == format_python_literal(literal(want["error"])));
    }
  }
}

}  // namespace

TEST_CASE("media-type-spec vectors") {
  const auto& vectors = all_vectors();
  REQUIRE(!vectors.empty());
  for (const auto& vec : vectors) {
    SUBCASE(vec.label.c_str()) {
      const auto& v = vec.v;
      INFO("vector: " << vec.label);
      if (v.contains("frames")) {
        std::string text;
        for (const auto& line : v["frames"]) text += line.get<std::string>() + "\n";
        auto parsed = parse_human_frames(text);
        if (!parsed) FAIL("human notation: " << parsed.error().message);
        CHECK(hex(*parsed) == v.at("hex").get<std::string>());
      }
      const std::string kind = v.at("kind").get<std::string>();
      if (kind == "frames") {
        run_frames(v);
      } else if (kind == "server") {
        run_server(v);
      } else if (kind == "client") {
        run_client(v);
      } else {
        FAIL("unknown kind " << kind);
      }
    }
  }
}
