// The store's write path, unit by unit: exact index bytes, compression
// choices, the inline split, the delta chain bound, hash and delta errors,
// transactions rolled back in-process and after a simulated kill, path
// validation and the dirstate bytes.
#include <doctest/doctest.h>

#include <deque>
#include <random>

#include "store/chunk.hpp"
#include "store/dirstate.hpp"
#include "store/path_validation.hpp"
#include "store/repository.hpp"
#include "store/repository_creation.hpp"
#include "store/repository_writer.hpp"
#include "store/revlog_writer.hpp"
#include "store/transaction.hpp"
#include "store/working_copy.hpp"
#include "tests/store/support.hpp"

namespace hgrpc::store::test {
namespace {

namespace fs = std::filesystem;

// A full-text revision; its bytes are kept alive (the revision holds a view).
IncomingRevision full(const Bytes& bytes_in, const Node& p1 = kNullNode, int linkrev = 0) {
  static std::deque<Bytes> kept;
  const Bytes& text = kept.emplace_back(bytes_in);
  IncomingRevision in;
  in.node = hash_revision(p1, kNullNode, text);
  in.p1 = p1;
  in.linkrev = linkrev;
  in.data = text;
  return in;
}

Bytes random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  Bytes out(n);
  for (auto& b : out) b = static_cast<std::uint8_t>(gen());
  return out;
}

std::uint32_t word_at(const Bytes& b, std::size_t at) {
  return std::uint32_t{b[at]} << 24 | std::uint32_t{b[at + 1]} << 16 | std::uint32_t{b[at + 2]} << 8 | b[at + 3];
}

// Every file under `dir` with its bytes (a store's state, to compare).
std::map<std::string, Bytes> files_of(const fs::path& dir) {
  std::map<std::string, Bytes> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) out[fs::relative(e.path(), dir).string()] = read_all(e.path());
  }
  return out;
}

}  // namespace

TEST_CASE("writer: a new generaldelta revlog's first entry and chunk, byte for byte") {
  auto dir = scratch_dir("writer-bytes");
  auto tx = Transaction::begin(dir);
  REQUIRE(tx.has_value());
  auto w = RevlogWriter::open(*tx, "data/a.txt.i", "data/a.txt.d", true);
  REQUIRE(w.has_value());
  Bytes text = bytes("hello\n");
  auto in = full(text);
  REQUIRE(w->add(in) == 0);
  RawEntry e;
  e.compressed_length = 7;
  e.rawsize = 6;
  e.node = in.node;
  Bytes expected = index_entry(e, 0x00030001, true);
  Bytes chunk = bytes("uhello\n");  // under 50 bytes: stored, with 'u'
  expected.insert(expected.end(), chunk.begin(), chunk.end());
  CHECK(read_all(dir / "data/a.txt.i") == expected);
  REQUIRE(tx->commit().has_value());
  CHECK_FALSE(fs::exists(dir / kJournalName));
}

TEST_CASE("writer: chunks are compressed as Mercurial's revlog.compress chooses") {
  CHECK(compress_chunk({}, Compression::kZstd).empty());
  CHECK(compress_chunk(bytes("short"), Compression::kZstd) == bytes("ushort"));
  Bytes nul = bytes(std::string("\0starts with NUL", 16));
  CHECK(compress_chunk(nul, Compression::kZlib) == nul);
  Bytes text = bytes(std::string(200, 'a'));
  Bytes z = compress_chunk(text, Compression::kZstd);
  REQUIRE(z.size() >= 4);
  CHECK(Bytes(z.begin(), z.begin() + 4) == Bytes{0x28, 0xb5, 0x2f, 0xfd});
  CHECK(decompress_chunk(z, 200) == text);
  Bytes zl = compress_chunk(text, Compression::kZlib);
  CHECK(zl[0] == 'x');
  CHECK(decompress_chunk(zl, 200) == text);
  CHECK(compress_chunk(text, Compression::kNone)[0] == 'u');
  Bytes noise = random_bytes(1000, 7);  // incompressible: stored
  Bytes stored = compress_chunk(noise, Compression::kZstd);
  CHECK(stored.size() == 1001);
  CHECK(stored[0] == 'u');
}

