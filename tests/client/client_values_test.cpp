// Library-level tests of the client's value handling: base64, JSON rendering
// and input, --arg specs, error messages, URLs, command data, progress.
#include <doctest/doctest.h>

#include <cstdio>
#include <random>

#include "client/arg_spec.hpp"
#include "client/base64.hpp"
#include "client/command_data.hpp"
#include "client/json_value.hpp"
#include "client/outcome.hpp"
#include "client/progress.hpp"
#include "client/url.hpp"
#include "client_test_support.hpp"
#include "framing/cbor.hpp"

using namespace hgrpc::client;
using hgrpc::framing::Bytes;
using hgrpc::framing::cbor_bytes;
using hgrpc::framing::json;

TEST_CASE("base64 matches RFC 4648 test vectors both ways") {
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
  for (const auto& vector : vectors) {
    const std::string_view plain = vector.first;  // clang-14 cannot CAPTURE a binding
    const std::string_view encoded = vector.second;
    CAPTURE(plain);
    CHECK(base64_encode(hgrpc::framing::as_bytes(plain)) == encoded);
    auto back = base64_decode(encoded);
    REQUIRE(back);
    CHECK(*back == hgrpc::framing::to_bytes(plain));
  }
  Bytes all(256);
  for (int i = 0; i < 256; ++i) all[i] = static_cast<std::uint8_t>(i);
  CHECK(*base64_decode(base64_encode(all)) == all);
}

TEST_CASE("base64 rejects malformed input with the offset") {
  CHECK(base64_decode("abc").error().message == "base64: length 3 is not a multiple of 4");
  CHECK(base64_decode("ab!d").error().message == "base64: invalid character at offset 2");
  CHECK(base64_decode("a=bc").error().message == "base64: invalid character at offset 1");
  CHECK(base64_decode("Zg==Zg==").error().message == "base64: invalid character at offset 2");
}

TEST_CASE("output JSON: tagged byte strings, text style, invalid UTF-8 keys") {
  json v = json::object();
  v["name"] = cbor_bytes("diff");
  v["n"] = -3;
  v["list"] = json::array({cbor_bytes(std::string("\xff\x00", 2)), "text", true, nullptr});
  v[std::string("\xc3\x28")] = 1;  // invalid UTF-8 key
  CHECK(render_json(v) ==
        R"({"$bytes:wyg=":1,"list":[{"$bytes":"/wA="},"text",true,null],"n":-3,"name":{"$bytes":"ZGlmZg=="}})");
  CHECK(render_json(v, BytesStyle::Text) ==
        R"({"$bytes:wyg=":1,"list":[{"$bytes":"/wA="},"text",true,null],"n":-3,"name":"diff"})");
}

TEST_CASE("UTF-8 validation rejects overlong forms, surrogates and truncation") {
  CHECK(is_valid_utf8("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80"));
  CHECK_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong '/'
  CHECK_FALSE(is_valid_utf8("\xed\xa0\x80"));      // surrogate
  CHECK_FALSE(is_valid_utf8("\xe2\x82"));          // truncated
  CHECK_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // > U+10FFFF
  CHECK_FALSE(is_valid_utf8("\x80"));
}

TEST_CASE("input JSON: strings become byte strings, $bytes and $text") {
  json in = json::parse(R"({"a": "x", "b": {"$bytes": "/wA="}, "c": {"$text": "t"}, "d": [1, -2, true, null],
                            "e": {"nested": "y"}})");
  auto v = from_input_json(in, "--args-json");
  REQUIRE(v);
  json expected = json::object();
  expected["a"] = cbor_bytes("x");
  expected["b"] = cbor_bytes(std::string("\xff\x00", 2));
  expected["c"] = "t";
  expected["d"] = json::array({1, -2, true, nullptr});
  expected["e"] = json::object({{"nested", cbor_bytes("y")}});
  CHECK(*v == expected);
  CHECK(hgrpc::framing::cbor_encode(*v) == hgrpc::framing::cbor_encode(expected));
  CHECK(from_input_json(json::parse(R"({"x": [1, 2.5]})"), "line 2").error().message ==
        "line 2.x[1]: number 2.5 is not an integer (CBOR floats are not used by this protocol)");
  CHECK(from_input_json(json::parse(R"({"$bytes": "@@@@"})"), "w").error().message ==
        "w: base64: invalid character at offset 0");
  CHECK(from_input_json(json::parse(R"({"$bytes": 3})"), "w").error().message ==
        "w: \"$bytes\" must hold a base64 string");
}

