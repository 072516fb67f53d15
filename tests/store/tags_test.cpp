// Tags files and the working directory's parent, on hand-written inputs. The
// expected values are what Debian's Mercurial (tags._readtags and
// tags._updatetags) gives for the same inputs.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "store/tags.hpp"
#include "store/working_parent.hpp"

namespace hgrpc::store::test {
namespace {

std::string raw(char c) { return std::string(20, c); }

std::string hex_of(const std::string& bytes) { return hex(as_bytes(bytes)); }

}  // namespace

TEST_CASE("tags: lines, line ends, history, and the lines Mercurial skips") {
  const std::string text = std::string(40, '1') + " a\r\n" + std::string(40, '2') + "  b \n\nbad line\n" +
                           std::string(40, '3') + " a\rzz b\n" + std::string(40, '4') + " b\r\n123 c\n00ff d\n";
  TagMap t = parse_tags(text);
  REQUIRE(t.size() == 3);
  CHECK(hex_of(t.at("a").node) == std::string(40, '3'));
  CHECK(t.at("a").history == std::vector<std::string>{std::string(20, '\x11')});
  CHECK(hex_of(t.at("b").node) == std::string(40, '4'));
  CHECK(t.at("b").history == std::vector<std::string>{std::string(20, '\x22')});
  // Even-length hex of any length is a value (that names no changeset).
  CHECK(t.at("d").node == std::string("\x00\xff", 2));
  CHECK(t.at("d").history.empty());
}

TEST_CASE("tags: a newer file wins unless the older value supersedes it") {
  const std::string A = raw('\1'), B = raw('\2'), C = raw('\3');
  auto merged = [](TagValue older, TagValue newer) {
    TagMap all{{"x", std::move(older)}};
    merge_tags(all, TagMap{{"x", std::move(newer)}});
    return all.at("x");
  };
  // The older value moved the tag away from the newer one: it stays.
  TagValue v = merged({B, {A}}, {A, {}});
  CHECK(v.node == B);
  CHECK(v.history == std::vector<std::string>{A});
  // Unrelated values: the newer (tip-most head) wins.
  v = merged({A, {}}, {B, {}});
  CHECK(v.node == B);
  CHECK(v.history.empty());
  // Each supersedes the other with equal histories: the newer wins.
  v = merged({B, {A}}, {A, {B}});
  CHECK(v.node == A);
  CHECK(v.history == std::vector<std::string>{B, A});
  // ... with a longer older history: the older wins.
  v = merged({B, {A, C}}, {A, {B}});
  CHECK(v.node == B);
  CHECK(v.history == std::vector<std::string>{B, A, C});
  // A name only one side has is kept as it is.
  TagMap all{{"old", {A, {}}}};
  merge_tags(all, TagMap{{"new", {C, {}}}});
  CHECK(all.size() == 2);
}

TEST_CASE("working_parent: dirstate v1 and v2, absent, empty and damaged") {
  const auto dir = std::filesystem::temp_directory_path() / ("hgrpc_dirstate." + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  RepositoryLayout layout;
  layout.hg_dir = dir;
  auto write = [&](const std::string& bytes) { std::ofstream(dir / "dirstate", std::ios::binary) << bytes; };
  auto p1 = working_parent(layout);
  REQUIRE(p1);
  CHECK(*p1 == kNullNode);
  write("");
  CHECK(working_parent(layout).value() == kNullNode);
  write(raw('\x5a') + raw('\x01') + "entries follow");
  CHECK(hex(working_parent(layout).value()) == "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a");
  write("short");
  auto damaged = working_parent(layout);
  REQUIRE_FALSE(damaged);
  CHECK(damaged.error().message == (dir / "dirstate").string() + ": working directory state appears damaged!");
  layout.requirements.insert("dirstate-v2");
  write("dirstate-v2\n" + raw('\x7e') + std::string(12, '\0') + raw('\x01') + std::string(12, '\0') +
        std::string(44, '\0'));
  CHECK(hex(working_parent(layout).value()) == hex_of(raw('\x7e')));
  write(raw('\x5a') + raw('\x01'));  // a v1 file where v2 is required
  CHECK(working_parent(layout).error().message == (dir / "dirstate").string() + ": no dirstate-v2 marker");
  std::filesystem::remove_all(dir);
}

}  // namespace hgrpc::store::test
