#pragma once
// The dirstate, version 1 (6.3.2's default: no dirstate-v2 requirement):
// p1 and p2 (20 bytes each), then per file ">cllll" (state, mode, size,
// mtime, name length) and the name. A clean file is state 'n' with its
// lstat mode, size and mtime in seconds (sizes and times masked to 31 bits,
// as Mercurial does); mtime -1 says "compare the contents", which Mercurial
// needs when the file may still change within the second it was stat'ed.
#include <cstdint>
#include <span>
#include <string>

#include "store/error.hpp"
#include "store/node.hpp"

namespace hgrpc::store {

struct DirstateEntry {
  std::string path;
  char state = 'n';
  std::int32_t mode = 0;
  std::int32_t size = 0;
  std::int32_t mtime = -1;
};

Bytes encode_dirstate_v1(const Node& p1, const Node& p2, std::span<const DirstateEntry> entries);

}  // namespace hgrpc::store
