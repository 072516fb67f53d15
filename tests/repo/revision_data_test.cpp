// manifestdata, filedata, filesdata: the exact set and order of revisions,
// parents, linknodes and (after applying the deltas we send) the rawtexts
// Mercurial has; removals and renames; the haveparents rule; path filters.
#include <set>

#include "tests/repo/repo_support.hpp"

using namespace repo_test;

namespace {

json dagrange(const std::vector<std::string>& roots, const std::vector<std::string>& heads) {
  return json::array({{{"type", cbor_bytes("changesetdagrange")}, {"roots", node_list(roots)}, {"heads", node_list(heads)}}});
}
json explicit_nodes(const std::vector<std::string>& nodes) {
  return json::array({{{"type", cbor_bytes("changesetexplicit")}, {"nodes", node_list(nodes)}}});
}

std::string cs_node(const json& o, int rev) { return o.at("changesets")[static_cast<std::size_t>(rev)].at("node").get<std::string>(); }

using PathNodes = std::set<std::pair<std::string, std::string>>;

// Every (path, file node) in the manifests of `revs`.
PathNodes manifest_pairs(const json& o, const std::vector<int>& revs) {
  PathNodes out;
  for (int r : revs) {
    for (const auto& [p, n] : o.at("manifest_entries").at(cs_node(o, r)).items()) out.emplace(p, n.get<std::string>());
  }
  return out;
}

// Decodes a filesdata answer, rebuilding every revision; returns what was sent.
PathNodes decode_filesdata(const json& o, const srv::CommandOutput& out, std::map<std::string, store::Bytes>& texts,
                           std::map<std::string, std::string>* linknodes = nullptr) {
  PathNodes sent;
  const std::size_t total = out.at(0).at("totalitems").get<std::size_t>();
  const std::size_t paths = out.at(0).at("totalpaths").get<std::size_t>();
  std::size_t pos = 1, items = 0;
  std::string previous_path;
  for (std::size_t p = 0; p < paths; ++p) {
    REQUIRE(pos < out.size());
    const json& header = out[pos++];
    const std::string path = str_of(header.at("path"));
    CAPTURE(path);
    CHECK(path > previous_path);  // sorted
    previous_path = path;
    const std::size_t n = header.at("totalitems").get<std::size_t>();
    Rebuilt r = rebuild(out, pos, n, texts);
    items += n;
    const json& revs = o.at("files").at(path);
    int last_rev = -1;
    for (const auto& node : r.nodes) {
      const json& want = revs.at(node);
      CHECK(want.at("rev").get<int>() > last_rev);  // filelog order
      last_rev = want.at("rev").get<int>();
      CHECK(sha1_hex(texts.at(node)) == want.at("sha1").get<std::string>());
      CHECK(hex_of(r.records[node].at("parents")[0]) == want.at("p1").get<std::string>());
      CHECK(hex_of(r.records[node].at("parents")[1]) == want.at("p2").get<std::string>());
      if (linknodes) (*linknodes)[path + "@" + node] = hex_of(r.records[node].at("linknode"));
      CHECK(sent.emplace(path, node).second);
    }
  }
  CHECK(pos == out.size());
  CHECK(items == total);
  return sent;
}

}  // namespace

