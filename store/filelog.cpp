#include "store/filelog.hpp"

namespace hgrpc::store {

std::optional<std::pair<std::string, Node>> FileRevision::copy_source() const {
  auto copy = metadata.find("copy");
  auto rev = metadata.find("copyrev");
  if (copy == metadata.end() || rev == metadata.end()) return std::nullopt;
  auto node = unhex(rev->second);
  if (!node) return std::nullopt;
  return std::pair{copy->second, *node};
}

Result<FileRevision> parse_file_revision(ByteView bytes) {
  std::string_view text = as_chars(bytes);
  FileRevision out;
  if (!text.starts_with("\1\n")) return out;
  std::size_t end = text.find("\1\n", 2);
  if (end == std::string_view::npos) return fail("file metadata block has no end marker");
  std::string_view block = text.substr(2, end - 2);
  std::size_t pos = 0;
  while (pos < block.size()) {
    std::size_t nl = block.find('\n', pos);
    if (nl == std::string_view::npos) return fail("file metadata line at offset " + std::to_string(pos + 2) + " has no newline");
    std::string_view line = block.substr(pos, nl - pos);
    std::size_t sep = line.find(": ");
    if (sep == std::string_view::npos) {
      return fail("file metadata line at offset " + std::to_string(pos + 2) + " has no ': '");
    }
    out.metadata[std::string(line.substr(0, sep))] = std::string(line.substr(sep + 2));
    pos = nl + 1;
  }
  out.data_offset = end + 2;
  return out;
}

}  // namespace hgrpc::store