TEST_CASE("writer: an inline revlog splits into .i and .d once its data reaches 131072 bytes") {
  auto dir = scratch_dir("writer-split");
  auto tx = Transaction::begin(dir);
  REQUIRE(tx.has_value());
  auto w = RevlogWriter::open(*tx, "data/big.i", "data/big.d", true);
  REQUIRE(w.has_value());
  std::vector<Bytes> texts;
  Node p1 = kNullNode;
  for (int r = 0; r < 4; ++r) {
    texts.push_back(random_bytes(40000, static_cast<unsigned>(r)));
    auto in = full(texts.back(), p1, r);
    REQUIRE(w->add(in) == r);
    p1 = in.node;
    if (r == 2) {  // 3 x 40001 bytes of data: still inline
      CHECK(w->inline_data());
      CHECK_FALSE(fs::exists(dir / "data/big.d"));
      CHECK(fs::file_size(dir / "data/big.i") == 3 * (64 + 40001));
    }
  }
  CHECK_FALSE(w->inline_data());
  CHECK(fs::file_size(dir / "data/big.i") == 4 * 64);
  CHECK(fs::file_size(dir / "data/big.d") == 4 * 40001);
  CHECK(word_at(read_all(dir / "data/big.i"), 0) == 0x00020001);
  // Appending goes on in split form.
  texts.push_back(random_bytes(100, 9));
  REQUIRE(w->add(full(texts.back(), p1, 4)) == 4);
  CHECK(fs::file_size(dir / "data/big.i") == 5 * 64);
  auto log = Revlog::open(dir / "data/big.i", dir / "data/big.d", "data/big.i");
  REQUIRE(log.has_value());
  REQUIRE(log->size() == 5);
  for (int r = 0; r < 5; ++r) CHECK(**log->rawtext(r) == texts[static_cast<std::size_t>(r)]);
  REQUIRE(tx->commit().has_value());
}

TEST_CASE("writer: deltas against p1 until the chain bound, then a full text") {
  auto dir = scratch_dir("writer-chain");
  auto tx = Transaction::begin(dir);
  REQUIRE(tx.has_value());
  RevlogWriterOptions options;
  options.max_chain_length = 3;
  auto w = RevlogWriter::open(*tx, "data/c.i", "data/c.d", true, options);
  REQUIRE(w.has_value());
  std::string text;
  Node p1 = kNullNode;
  for (int r = 0; r < 6; ++r) {
    for (int i = 0; i < 20; ++i) text += "line " + std::to_string(r) + "." + std::to_string(i) + " of a text that deltas well\n";
    Bytes b = bytes(text);
    auto in = full(b, p1, r);
    REQUIRE(w->add(in) == r);
    p1 = in.node;
  }
  auto log = Revlog::open(dir / "data/c.i", dir / "data/c.d", "data/c.i");
  REQUIRE(log.has_value());
  std::vector<int> bases;
  for (int r = 0; r < 6; ++r) bases.push_back(log->entry(r).base);
  CHECK(bases == std::vector<int>{0, 0, 1, 3, 3, 4});  // chains 0-1-2 and 3-4-5
  CHECK(str(**log->rawtext(5)) == text);
}

