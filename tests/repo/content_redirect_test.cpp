// Content redirects (server/content_redirect.*): the capabilities' redirect
// map as Mercurial 5.8's cborutil encodes it, a filesdata answer written to
// DIR/<sha256> and answered with the exact location map, the blob equal to
// the inline answer's values, reuse, and every inline fallback (below the
// minimum, unknown target, unwritable directory).
#include <sys/stat.h>

#include <openssl/evp.h>

#include "framing/client_reactor.hpp"
#include "framing/frame_reader.hpp"
#include "server/access_log.hpp"
#include "server/body_processor.hpp"
#include "server/capabilities.hpp"
#include "server/content_redirect.hpp"
#include "server/metrics.hpp"
#include "tests/repo/in_process_server.hpp"

using namespace repo_test;
namespace fr = hgrpc::framing;

namespace {

const std::string kUrl = "http://127.0.0.1:8081/blobs";

fs::path scratch_dir(const std::string& name) {
  fs::path dir = fs::path(HGRPC_BINARY_DIR) / "redirect-scratch" / (name + "." + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

srv::RedirectTarget target_in(const fs::path& dir, const std::string& name = "cdn") {
  auto t = srv::parse_redirect_target(name + "=" + kUrl + "," + dir.string());
  REQUIRE_MESSAGE(t, (t ? "" : t.error()));
  return *t;
}

fr::Bytes sha256(fr::ByteView b) {
  fr::Bytes out(32);
  unsigned int n = 0;
  REQUIRE(EVP_Digest(b.data(), b.size(), out.data(), &n, EVP_sha256(), nullptr) == 1);
  return out;
}

std::string hex(fr::ByteView b) { return store::hex(b); }

json redirect_request(const std::string& name = "cdn") {
  return json::object({{"targets", json::array({cbor_bytes(name)})}, {"hashes", json::array({cbor_bytes("sha256")})}});
}

struct Answer {
  fr::Bytes body;                      // the whole response body
  std::vector<fr::Bytes> payloads;     // its command-response frame payloads (identity stream)
  std::string redirect_log;            // the access log's redirect= tally
};

// One request posted to the registry as hgrpcd serves it. encodings empty:
// identity (no sender settings), so the payloads are the raw CBOR.
Answer post(const srv::CommandRegistry& reg, const std::string& command, const json& args, const json& redirect,
            srv::RedirectStore* store, srv::ResponseCache* cache = nullptr, std::vector<fr::Encoding> encodings = {}) {
  fr::ClientReactorOptions ro;
  ro.content_encodings = std::move(encodings);
  fr::ClientReactor reactor(ro);
  fr::Bytes body;
  REQUIRE(reactor.call_command(command, args, body, std::nullopt, redirect));
  Answer a;
  srv::BodyOptions options;
  options.cache = cache;
  options.redirects = store;
  srv::BodyProcessor processor(reg, srv::BodyTarget{false, command}, options, nullptr,
                               hgrpc::server::OutputMux::appending_to(a.body));
  processor.feed(body);
  REQUIRE(processor.finish().status == 200);
  REQUIRE(processor.write_output());
  a.redirect_log = processor.redirect_outcomes().to_string();
  fr::FrameReader reader(0xFFFFFF);
  reader.feed(a.body);
  for (;;) {
    auto f = reader.next();
    REQUIRE(f);
    if (!*f) break;
    if ((*f)->header.type == static_cast<std::uint8_t>(fr::FrameType::CommandResponse)) a.payloads.emplace_back((*f)->payload.begin(), (*f)->payload.end());
  }
  return a;
}

// The values after the status map, as the inline answer carries them.
fr::Bytes values_of(const Answer& a) {
  fr::Bytes out;
  for (std::size_t i = 1; i < a.payloads.size(); ++i) fr::append(out, a.payloads[i]);
  return out;
}

json filesdata_args() {
  const json& o = oracle("zstd");
  json heads = json::array();
  for (const auto& h : o.at("heads")) heads.push_back(node_arg(h.get<std::string>()));
  return {{"revisions", json::array({{{"type", cbor_bytes("changesetdagrange")}, {"roots", json::array()}, {"heads", heads}}})},
          {"fields", set_of({"parents", "revision"})},
          {"haveparents", true}};
}

std::vector<std::string> files_in(const fs::path& dir) {
  std::vector<std::string> names;
  if (!fs::exists(dir)) return names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

fr::Bytes read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return fr::Bytes(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST_CASE("redirect: parse_redirect_target and check_redirect_dir name what is wrong") {
  auto t = srv::parse_redirect_target("cdn=https://cdn.example/hg/,/srv/blobs/");
  REQUIRE(t);
  CHECK(t->name == "cdn");
  CHECK(t->protocol == "https");
  CHECK(t->url == "https://cdn.example/hg");
  CHECK(t->dir == "/srv/blobs");
  const auto error = [](std::string_view spec) {
    auto r = srv::parse_redirect_target(spec);
    REQUIRE_FALSE(r);
    return r.error();
  };
  CHECK(error("cdn") == "--redirect-target cdn: no '=' (expected NAME=URL,DIR)");
  CHECK(error("=http://x,/d") ==
        "--redirect-target =http://x,/d: NAME must be 1 to 64 letters, digits, '.', '_' or '-' (expected NAME=URL,DIR)");
  CHECK(error("cdn=http://x") == "--redirect-target cdn=http://x: no ',' between URL and DIR (expected NAME=URL,DIR)");
  CHECK(error("cdn=http://x,") == "--redirect-target cdn=http://x,: DIR is empty (expected NAME=URL,DIR)");
  CHECK(error("cdn=ftp://x,/d") ==
        "--redirect-target cdn=ftp://x,/d: URL scheme must be http or https (expected NAME=URL,DIR)");
  CHECK(error("cdn=x,/d") == "--redirect-target cdn=x,/d: URL has no scheme (expected NAME=URL,DIR)");
  CHECK(error("cdn=http:///p,/d") == "--redirect-target cdn=http:///p,/d: URL has no host (expected NAME=URL,DIR)");
  CHECK(error("cdn=http://x/?a,/d") ==
        "--redirect-target cdn=http://x/?a,/d: URL must not have a query or fragment (expected NAME=URL,DIR)");

  const fs::path dir = scratch_dir("check");
  CHECK_FALSE(srv::check_redirect_dir(dir.string()).has_value());
  CHECK(files_in(dir).empty());  // the probe is gone
  CHECK(srv::check_redirect_dir((dir / "absent").string()) ==
        "redirect directory " + (dir / "absent").string() + ": No such file or directory");
  std::ofstream(dir / "file") << "x";
  CHECK(srv::check_redirect_dir((dir / "file").string()) ==
        "redirect directory " + (dir / "file").string() + " is not a directory");
}

TEST_CASE("redirect: the capabilities map carries redirect only with targets, encoded as 5.8's cborutil does") {
  auto reg = registry_for("zstd");
  const json without = srv::capabilities_map(reg, srv::CommandLimits{});
  CHECK_FALSE(without.contains("redirect"));
  srv::advertise_redirect_targets(reg, {});
  CHECK(fr::cbor_encode(srv::capabilities_map(reg, srv::CommandLimits{})) == fr::cbor_encode(without));

  const fs::path dir = scratch_dir("caps");
  srv::advertise_redirect_targets(reg, {target_in(dir)});
  json with = srv::capabilities_map(reg, srv::CommandLimits{});
  REQUIRE(with.contains("redirect"));
  const json expected = json::object(
      {{"targets", json::array({json::object({{"name", cbor_bytes("cdn")},
                                              {"protocol", cbor_bytes("http")},
                                              {"uris", json::array({cbor_bytes(kUrl)})},
                                              {"snirequired", false}})})},
       {"hashes", json::array({cbor_bytes("sha256"), cbor_bytes("sha1")})}});
  CHECK(with.at("redirect") == expected);
  // b''.join(cborutil.streamencode({b'targets': [{b'name': b'cdn', b'protocol': b'http',
  //   b'uris': [b'http://127.0.0.1:8081/blobs'], b'snirequired': False}], b'hashes': [b'sha256', b'sha1']}))
  CHECK(hex(fr::cbor_encode(with.at("redirect"))) ==
        "a24668617368657382467368613235364473686131477461726765747381a4446e616d654363646e4870726f746f636f6c446874"
        "74704b736e697265717569726564f4447572697381581b687474703a2f2f3132372e302e302e313a383038312f626c6f6273");
  with.erase("redirect");
  CHECK(fr::cbor_encode(with) == fr::cbor_encode(without));  // nothing else changed
}

TEST_CASE("redirect: filesdata is written to DIR/<sha256> and answered with the exact location, reused after") {
  const auto reg = registry_for("zstd");
  const json args = filesdata_args();
  const Answer inline_answer = post(reg, "filesdata", args, nullptr, nullptr);
  const fr::Bytes values = values_of(inline_answer);
  REQUIRE(values.size() > 4096);
  const fr::Bytes digest = sha256(values);

  const fs::path dir = scratch_dir("filesdata");
  srv::RedirectStore store({target_in(dir)}, values.size());  // exactly the minimum: redirected
  const Answer first = post(reg, "filesdata", args, redirect_request(), &store);
  CHECK(first.redirect_log == "new");
  REQUIRE(first.payloads.size() == 2);  // the status map, then the empty eos frame
  CHECK(first.payloads[1].empty());
  const json location = json::object({{"mediatype", cbor_bytes("application/mercurial-cbor")},
                                      {"url", cbor_bytes(kUrl + "/" + hex(digest))},
                                      {"size", values.size()},
                                      {"fullhashes", json::array({json::array({cbor_bytes("sha256"), cbor_bytes(fr::ByteView(digest))})})}});
  auto status = fr::cbor_decode_one(first.payloads[0], {"status map"});
  REQUIRE(status);
  CHECK(*status == json::object({{"status", cbor_bytes("redirect")}, {"location", location}}));
  // The bytes of 5.8's server: the location's optional keys (pycompat.bytestr
  // in createalternatelocationresponseframe) sort after mediatype and url.
  fr::Bytes expected{0xA2};
  fr::cbor_encode(cbor_bytes("location"), expected);
  expected.push_back(0xA4);
  for (const char* key : {"mediatype", "url", "fullhashes", "size"}) {
    fr::cbor_encode(cbor_bytes(key), expected);
    fr::cbor_encode(location.at(key), expected);
  }
  fr::cbor_encode(cbor_bytes("status"), expected);
  fr::cbor_encode(cbor_bytes("redirect"), expected);
  CHECK(first.payloads[0] == expected);
  CHECK(files_in(dir) == std::vector<std::string>{hex(digest)});
  CHECK(read_bytes(dir / hex(digest)) == values);
  struct stat st {};
  REQUIRE(::stat((dir / hex(digest)).c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0644);  // readable by the static server's user
  const auto inode = st.st_ino;

  const Answer second = post(reg, "filesdata", args, redirect_request(), &store);
  CHECK(second.redirect_log == "reused");
  CHECK(second.body == first.body);
  REQUIRE(::stat((dir / hex(digest)).c_str(), &st) == 0);
  CHECK(st.st_ino == inode);
  CHECK(files_in(dir) == std::vector<std::string>{hex(digest)});
  CHECK(store.stats().redirects == 2);
  CHECK(store.stats().redirect_bytes == 2 * values.size());
  CHECK(store.stats().failures == 0);

  // Another replica (its own index) sharing DIR, through a response cache:
  // the blob has the same name, the file is kept.
  srv::ResponseCache cache(srv::ResponseCacheOptions{.max_bytes = 1 << 30, .max_entry_bytes = 1 << 30});
  srv::RedirectStore replica({target_in(dir)}, 1024);
  const Answer third = post(reg, "filesdata", args, redirect_request(), &replica, &cache);
  CHECK(third.redirect_log == "reused");
  CHECK(third.body == first.body);
  REQUIRE(::stat((dir / hex(digest)).c_str(), &st) == 0);
  CHECK(st.st_ino == inode);
  // The file removed meanwhile: written again (from the cache's answer).
  fs::remove(dir / hex(digest));
  srv::RedirectStore after_cleanup({target_in(dir)}, 1024);
  const Answer fourth = post(reg, "filesdata", args, redirect_request(), &after_cleanup, &cache);
  CHECK(fourth.redirect_log == "new");
  CHECK(cache.stats().hits == 1);
  CHECK(fourth.body == first.body);
  CHECK(read_bytes(dir / hex(digest)) == values);

  // A zstd-8mb-frames response stream: the blob is the same plain CBOR (no
  // spliced stored frames), the status map arrives encoded.
  srv::RedirectStore zstd_store({target_in(dir)}, 1024);
  fr::ClientReactorOptions frames_only;
  frames_only.content_encodings = {fr::Encoding::Zstd8mbFrames};
  fr::ClientReactor reactor(frames_only);
  fr::Bytes body;
  REQUIRE(reactor.call_command("filesdata", args, body, std::nullopt, redirect_request()));
  fr::Bytes out;
  srv::BodyOptions options;
  options.redirects = &zstd_store;
  srv::BodyProcessor processor(reg, srv::BodyTarget{false, "filesdata"}, options, nullptr,
                               hgrpc::server::OutputMux::appending_to(out));
  processor.feed(body);
  REQUIRE(processor.finish().status == 200);
  REQUIRE(processor.write_output());
  auto events = response_events(reactor, out);
  REQUIRE(events.size() == 2);
  auto* redirect = std::get_if<fr::ResponseRedirect>(&events[0]);
  REQUIRE(redirect != nullptr);
  CHECK(redirect->location == location);
  CHECK(std::get_if<fr::ResponseEnd>(&events[1]) != nullptr);
  CHECK(files_in(dir) == std::vector<std::string>{hex(digest)});
}

TEST_CASE("redirect: inline answers below the minimum, for unknown targets, and when DIR cannot be written") {
  const auto reg = registry_for("zstd");
  const json args = filesdata_args();
  const Answer reference = post(reg, "filesdata", args, nullptr, nullptr);
  const std::uint64_t size = values_of(reference).size();

  const fs::path dir = scratch_dir("inline");
  srv::RedirectStore store({target_in(dir)}, size + 1);
  const Answer small = post(reg, "filesdata", args, redirect_request(), &store);
  CHECK(small.redirect_log == "small");
  CHECK(small.body == reference.body);
  CHECK(files_in(dir).empty());

  srv::RedirectStore low({target_in(dir)}, 1024);
  const Answer unknown = post(reg, "filesdata", args, redirect_request("elsewhere"), &low);
  CHECK(unknown.redirect_log.empty());
  CHECK(unknown.body == reference.body);
  // Commands the cache does not key (heads) are never redirected.
  const Answer heads_plain = post(reg, "heads", json::object(), nullptr, nullptr);
  const Answer heads = post(reg, "heads", json::object(), redirect_request(), &low);
  CHECK(heads.redirect_log.empty());
  CHECK(heads.body == heads_plain.body);
  CHECK(files_in(dir).empty());
  CHECK(low.stats().redirects == 0);

  fs::remove_all(dir);  // DIR gone (or full, or read-only) after start-up
  std::vector<std::string> logged;
  low.set_failure_log([&](const std::string& why) { logged.push_back(why); });
  const Answer failed = post(reg, "filesdata", args, redirect_request(), &low);
  CHECK(logged == std::vector<std::string>{"target cdn: creating a file in " + dir.string() +
                                           ": No such file or directory; answered inline"});
  CHECK(failed.redirect_log == "failed");
  CHECK(failed.body == reference.body);
  CHECK(low.stats().failures == 1);
  CHECK(low.stats().redirects == 0);

  srv::Metrics metrics;
  metrics.redirects = &low;
  const std::string text = metrics.render();
  CHECK(text.find("\nhgrpcd_redirects_total 0\n") != std::string::npos);
  CHECK(text.find("\nhgrpcd_redirect_bytes_total 0\n") != std::string::npos);
  CHECK(text.find("\nhgrpcd_redirect_failures_total 1\n") != std::string::npos);
  srv::Metrics without;
  CHECK(without.render().find("redirect") == std::string::npos);

  srv::AccessLogEntry e;
  e.method = "POST";
  e.path = "/api/exp-http-v2-0003/ro/multirequest";
  e.commands.add("filesdata");
  e.redirect.add("new");
  e.redirect.add("reused");
  e.redirect.add("reused");
  const std::string line = srv::format_access_log(e, srv::LogFormat::Text);
  CHECK(line.ends_with(" commands=filesdata redirect=new,reused*2"));
  const std::string j = srv::format_access_log(e, srv::LogFormat::Json);
  CHECK(j.find("\"redirect\":{\"new\":1,\"reused\":2}") != std::string::npos);
}

TEST_CASE("redirect: the patch commands the cache keys by arguments (diff) are redirected too") {
  const auto reg = srv::CommandRegistry::standard();
  std::string b;
  for (int i = 0; i < 4000; ++i) b += "line " + std::to_string(i) + "\n";
  const json args = {{"a", cbor_bytes("")}, {"b", cbor_bytes(b)}};
  const Answer reference = post(reg, "diff", args, nullptr, nullptr);
  const fr::Bytes values = values_of(reference);
  REQUIRE(values.size() > 1024);
  const fs::path dir = scratch_dir("diff");
  srv::RedirectStore store({target_in(dir)}, 1024);
  const Answer redirected = post(reg, "diff", args, redirect_request(), &store);
  CHECK(redirected.redirect_log == "new");
  const std::string name = hex(sha256(values));
  CHECK(files_in(dir) == std::vector<std::string>{name});
  CHECK(read_bytes(dir / name) == values);
  auto status = fr::cbor_decode_one(redirected.payloads.at(0), {"status map"});
  REQUIRE(status);
  CHECK(status->at("location").at("url") == cbor_bytes(kUrl + "/" + name));
}
