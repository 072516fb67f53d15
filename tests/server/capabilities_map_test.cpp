// The capabilities map: exact CBOR of a command entry, the keys a Mercurial
// peer reads, our own keys, and the capabilities command.
#include <doctest/doctest.h>

#include <string>

#include "framing/cbor.hpp"
#include "tests/server/command_support.hpp"
#include "tests/support/test_support.hpp"

using namespace hgrpc::server;
using namespace hgrpc::server::testing;
using hgrpc::test::hex;

namespace {

}  // namespace

TEST_CASE("a command entry encodes exactly as Mercurial's cborutil encodes it") {
  json caps = registry().commands_capability();
  // {b'args': {b'patches': {b'required': True, b'type': b'list'},
  //            b'size': {b'required': True, b'type': b'int'}},
  //  b'permissions': [b'pull']}   (reference bytes from cborutil.streamencode)
  CHECK(hex(hgrpc::framing::cbor_encode(caps["patchedsize"])) ==
        "a24461726773a24770617463686573a2487265717569726564f54474797065446c6973744473697a65a2487265717569"
        "726564f5447479706543696e744b7065726d697373696f6e73814470756c6c");
  // {b'args': {}, b'permissions': [b'pull']}
  CHECK(hex(hgrpc::framing::cbor_encode(caps["capabilities"])) ==
        "a24461726773a04b7065726d697373696f6e73814470756c6c");
}

TEST_CASE("every command advertises its declared argument table") {
  json caps = registry().commands_capability();
  auto arg = [](std::string_view type) { return json{{"type", bin(type)}, {"required", true}}; };
  auto pull = json::array({bin("pull")});
  CHECK(caps["applypatches"] == json{{"args", {{"base", arg("bytes")}, {"patches", arg("list")}}}, {"permissions", pull}});
  CHECK(caps["foldpatches"] == json{{"args", {{"patches", arg("list")}}}, {"permissions", pull}});
  CHECK(caps["patchedsize"] == json{{"args", {{"size", arg("int")}, {"patches", arg("list")}}}, {"permissions", pull}});
  CHECK(caps["diff"] == json{{"args", {{"a", arg("bytes")}, {"b", arg("bytes")}}}, {"permissions", pull}});
  CHECK(caps["capabilities"] == json{{"args", json::object()}, {"permissions", pull}});
  CHECK(caps.size() == 5);
}

TEST_CASE("the capabilities map has Mercurial's keys and ours") {
  CommandLimits limits;
  limits.max_output_bytes = 1000;
  limits.max_frame_size = 2000;
  limits.max_body_bytes = 3000;
  json m = capabilities_map(registry(), limits);
  std::vector<std::string> keys;
  for (const auto& [k, v] : m.items()) keys.push_back(k);
  CHECK(keys == std::vector<std::string>{"commands", "contentencodings", "framingmediatypes", "limits",
                                         "pathfilterprefixes", "rawrepoformats"});
  CHECK(m["commands"] == registry().commands_capability());
  CHECK(m["framingmediatypes"] == json::array({bin("application/mercurial-exp-framing-0006")}));
  CHECK(m["contentencodings"] == json::array({bin("zstd-8mb"), bin("zlib"), bin("identity")}));
  CHECK(m["limits"] == json{{"maxoutputbytes", 1000}, {"maxframesize", 2000}, {"maxbodybytes", 3000}});
  CHECK(m["pathfilterprefixes"] == json::array());
  CHECK(m["rawrepoformats"] == json::array());
  CHECK_FALSE(m.contains("redirect"));  // a present redirect key must be well formed for Mercurial
}

TEST_CASE("the capabilities map's strings are all byte strings") {
  // Mercurial peers compare against bytes; a text string would never match.
  json m = capabilities_map(registry(), {});
  std::vector<const json*> todo{&m};
  std::size_t strings = 0;
  while (!todo.empty()) {
    const json* v = todo.back();
    todo.pop_back();
    CHECK_FALSE(v->is_string());
    if (v->is_binary()) ++strings;
    if (v->is_structured())
      for (const auto& child : *v) todo.push_back(&child);
  }
  CHECK(strings > 10);
}

TEST_CASE("the capabilities command returns the capabilities map for the given limits") {
  CommandLimits limits;
  limits.max_output_bytes = 77;
  json v = single(run("capabilities", json::object(), std::nullopt, limits));
  CHECK(v == capabilities_map(registry(), limits));
  CHECK(v["limits"]["maxoutputbytes"] == 77);
}
