// Command data uploads against the real hgrpcd: the session streams command
// data through the client reactor, encoded on client stream 3 with each
// profile the server lists under contentencodings, and the server's answers
// are checked value by value.
#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

#include "client/session.hpp"
#include "client/transport.hpp"
#include "client/url.hpp"
#include "client_test_support.hpp"
#include "framing/cbor.hpp"
#include "framing/content_encoding.hpp"

using namespace hgrpc::client;
using namespace hgrpc::client::test;
using hgrpc::framing::Encoding;
using hgrpc::framing::json;

namespace {

Server& upload_server() {
  static Server server;
  return server;
}

HttpTransport transport_for(const std::string& url) {
  auto parsed = parse_url(url);
  REQUIRE(parsed);
  return HttpTransport(std::move(*parsed), TransportOptions{});
}

// An mpatch delta replacing bytes [start, end) with text.
std::string delta(std::uint32_t start, std::uint32_t end, const std::string& text) {
  std::string out;
  for (std::uint32_t v : {start, end, static_cast<std::uint32_t>(text.size())}) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xFF));
  }
  return out + text;
}

std::vector<Outcome> run(HttpTransport& transport, std::vector<Call>& calls, const SessionOptions& options) {
  std::vector<Outcome> outcomes(calls.size());
  auto ran = run_calls(transport, calls, options, [&](std::size_t i, Outcome&& o) { outcomes[i] = std::move(o); });
  REQUIRE_MESSAGE(ran, (ran ? std::string() : ran.error().message));
  return outcomes;
}

}  // namespace

TEST_CASE("upload: the handshake lists the profiles hgrpcd decodes") {
  auto transport = transport_for(upload_server().url());
  REQUIRE(transport.api_path());
  REQUIRE(transport.server_content_encodings());
  CHECK(*transport.server_content_encodings() == std::vector<std::string>{"zstd-8mb", "zlib", "identity"});
}

TEST_CASE("upload: applypatches with command data in each encoding, answers checked") {
  TempDir dir;
  // A base of several frames (32 KiB each) so the data spans many encoded frames.
  std::string base;
  for (int i = 0; base.size() < 200000; ++i) base += "line " + std::to_string(i) + " of the base text\n";
  spit(dir.file("base"), base);
  spit(dir.file("delta"), delta(0, 4, "LINE"));
  spit(dir.file("bad"), "not a delta");
  const std::string expected = "LINE" + base.substr(4);

  for (std::optional<Encoding> upload :
       {std::optional<Encoding>{}, std::optional<Encoding>{Encoding::Identity},
        std::optional<Encoding>{Encoding::Zlib}, std::optional<Encoding>{Encoding::Zstd8mb}}) {
    CAPTURE(upload ? std::string(hgrpc::framing::encoding_name(*upload)) : std::string("none"));
    auto transport = transport_for(upload_server().url());
    std::vector<Call> calls(3);
    calls[0].command = "applypatches";
    calls[0].data.emplace();
    calls[0].data->add_bytes_item_file(dir.file("base"));
    calls[0].data->add_bytes_item_file(dir.file("delta"));
    calls[1].command = "patchedsize";  // no data: rides the same (encoded) stream
    calls[1].args = {{"size", 3}, {"patches", json::array()}};
    calls[2].command = "applypatches";  // a command error after encoded data
    calls[2].data.emplace();
    calls[2].data->add_bytes_item_file(dir.file("base"));
    calls[2].data->add_bytes_item_file(dir.file("bad"));
    SessionOptions options;
    options.upload_encoding = upload;
    auto outcomes = run(transport, calls, options);

    REQUIRE(outcomes[0].kind == Outcome::Kind::Ok);
    REQUIRE(outcomes[0].values.size() == 1);
    REQUIRE(outcomes[0].values[0].is_binary());
    const auto& got = outcomes[0].values[0].get_binary();
    CHECK(got.size() == expected.size());
    CHECK(std::string(got.begin(), got.end()) == expected);

    REQUIRE(outcomes[1].kind == Outcome::Kind::Ok);
    CHECK(outcomes[1].values == std::vector<json>{3});

    CHECK(outcomes[2].kind == Outcome::Kind::CommandError);
    CHECK_FALSE(outcomes[2].message.empty());
  }
}

TEST_CASE("upload: the CLI's --upload-encoding sends encoded data and prints the server's answer") {
  TempDir dir;
  spit(dir.file("base"), "abc\n");
  spit(dir.file("delta"), delta(0, 4, "xyz\n"));
  for (const char* profile : {"zlib", "zstd-8mb", "identity"}) {
    CAPTURE(profile);
    auto r = run_hgrpc({"--upload-encoding", profile, "call", upload_server().url(), "applypatches", "--data-item",
                        dir.file("base"), "--data-item", dir.file("delta")});
    CHECK(r.exit_code == 0);
    CHECK(r.err == "");
    // "xyz\n" in base64.
    CHECK(r.out.find("eHl6Cg==") != std::string::npos);
  }
}