TEST_CASE("repo: manifestdata of a clone rebuilds every manifest Mercurial has") {
  // names: one manifest's linkrev is a secret changeset, a draft one uses it too.
  for (std::string name : {"zstd", "zlib", "names"}) {
    for (bool haveparents : {true, false}) {
      CAPTURE(name);
      CAPTURE(haveparents);
      const json& o = oracle(name);
      auto reg = registry_for(name);
      // As the client asks: in changelog order, deduplicated.
      std::vector<std::string> nodes;
      std::set<std::string> seen;
      for (const auto& c : o.at("changesets")) {
        auto m = c.at("manifest").get<std::string>();
        if (seen.insert(m).second) nodes.push_back(m);
      }
      auto out = ok(reg, "manifestdata", {{"tree", cbor_bytes("")}, {"nodes", node_list(nodes)},
                                          {"fields", set_of({"parents", "revision"})}, {"haveparents", haveparents}});
      REQUIRE(out[0] == json{{"totalitems", nodes.size()}});
      std::map<std::string, store::Bytes> texts;
      std::size_t pos = 1;
      Rebuilt r = rebuild(out, pos, nodes.size(), texts);
      CHECK(pos == out.size());
      int last = -1;
      for (const auto& n : r.nodes) {
        const json& want = o.at("manifests").at(n);
        CHECK(want.at("rev").get<int>() > last);
        last = want.at("rev").get<int>();
        CHECK(sha1_hex(texts.at(n)) == want.at("sha1").get<std::string>());
        CHECK(hex_of(r.records[n].at("parents")[0]) == want.at("p1").get<std::string>());
      }
      CHECK(std::set<std::string>(r.nodes.begin(), r.nodes.end()) == seen);
      // The first manifest has no parent: a full text; later ones go as deltas.
      CHECK(str_of(r.records[r.nodes[0]].at("fieldsfollowing")[0][0]) == "revision");
      CHECK(str_of(r.records[r.nodes[5]].at("fieldsfollowing")[0][0]) == "delta");
    }
  }
}

TEST_CASE("repo: manifestdata with haveparents sends deltas against parents the client has") {
  const json& o = oracle("zstd");
  auto reg = registry_for("zstd");
  // Only manifest 20: its parent (19) is the client's; everything must rebuild from it.
  auto m19 = o.at("changesets")[19].at("manifest").get<std::string>();
  auto m20 = o.at("changesets")[20].at("manifest").get<std::string>();
  auto out = ok(reg, "manifestdata", {{"tree", cbor_bytes("")}, {"nodes", node_list({m20})},
                                      {"fields", set_of({"parents", "revision"})}, {"haveparents", true}});
  REQUIRE(out.size() == 3);
  CHECK(hex_of(out[1].at("deltabasenode")) == m19);
  // Without haveparents the same request is a full text.
  auto full = ok(reg, "manifestdata", {{"tree", cbor_bytes("")}, {"nodes", node_list({m20})},
                                       {"fields", set_of({"parents", "revision"})}});
  CHECK_FALSE(full[1].contains("deltabasenode"));
  std::map<std::string, store::Bytes> texts;
  std::size_t pos = 1;
  rebuild(full, pos, 1, texts, false);
  CHECK(sha1_hex(texts.at(m20)) == o.at("manifests").at(m20).at("sha1").get<std::string>());
  CHECK(fails(reg, "manifestdata", {{"tree", cbor_bytes("")}, {"nodes", node_list({std::string(40, 'a')})}}) ==
        "unknown node: " + std::string(40, 'a'));
  CHECK(fails(reg, "manifestdata", {{"tree", cbor_bytes("dir/")}, {"nodes", json::array()}}) ==
        "unknown tree: dir/ (tree manifests are not served)");
  CHECK(fails(reg, "manifestdata", {{"tree", cbor_bytes("")}}) == "missing required argument: nodes");
}

TEST_CASE("repo: filesdata of a full clone sends every file revision of the served manifests") {
  for (std::string name : {"zstd", "zlib"}) {
    CAPTURE(name);
    const json& o = oracle(name);
    auto reg = registry_for(name);
    const auto heads = o.at("heads").get<std::vector<std::string>>();
    std::vector<int> all;
    for (std::size_t r = 0; r < o.at("changesets").size(); ++r) all.push_back(static_cast<int>(r));
    const PathNodes want = manifest_pairs(o, all);
    // What a 5.8 clone sends: changesetexplicit of every changeset, haveparents.
    std::vector<std::string> nodes;
    for (int r : all) nodes.push_back(cs_node(o, r));
    auto out = ok(reg, "filesdata", {{"revisions", explicit_nodes(nodes)}, {"fields", set_of({"parents", "revision"})},
                                     {"haveparents", true}});
    std::map<std::string, store::Bytes> texts;
    CHECK(decode_filesdata(o, out, texts) == want);
    // Shallow (no haveparents): the same set, and linknodes the first changeset naming each.
    auto shallow = ok(reg, "filesdata", {{"revisions", dagrange({}, heads)},
                                         {"fields", set_of({"linknode", "parents", "revision", "firstchangeset"})}});
    std::map<std::string, store::Bytes> texts2;
    std::map<std::string, std::string> links;
    CHECK(decode_filesdata(o, shallow, texts2, &links) == want);
    std::map<std::string, std::string> want_links;
    for (int r : all) {
      for (const auto& [p, n] : o.at("manifest_entries").at(cs_node(o, r)).items())
        want_links.emplace(p + "@" + n.get<std::string>(), cs_node(o, r));
    }
    CHECK(links == want_links);
  }
}

