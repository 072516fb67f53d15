#pragma once
// Where a filelog lives in the store: Mercurial's store path encodings.
// Inputs and outputs are store paths such as "data/foo/Bar.txt.i".
#include <string>
#include <string_view>

namespace hgrpc::store {

enum class StoreKind {
  kFncacheDotencode,  // store + fncache + dotencode: fncachestore with _pathencode
  kFncache,           // store + fncache: fncachestore with _hybridencode(f, False)
  kEncoded,           // store only: encodedstore (encodefilename, no aux names, no hashing)
  kBasic,             // no store: basicstore under .hg/ (encodedir only)
};

// ".hg/" -> ".hg.hg/", ".i/" -> ".i.hg/", ".d/" -> ".d.hg/" (in that order).
std::string encode_dir(std::string_view path);

// The on-disk path (relative to the store directory) of a store path.
std::string encode_store_path(std::string_view path, StoreKind kind);

// "data/<file>.i" and "data/<file>.d" for a tracked file's path.
inline std::string filelog_index_path(std::string_view file) { return "data/" + std::string(file) + ".i"; }
inline std::string filelog_data_path(std::string_view file) { return "data/" + std::string(file) + ".d"; }

}  // namespace hgrpc::store
