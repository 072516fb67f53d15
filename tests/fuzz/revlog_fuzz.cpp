// The revlog read path on arbitrary bytes: index parsing, chunk
// decompression, rawtext reconstruction along delta chains (both inline and
// with the input split into .i and .d), and the text parsers. Every outcome
// must be a value or an error with a message; nothing may crash, hang or
// allocate past the limits.
#include <cstdint>
#include <cstdlib>

#include "store/changelog.hpp"
#include "store/chunk.hpp"
#include "store/filelog.hpp"
#include "store/manifest.hpp"
#include "store/revlog.hpp"
#include "store/revlog_index.hpp"

using namespace hgrpc::store;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

constexpr std::uint64_t kLimit = 1u << 20;
constexpr int kMaxRevs = 64;

void exercise(const Revlog& revlog) {
  for (int rev = 0; rev < revlog.size() && rev < kMaxRevs; ++rev) {
    auto text = revlog.rawtext(rev);
    if (text) {
      check((*text)->size() <= kLimit);
      if (revlog.entry(rev).rawsize >= 0) check((*text)->size() == static_cast<std::size_t>(revlog.entry(rev).rawsize));
      (void)parse_changelog_entry(**text);
      (void)Manifest::parse(**text);
      (void)parse_file_revision(**text);
    } else {
      check(!text.error().message.empty());
    }
    auto delta = revlog.stored_delta(rev);
    if (delta) check(delta->base < rev);
    auto chunk = revlog.raw_chunk(rev);
    check(chunk.has_value() && chunk->size() == revlog.entry(rev).compressed_length);
    check(revlog.rev(revlog.entry(rev).node).has_value());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ByteView input(data, size);
  RevlogOptions options;
  options.max_text_bytes = kLimit;
  options.max_delta_bytes = kLimit;
  options.cache_bytes = 4096;
  options.verify_hashes = size % 2 == 0;  // half the inputs get past the hash check

  auto chunk = decompress_chunk(input, kLimit);
  if (chunk) check(chunk->size() <= kLimit);

  auto index = parse_index(input, "fuzz.i");
  if (index) {
    for (std::size_t i = 0; i < index->entries.size(); ++i) {
      check(index->entries[i].p1 < static_cast<std::int32_t>(i));
      check(index->entries[i].base <= static_cast<std::int32_t>(i));
    }
  }
  if (auto revlog = Revlog::from_memory(Bytes(input.begin(), input.end()), {}, "fuzz.i", options)) {
    exercise(*revlog);
  }
  // The input as a separate index: entries at the front, the data after them.
  if (size >= 64) {
    std::size_t split = (size / 2) / 64 * 64;
    if (split == 0) split = 64;
    Bytes index_bytes(input.begin(), input.begin() + static_cast<std::ptrdiff_t>(split));
    Bytes data_bytes(input.begin() + static_cast<std::ptrdiff_t>(split), input.end());
    if (index_bytes.size() >= 4) index_bytes[1] &= 0xfe;  // clear the inline flag
    if (auto revlog = Revlog::from_memory(std::move(index_bytes), std::move(data_bytes), "fuzz.i", options)) {
      exercise(*revlog);
    }
  }
  return 0;
}