TEST_CASE("repo: filesdata of every changeset: the linkrev fast path answers as the general selection") {
  for (std::string name : {"zstd", "zlib", "names", "empty"}) {
    CAPTURE(name);
    const json& o = oracle(name);
    auto fast = registry_for(name);
    repo::RepoCommandOptions general_options;
    general_options.filesdata_whole_repository_fast_path = false;
    auto general = registry_for(name, general_options);
    std::vector<std::string> nodes;
    for (std::size_t r = 0; r < o.at("changesets").size(); ++r) nodes.push_back(cs_node(o, static_cast<int>(r)));
    for (const json& fields : {set_of({"linknode", "parents", "revision"}), set_of({"linknode"}), set_of({})}) {
      CAPTURE(fields.dump());
      const json args{{"revisions", explicit_nodes(nodes)}, {"fields", fields}, {"haveparents", true}};
      CHECK(ok(fast, "filesdata", args) == ok(general, "filesdata", args));
      json filtered = args;
      filtered["pathfilter"] = {{"include", json::array({cbor_bytes("path:dir")})}};
      CHECK(ok(fast, "filesdata", filtered) == ok(general, "filesdata", filtered));
    }
  }
  // The limit holds on the fast path too.
  repo::RepoCommandOptions few;
  few.max_file_revisions = 2;
  auto limited = registry_for("zstd", few);
  std::vector<std::string> nodes;
  for (std::size_t r = 0; r < oracle("zstd").at("changesets").size(); ++r) nodes.push_back(cs_node(oracle("zstd"), static_cast<int>(r)));
  CHECK(fails(limited, "filesdata", {{"revisions", explicit_nodes(nodes)}, {"fields", set_of({})}, {"haveparents", true}}) ==
        "too many file revisions requested (limit 2)");
}

TEST_CASE("repo: filesdata on a changeset that removes, renames and copies files (5.8 fails here)") {
  const json& o = oracle("zstd");
  auto reg = registry_for("zstd");
  auto out = ok(reg, "filesdata", {{"revisions", explicit_nodes({cs_node(o, 42)})},
                                   {"fields", set_of({"parents", "revision"})}, {"haveparents", true}});
  // Rev 42 lists acopy.txt, bin.dat (removed), dir/D.txt, dir/Sub/C.txt (removed).
  REQUIRE(out[0] == json{{"totalitems", 2}, {"totalpaths", 2}});
  CHECK(str_of(out[1].at("path")) == "acopy.txt");
  CHECK(str_of(out[4].at("path")) == "dir/D.txt");
  // The copy's rawtext carries its copy metadata and goes out whole (its p1 is null).
  const auto& data = out[3].get_binary();
  CHECK(std::string(data.begin(), data.end()).starts_with("\x01\ncopy: a.txt\ncopyrev: "));
}

TEST_CASE("repo: filesdata of an incremental pull sends exactly what the new manifests introduce") {
  const json& o = oracle("zstd");
  auto reg = registry_for("zstd");
  const auto heads = o.at("heads").get<std::vector<std::string>>();
  // The client has 0..45; the merge 46 takes feature's f.txt (the p2 entry):
  // that node is not new and must not be sent (notes §7.11).
  std::vector<int> common, fresh;
  for (int r = 0; r <= 45; ++r) common.push_back(r);
  for (int r = 46; r <= 48; ++r) fresh.push_back(r);
  std::vector<std::string> nodes;
  for (int r : fresh) nodes.push_back(cs_node(o, r));
  auto out = ok(reg, "filesdata", {{"revisions", explicit_nodes(nodes)}, {"fields", set_of({"parents", "revision"})},
                                   {"haveparents", true}});
  PathNodes have = manifest_pairs(o, common);
  PathNodes wanted;
  for (const auto& pn : manifest_pairs(o, fresh)) {
    if (!have.contains(pn)) wanted.insert(pn);
  }
  // The client has the texts of the common revisions.
  std::map<std::string, store::Bytes> texts;
  for (const auto& [path, node] : have) {
    auto fl = open_repo("zstd")->snapshot()->filelog(path);
    REQUIRE(fl);
    auto text = fl->rawtext(*fl->rev(*store::unhex(node)));
    REQUIRE(text);
    texts[node] = **text;
  }
  PathNodes sent = decode_filesdata(o, out, texts);
  CHECK(sent == wanted);
  const std::string f_feature = o.at("manifest_entries").at(cs_node(o, 44)).at("f.txt").get<std::string>();
  CHECK_FALSE(sent.contains({"f.txt", f_feature}));
}

