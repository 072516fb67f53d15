// Writes the benchmark chains of mpatch_chains.hpp for the reference run of
// Mercurial's own C mpatch (bench/hg_mpatch_reference.py), together with the
// text our apply() makes of them, which the reference checks against its own.
// Usage: mpatch_chain_dump DIR   -> DIR/chain-1mib-1000.bin, DIR/chain-64mib-10.bin
// Each file: records of a u64 little-endian length and that many bytes: the
// base, each delta in order, then the expected last revision.
#include <cstdio>
#include <fstream>
#include <string>

#include "bench/mpatch_chains.hpp"

namespace {

void put_record(std::ofstream& out, hgrpc::bench::ByteView bytes) {
  std::uint8_t length[8];
  for (int i = 0; i < 8; ++i) length[i] = static_cast<std::uint8_t>(bytes.size() >> (8 * i));
  out.write(reinterpret_cast<const char*>(length), 8);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

bool dump(const hgrpc::bench::Chain& chain, const std::string& path) {
  auto expected = hgrpc::mpatch::apply(chain.base, chain.views);
  if (!expected) {
    std::fprintf(stderr, "mpatch_chain_dump: %s: %s\n", path.c_str(), expected.error().message.c_str());
    return false;
  }
  std::ofstream out(path, std::ios::binary);
  put_record(out, chain.base);
  for (auto delta : chain.views) put_record(out, delta);
  put_record(out, *expected);
  out.close();
  if (!out) {
    std::fprintf(stderr, "mpatch_chain_dump: cannot write %s\n", path.c_str());
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: mpatch_chain_dump DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  const bool ok = dump(hgrpc::bench::chain_1mib(), dir + "/chain-1mib-1000.bin") &&
                  dump(hgrpc::bench::chain_64mib(), dir + "/chain-64mib-10.bin");
  return ok ? 0 : 1;
}
