// hgrpc clone's fetch-and-write logic (client/clone.*) in-process against the
// repository commands: the clone must be what `hg clone --pull -U` of the
// same source gives (hg verify, every revision's rawdata, hg log --debug,
// bookmarks, phases: tests/store/compare_repos.py), and its checkout what
// `hg update` writes. A server that sends a wrong text is refused and no
// DEST appears.
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "client/clone.hpp"
#include "server/capabilities.hpp"
#include "tests/repo/in_process_server.hpp"

using namespace repo_test;


TEST_CASE("clone: the client's clone equals hg clone --pull of the source, and its checkout hg update") {
  for (std::string name : {"zstd", "zlib"}) {
    CAPTURE(name);
    srv::CommandRegistry registry = srv::CommandRegistry::standard();
    repo::RepoCommandOptions options;
    options.manifestdata_batch_size = 7;  // several batches, deltas across them
    options.filesdata_batch_size = 10;
    repo::register_repository_commands(registry, open_repo(name), options);
    const json descriptor = srv::capabilities_map(registry, srv::CommandLimits{});
    fs::path dir = scratch("clone-" + name);
    fs::path dest = dir / "dest";
    cl::CloneOptions clone_options;
    clone_options.source_url = "http://127.0.0.1:1/";
    // filesdata asks by changesetdagrange: each batch's roots are the
    // previous batch's heads, the first batch's none.
    std::vector<json> filesdata_ranges;
    const cl::Exchange served = in_process(registry);
    const cl::Exchange exchange = [&](const std::vector<cl::Call>& calls) {
      for (const auto& c : calls) {
        if (c.command == "filesdata") filesdata_ranges.push_back(c.args.at("revisions"));
      }
      return served(calls);
    };
    auto summary = cl::clone_repository(exchange, descriptor, dest, clone_options);
    REQUIRE_MESSAGE(summary.has_value(), summary.error().message);
    CHECK(summary->requests == 2 + 7 + 5);
    REQUIRE(filesdata_ranges.size() == 5);
    json previous_heads = json::array();
    for (const json& r : filesdata_ranges) {
      REQUIRE(r.size() == 1);
      CHECK(r[0].at("type") == hgrpc::framing::cbor_bytes(std::string_view("changesetdagrange")));
      CHECK(r[0].at("roots") == previous_heads);
      CHECK_FALSE(r[0].at("heads").empty());
      previous_heads = r[0].at("heads");
    }
    CHECK(summary->changesets == oracle(name).at("changesets").size());
    CHECK(summary->checked_out_files > 0);

    fs::path ref = dir / "ref";
    std::string cmd = "HGRCPATH=/dev/null hg clone -q --pull -U " + shell_quote((fixtures() / name).string()) + " " +
                      shell_quote(ref.string());
    REQUIRE(std::system(cmd.c_str()) == 0);
    CHECK(compare("store", ref, dest) == "");
    CHECK(compare("checkout", ref, dest) == "");
    std::ifstream hgrc(dest / ".hg/hgrc");
    std::stringstream text;
    text << hgrc.rdbuf();
    CHECK(text.str() == "[paths]\ndefault = http://127.0.0.1:1/\n");
    std::set<std::string> left;
    for (const auto& e : fs::directory_iterator(dir)) left.insert(e.path().filename().string());
    CHECK(left == std::set<std::string>{"dest", "dest.checkout.log", "dest.store.log", "ref"});
    fs::remove_all(dir);  // the logs are in the failure messages
  }
}

TEST_CASE("clone: a server sending a wrong file text is refused and leaves no destination") {
  srv::CommandRegistry registry = srv::CommandRegistry::standard();
  repo::register_repository_commands(registry, open_repo("zlib"));
  const json descriptor = srv::capabilities_map(registry, srv::CommandLimits{});
  fs::path dir = scratch("clone-tampered");
  bool tampered = false;
  auto exchange = in_process(registry, [&](std::vector<json>& values) {
    // The first file revision sent in full: flip its first byte.
    for (std::size_t i = 0; i + 1 < values.size() && !tampered; ++i) {
      const json& rec = values[i];
      if (rec.is_object() && rec.contains("linknode") && rec.contains("fieldsfollowing") && !rec.contains("deltabasenode") &&
          values[i + 1].is_binary() && !values[i + 1].get_binary().empty()) {
        values[i + 1].get_binary()[0] ^= 0x20;
        tampered = true;
      }
    }
  });
  auto summary = cl::clone_repository(exchange, descriptor, dir / "dest", cl::CloneOptions{});
  REQUIRE(tampered);
  REQUIRE_FALSE(summary.has_value());
  CHECK(summary.error().kind == cl::ErrorKind::Protocol);
  CHECK(summary.error().message.find(": hash mismatch: the received text hashes to ") != std::string::npos);
  CHECK(summary.error().message.starts_with("data/"));
  CHECK(fs::is_empty(dir));  // neither dest nor its temporary directory
  fs::remove_all(dir);
}

TEST_CASE("clone -r: only those heads and their ancestors as hg clone -r") {
  srv::CommandRegistry registry = srv::CommandRegistry::standard();
  repo::register_repository_commands(registry, open_repo("zstd"));
  const json descriptor = srv::capabilities_map(registry, srv::CommandLimits{});
  fs::path dir = scratch("clone-rev");
  cl::CloneOptions options;
  options.checkout = false;
  options.revs = {"5", "2"};
  auto summary = cl::clone_repository(in_process(registry), descriptor, dir / "dest", options);
  REQUIRE_MESSAGE(summary.has_value(), summary.error().message);
  CHECK(summary->requests == 4);  // heads + known + 2 lookups; changesetdata; manifestdata; filesdata
  std::string cmd = "HGRCPATH=/dev/null hg clone -q --pull -U -r 5 -r 2 " + shell_quote((fixtures() / "zstd").string()) + " " +
                    shell_quote((dir / "ref").string());
  REQUIRE(std::system(cmd.c_str()) == 0);
  CHECK(compare("store", dir / "ref", dir / "dest") == "");
  CHECK(summary->changesets < oracle("zstd").at("changesets").size());

  options.revs = {"no-such-rev"};
  auto bad = cl::clone_repository(in_process(registry), descriptor, dir / "bad", options);
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().message == "lookup: unknown revision 'no-such-rev'");
  CHECK_FALSE(fs::exists(dir / "bad"));
  fs::remove_all(dir);
}
