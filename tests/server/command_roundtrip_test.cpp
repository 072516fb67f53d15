// Seeded property test across the commands: diff, applypatches, patchedsize
// and foldpatches agree with each other, through arguments and command data.
#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <string>

#include "tests/server/command_support.hpp"

using namespace hgrpc::server;
using namespace hgrpc::server::testing;
using hgrpc::framing::ByteView;

namespace {

// Line-structured text drawn from a small vocabulary, so diffs find matches.
std::string random_text(std::mt19937_64& rng) {
  static const char* words[] = {"alpha", "beta", "gamma", "delta", "\x00\xff", "x", ""};
  std::uniform_int_distribution<int> lines(0, 40), word(0, 6), per_line(0, 4);
  std::string out;
  int n = lines(rng);
  for (int i = 0; i < n; ++i) {
    int k = per_line(rng);
    for (int j = 0; j < k; ++j) {
      int w = word(rng);
      out.append(words[w], w == 4 ? 2 : std::char_traits<char>::length(words[w]));  // "\x00\xff" holds a NUL
      out += ' ';
    }
    out += '\n';
  }
  return out;
}

Bytes as_vec(const json& binary) { return raw(binary); }

}  // namespace

TEST_CASE("diff, applypatches, patchedsize and foldpatches agree (seeded)") {
  const std::uint64_t seed = 20261125;
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  for (int round = 0; round < 60; ++round) {
    CAPTURE(round);
    std::string a = random_text(rng), b = random_text(rng), c = random_text(rng);
    json ab = single(run("diff", {{"a", bin(a)}, {"b", bin(b)}}));
    json bc = single(run("diff", {{"a", bin(b)}, {"b", bin(c)}}));

    CHECK(single(run("applypatches", {{"base", bin(a)}, {"patches", json::array({ab})}})) == bin(b));
    CHECK(single(run("applypatches", {{"base", bin(a)}, {"patches", json::array({ab, bc})}})) == bin(c));
    CHECK(single(run("patchedsize", {{"size", a.size()}, {"patches", json::array({ab, bc})}})).get<std::uint64_t>() ==
          c.size());

    json folded = single(run("foldpatches", {{"patches", json::array({ab, bc})}}));
    CHECK(single(run("applypatches", {{"base", bin(a)}, {"patches", json::array({folded})}})) == bin(c));

    // The same through command data.
    Bytes data = data_of({bin(a), ab, bc});
    CHECK(single(run("applypatches", json::object(), ByteView(data))) == bin(c));
    Bytes diff_data = data_of({bin(a), bin(b)});
    CHECK(as_vec(single(run("diff", json::object(), ByteView(diff_data)))) == as_vec(ab));
  }
}
