#include "store/revlog_index.hpp"

#include <cstdio>
#include <cstring>

namespace hgrpc::store {
namespace {

std::uint64_t be64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | p[i];
  return v;
}
std::uint32_t be32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}
std::int32_t sbe32(const std::uint8_t* p) { return static_cast<std::int32_t>(be32(p)); }

IndexEntry decode_entry(const std::uint8_t* p, std::size_t rev) {
  IndexEntry e;
  std::uint64_t offset_flags = be64(p);
  // Entry 0's first 4 bytes hold the version word: its offset is always 0.
  e.offset = rev == 0 ? 0 : offset_flags >> 16;
  e.flags = static_cast<std::uint16_t>(offset_flags & 0xffff);
  e.compressed_length = be32(p + 8);
  e.rawsize = sbe32(p + 12);
  e.base = sbe32(p + 16);
  e.linkrev = sbe32(p + 20);
  e.p1 = sbe32(p + 24);
  e.p2 = sbe32(p + 28);
  std::memcpy(e.node.data(), p + 32, 20);
  return e;
}

std::string hex32(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

Result<void> check_entry(const IndexEntry& e, std::size_t rev, const IndexEntry* previous,
                         const std::string& name) {
  std::string where = name + ": rev " + std::to_string(rev) + ": ";
  auto r = static_cast<std::int64_t>(rev);
  if (static_cast<std::int32_t>(e.compressed_length) < 0) {
    return fail(where + "negative compressed length " +
                std::to_string(static_cast<std::int32_t>(e.compressed_length)));
  }
  for (auto [label, parent] : {std::pair{"p1", e.p1}, std::pair{"p2", e.p2}}) {
    if (parent < kNullRev || parent >= r) {
      return fail(where + label + " " + std::to_string(parent) + " is out of range");
    }
  }
  if (e.base > r) return fail(where + "delta base " + std::to_string(e.base) + " is out of range");
  if (e.linkrev < 0) return fail(where + "negative linkrev " + std::to_string(e.linkrev));
  if (previous != nullptr && e.offset < previous->offset + previous->compressed_length) {
    return fail(where + "data offset " + std::to_string(e.offset) + " overlaps the previous rev");
  }
  return {};
}

}  // namespace

Result<RevlogIndex> parse_index(ByteView data, const std::string& name) {
  RevlogIndex index;
  if (data.empty()) return index;
  if (data.size() < 4) return fail(name + ": index of " + std::to_string(data.size()) + " bytes has no version word");
  std::uint32_t word = be32(data.data());
  std::uint32_t format = word & 0xffff;
  std::uint32_t flags = word & ~0xffffu;
  if (format != kRevlogV1) {
    return fail(name + ": unsupported revlog version " + std::to_string(format) +
                (format == 0 ? " (revlog v0)" : "") + " (version word " + hex32(word) + ")");
  }
  if ((flags & ~(kFlagInline | kFlagGeneralDelta)) != 0) {
    return fail(name + ": unknown flags " + hex32(flags & ~(kFlagInline | kFlagGeneralDelta)) +
                " in version 1 revlog");
  }
  index.inline_data = (flags & kFlagInline) != 0;
  index.generaldelta = (flags & kFlagGeneralDelta) != 0;

  std::size_t pos = 0;
  while (data.size() - pos >= kIndexEntrySize) {
    std::size_t rev = index.entries.size();
    IndexEntry e = decode_entry(data.data() + pos, rev);
    if (rev > 0x7ffffffe) return fail(name + ": more revisions than a revlog can hold");
    const IndexEntry* previous = rev == 0 ? nullptr : &index.entries.back();
    if (auto ok = check_entry(e, rev, previous, name); !ok) return hgrpc::unexpected<Error>(ok.error());
    if (index.inline_data) {
      e.file_position = pos + kIndexEntrySize;
      if (e.compressed_length > data.size() - e.file_position) break;  // chunk being written
      if (e.offset + (rev + 1) * kIndexEntrySize != e.file_position) {
        return fail(name + ": rev " + std::to_string(rev) + ": inline data offset " +
                    std::to_string(e.offset) + " does not match its position in the file");
      }
      pos = e.file_position + e.compressed_length;
    } else {
      e.file_position = e.offset;
      pos += kIndexEntrySize;
    }
    index.entries.push_back(e);
  }
  return index;
}

void append_index_entry(Bytes& out, const IndexEntry& e, bool first, std::uint32_t version_word) {
  auto put32 = [&out](std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
  };
  std::uint64_t offset_flags = e.offset << 16 | e.flags;
  put32(first ? version_word : static_cast<std::uint32_t>(offset_flags >> 32));
  put32(static_cast<std::uint32_t>(offset_flags));
  put32(e.compressed_length);
  put32(static_cast<std::uint32_t>(e.rawsize));
  put32(static_cast<std::uint32_t>(e.base));
  put32(static_cast<std::uint32_t>(e.linkrev));
  put32(static_cast<std::uint32_t>(e.p1));
  put32(static_cast<std::uint32_t>(e.p2));
  out.insert(out.end(), e.node.begin(), e.node.end());
  out.insert(out.end(), 12, 0);
}

}  // namespace hgrpc::store
