#pragma once
// The index of a version-1 revlog: 64-byte big-endian entries
// (>Qiiiiii20s12x), the first 4 bytes of entry 0 replaced by the version
// word (format in the low 16 bits; 0x10000 inline, 0x20000 generaldelta).
//
// Inline revlogs interleave each entry with its chunk; the index is found by
// scanning. Only complete entries are kept: a trailing partial entry (or, when
// inline, an entry whose chunk runs past the end of the file) is what an
// append in progress looks like, so it ends the index instead of being an
// error. Mercurial's pure-Python reader does the same for separate indexes
// (it keeps len // 64 entries); its inline scan would refuse the file, which
// a server reading while a commit is written must not do. Nothing else is
// tolerated: unknown versions and flag bits, a negative length, offsets that
// go backwards, and parents or bases out of range are errors naming the rev.
#include <cstdint>
#include <string>
#include <vector>

#include "store/error.hpp"
#include "store/node.hpp"

namespace hgrpc::store {

inline constexpr std::uint32_t kRevlogV1 = 1;
inline constexpr std::uint32_t kFlagInline = 1u << 16;
inline constexpr std::uint32_t kFlagGeneralDelta = 1u << 17;
inline constexpr std::size_t kIndexEntrySize = 64;

// Per-revision flags (low 16 bits of the offset word).
inline constexpr std::uint16_t kRevFlagCensored = 0x8000;
inline constexpr std::uint16_t kRevFlagEllipsis = 0x4000;
inline constexpr std::uint16_t kRevFlagExtStored = 0x2000;
inline constexpr std::uint16_t kRevFlagSidedata = 0x1000;
inline constexpr std::uint16_t kRevFlagHasCopiesInfo = 0x0800;

struct IndexEntry {
  std::uint64_t offset = 0;      // in the data file (or the logical offset, if inline)
  std::uint16_t flags = 0;
  std::uint32_t compressed_length = 0;
  std::int32_t rawsize = 0;       // length of the full rawtext; < 0: unknown
  std::int32_t base = 0;          // delta base (generaldelta) or chain start
  std::int32_t linkrev = 0;
  std::int32_t p1 = kNullRev;
  std::int32_t p2 = kNullRev;
  Node node{};
  std::uint64_t file_position = 0;  // where the chunk starts in its file
};

struct RevlogIndex {
  bool inline_data = false;
  bool generaldelta = false;
  std::vector<IndexEntry> entries;
};

// Parses an index file's bytes. `name` prefixes error messages. An empty
// input is an empty revlog (Mercurial's default for a new revlog applies).
Result<RevlogIndex> parse_index(ByteView data, const std::string& name);

// The 64 bytes of one entry (the writer's side of parse_index). For rev 0,
// `version_word` replaces the first 4 bytes (its offset is always 0).
void append_index_entry(Bytes& out, const IndexEntry& entry, bool first, std::uint32_t version_word);

}  // namespace hgrpc::store
