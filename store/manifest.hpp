#pragma once
// A flat manifest: lines "<path>\0<40 hex node><flag>\n" sorted by path,
// flag '' (regular), 'x' (executable), 'l' (symlink).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/error.hpp"
#include "store/node.hpp"

namespace hgrpc::store {

struct ManifestEntry {
  std::string path;
  Node node{};
  char flag = '\0';  // '\0', 'x' or 'l'
};

class Manifest {
 public:
  // Fails on a malformed line (message with its byte offset), a flag we do
  // not know (including 't', tree manifests), or paths out of order.
  static Result<Manifest> parse(ByteView text);

  const std::vector<ManifestEntry>& entries() const { return entries_; }
  const ManifestEntry* find(std::string_view path) const;  // binary search

 private:
  std::vector<ManifestEntry> entries_;
};

// One path's entry, found by binary search in the manifest's text without
// parsing the rest (filesdata looks up a few paths in thousands of
// manifests). Only the line found is checked; nullopt if the path is absent.
Result<std::optional<ManifestEntry>> manifest_lookup(ByteView text, std::string_view path);

}  // namespace hgrpc::store