TEST_CASE("--arg specs: every type, files, lists, and their errors") {
  test::TempDir dir;
  test::spit(dir.file("f"), std::string("file\0data", 9));
  json args = json::object();
  REQUIRE(apply_arg("a=hello", args));
  REQUIRE(apply_arg("b=@" + dir.file("f"), args));
  REQUIRE(apply_arg("c=@@at", args));
  REQUIRE(apply_arg("size:int=-12", args));
  REQUIRE(apply_arg("big:int=18446744073709551615", args));
  REQUIRE(apply_arg("flag:bool=false", args));
  REQUIRE(apply_arg("s:str=text", args));
  REQUIRE(apply_arg("raw:b64=/wA=", args));
  REQUIRE(apply_arg("j:json={\"k\": [\"v\", 1]}", args));
  REQUIRE(apply_arg("patches[]=one", args));
  REQUIRE(apply_arg("patches[]=@" + dir.file("f"), args));
  REQUIRE(apply_arg("eq=a=b", args));
  CHECK(args["a"] == cbor_bytes("hello"));
  CHECK(args["b"] == cbor_bytes(std::string("file\0data", 9)));
  CHECK(args["c"] == cbor_bytes("@at"));
  CHECK(args["size"] == -12);
  CHECK(args["big"].get<std::uint64_t>() == 18446744073709551615ull);
  CHECK(args["flag"] == false);
  CHECK(args["s"] == "text");
  CHECK(args["raw"] == cbor_bytes(std::string("\xff\x00", 2)));
  CHECK(args["j"] == json::object({{"k", json::array({cbor_bytes("v"), 1})}}));
  CHECK(args["patches"] == json::array({cbor_bytes("one"), cbor_bytes(std::string("file\0data", 9))}));
  CHECK(args["eq"] == cbor_bytes("a=b"));

  json more = json::object();
  CHECK(apply_arg("novalue", more).error().message == "--arg novalue: expected NAME[:TYPE]=VALUE");
  CHECK(apply_arg("=x", more).error().message == "--arg =x: empty argument name");
  CHECK(apply_arg("n:int=5x", more).error().message == "--arg n: '5x' is not an integer");
  CHECK(apply_arg("n:bool=yes", more).error().message == "--arg n: 'yes' is not true or false");
  CHECK(apply_arg("n:float=1", more).error().message ==
        "--arg n: unknown type 'float' (expected bytes, str, int, bool, b64 or json)");
  CHECK(apply_arg("n:json={", more).error().message == "--arg n: value is not valid JSON");
  CHECK(apply_arg("n=@" + dir.file("missing"), more).error().message ==
        "--arg n: cannot open " + dir.file("missing") + ": No such file or directory");
  REQUIRE(apply_arg("x=1", more));
  CHECK(apply_arg("x=2", more).error().message == "--arg x: given more than once");
  CHECK(apply_arg("x[]=2", more).error().message == "--arg x[]: x is already set to a non-list value");
}

TEST_CASE("command error messages: atoms with %s args, plain strings") {
  json atoms = json::array({json::object({{"msg", cbor_bytes("invalid delta %s at hunk %s (100%%); ")},
                                          {"args", json::array({cbor_bytes("2"), cbor_bytes("7")})}}),
                            json::object({{"msg", cbor_bytes("no args: 100%% kept")}})});
  // As Python's msg % args: only atoms with args are formatted.
  CHECK(format_error_message(atoms) == "invalid delta 2 at hunk 7 (100%); no args: 100%% kept");
  CHECK(format_error_message(cbor_bytes("bad %s")) == "bad %s");  // Mercurial 5.8: no args
  CHECK(format_error_message("text") == "text");
  CHECK(format_error_message(json::array({json::object({{"msg", cbor_bytes("%s and %s")},
                                                        {"args", json::array({cbor_bytes("one")})}})})) ==
        "one and %s");
  CHECK(format_error_message(nullptr) == "(no message)");
}