TEST_CASE("writer: with full_texts_as_received, a full text received is stored as one, a delta as a delta") {
  for (bool as_received : {false, true}) {
    CAPTURE(as_received);
    auto dir = scratch_dir(as_received ? "writer-as-received" : "writer-rediffed");
    auto tx = Transaction::begin(dir);
    REQUIRE(tx.has_value());
    RevlogWriterOptions options;
    options.full_texts_as_received = as_received;
    auto w = RevlogWriter::open(*tx, "data/f.i", "data/f.d", true, options);
    REQUIRE(w.has_value());
    std::string text;
    for (int i = 0; i < 40; ++i) text += "line " + std::to_string(i) + " of a text that deltas well\n";
    auto first = full(bytes(text));
    REQUIRE(w->add(first) == 0);
    auto second = full(bytes(text + "one more line\n"), first.node, 1);  // sent whole
    REQUIRE(w->add(second) == 1);
    // The third is sent as a delta against the second: appended at its end.
    const std::string third_text = text + "one more line\nand another\n";
    // One mpatch hunk: start, end (both the end of the text), length, data.
    const std::string added = "and another\n";
    const auto at = static_cast<std::uint32_t>(text.size() + 14);
    static Bytes delta;
    delta.clear();
    for (std::uint32_t field : {at, at, static_cast<std::uint32_t>(added.size())}) {
      for (int shift = 24; shift >= 0; shift -= 8) delta.push_back(static_cast<std::uint8_t>(field >> shift));
    }
    delta.insert(delta.end(), added.begin(), added.end());
    IncomingRevision third;
    third.p1 = second.node;
    third.node = hash_revision(second.node, kNullNode, bytes(third_text));
    third.linkrev = 2;
    third.delta_base = second.node;
    third.data = delta;
    REQUIRE(w->add(third) == 2);
    auto log = Revlog::open(dir / "data/f.i", dir / "data/f.d", "data/f.i");
    REQUIRE(log.has_value());
    CHECK(log->entry(1).base == (as_received ? 1 : 0));  // full, or a delta against p1
    CHECK(log->entry(2).base == 1);
    CHECK(str(**log->rawtext(1)) == text + "one more line\n");
    CHECK(str(**log->rawtext(2)) == third_text);
  }
}

TEST_CASE("writer: a received delta is applied to its base and hash-checked before anything is written") {
  auto dir = scratch_dir("writer-errors");
  auto tx = Transaction::begin(dir);
  REQUIRE(tx.has_value());
  auto w = RevlogWriter::open(*tx, "data/a.txt.i", "data/a.txt.d", true);
  REQUIRE(w.has_value());

  Bytes text = bytes("hello\n");
  Node good = hash_revision(kNullNode, kNullNode, text);
  IncomingRevision in = full(text);
  in.node[0] ^= 1;
  auto bad = w->add(in);
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().message ==
        "data/a.txt.i: node " + hex(in.node) + ": hash mismatch: the received text hashes to " + hex(good));
  CHECK_FALSE(fs::exists(dir / "data/a.txt.i"));

  auto base = full(bytes("a\nb\n"));
  REQUIRE(w->add(base) == 0);
  auto size_after_base = fs::file_size(dir / "data/a.txt.i");
  // Replace "b\n" (bytes 2..4) with "c\n".
  Bytes delta{0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 2, 'c', '\n'};
  IncomingRevision d;
  d.p1 = base.node;
  d.node = hash_revision(base.node, kNullNode, bytes("a\nc\n"));
  d.delta_base = base.node;
  d.data = delta;
  d.linkrev = 1;
  REQUIRE(w->add(d) == 1);
  CHECK(str(**w->rawtext(1)) == "a\nc\n");

  Bytes past_end{0, 0, 0, 0, 0, 0, 0, 100, 0, 0, 0, 0};
  IncomingRevision e = d;
  e.node = Node{1};
  e.data = past_end;
  auto broken = w->add(e);
  REQUIRE_FALSE(broken.has_value());
  CHECK(broken.error().message.starts_with("data/a.txt.i: node " + hex(e.node) + ": delta against " + hex(base.node) + ": "));
  CHECK(broken.error().message.ends_with("end 100 is past the end of the text (4 bytes)"));

  IncomingRevision orphan = full(bytes("x\n"));
  orphan.p1 = Node{2};
  orphan.node = hash_revision(orphan.p1, kNullNode, bytes("x\n"));
  auto unknown = w->add(orphan);
  REQUIRE_FALSE(unknown.has_value());
  CHECK(unknown.error().message == "data/a.txt.i: node " + hex(orphan.node) + ": unknown parent " + hex(orphan.p1));

  IncomingRevision no_base = d;
  no_base.node = Node{3};
  no_base.delta_base = Node{4};
  auto missing = w->add(no_base);
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().message == "data/a.txt.i: node " + hex(no_base.node) + ": unknown delta base " + hex(Node{4}));
  CHECK(fs::file_size(dir / "data/a.txt.i") > size_after_base);
  CHECK(w->size() == 2);
  // The same node again is not a second revision.
  CHECK(w->add(d) == 1);
  CHECK(w->size() == 2);
}