TEST_CASE("repo: filesdata path filters: path:, rootfilesin:, excludes, bad patterns are errors") {
  const json& o = oracle("zstd");
  auto reg = registry_for("zstd");
  auto paths_of = [&](const json& filter) {
    auto out = ok(reg, "filesdata", {{"revisions", explicit_nodes({cs_node(o, 0)})}, {"pathfilter", filter}});
    std::vector<std::string> paths;
    for (const auto& rec : out) {
      if (rec.contains("path")) paths.push_back(str_of(rec.at("path")));
    }
    return paths;
  };
  CHECK(paths_of({{"include", set_of({"path:dir"})}}) == std::vector<std::string>{"dir/Sub/C.txt"});
  CHECK(paths_of({{"include", set_of({"rootfilesin:aux", "path:dir.i"})}}) == std::vector<std::string>{"aux/x", "dir.i/f"});
  auto all_but = paths_of({{"include", set_of({"path:."})}, {"exclude", set_of({"rootfilesin:", "path:very"})}});
  CHECK(all_but == std::vector<std::string>{"Upper/Case.txt", "aux/x", "dir.i/f", "dir/Sub/C.txt"});
  CHECK(fails(reg, "filesdata", {{"revisions", json::array()}, {"pathfilter", {{"include", set_of({"glob:*.txt"})}}}}) ==
        "include pattern must begin with `path:` or `rootfilesin:`; got glob:*.txt");
  CHECK(fails(reg, "filesdata", {{"revisions", json::array()}, {"fields", set_of({"size"})}}) ==
        "unsupported value for argument fields: size (valid values: firstchangeset, linknode, parents, revision)");
}

TEST_CASE("repo: filedata: revisions of one file, linknodes, unknown file and node") {
  const json& o = oracle("zstd");
  auto reg = registry_for("zstd");
  const json& revs = o.at("files").at("big.txt");
  std::vector<std::pair<int, std::string>> by_rev;
  for (const auto& [n, r] : revs.items()) by_rev.emplace_back(r.at("rev").get<int>(), n);
  std::sort(by_rev.begin(), by_rev.end());
  REQUIRE(by_rev.size() >= 3);
  // Asked in reverse order: sent in filelog order.
  std::vector<std::string> nodes;
  for (auto it = by_rev.rbegin(); it != by_rev.rend(); ++it) nodes.push_back(it->second);
  auto out = ok(reg, "filedata", {{"path", cbor_bytes("big.txt")}, {"nodes", node_list(nodes)},
                                  {"fields", set_of({"linknode", "parents", "revision"})}});
  REQUIRE(out[0] == json{{"totalitems", nodes.size()}});
  std::map<std::string, store::Bytes> texts;
  std::size_t pos = 1;
  Rebuilt r = rebuild(out, pos, nodes.size(), texts);
  for (std::size_t i = 0; i < by_rev.size(); ++i) {
    const std::string& n = by_rev[i].second;
    CHECK(r.nodes[i] == n);
    CHECK(sha1_hex(texts.at(n)) == revs.at(n).at("sha1").get<std::string>());
    CHECK(texts.at(n).size() == revs.at(n).at("size").get<std::size_t>());
    CHECK(hex_of(r.records[n].at("linknode")) == revs.at(n).at("linknode").get<std::string>());
  }
  CHECK(texts.at(by_rev[0].second).size() > (std::size_t{2} << 20));  // the 3 MiB file
  CHECK(fails(reg, "filedata", {{"path", cbor_bytes("nope.txt")}, {"nodes", json::array()}}) == "unknown file: nope.txt");
  CHECK(fails(reg, "filedata", {{"path", cbor_bytes("big.txt")}, {"nodes", node_list({std::string(40, 'b')})}}) ==
        "unknown file node: " + std::string(40, 'b'));
}