TEST_CASE("InOrderRelease releases outcomes in index order whatever the arrival order") {
  std::mt19937 rng(20261125);
  for (int round = 0; round < 20; ++round) {
    std::vector<std::size_t> order(9);
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), rng);
    CAPTURE(round);
    std::vector<std::size_t> released;
    InOrderRelease r([&](std::size_t index, Outcome&& o) {
      CHECK(o.values.at(0) == index);
      released.push_back(index);
    });
    for (auto i : order) {
      Outcome o;
      o.values.push_back(i);
      r.put(i, std::move(o));
    }
    CHECK(released == std::vector<std::size_t>{0, 1, 2, 3, 4, 5, 6, 7, 8});
    CHECK(r.held() == 0);
  }
  std::vector<std::size_t> released;
  InOrderRelease r([&](std::size_t index, Outcome&&) { released.push_back(index); });
  r.put(2, {});
  r.put(1, {});
  CHECK(released.empty());
  CHECK(r.held() == 2);
  r.put(0, {});
  CHECK(released == std::vector<std::size_t>{0, 1, 2});
}

TEST_CASE("URLs: repository and direct API URLs, and usage errors") {
  auto u = parse_url("http://127.0.0.1:8080");
  REQUIRE(u);
  CHECK(u->scheme_host_port == "http://127.0.0.1:8080");
  CHECK(u->host_port == "127.0.0.1:8080");
  CHECK(u->path == "/");
  CHECK_FALSE(u->direct_api);
  auto d = parse_url("http://example.org/repo/api/exp-http-v2-0003");
  REQUIRE(d);
  CHECK(d->path == "/repo/api/exp-http-v2-0003/");
  CHECK(d->direct_api);
  CHECK(parse_url("http://[::1]:9/x/")->path == "/x/");
  CHECK(parse_url("https://h/").error().message ==
        "invalid URL 'https://h/': https is not supported; use http:// (e.g. behind a TLS proxy)");
  CHECK(parse_url("ftp://h/").error().kind == ErrorKind::Usage);
  CHECK(parse_url("http://h:0/").error().message == "invalid URL 'http://h:0/': port '0' is not a number from 1 to 65535");
  CHECK(parse_url("http://h:x/").error().message == "invalid URL 'http://h:x/': port 'x' is not a number from 1 to 65535");
  CHECK(parse_url("http:///p").error().message == "invalid URL 'http:///p': missing host");
  CHECK(parse_url("http://u:p@h/").error().message ==
        "invalid URL 'http://u:p@h/': credentials in the URL are not supported; use --token-file or HGRPC_TOKEN");
  CHECK(parse_url("http://h/?cmd=x").error().message == "invalid URL 'http://h/?cmd=x': query and fragment are not allowed");
}

TEST_CASE("CBOR byte string headers at every length boundary") {
  CHECK(cbor_bytes_header(0) == Bytes{0x40});
  CHECK(cbor_bytes_header(23) == Bytes{0x57});
  CHECK(cbor_bytes_header(24) == Bytes{0x58, 24});
  CHECK(cbor_bytes_header(255) == Bytes{0x58, 0xff});
  CHECK(cbor_bytes_header(256) == Bytes{0x59, 0x01, 0x00});
  CHECK(cbor_bytes_header(65536) == Bytes{0x5a, 0x00, 0x01, 0x00, 0x00});
  CHECK(cbor_bytes_header(std::uint64_t{1} << 32) == Bytes{0x5b, 0, 0, 0, 1, 0, 0, 0, 0});
  // Agrees with the CBOR encoder.
  for (std::size_t n : {0u, 23u, 24u, 300u, 70000u}) {
    auto full = hgrpc::framing::cbor_encode(cbor_bytes(std::string(n, 'x')));
    auto h = cbor_bytes_header(n);
    CHECK(Bytes(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(h.size())) == h);
  }
}

