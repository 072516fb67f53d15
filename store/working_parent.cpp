#include "store/working_parent.hpp"

#include <algorithm>

#include "store/file.hpp"

namespace hgrpc::store {

namespace {
constexpr std::string_view kV2Marker = "dirstate-v2\n";
constexpr std::uint64_t kReadBytes = 128;  // holds both parents in either layout
}  // namespace

Result<Node> working_parent(const RepositoryLayout& layout) {
  const auto path = layout.hg_dir / "dirstate";
  auto file = ReadOnlyFile::open(path);
  if (!file) return hgrpc::unexpected<Error>(file.error());
  if (!*file) return kNullNode;
  auto size = (*file)->size();
  if (!size) return hgrpc::unexpected<Error>(size.error());
  if (*size == 0) return kNullNode;
  auto head = (*file)->read(0, std::min(*size, kReadBytes));
  if (!head) return hgrpc::unexpected<Error>(head.error());
  const bool v2 = layout.requirements.contains("dirstate-v2");
  std::size_t offset = 0;
  std::size_t needed = 40;  // v1: p1 and p2
  if (v2) {
    if (!as_chars(*head).starts_with(kV2Marker)) return fail(path.string() + ": no dirstate-v2 marker");
    offset = kV2Marker.size();
    needed = offset + 64;  // two 32-byte padded parents
  }
  if (head->size() < needed) return fail(path.string() + ": working directory state appears damaged!");
  Node p1;
  std::copy_n(head->begin() + static_cast<std::ptrdiff_t>(offset), p1.size(), p1.begin());
  return p1;
}

}  // namespace hgrpc::store
