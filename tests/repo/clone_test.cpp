// The request sequence of a Mercurial 5.8.1 `hg clone` (notes §1.4), end to
// end through server::BodyProcessor with our client reactor: every revision
// is rebuilt from what was received and its node hash checked, the way the
// 5.8 client's addgroup checks it. This is what proves a client can clone.
#include <set>

#include "framing/client_reactor.hpp"
#include "server/capabilities.hpp"
#include "store/manifest.hpp"
#include "tests/repo/in_process_server.hpp"
#include "tests/repo/repo_support.hpp"

using namespace repo_test;
namespace fr = hgrpc::framing;

namespace {

struct Client {
  const srv::CommandRegistry& registry;
  fr::ClientReactorOptions options;
  std::size_t requests = 0;

  // One HTTP request: the given commands in one body; the values of each.
  std::vector<std::vector<json>> post(const std::vector<std::pair<std::string, json>>& commands) {
    fr::ClientReactor reactor(options);
    fr::Bytes body;
    std::vector<std::uint16_t> ids;
    for (const auto& [name, args] : commands) {
      auto id = reactor.call_command(name, args, body);
      REQUIRE(id);
      ids.push_back(*id);
    }
    const fr::Bytes out =
        serve_body(registry, commands.size() == 1 ? commands[0].first : std::string(srv::kMultiRequest), body);
    ++requests;
    std::map<std::uint16_t, std::vector<json>> values;
    std::set<std::uint16_t> ended;
    for (auto& ev : response_events(reactor, out)) {
      if (auto* v = std::get_if<fr::ResponseValue>(&ev)) values[v->request_id].push_back(std::move(v->value));
      if (auto* e = std::get_if<fr::ResponseEnd>(&ev)) ended.insert(e->request_id);
      if (auto* e = std::get_if<fr::CommandError>(&ev)) FAIL("command error: " << e->error.dump());
      if (auto* e = std::get_if<fr::ProtocolError>(&ev)) FAIL("protocol error: " << e->message);
      if (std::get_if<fr::ErrorResponse>(&ev)) FAIL("error response");
    }
    CHECK_FALSE(reactor.on_input_end());
    std::vector<std::vector<json>> answers;
    for (auto id : ids) {
      CHECK(ended.contains(id));  // every response ends with EOS
      answers.push_back(values[id]);
    }
    return answers;
  }
};

json tagged_set(std::initializer_list<const char*> items) { return hgrpc::framing::cbor_set(set_of(items)); }

// Clones `name` and checks everything; returns the number of HTTP requests.
std::size_t clone_and_verify(const std::string& name, repo::RepoCommandOptions options) {
  const json& o = oracle(name);
  srv::CommandRegistry registry = srv::CommandRegistry::standard();
  repo::register_repository_commands(registry, open_repo(name), options);
  const json descriptor = srv::capabilities_map(registry, srv::CommandLimits{});
  const json& commands = descriptor.at("commands");
  for (const char* c : {"heads", "known", "changesetdata", "manifestdata", "filesdata"}) REQUIRE(commands.contains(c));
  const std::size_t manifest_batch = commands.at("manifestdata").at("recommendedbatchsize").get<std::size_t>();
  const std::size_t files_batch = commands.at("filesdata").at("recommendedbatchsize").get<std::size_t>();

  Client client{registry, {}};
  // Discovery: heads + known of the (empty) local repository.
  auto first = client.post({{"heads", json::object()}, {"known", {{"nodes", json::array()}}}});
  REQUIRE(first[0].size() == 1);
  CHECK(first[1] == std::vector<json>{cbor_bytes("")});
  std::vector<std::string> heads;
  for (const auto& h : first[0][0]) {
    if (hex_of(h) != std::string(40, '0')) heads.push_back(hex_of(h));
  }
  std::sort(heads.begin(), heads.end());

  // changesetdata: the whole DAG.
  auto cs = client.post({{"changesetdata",
                          {{"revisions", json::array({{{"type", cbor_bytes("changesetdagrange")}, {"roots", json::array()},
                                                       {"heads", node_list(heads)}}})},
                           {"fields", tagged_set({"bookmarks", "parents", "phase", "revision"})}}}})[0];
  REQUIRE(!cs.empty());
  const std::size_t total = cs[0].at("totalitems").get<std::size_t>();
  std::set<std::string> have_cs{std::string(40, '0')};
  std::vector<std::string> cs_order, manifests;
  std::set<std::string> manifest_seen;
  std::map<std::string, std::string> remote_marks;
  for (std::size_t pos = 1; pos < cs.size();) {
    const json& rec = cs[pos++];
    if (rec.contains("bookmarks"))
      for (const auto& b : rec.at("bookmarks")) remote_marks[str_of(b)] = hex_of(rec.at("node"));
    if (!rec.contains("fieldsfollowing")) continue;
    const auto& text = cs[pos++].get_binary();
    const std::string node = hex_of(rec.at("node"));
    const std::string p1 = hex_of(rec.at("parents")[0]), p2 = hex_of(rec.at("parents")[1]);
    CHECK(have_cs.contains(p1));
    CHECK(have_cs.contains(p2));
    CHECK(store::hex(store::hash_revision(*store::unhex(p1), *store::unhex(p2), text)) == node);
    have_cs.insert(node);
    cs_order.push_back(node);
    const std::string m(text.begin(), text.begin() + 40);
    if (m != std::string(40, '0') && manifest_seen.insert(m).second) manifests.push_back(m);
  }
  CHECK(cs_order.size() == total);
  CHECK(total == o.at("changesets").size());
  CHECK(remote_marks == o.at("listkeys").at("bookmarks").get<std::map<std::string, std::string>>());

  // manifestdata in batches; the client's link map: file node -> path.
  std::map<std::string, store::Bytes> manifest_texts;
  std::set<std::pair<std::string, std::string>> file_links;
  for (std::size_t start = 0; start < manifests.size(); start += manifest_batch) {
    std::vector<std::string> batch(manifests.begin() + static_cast<long>(start),
                                   manifests.begin() + static_cast<long>(std::min(manifests.size(), start + manifest_batch)));
    auto md = client.post({{"manifestdata", {{"tree", cbor_bytes("")}, {"nodes", node_list(batch)},
                                             {"fields", tagged_set({"parents", "revision"})}, {"haveparents", true}}}})[0];
    REQUIRE(md[0] == json{{"totalitems", batch.size()}});
    std::size_t pos = 1;
    Rebuilt r = rebuild(md, pos, batch.size(), manifest_texts);
    CHECK(pos == md.size());
    for (const auto& n : r.nodes) {
      auto parsed = store::Manifest::parse(manifest_texts.at(n));
      REQUIRE(parsed);
      for (const auto& e : parsed->entries()) file_links.emplace(e.path, store::hex(e.node));
    }
  }
  CHECK(manifest_texts.size() == manifests.size());

  // filesdata in batches of changesets; every file node must be one the
  // client can link (else 5.8 aborts), each sent once.
  std::map<std::string, store::Bytes> file_texts;
  std::set<std::pair<std::string, std::string>> received;
  for (std::size_t start = 0; start < cs_order.size(); start += files_batch) {
    std::vector<std::string> batch(cs_order.begin() + static_cast<long>(start),
                                   cs_order.begin() + static_cast<long>(std::min(cs_order.size(), start + files_batch)));
    auto fd = client.post({{"filesdata", {{"revisions", json::array({{{"type", cbor_bytes("changesetexplicit")},
                                                                      {"nodes", node_list(batch)}}})},
                                          {"fields", tagged_set({"parents", "revision"})}, {"haveparents", true}}}})[0];
    const std::size_t paths = fd[0].at("totalpaths").get<std::size_t>();
    std::size_t pos = 1, items = 0;
    for (std::size_t p = 0; p < paths; ++p) {
      const std::string path = str_of(fd[pos].at("path"));
      const std::size_t n = fd[pos++].at("totalitems").get<std::size_t>();
      items += n;
      Rebuilt r = rebuild(fd, pos, n, file_texts);
      for (const auto& node : r.nodes) {
        CHECK_MESSAGE(file_links.contains({path, node}), "unlinkable file node " << path << "@" << node);
        CHECK(received.emplace(path, node).second);
        CHECK(sha1_hex(file_texts.at(node)) == o.at("files").at(path).at(node).at("sha1").get<std::string>());
      }
    }
    CHECK(pos == fd.size());
    CHECK(items == fd[0].at("totalitems").get<std::size_t>());
  }
  CHECK(received == file_links);  // nothing missing
  return client.requests;
}

}  // namespace