TEST_CASE("writer: with its text cache released after every add, deltas are rebuilt from disk and the bytes are the same") {
  std::map<std::string, Bytes> stores[2];
  for (int released = 0; released < 2; ++released) {
    CAPTURE(released);
    auto dir = scratch_dir(released ? "writer-released" : "writer-cached");
    auto tx = Transaction::begin(dir);
    REQUIRE(tx.has_value());
    auto w = RevlogWriter::open(*tx, "data/a.txt.i", "data/a.txt.d", true);
    REQUIRE(w.has_value());
    // Five texts, each a delta against the one before: "line 0\n" .. with one more line each.
    std::string text;
    Node previous = kNullNode;
    static std::deque<Bytes> kept;
    for (int r = 0; r < 5; ++r) {
      const std::string before = text;
      text += "line " + std::to_string(r) + "\n";
      IncomingRevision in;
      in.p1 = previous;
      in.node = hash_revision(previous, kNullNode, bytes(text));
      in.linkrev = r;
      if (r == 0) {
        in.data = kept.emplace_back(bytes(text));
      } else {
        // Append at the end of the previous text.
        const auto at = static_cast<std::uint32_t>(before.size());
        const std::string added = text.substr(before.size());
        Bytes delta{static_cast<std::uint8_t>(at >> 24), static_cast<std::uint8_t>(at >> 16), static_cast<std::uint8_t>(at >> 8),
                    static_cast<std::uint8_t>(at), static_cast<std::uint8_t>(at >> 24), static_cast<std::uint8_t>(at >> 16),
                    static_cast<std::uint8_t>(at >> 8), static_cast<std::uint8_t>(at), 0, 0, 0,
                    static_cast<std::uint8_t>(added.size())};
        delta.insert(delta.end(), added.begin(), added.end());
        in.delta_base = previous;
        in.data = kept.emplace_back(delta);
      }
      REQUIRE(w->add(in) == r);
      if (released) w->release_cache();
      previous = in.node;
    }
    CHECK(str(**w->rawtext(4)) == "line 0\nline 1\nline 2\nline 3\nline 4\n");
    REQUIRE(tx->commit());
    stores[released] = files_of(dir);
  }
  CHECK(stores[0].size() == 1);  // data/a.txt.i, inline
  CHECK(stores[0] == stores[1]);
}

TEST_CASE("writer: an interrupted transaction is truncated back, in-process and after a kill") {
  auto dir = scratch_dir("writer-tx");
  fs::path store = dir / "store";
  fs::create_directories(store);
  Node p1;
  {
    auto tx = Transaction::begin(store);
    REQUIRE(tx.has_value());
    auto w = RevlogWriter::open(*tx, "data/a.i", "data/a.d", true);
    REQUIRE(w.has_value());
    auto r0 = full(bytes("first\n"));
    REQUIRE(w->add(r0) == 0);
    auto r1 = full(bytes("first\nsecond\n"), r0.node, 1);
    REQUIRE(w->add(r1) == 1);
    p1 = r1.node;
    REQUIRE(tx->commit().has_value());
  }
  const auto before = files_of(store);
  REQUIRE(before.size() == 1);
  const auto inline_size = fs::file_size(store / "data/a.i");

  auto grow = [&](Transaction& tx) {
    auto w = RevlogWriter::open(tx, "data/a.i", "data/a.d", true);
    REQUIRE(w.has_value());
    Node parent = p1;
    for (int r = 2; r < 6; ++r) {  // 4 x 40001 bytes: the revlog splits
      auto in = full(random_bytes(40000, static_cast<unsigned>(r)), parent, r);
      REQUIRE(w->add(in) == r);
      parent = in.node;
    }
    CHECK_FALSE(w->inline_data());
    auto other = RevlogWriter::open(tx, "data/b.i", "data/b.d", true);
    REQUIRE(other.has_value());
    REQUIRE(other->add(full(bytes("new file\n"))) == 0);
    REQUIRE(tx.track_replace("phaseroots").has_value());
    write_file(store / "phaseroots", bytes("1 " + hex(parent) + "\n"));
  };

  SUBCASE("rollback()") {
    auto tx = Transaction::begin(store);
    REQUIRE(tx.has_value());
    grow(*tx);
    CHECK(fs::exists(store / "data/a.d"));
    REQUIRE(tx->rollback().has_value());
    CHECK(files_of(store) == before);
  }
  SUBCASE("a killed process: the next run recovers the journal") {
    auto tx = Transaction::begin(store);
    REQUIRE(tx.has_value());
    grow(*tx);
    fs::path killed = dir / "killed";  // the store as the dead process left it
    fs::copy(store, killed, fs::copy_options::recursive);
    REQUIRE(tx->commit().has_value());
    CHECK(fs::exists(killed / kJournalName));
    auto refused = Transaction::begin(killed);
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().message == (killed / kJournalName).string() + ": an abandoned transaction exists (recover it first)");
    CHECK(recover(killed) == true);
    CHECK(files_of(killed) == before);
    CHECK(fs::file_size(killed / "data/a.i") == inline_size);
    CHECK(recover(killed) == false);
  }
  SUBCASE("a kill before the split renamed the index: the .i is truncated, the .d removed") {
    auto tx = Transaction::begin(store);
    REQUIRE(tx.has_value());
    REQUIRE(tx->track_append("data/a.i").has_value());
    REQUIRE(tx->track_split("data/a.i", "data/a.d", inline_size, 2).has_value());
    write_file(store / "data/a.d", bytes("partial"));
    fs::path killed = dir / "killed-early";
    fs::copy(store, killed, fs::copy_options::recursive);
    REQUIRE(tx->rollback().has_value());
    CHECK(recover(killed) == true);
    CHECK(files_of(killed) == before);
  }
}

