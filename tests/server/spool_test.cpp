// ResponseSpool: memory first, then an unnamed temporary file; exact bytes back.
#include <doctest/doctest.h>

#include <dirent.h>
#include <unistd.h>

#include <random>
#include <string>

#include "server/response_spool.hpp"

using hgrpc::framing::Bytes;
using hgrpc::server::ResponseSpool;

namespace {

Bytes read_all(ResponseSpool& s, std::size_t step) {
  Bytes out;
  std::vector<std::uint8_t> buf(step);
  for (;;) {
    auto n = s.read(out.size(), buf.data(), buf.size());
    REQUIRE(n);
    if (*n == 0) break;
    out.insert(out.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*n));
  }
  return out;
}

// Entries of /proc/self/fd pointing at deleted spool files or O_TMPFILE inodes.
int open_spool_files() {
  int n = 0;
  DIR* d = opendir("/proc/self/fd");
  while (auto* e = readdir(d)) {
    char target[512] = {};
    const std::string path = std::string("/proc/self/fd/") + e->d_name;
    const auto len = readlink(path.c_str(), target, sizeof target - 1);
    if (len <= 0) continue;
    const std::string t(target, static_cast<std::size_t>(len));
    if (t.find("(deleted)") != std::string::npos) ++n;
  }
  closedir(d);
  return n;
}

}  // namespace

TEST_CASE("spool: below the memory limit nothing touches the disk") {
  ResponseSpool s(1000);
  REQUIRE(s.write(hgrpc::framing::as_bytes("hello ")));
  REQUIRE(s.write(hgrpc::framing::as_bytes("world")));
  CHECK(s.size() == 11);
  CHECK_FALSE(s.spilled());
  CHECK(read_all(s, 4) == hgrpc::framing::to_bytes("hello world"));
}

TEST_CASE("spool: past the limit the rest goes to an unnamed file, bytes come back exact") {
  const unsigned seed = 20261125;
  CAPTURE(seed);
  std::mt19937 rng(seed);
  Bytes expected;
  const int before = open_spool_files();
  {
    ResponseSpool s(100 * 1024);
    for (int i = 0; i < 300; ++i) {
      Bytes piece(rng() % 5000 + (i % 50 == 0 ? 400000 : 0));
      for (auto& b : piece) b = static_cast<std::uint8_t>(rng());
      REQUIRE(s.write(piece));
      expected.insert(expected.end(), piece.begin(), piece.end());
    }
    CHECK(s.spilled());
    CHECK(s.memory_bytes() == 100 * 1024);
    CHECK(s.size() == expected.size());
    CHECK(open_spool_files() == before + 1);  // never visible by name
    CHECK(read_all(s, 64 * 1024) == expected);
    CHECK(read_all(s, 777) == expected);
  }
  CHECK(open_spool_files() == before);  // closed, so gone
}

TEST_CASE("spool: an unwritable directory is an error naming it") {
  ResponseSpool s(4, "/nonexistent-dir-for-hgrpcd");
  auto r = s.write(hgrpc::framing::as_bytes("more than four"));
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("/nonexistent-dir-for-hgrpcd") != std::string::npos);
}