TEST_CASE("repo: a 5.8.1 clone sequence through BodyProcessor rebuilds every revision") {
  for (std::string name : {"zstd", "zlib"}) {
    CAPTURE(name);
    CHECK(clone_and_verify(name, {}) == 4);  // + the capabilities GET = 5
    // Small batches: several manifestdata and filesdata requests, deltas across them.
    repo::RepoCommandOptions small;
    small.manifestdata_batch_size = 7;
    small.filesdata_batch_size = 10;
    CHECK(clone_and_verify(name, small) == 2 + 7 + 5);
  }
}

TEST_CASE("repo: a 5.8.1 clone of an empty repository ends after changesetdata") {
  srv::CommandRegistry registry = srv::CommandRegistry::standard();
  repo::register_repository_commands(registry, open_repo("empty"));
  Client client{registry, {}};
  auto first = client.post({{"heads", json::object()}, {"known", {{"nodes", json::array()}}}});
  CHECK(first[0] == std::vector<json>{json::array({cbor_bytes(std::string(20, '\0'))})});
  auto cs = client.post({{"changesetdata",
                          {{"revisions", json::array({{{"type", cbor_bytes("changesetdagrange")}, {"roots", json::array()},
                                                       {"heads", json::array()}}})},
                           {"fields", tagged_set({"bookmarks", "parents", "phase", "revision"})}}}})[0];
  CHECK(cs == std::vector<json>{json{{"totalitems", 0}}});
}