TEST_CASE("writer: bytes after the last entry are refused rather than appended to") {
  auto dir = scratch_dir("writer-trailing");
  {
    auto tx = Transaction::begin(dir);
    auto w = RevlogWriter::open(*tx, "a.i", "a.d", true);
    REQUIRE(w->add(full(bytes("one\n"))) == 0);
    REQUIRE(tx->commit().has_value());
  }
  Bytes i = read_all(dir / "a.i");
  i.resize(i.size() + 10, 0);
  write_file(dir / "a.i", i);
  auto tx = Transaction::begin(dir);
  auto w = RevlogWriter::open(*tx, "a.i", "a.d", true);
  REQUIRE_FALSE(w.has_value());
  CHECK(w.error().message == "a.i: 79 bytes where its 1 revisions take 69 (an interrupted write?)");
}

TEST_CASE("writer: tracked paths are validated as Mercurial's pathauditor does") {
  for (const char* good : {"a", "a/b.txt", "dir.hg/x", "x.hg", "hg~x", ".hgignore", "a/.hgtags", "sub/hg~1a"}) {
    CAPTURE(good);
    CHECK(validate_tracked_path(good).has_value());
  }
  auto message = [](std::string_view path) {
    auto r = validate_tracked_path(path);
    return r ? std::string("accepted") : r.error().message;
  };
  CHECK(message("") == "path is empty");
  CHECK(message("/etc/passwd") == "path contains illegal component: /etc/passwd");
  CHECK(message("a/../../b") == "path contains illegal component: a/../../b");
  CHECK(message("..") == "path contains illegal component: ..");
  CHECK(message("a//b") == "path contains illegal component: a//b");
  CHECK(message("./a") == "path contains illegal component: ./a");
  CHECK(message(".hg/hgrc") == "path contains illegal component: .hg/hgrc");
  CHECK(message(".HG/hgrc") == "path contains illegal component: .HG/hgrc");
  CHECK(message(".hg./x") == "path contains illegal component: .hg./x");
  CHECK(message("HG~1/x") == "path contains illegal component: HG~1/x");
  CHECK(message("hg8b6c~2/x") == "path contains illegal component: hg8b6c~2/x");
  CHECK(message("sub/.hg/store") == "path 'sub/.hg/store' is inside nested repo 'sub'");
  CHECK(message("a/b/.h\xe2\x80\x8cg/x") == "path 'a/b/.h\xe2\x80\x8cg/x' is inside nested repo 'a/b'");
  CHECK(message("dir/") == "path ends in directory separator: dir/");
  CHECK(message("a\nb") == "path contains a NUL, newline or carriage return: a\nb");
}

