// Damaged and hostile revlogs: each gives its own error naming file and rev,
// never a crash or an unbounded allocation.
#include <doctest/doctest.h>

#include "store/revlog.hpp"
#include "tests/store/support.hpp"

namespace hgrpc::store::test {
namespace {

constexpr std::uint32_t kInlineGD = kRevlogV1 | kFlagInline | kFlagGeneralDelta;

struct Rev {
  RawEntry entry;
  Bytes chunk;
};

Node parse_node(std::string_view hex_text) { return *unhex(hex_text); }

// A full-text rev with correct node, rawsize and lengths.
Rev full(std::string_view text, std::int32_t rev = 0) {
  Rev r;
  r.entry.base = rev;
  r.entry.linkrev = rev;
  r.entry.rawsize = static_cast<std::int32_t>(text.size());
  r.chunk = bytes("u");
  r.chunk.insert(r.chunk.end(), text.begin(), text.end());
  r.entry.node = hash_revision(kNullNode, kNullNode, bytes(text));
  return r;
}

// Writes an inline revlog (offsets and lengths filled in unless set).
std::filesystem::path write_inline(const std::string& name, std::vector<Rev> revs, std::uint32_t word = kInlineGD) {
  Bytes out;
  std::uint64_t offset = 0;
  for (std::size_t i = 0; i < revs.size(); ++i) {
    auto& e = revs[i].entry;
    e.offset = offset;
    if (e.compressed_length == 0) e.compressed_length = static_cast<std::uint32_t>(revs[i].chunk.size());
    Bytes entry = index_entry(e, word, i == 0);
    out.insert(out.end(), entry.begin(), entry.end());
    out.insert(out.end(), revs[i].chunk.begin(), revs[i].chunk.end());
    offset += revs[i].chunk.size();
  }
  auto dir = scratch_dir("corrupt/" + name);
  write_file(dir / "t.i", out);
  return dir;
}

Result<Revlog> open_at(const std::filesystem::path& dir) { return Revlog::open(dir, "t"); }

std::string rawtext_error(const std::filesystem::path& dir, int rev) {
  auto rl = open_at(dir);
  REQUIRE_MESSAGE(rl.has_value(), (rl ? "" : rl.error().message));
  auto text = rl->rawtext(rev);
  REQUIRE_FALSE(text.has_value());
  return text.error().message;
}

}  // namespace

TEST_CASE("a hand-built revlog reads back") {
  auto dir = write_inline("good", {full("abc")});
  auto rl = open_at(dir);
  REQUIRE(rl.has_value());
  REQUIRE(rl->size() == 1);
  CHECK(hex(rl->entry(0).node) == "f6d864039d10a8934d0d581d342780298aa9fb28");  // python3 hashlib
  auto text = rl->rawtext(0);
  REQUIRE(text.has_value());
  CHECK(str(**text) == "abc");
}

TEST_CASE("hash_revision orders the parents") {
  Node p{};
  p.fill(0x11);
  CHECK(hex(hash_revision(p, kNullNode, bytes("abc\n"))) == "998ae551be1ed5a79f67a5e82d63909dbc21785c");
  CHECK(hex(hash_revision(kNullNode, p, bytes("abc\n"))) == "998ae551be1ed5a79f67a5e82d63909dbc21785c");
  CHECK(hex(sha1(bytes(""))) == "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  CHECK(unhex("F6D864039D10A8934D0D581D342780298AA9FB28").has_value());
  CHECK_FALSE(unhex("f6d864039d10a8934d0d581d342780298aa9fb2").has_value());
  CHECK_FALSE(unhex("g6d864039d10a8934d0d581d342780298aa9fb28").has_value());
}

TEST_CASE("an index too short for its version word") {
  auto dir = scratch_dir("corrupt/short");
  write_file(dir / "t.i", bytes(std::string_view("\0\x01", 2)));
  CHECK(open_at(dir).error().message == "t.i: index of 2 bytes has no version word");
}

TEST_CASE("unknown versions and flags are refused") {
  auto dir = write_inline("v2", {full("abc")}, 2);
  CHECK(open_at(dir).error().message == "t.i: unsupported revlog version 2 (version word 0x00000002)");
  dir = write_inline("v0", {full("abc")}, kFlagInline);
  CHECK(open_at(dir).error().message == "t.i: unsupported revlog version 0 (revlog v0) (version word 0x00010000)");
  dir = write_inline("flags", {full("abc")}, kInlineGD | (1u << 18));
  CHECK(open_at(dir).error().message == "t.i: unknown flags 0x00040000 in version 1 revlog");
}

TEST_CASE("a truncated trailing entry or chunk is an append in progress, not an error") {
  auto dir = write_inline("truncated", {full("abc"), full("defgh", 1)});
  Bytes whole = read_all(dir / "t.i");
  for (std::size_t cut : {whole.size() - 1, whole.size() - 6, whole.size() - 6 - 30, whole.size() - 6 - 64}) {
    INFO("cut at " << cut);
    write_file(dir / "t.i", Bytes(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(cut)));
    auto rl = open_at(dir);
    REQUIRE(rl.has_value());
    CHECK(rl->size() == 1);
    CHECK(str(**rl->rawtext(0)) == "abc");
  }
  write_file(dir / "t.i", whole);
  CHECK(open_at(dir)->size() == 2);
}

TEST_CASE("a separate index keeps complete entries whose data is in the .d file") {
  auto dir = scratch_dir("corrupt/separate");
  Rev a = full("abc"), b = full("defgh", 1);
  a.entry.compressed_length = 4;
  b.entry.offset = 4;
  b.entry.compressed_length = 6;
  Bytes index = index_entry(a.entry, kRevlogV1 | kFlagGeneralDelta, true);
  Bytes second = index_entry(b.entry, 0, false);
  index.insert(index.end(), second.begin(), second.end());
  index.resize(index.size() + 10);  // a partial third entry
  write_file(dir / "t.i", index);
  write_file(dir / "t.d", bytes("uabcudef"));  // rev 1's data not all written yet
  auto rl = open_at(dir);
  REQUIRE(rl.has_value());
  CHECK(rl->size() == 1);
  write_file(dir / "t.d", bytes("uabcudefgh"));
  rl = open_at(dir);
  REQUIRE(rl.has_value());
  CHECK(rl->size() == 2);
  CHECK(str(**rl->rawtext(1)) == "defgh");
  std::filesystem::remove(dir / "t.d");
  CHECK(open_at(dir).error().message == "t.i: data file " + (dir / "t.d").string() + " is missing");
}

TEST_CASE("bad chunk types and bad compressed data") {
  Rev r = full("abc");
  r.chunk = bytes("Aabc");
  CHECK(rawtext_error(write_inline("type", {r}), 0) == "t.i: rev 0: unknown compression type 0x41");
  r.chunk = bytes("x\x9c\x07garbage");  // block type 3 (python3 zlib: invalid block type)
  CHECK(rawtext_error(write_inline("zlib", {r}), 0) == "t.i: rev 0: zlib: invalid block type");
  r.chunk = bytes("xgarbage");
  CHECK(rawtext_error(write_inline("zlib-header", {r}), 0) == "t.i: rev 0: zlib: incorrect header check");
  r.chunk = bytes("(\xb5\x2f\xfd\xff\xff\xff");
  CHECK(rawtext_error(write_inline("zstd", {r}), 0).starts_with("t.i: rev 0: zstd: "));
  r.chunk = bytes("(garbage");
  CHECK(rawtext_error(write_inline("zstd-magic", {r}), 0) == "t.i: rev 0: zstd: Unknown frame descriptor");
}

TEST_CASE("zlib and zstd chunks, with and without a declared content size") {
  auto hex_bytes = [](std::string_view h) {
    Bytes out;
    for (std::size_t i = 0; i < h.size(); i += 2) out.push_back(static_cast<std::uint8_t>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
    return out;
  };
  std::string hello = "hello hello hello hello hello hello hello hello";
  // Made by python3's zlib.compress and Mercurial's zstd module.
  Rev z = full(hello);
  z.chunk = hex_bytes("789ccb48cdc9c957c820960400a3961181");
  auto rl = open_at(write_inline("zlib-ok", {z}));
  REQUIRE(rl.has_value());
  CHECK(str(**rl->rawtext(0)) == hello);
  Rev s = full(hello + " hello");
  s.chunk = hex_bytes("28b52ffd20356500003068656c6c6f200100242a45");
  rl = open_at(write_inline("zstd-ok", {s}));
  REQUIRE(rl.has_value());
  CHECK(str(**rl->rawtext(0)) == hello + " hello");
  // compressobj output: no content size; 19 bytes that decode to 100000 'x'.
  Rev big = full(std::string(100000, 'x'));
  big.chunk = hex_bytes("28b52ffd005855000010787801009b8639c002");
  rl = open_at(write_inline("zstd-stream", {big}));
  REQUIRE(rl.has_value());
  CHECK(**rl->rawtext(0) == bytes(std::string(100000, 'x')));
  // The same frame under a rev that claims 1000 bytes: stopped at the limit.
  Rev bomb = big;
  bomb.entry.rawsize = 1000;
  CHECK(rawtext_error(write_inline("zstd-bomb", {bomb}), 0) ==
        "t.i: rev 0: decompressed chunk is larger than the limit of 1000 bytes");
  // Truncated frames.
  Rev cut = s;
  cut.chunk.resize(cut.chunk.size() - 3);
  CHECK(rawtext_error(write_inline("zstd-cut", {cut}), 0) == "t.i: rev 0: zstd: truncated frame");
  // A sized frame followed by more bytes (the one-call path must refuse it too).
  Rev trail = s;
  trail.chunk.push_back('!');
  CHECK(rawtext_error(write_inline("zstd-trail", {trail}), 0) == "t.i: rev 0: zstd: 1 bytes after the end of the frame");
  // Read again after that failure: the reused per-thread context starts clean.
  rl = open_at(write_inline("zstd-again", {s}));
  REQUIRE(rl.has_value());
  CHECK(str(**rl->rawtext(0)) == hello + " hello");
  Rev zcut = z;
  zcut.chunk.resize(zcut.chunk.size() - 5);
  CHECK(rawtext_error(write_inline("zlib-cut", {zcut}), 0) == "t.i: rev 0: zlib: truncated stream");
}

TEST_CASE("a delta out of range of its base") {
  Rev base = full("abc");
  Rev d;
  d.entry.base = 0;
  d.entry.linkrev = 1;
  d.entry.p1 = 0;
  d.entry.rawsize = 4;
  // hunk start 0, end 100, 4 bytes: past the end of the 3-byte base
  d.chunk = bytes(std::string("\0\0\0\0\0\0\0\x64\0\0\0\x04wxyz", 16));
  d.entry.node = hash_revision(base.entry.node, kNullNode, bytes("wxyz"));
  CHECK(rawtext_error(write_inline("delta", {base, d}), 1) ==
        "t.i: rev 1: delta chain from rev 0: delta 0, hunk 0 (offset 0): end 100 is past the end of the text (3 bytes)");
  // The same delta against a long enough base applies.
  Rev longer = full(std::string(100, 'a'));
  d.entry.node = hash_revision(longer.entry.node, kNullNode, bytes("wxyz"));
  auto rl = open_at(write_inline("delta-ok", {longer, d}));
  REQUIRE(rl.has_value());
  CHECK(str(**rl->rawtext(1)) == "wxyz");
  auto stored = rl->stored_delta(1);
  REQUIRE(stored.has_value());
  CHECK(stored->base == 0);
  CHECK(stored->data == d.chunk);
}

TEST_CASE("index fields out of range are errors naming the rev") {
  Rev base = full("abc");
  Rev bad = full("def", 1);
  bad.entry.base = 5;
  CHECK(open_at(write_inline("base", {base, bad})).error().message == "t.i: rev 1: delta base 5 is out of range");
  bad = full("def", 1);
  bad.entry.p1 = 1;
  CHECK(open_at(write_inline("p1", {base, bad})).error().message == "t.i: rev 1: p1 1 is out of range");
  bad = full("def", 1);
  bad.entry.p2 = -2;
  CHECK(open_at(write_inline("p2", {base, bad})).error().message == "t.i: rev 1: p2 -2 is out of range");
}

TEST_CASE("flagged revisions are refused by name") {
  Rev r = full("abc");
  r.entry.flags = kRevFlagCensored;
  CHECK(rawtext_error(write_inline("censored", {r}), 0) == "t.i: rev 0: censored revision (flag 0x8000) is not supported");
  r.entry.flags = kRevFlagExtStored;
  CHECK(rawtext_error(write_inline("lfs", {r}), 0) ==
        "t.i: rev 0: externally stored revision (flag 0x2000, lfs) is not supported");
  r.entry.flags = kRevFlagEllipsis;
  CHECK(rawtext_error(write_inline("ellipsis", {r}), 0) == "t.i: rev 0: ellipsis revision (flag 0x4000) is not supported");
  r.entry.flags = 0x0001;
  CHECK(rawtext_error(write_inline("unknown-flag", {r}), 0) == "t.i: rev 0: revision flags 0x0001 are not supported");
  auto rl = open_at(write_inline("censored-delta", {r}));
  CHECK(rl->stored_delta(0).error().message == "t.i: rev 0: revision flags 0x0001 are not supported");
}

TEST_CASE("a hash mismatch names both hashes") {
  Rev r = full("abc");
  r.entry.node = parse_node("0123456789abcdef0123456789abcdef01234567");
  CHECK(rawtext_error(write_inline("hash", {r}), 0) ==
        "t.i: rev 0: hash mismatch: the rawtext hashes to f6d864039d10a8934d0d581d342780298aa9fb28, "
        "the index says 0123456789abcdef0123456789abcdef01234567");
  RevlogOptions no_check;
  no_check.verify_hashes = false;
  auto rl = Revlog::open(scratch_dir("corrupt/hash-off").parent_path() / "hash", "t", no_check);
  REQUIRE(rl.has_value());
  CHECK(str(**rl->rawtext(0)) == "abc");
}

TEST_CASE("a rawsize that does not match the rebuilt text") {
  Rev r = full("abc");
  r.entry.rawsize = 5;
  CHECK(rawtext_error(write_inline("rawsize-long", {r}), 0) == "t.i: rev 0: rawtext is 3 bytes, the index says 5");
  r.entry.rawsize = 2;
  CHECK(rawtext_error(write_inline("rawsize-short", {r}), 0) ==
        "t.i: rev 0: decompressed chunk is larger than the limit of 2 bytes");
  RevlogOptions small;
  small.max_text_bytes = 2;
  r.entry.rawsize = 3;
  auto rl = Revlog::open(write_inline("max-text", {r}), "t", small);
  CHECK(rl->rawtext(0).error().message == "t.i: rev 0: rawtext of 3 bytes is over the limit of 2");
}

TEST_CASE("an inline offset that does not match the chunk's position") {
  auto dir = write_inline("offset", {full("abc"), full("defgh", 1)});
  Bytes data = read_all(dir / "t.i");
  data[64 + 4 + 5] = 9;  // rev 1's offset (bytes 0-5 of its entry) becomes 9
  write_file(dir / "t.i", data);
  CHECK(open_at(dir).error().message == "t.i: rev 1: inline data offset 9 does not match its position in the file");
}

TEST_CASE("revs out of range are errors, and the null node is rev -1") {
  auto rl = open_at(write_inline("range", {full("abc")}));
  REQUIRE(rl.has_value());
  CHECK(rl->rawtext(1).error().message == "t.i: rev 1 is out of range (1 revisions)");
  CHECK(rl->raw_chunk(-1).error().message == "t.i: rev -1 is out of range (1 revisions)");
  CHECK(rl->rev(kNullNode) == kNullRev);
  CHECK_FALSE(rl->rev(parse_node("0123456789abcdef0123456789abcdef01234567")).has_value());
  auto missing = Revlog::open(scratch_dir("corrupt/missing"), "t");
  REQUIRE(missing.has_value());
  CHECK(missing->size() == 0);
}

}  // namespace hgrpc::store::test
