// The capabilities descriptor's entries of the repository commands,
// compared to the 5.8.1 reference descriptor (notes §1.3: `hg serve`'s
// answer, decoded), byte for byte after CBOR encoding; and the set argument.
#include "framing/cbor.hpp"
#include "tests/repo/repo_support.hpp"

using namespace repo_test;
namespace fr = hgrpc::framing;

namespace {

json bytes(const char* s) { return cbor_bytes(s); }
// A CBOR set written out by hand: tag 258 (d9 0102) over the array.
json set(std::initializer_list<const char*> items) {
  fr::Bytes out{0xD9, 0x01, 0x02};
  fr::cbor_encode(set_of(items), out);
  return fr::cbor_pre_encoded(std::move(out));
}
json arg(const char* type, bool required) { return {{"type", bytes(type)}, {"required", required}}; }
json opt(const char* type, json def) { return {{"type", bytes(type)}, {"required", false}, {"default", std::move(def)}}; }
json fields(std::initializer_list<const char*> valid) {
  json f = opt("set", set({}));
  f["validvalues"] = set(valid);
  return f;
}
json entry(json args) { return {{"args", std::move(args)}, {"permissions", json::array({bytes("pull")})}}; }

std::string hex(const fr::Bytes& b) { return store::hex(store::ByteView(b.data(), b.size())); }

}  // namespace

TEST_CASE("repo: the repository commands are advertised exactly as Mercurial 5.8.1 does") {
  std::map<std::string, json> reference;
  reference["branchmap"] = entry(json::object());
  reference["changesetdata"] =
      entry({{"fields", fields({"bookmarks", "parents", "phase", "revision"})}, {"revisions", arg("list", true)}});
  reference["filedata"] = entry({{"fields", fields({"linknode", "parents", "revision"})},
                                 {"haveparents", opt("bool", false)},
                                 {"nodes", arg("list", true)},
                                 {"path", arg("bytes", true)}});
  reference["filesdata"] = entry({{"fields", fields({"firstchangeset", "linknode", "parents", "revision"})},
                                  {"haveparents", opt("bool", false)},
                                  {"pathfilter", opt("dict", nullptr)},
                                  {"revisions", arg("list", true)}});
  reference["filesdata"]["recommendedbatchsize"] = 50000;
  reference["heads"] = entry({{"publiconly", opt("bool", false)}});
  reference["known"] = entry({{"nodes", opt("list", json::array())}});
  reference["listkeys"] = entry({{"namespace", arg("bytes", true)}});
  reference["lookup"] = entry({{"key", arg("bytes", true)}});
  reference["manifestdata"] = entry({{"fields", fields({"parents", "revision"})},
                                     {"haveparents", opt("bool", false)},
                                     {"nodes", arg("list", true)},
                                     {"tree", arg("bytes", true)}});
  reference["manifestdata"]["recommendedbatchsize"] = 100000;

  auto reg = registry_for("empty");
  const json commands = reg.commands_capability();
  CHECK(commands.size() == reference.size());  // neither rawstorefiledata nor pushkey
  for (const auto& entry : reference) {
    const auto& name = entry.first;  // plain names: clang 14 cannot capture a binding in CAPTURE
    const auto& want = entry.second;
    CAPTURE(name);
    REQUIRE(commands.contains(name));
    CHECK(hex(fr::cbor_encode(commands.at(name))) == hex(fr::cbor_encode(want)));
  }
  // One entry spelled out: manifestdata's fields argument.
  CHECK(hex(fr::cbor_encode(commands.at("manifestdata").at("args").at("fields"))) ==
        "a4"
        "4764656661756c74" "d9010280"                                       // default: set()
        "487265717569726564" "f4"                                           // required: False
        "4474797065" "43736574"                                             // type: set
        "4b76616c696476616c756573" "d9010282" "47706172656e7473" "487265766973696f6e");  // validvalues
}

TEST_CASE("repo: a set argument takes a list or a tag-258 set and checks validvalues") {
  auto reg = registry_for("zstd");
  const json& o = oracle("zstd");
  json revisions = json::array({{{"type", bytes("changesetexplicit")}, {"nodes", node_list({o.at("changesets")[0].at("node").get<std::string>()})}}});
  // A set decodes to an array: both spellings reach the command the same way.
  auto decoded = fr::cbor_decode_all(fr::cbor_encode(set({"parents"})));
  REQUIRE(decoded);
  auto as_list = ok(reg, "changesetdata", {{"revisions", revisions}, {"fields", set_of({"parents"})}});
  auto as_set = ok(reg, "changesetdata", {{"revisions", revisions}, {"fields", (*decoded)[0]}});
  CHECK(as_list == as_set);
  CHECK(as_list[1].contains("parents"));
  CHECK(fails(reg, "changesetdata", {{"revisions", revisions}, {"fields", bytes("parents")}}) ==
        "argument fields: expected set, got bytes");
  CHECK(fails(reg, "changesetdata", {{"revisions", revisions}, {"fields", json::array({1})}}) ==
        "argument fields: element 0: expected bytes, got int");
}

TEST_CASE("repo: a response over the output limit is a command error, not a truncated answer") {
  auto reg = registry_for("zstd");
  const json& o = oracle("zstd");
  const srv::CommandSpec* spec = reg.find("filedata");
  REQUIRE(spec);
  std::vector<std::string> nodes;
  for (const auto& [n, r] : o.at("files").at("big.txt").items()) nodes.push_back(n);
  srv::CommandLimits limits;
  limits.max_output_bytes = 1 << 20;  // the 3 MiB file does not fit
  auto r = reg.run(*spec, {{"path", bytes("big.txt")}, {"nodes", node_list(nodes)}, {"fields", set_of({"revision"})}},
                   std::nullopt, limits);
  REQUIRE_FALSE(r);
  CHECK(srv::format_command_error(r.error()) == "response exceeds the output limit of 1048576 bytes");
}

TEST_CASE("repo: pathfilterprefixes and rawrepoformats as 5.8.1 advertises them") {
  auto caps = repo::repository_capabilities(*open_repo("zstd"));
  CHECK(hex(fr::cbor_encode(caps.at("pathfilterprefixes"))) == "d9010282" "45706174683a"
                                                                 "4c726f6f7466696c6573696e3a");
  // 6.3.2's hg init: share-safe + generaldelta, revlogv1, sparserevlog (and zstd, fncache, ... not formats).
  CHECK(caps.at("rawrepoformats") == json::array({bytes("generaldelta"), bytes("revlogv1"), bytes("share-safe"),
                                                  bytes("sparserevlog")}));
}