TEST_CASE("writer: dirstate v1 bytes") {
  Node p1{};
  p1[0] = 0xab;
  std::vector<DirstateEntry> entries{{"a.txt", 'n', 0100644, 3, 1700000000}, {"link", 'n', 0120777, 5, -1}};
  Bytes expected(40, 0);
  expected[0] = 0xab;
  auto entry = [&](std::uint32_t mode, std::uint32_t size, std::uint32_t mtime, std::string_view name) {
    expected.push_back('n');
    put32(expected, mode);
    put32(expected, size);
    put32(expected, mtime);
    put32(expected, static_cast<std::uint32_t>(name.size()));
    expected.insert(expected.end(), name.begin(), name.end());
  };
  entry(0100644, 3, 1700000000, "a.txt");
  entry(0120777, 5, 0xffffffff, "link");
  CHECK(encode_dirstate_v1(p1, kNullNode, entries) == expected);
}

TEST_CASE("writer: a new repository has 6.3.2's files, a second init is refused") {
  auto dir = scratch_dir("writer-init") / "r";
  REQUIRE(create_repository(dir).has_value());
  CHECK(str(read_all(dir / ".hg/requires")) == "share-safe\n");
  CHECK(str(read_all(dir / ".hg/store/requires")) ==
        "dotencode\nfncache\ngeneraldelta\nrevlog-compression-zstd\nrevlogv1\nsparserevlog\nstore\n");
  CHECK(str(read_all(dir / ".hg/00changelog.i")) ==
        std::string("\0\0\xff\xff dummy changelog to prevent using the old repo layout", 57));
  CHECK_FALSE(fs::exists(dir / ".hg/hgrc"));
  auto again = create_repository(dir);
  REQUIRE_FALSE(again.has_value());
  CHECK(again.error().message == dir.string() + ": repository already exists");
  // Mercurial reads it as an empty repository.
  std::string cmd = "HGRCPATH=/dev/null hg --cwd '" + dir.string() + "' verify -q >/dev/null 2>&1";
  CHECK(std::system(cmd.c_str()) == 0);
}

TEST_CASE("writer: a checkout refuses paths that would leave the working directory") {
  auto dir = scratch_dir("writer-hostile");
  fs::path root = dir / "r";
  fs::path outside = dir / "outside";
  fs::create_directories(outside);
  REQUIRE(create_repository(root).has_value());

  // One changeset whose manifest holds `files` (path, flag, data).
  auto commit = [&](std::vector<std::tuple<std::string, char, std::string>> files) {
    auto writer = RepositoryWriter::open(root);
    REQUIRE(writer.has_value());
    std::string manifest;
    for (const auto& [path, flag, data] : files) {
      auto fl = writer->filelog(path);
      REQUIRE_MESSAGE(fl.has_value(), fl.error().message);
      Bytes text = bytes(data);
      auto in = full(text);
      REQUIRE((*fl)->add(in).has_value());
      manifest += path + '\0' + hex(in.node) + (flag ? std::string(1, flag) : "") + "\n";
    }
    Bytes mtext = bytes(manifest);
    auto min = full(mtext);
    REQUIRE(writer->manifestlog().add(min).has_value());
    Bytes ctext = bytes(hex(min.node) + "\ntest\n0 0\n\nhostile");
    REQUIRE(writer->changelog().add(full(ctext)).has_value());
    REQUIRE(writer->commit().has_value());
  };
  auto checkout_error = [&] {
    auto repo = Repository::open(root);
    REQUIRE(repo.has_value());
    auto snap = repo->snapshot();
    REQUIRE(snap.has_value());
    auto result = check_out(*snap, 0, root);
    return result ? std::string("checked out") : result.error().message;
  };

  SUBCASE("a file under a symlink") {
    commit({{"a", 'l', outside.string()}, {"a/b", '\0', "escaped\n"}});
    CHECK(checkout_error() == "path 'a/b' traverses symbolic link 'a'");
    CHECK(fs::is_empty(outside));
  }
  SUBCASE("a file in .hg is refused before anything is written") {
    auto writer = RepositoryWriter::open(root);
    REQUIRE(writer.has_value());
    auto fl = writer->filelog(".hg/hgrc");
    REQUIRE_FALSE(fl.has_value());
    CHECK(fl.error().message == "path contains illegal component: .hg/hgrc");
  }
}

}  // namespace hgrpc::store::test
