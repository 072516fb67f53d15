// The text parsers on hand-written inputs: changelog entries and their
// escaped extras, manifests, file metadata, phaseroots, bookmarks, branch maps.
#include <doctest/doctest.h>

#include "store/bookmarks.hpp"
#include "store/branchmap.hpp"
#include "store/changelog.hpp"
#include "store/filelog.hpp"
#include "store/manifest.hpp"
#include "store/phases.hpp"
#include "tests/store/support.hpp"

namespace hgrpc::store::test {
namespace {
const std::string kNodeHex = "fec77a6d5c6f9e3fd8ac5c91d3c49f3bb8d4ab14";
}

TEST_CASE("a changelog entry with a branch extra (the notes' verified text)") {
  auto e = parse_changelog_entry(bytes(kNodeHex + "\ntest\n5 0 branch:feature\nf\n\nfeature"));
  REQUIRE(e.has_value());
  CHECK(hex(e->manifest) == kNodeHex);
  CHECK(e->user == "test");
  CHECK(e->time == 5);
  CHECK(e->timezone == 0);
  CHECK(e->branch() == "feature");
  CHECK_FALSE(e->closes_branch());
  CHECK(e->files == std::vector<std::string>{"f"});
  CHECK(e->description == "feature");
}

TEST_CASE("a changelog entry without files, extras or description") {
  auto e = parse_changelog_entry(bytes(kNodeHex + "\nu\n1.5 -3600\n\n"));
  REQUIRE(e.has_value());
  CHECK(e->time == 1.5);
  CHECK(e->timezone == -3600);
  CHECK(e->branch() == "default");
  CHECK(e->files.empty());
  CHECK(e->description.empty());
  auto null = parse_changelog_entry({});
  REQUIRE(null.has_value());
  CHECK(null->manifest == kNullNode);
  CHECK(null->branch() == "default");
}

TEST_CASE("escaped extras decode as Mercurial decodes them") {
  std::string extras = std::string("close:1") + '\0' + "k:a\\\\0b\\nc\\0" + '\0' + "x:\\x41\\101";
  auto e = parse_changelog_entry(bytes(kNodeHex + "\nu\n0 0 " + extras + "\n\nd"));
  REQUIRE(e.has_value());
  CHECK(e->closes_branch());
  CHECK(e->extras.at("k") == std::string("a\\0b\nc") + '\0');
  CHECK(e->extras.at("x") == "AA");
  CHECK(unescape_extra("a\\").error().message == "trailing backslash in extra");
  CHECK(unescape_extra("\\0123").value() == std::string("\0" "123", 4));
}

TEST_CASE("malformed changelog entries") {
  CHECK(parse_changelog_entry(bytes("abc\nuser\n")).error().message == "changelog entry has fewer than 3 lines");
  CHECK(parse_changelog_entry(bytes(kNodeHex + "\nu\n0 0\nf\n")).error().message ==
        "changelog entry has no blank line before its description");
  CHECK(parse_changelog_entry(bytes("xyz\nu\n0 0\n\n")).error().message ==
        "changelog entry's manifest node is not 40 hex digits");
  CHECK(parse_changelog_entry(bytes(kNodeHex + "\nu\nnow 0\n\n")).error().message ==
        "changelog entry's time 'now' is not a number");
  CHECK(parse_changelog_entry(bytes(kNodeHex + "\nu\n0 0 nocolon\n\n")).error().message ==
        "changelog extra 'nocolon' has no ':'");
}

// "<path>\0<node><flag>\n"
std::string mline(const std::string& path, const std::string& node_and_flag) {
  std::string out = path;
  out.push_back('\0');
  return out + node_and_flag + "\n";
}

TEST_CASE("manifests: flags, lookups and malformed lines with their offsets") {
  std::string text = mline("a", kNodeHex) + mline("b/c", kNodeHex + "x") + mline("d", kNodeHex + "l");
  auto m = Manifest::parse(bytes(text));
  REQUIRE(m.has_value());
  REQUIRE(m->entries().size() == 3);
  CHECK(m->find("b/c")->flag == 'x');
  CHECK(m->find("d")->flag == 'l');
  CHECK(m->find("a")->flag == '\0');
  CHECK(m->find("b") == nullptr);
  std::string line = mline("a", kNodeHex);  // 43 bytes: the next line starts at offset 43
  std::string unterminated = mline("b", kNodeHex);
  unterminated.pop_back();
  CHECK(Manifest::parse(bytes(line + unterminated)).error().message ==
        "manifest line at offset 43: no final newline");
  CHECK(Manifest::parse(bytes(line + "b " + kNodeHex + "\n")).error().message ==
        "manifest line at offset 43: no NUL after the path");
  CHECK(Manifest::parse(bytes(line + mline("b", kNodeHex + "t"))).error().message ==
        "manifest line at offset 43: unknown flag 't'");
  CHECK(Manifest::parse(bytes(line + mline("b", "abc"))).error().message ==
        "manifest line at offset 43: node is shorter than 40 hex digits");
  CHECK(Manifest::parse(bytes(line + mline("b", std::string(1, 'g') + kNodeHex.substr(1)))).error().message ==
        "manifest line at offset 43: node is not 40 hex digits");
  CHECK(Manifest::parse(bytes(line + line)).error().message ==
        "manifest line at offset 43: 'a' is not sorted after 'a'");
  CHECK(Manifest::parse(bytes(mline("", kNodeHex))).error().message == "manifest line at offset 0: empty path");
  CHECK(Manifest::parse({})->entries().empty());
}

TEST_CASE("file metadata: copies, an empty block, and malformed blocks") {
  std::string copy = "\x01\ncopy: a\ncopyrev: " + kNodeHex + "\n\x01\na1\n";
  auto f = parse_file_revision(bytes(copy));
  REQUIRE(f.has_value());
  CHECK(f->data_offset == copy.size() - 3);
  auto source = f->copy_source();
  REQUIRE(source.has_value());
  CHECK(source->first == "a");
  CHECK(hex(source->second) == kNodeHex);
  CHECK(parse_file_revision(bytes("plain\n"))->data_offset == 0);
  CHECK(parse_file_revision(bytes("\x01\ncopy: a\n")).error().message == "file metadata block has no end marker");
  CHECK(parse_file_revision(bytes("\x01\nbad\n\x01\n")).error().message ==
        "file metadata line at offset 2 has no ': '");
}

TEST_CASE("phaseroots and the phase of every rev") {
  Node n1{}, n3{};
  n1.fill(1);
  n3.fill(3);
  auto roots = parse_phaseroots("1 " + hex(n1) + "\n2 " + hex(n3) + "\n");
  REQUIRE(roots.has_value());
  REQUIRE(roots->size() == 2);
  // 0 <- 1 <- 2, 1 <- 3 <- 4, 0 <- 5
  std::vector<std::pair<int, int>> parents{{-1, -1}, {0, -1}, {1, -1}, {1, -1}, {3, -1}, {0, -1}};
  std::vector<Node> nodes(6);
  for (int i = 0; i < 6; ++i) nodes[static_cast<std::size_t>(i)].fill(static_cast<std::uint8_t>(i));
  auto rev_of = [&](const Node& n) -> std::optional<int> {
    for (int i = 0; i < 6; ++i) {
      if (nodes[static_cast<std::size_t>(i)] == n) return i;
    }
    return std::nullopt;
  };
  auto phases = compute_phases(parents, *roots, rev_of);
  CHECK(phases == std::vector<Phase>{kPublic, kDraft, kDraft, kSecret, kSecret, kPublic});
  // (the strings are built by append: g++ 12 misreads "1" + std::string under -Wrestrict)
  std::string unknown_phase = "7 ", no_space = "1";
  unknown_phase.append(hex(n1)).append("\n");
  no_space.append(hex(n1));
  CHECK(parse_phaseroots(unknown_phase).error().message == "phaseroots: line at offset 0: unknown phase 7");
  CHECK(parse_phaseroots(no_space).error().message == "phaseroots: line at offset 0: no space between phase and node");
  CHECK(parse_phaseroots("1 abc\n").error().message == "phaseroots: line at offset 0: node is not 40 hex digits");
  CHECK(phase_name(kArchived) == "archived");
  CHECK(reported_phase(kDraft, true) == kPublic);
  CHECK(reported_phase(kDraft, false) == kDraft);
}

TEST_CASE("bookmarks: malformed lines and unknown nodes are skipped") {
  Node known{};
  known.fill(7);
  std::string text = hex(known) + " book one\nnot-a-node name\n\n" + kNodeHex + " unknown\n " + hex(known) + " b2 \n";
  auto marks = parse_bookmarks(text, [&](const Node& n) { return n == known; });
  CHECK(marks == std::map<std::string, Node>{{"b2", known}, {"book one", known}});
}

TEST_CASE("branch heads: closed heads kept and flagged, merges end a branch's head") {
  std::string def = "default", feat = "feature";
  // 0 default, 1 feature (child of 0), 2 default (child of 0), 3 merge 2+1 on default,
  // 4 feature closing (child of 1)
  std::vector<BranchRev> revs{{0, -1, -1, &def, false}, {1, 0, -1, &feat, false}, {2, 0, -1, &def, false},
                              {3, 2, 1, &def, false}, {4, 1, -1, &feat, true}};
  auto map = compute_branchmap(revs);
  REQUIRE(map.size() == 2);
  REQUIRE(map["default"].size() == 1);
  CHECK(map["default"][0].rev == 3);
  REQUIRE(map["feature"].size() == 1);
  CHECK(map["feature"][0].rev == 4);
  CHECK(map["feature"][0].closed);
}

TEST_CASE("manifest_lookup: a malformed line found is an error with its offset, other lines are not read") {
  const std::string text = std::string("a\0", 2) + std::string(40, '1') + "\n" + std::string("b\0", 2) + "xyz\n" +
                           std::string("c\0", 2) + std::string(40, '3') + "x\n";
  auto bad = manifest_lookup(bytes(text), "b");
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().message == "manifest line at offset 43: node is shorter than 40 hex digits");
  auto c = manifest_lookup(bytes(text), "c");
  REQUIRE(c.has_value());
  REQUIRE(c->has_value());
  CHECK((*c)->flag == 'x');
  CHECK(hex((*c)->node) == std::string(40, '3'));
  auto unterminated = manifest_lookup(bytes(std::string("a\0", 2) + std::string(40, '1')), "a");
  REQUIRE_FALSE(unterminated.has_value());
  CHECK(unterminated.error().message == "manifest line at offset 0: no final newline");
  auto empty = manifest_lookup(bytes(""), "a");
  REQUIRE(empty.has_value());
  CHECK_FALSE(empty->has_value());
}

}  // namespace hgrpc::store::test
