#pragma once
// Helpers for the store tests: the fixture repositories and oracle made by
// make_fixtures.py (Debian's Mercurial), and hand-built revlog bytes.
#include <doctest/doctest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "store/error.hpp"
#include "store/node.hpp"

namespace hgrpc::store::test {

inline std::filesystem::path fixtures_dir() { return HGRPC_STORE_FIXTURES; }

// The oracle, parsed once. Fails the test if make_fixtures.py has not run
// (ctest runs it first as the store/fixtures test).
inline const nlohmann::json& oracle() {
  static const nlohmann::json parsed = [] {
    std::ifstream in(fixtures_dir() / "oracle.json");
    if (!in) {
      FAIL("no " << (fixtures_dir() / "oracle.json").string()
                 << ": run tests/store/make_fixtures.py (ctest runs it as store/fixtures)");
    }
    return nlohmann::json::parse(in);
  }();
  return parsed;
}

inline Bytes bytes(std::string_view s) { return Bytes(s.begin(), s.end()); }
inline std::string str(const Bytes& b) { return std::string(b.begin(), b.end()); }

inline void put32(Bytes& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}

struct RawEntry {
  std::uint64_t offset = 0;
  std::uint16_t flags = 0;
  std::uint32_t compressed_length = 0;
  std::int32_t rawsize = 0;
  std::int32_t base = 0;
  std::int32_t linkrev = 0;
  std::int32_t p1 = -1;
  std::int32_t p2 = -1;
  Node node{};
};

// One 64-byte index entry; for rev 0, `version_word` replaces the first 4 bytes.
inline Bytes index_entry(const RawEntry& e, std::uint32_t version_word, bool first) {
  Bytes out;
  std::uint64_t offset_flags = e.offset << 16 | e.flags;
  put32(out, first ? version_word : static_cast<std::uint32_t>(offset_flags >> 32));
  put32(out, static_cast<std::uint32_t>(offset_flags));
  put32(out, e.compressed_length);
  put32(out, static_cast<std::uint32_t>(e.rawsize));
  put32(out, static_cast<std::uint32_t>(e.base));
  put32(out, static_cast<std::uint32_t>(e.linkrev));
  put32(out, static_cast<std::uint32_t>(e.p1));
  put32(out, static_cast<std::uint32_t>(e.p2));
  out.insert(out.end(), e.node.begin(), e.node.end());
  out.resize(out.size() + 12, 0);
  return out;
}

inline void write_file(const std::filesystem::path& path, const Bytes& data) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

inline Bytes read_all(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// A fresh directory under the build tree for one test.
inline std::filesystem::path scratch_dir(const std::string& name) {
  auto dir = std::filesystem::path(HGRPC_BINARY_DIR) / "store-scratch" / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace hgrpc::store::test