TEST_CASE("repo: filedata linknodes: the linkrev if served, else the served changeset introducing the node") {
  // names: dup.txt's only revision has a secret linkrev (5.8 fails on it);
  // a draft changeset introduces the same node later.
  for (std::string name : {"zstd", "names"}) {
    CAPTURE(name);
    const json& o = oracle(name);
    auto reg = registry_for(name);
    for (const auto& file : o.at("files").items()) {
      const std::string path = file.key();
      CAPTURE(path);
      std::vector<std::string> nodes;
      for (const auto& n : file.value().items()) nodes.push_back(n.key());
      auto out = ok(reg, "filedata", {{"path", cbor_bytes(path)}, {"nodes", node_list(nodes)},
                                      {"fields", set_of({"linknode"})}});
      REQUIRE(out.size() == nodes.size() + 1);
      for (std::size_t i = 1; i < out.size(); ++i) {
        const json& want = file.value().at(hex_of(out[i].at("node")));
        REQUIRE(want.at("served_linknode").is_string());
        CHECK(hex_of(out[i].at("linknode")) == want.at("served_linknode").get<std::string>());
      }
    }
  }
  const json& o = oracle("names");
  const json& dup = o.at("files").at("dup.txt").begin().value();
  CHECK(dup.at("linknode") != dup.at("served_linknode"));  // the case 5.8 gets wrong is there
  // A file revision only secret changesets have is not served at all.
  auto repo = open_repo("zstd");
  auto snap = repo->snapshot();
  REQUIRE(snap);
  auto secret = snap->filelog("s.txt");
  REQUIRE(secret);
  REQUIRE(secret->size() == 2);
  auto reg = registry_for("zstd");
  const std::string secret_node = store::hex(secret->node(0));
  CHECK(fails(reg, "filedata", {{"path", cbor_bytes("s.txt")}, {"nodes", node_list({secret_node})}}) ==
        "unknown file node: " + secret_node);
}

TEST_CASE("repo: manifestdata refuses a manifest only secret changesets use") {
  auto repo = open_repo("zstd");
  auto snap = repo->snapshot();
  REQUIRE(snap);
  REQUIRE_FALSE(snap->is_served(49));
  auto cs = snap->changeset(49);
  REQUIRE(cs);
  const std::string node = store::hex(cs->manifest);
  auto reg = registry_for("zstd");
  CHECK(fails(reg, "manifestdata", {{"tree", cbor_bytes("")}, {"nodes", node_list({node})}}) == "unknown node: " + node);
}

TEST_CASE("repo: corrupt store data is an error naming the file and the revision") {
  const fs::path copy = fs::path(HGRPC_BINARY_DIR) / ("repo_corrupt_copy." + std::to_string(::getpid()));
  fs::remove_all(copy);
  fs::copy(fixtures() / "zstd", copy, fs::copy_options::recursive | fs::copy_options::copy_symlinks);
  const fs::path data = copy / ".hg/store/data/random.bin.d";
  REQUIRE(fs::exists(data));
  {
    std::fstream f(data, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(fs::file_size(data) / 2));
    f.write("garbage!garbage!", 16);
  }
  auto r = store::Repository::open(copy);
  REQUIRE(r);
  srv::CommandRegistry reg;
  repo::register_repository_commands(reg, std::make_shared<const store::Repository>(std::move(*r)));
  const json& o = oracle("zstd");
  std::vector<std::string> nodes;
  for (const auto& [n, rev] : o.at("files").at("random.bin").items()) nodes.push_back(n);
  auto message = fails(reg, "filedata", {{"path", cbor_bytes("random.bin")}, {"nodes", node_list(nodes)},
                                         {"fields", set_of({"revision"})}});
  CAPTURE(message);
  CHECK(message.starts_with("data/random.bin.i: rev "));
  fs::remove_all(copy);
}