TEST_CASE("command data: files as CBOR byte strings, raw files and literals, read in pieces") {
  test::TempDir dir;
  std::string big(100000, '\0');
  std::mt19937 rng(7);
  for (auto& c : big) c = static_cast<char>(rng());
  test::spit(dir.file("big"), big);
  test::spit(dir.file("small"), "abc");
  test::spit(dir.file("empty"), "");
  CommandData data;
  data.add_bytes_item_file(dir.file("big"));
  data.add_file(dir.file("small"));
  data.add_literal({1, 2});
  data.add_bytes_item_file(dir.file("empty"));
  auto size = data.size();
  REQUIRE(size);
  CHECK(*size == 5 + 100000 + 3 + 2 + 1);
  for (std::size_t piece : {1u, 7u, 32768u}) {
    CAPTURE(piece);
    CommandData::Reader reader(data);
    Bytes all;
    for (;;) {
      auto n = reader.read(all, piece);
      REQUIRE(n);
      if (*n == 0) break;
    }
    Bytes expected = hgrpc::framing::cbor_encode(cbor_bytes(big));
    hgrpc::framing::append(expected, hgrpc::framing::as_bytes("abc"));
    expected.push_back(1);
    expected.push_back(2);
    expected.push_back(0x40);
    CHECK(all == expected);
  }
  CommandData missing;
  missing.add_file(dir.file("nope"));
  auto err = missing.size();
  REQUIRE_FALSE(err);
  CHECK(err.error().kind == ErrorKind::Usage);
  CHECK(err.error().message.find("cannot read " + dir.file("nope")) == 0);
}

// What a progress line wrote to its temporary file.
std::string read_and_close(std::FILE* out) {
  std::rewind(out);
  std::string text(4096, '\0');
  text.resize(std::fread(text.data(), 1, text.size(), out));
  std::fclose(out);
  return text;
}

TEST_CASE("progress line: silent below the threshold, throttled, ended by finish") {
  using Clock = ProgressLine::Clock;
  Clock::time_point now{};
  std::FILE* out = std::tmpfile();
  REQUIRE(out);
  {
    ProgressOptions o;
    o.enabled = true;
    o.threshold = 1000;
    o.interval = std::chrono::milliseconds(100);
    ProgressLine p(o, out, [&] { return now; });
    p.add_sent(999);
    CHECK_FALSE(p.drawn());
    now += std::chrono::seconds(1);
    p.add_sent(1);  // 1000 bytes in 1 s
    CHECK(p.drawn());
    now += std::chrono::milliseconds(50);
    p.add_received(1024);  // within the interval: not redrawn
    now += std::chrono::milliseconds(950);
    p.add_received(0);  // redrawn
    p.finish();
  }
  const std::string text = read_and_close(out);
  CHECK(text ==
        "\rsent 1000 B, received 0 B, 1000 B/s\x1b[K"
        "\rsent 1000 B, received 1.0 KiB, 1012 B/s\x1b[K"
        "\rsent 1000 B, received 1.0 KiB, 1012 B/s\x1b[K\n");
  CHECK(ProgressLine::format(5u << 20, 3u << 19, 2.0) == "sent 5.0 MiB, received 1.5 MiB, 3.2 MiB/s");

  std::FILE* quiet = std::tmpfile();
  {
    ProgressLine p(ProgressOptions{}, quiet);  // disabled
    p.add_sent(std::uint64_t{1} << 30);
    CHECK_FALSE(p.drawn());
  }
  CHECK(std::ftell(quiet) == 0);
  std::fclose(quiet);
}

TEST_CASE("progress line: clone and pull counts in front and an ETA from the share done") {
  CHECK(ProgressLine::format_work("changesets 4", 0.25, 0, 4u << 20, 10.0) ==
        "changesets 4: sent 0 B, received 4.0 MiB, 409.6 KiB/s, ETA 0:30");
  CHECK(ProgressLine::format_work("c", 0.5, 0, 0, 4000.0) == "c: sent 0 B, received 0 B, 0 B/s, ETA 1:06:40");
  CHECK(ProgressLine::format_work("c", -1, 0, 0, 1.0) == "c: sent 0 B, received 0 B, 0 B/s");  // unknown share
  CHECK(ProgressLine::format_work("c", 1.0, 0, 0, 1.0) == "c: sent 0 B, received 0 B, 0 B/s");  // done
  using Clock = ProgressLine::Clock;
  Clock::time_point now{};
  std::FILE* out = std::tmpfile();
  REQUIRE(out);
  {
    ProgressOptions o;
    o.enabled = true;
    o.threshold = 0;
    ProgressLine p(o, out, [&] { return now; });
    now += std::chrono::seconds(2);
    p.set_work("changesets 1", 0.5);
  }
  const std::string text = read_and_close(out);
  CHECK(text == "\rchangesets 1: sent 0 B, received 0 B, 0 B/s, ETA 0:02\x1b[K\rchangesets 1: sent 0 B, received 0 B, 0 B/s, ETA 0:02\x1b[K\n");
}
