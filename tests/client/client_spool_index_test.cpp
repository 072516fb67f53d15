// client/text_spool.hpp and client/node_index.hpp: what a fetch keeps of
// the received changesets, on disk and compactly in memory.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "client/node_index.hpp"
#include "client/text_spool.hpp"
#include "client_test_support.hpp"

using namespace hgrpc::client;
using hgrpc::client::test::TempDir;
using hgrpc::store::Node;
namespace fs = std::filesystem;

namespace {

hgrpc::framing::Bytes bytes_of(const std::string& s) { return hgrpc::framing::Bytes(s.begin(), s.end()); }

std::string string_of(hgrpc::framing::ByteView v) { return std::string(v.begin(), v.end()); }

Node random_node(std::mt19937_64& gen) {
  Node n{};
  for (auto& b : n) b = static_cast<std::uint8_t>(gen());
  return n;
}

}  // namespace

TEST_CASE("text spool: texts of every size come back in order, and nothing is left in the directory") {
  TempDir dir;
  auto spool = TextSpool::open(dir.path());
  REQUIRE(spool);
  std::vector<std::string> texts{"", "one", std::string(kSpoolBufferBytes - 3, 'a'), "two",
                                 std::string(kSpoolBufferBytes + 17, 'b'), std::string(3 * kSpoolBufferBytes, 'c'), ""};
  for (int i = 0; i < 5000; ++i) texts.push_back("changeset " + std::to_string(i) + std::string(i % 300, 'x'));
  std::uint64_t sum = 0;
  for (const auto& t : texts) {
    auto b = bytes_of(t);
    REQUIRE(spool->append(b));
    sum += 4 + t.size();
  }
  CHECK(spool->count() == texts.size());
  CHECK(spool->bytes() == sum);
  CHECK(fs::is_empty(dir.path()));  // unnamed (O_TMPFILE, or unlinked at once)
  auto moved = std::move(*spool);
  for (std::size_t i = 0; i < texts.size(); ++i) {
    auto t = moved.next();
    REQUIRE(t);
    REQUIRE_MESSAGE(string_of(*t) == texts[i], "text " << i);
  }
  auto past = moved.next();
  REQUIRE_FALSE(past);
  CHECK(past.error().message == "spool: read past the last text");
  auto late = moved.append(bytes_of("late"));
  REQUIRE_FALSE(late);
  CHECK(late.error().message == "spool: append after reading began");
}

TEST_CASE("text spool: a directory that does not exist is an error naming it") {
  TempDir dir;
  auto spool = TextSpool::open(dir.path() / "missing");
  REQUIRE_FALSE(spool);
  CHECK(spool.error().kind == ErrorKind::Protocol);
  CHECK(spool.error().message == "spool file in " + (dir.path() / "missing").string() +
                                     ": cannot create it: No such file or directory");
}

TEST_CASE("node index: every added node is found at its position, others are not") {
  std::mt19937_64 gen(7);
  std::vector<Node> nodes;
  NodeIndex index;
  CHECK_FALSE(index.find(nodes, random_node(gen)));
  for (int i = 0; i < 100000; ++i) {
    nodes.push_back(random_node(gen));
    index.add(nodes, nodes.size() - 1);
  }
  CHECK(index.size() == 100000);
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    auto found = index.find(nodes, nodes[i]);
    REQUIRE(found);
    REQUIRE(*found == i);
  }
  for (int i = 0; i < 1000; ++i) CHECK_FALSE(index.find(nodes, random_node(gen)));
  // Nodes sharing their first 8 bytes (the slot's input) are told apart.
  std::vector<Node> alike(50, nodes[0]);
  NodeIndex alike_index;
  for (std::size_t i = 0; i < alike.size(); ++i) {
    alike[i][19] = static_cast<std::uint8_t>(i);
    alike_index.add(alike, i);
  }
  for (std::size_t i = 0; i < alike.size(); ++i) CHECK(alike_index.find(alike, alike[i]) == i);
  Node other = alike[0];
  other[19] = 200;
  CHECK_FALSE(alike_index.find(alike, other));
}
