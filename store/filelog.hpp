#pragma once
// A filelog rawtext: optional metadata "\1\n" + "key: value\n"... + "\1\n",
// then the file's data. Copies carry "copy" (source path) and "copyrev".
#include <map>
#include <optional>
#include <string>

#include "store/error.hpp"
#include "store/node.hpp"

namespace hgrpc::store {

struct FileRevision {
  std::map<std::string, std::string> metadata;
  std::size_t data_offset = 0;  // where the file's data starts in the rawtext

  // The copy source, when both copy and a valid copyrev are present.
  std::optional<std::pair<std::string, Node>> copy_source() const;
};

Result<FileRevision> parse_file_revision(ByteView rawtext);

}  // namespace hgrpc::store
