// The incremental reader of changesetdata / manifestdata / filesdata
// (client/revision_stream.hpp): values fed one by one, each malformed case
// with its message, and response bodies split at every byte through the
// session's ResponseBodyReader with a value sink.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "client/fetch.hpp"
#include "client/revision_stream.hpp"
#include "client/session.hpp"
#include "framing/response_emitter.hpp"
#include "framing/stream.hpp"

using namespace hgrpc::client;
using hgrpc::framing::Bytes;
using hgrpc::framing::ByteView;
using hgrpc::framing::cbor_bytes;
using hgrpc::framing::json;
using hgrpc::store::Node;

namespace {

Node node(std::uint8_t b) {
  Node n;
  n.fill(b);
  return n;
}

json bytes(const Node& n) { return cbor_bytes(ByteView(n.data(), n.size())); }

json record(const Node& n, const Node& p1, const Node& p2, const char* kind = "revision",
            std::optional<Node> base = std::nullopt, std::optional<Node> link = std::nullopt) {
  json r{{"node", bytes(n)},
         {"parents", json::array({bytes(p1), bytes(p2)})},
         {"fieldsfollowing", json::array({json::array({cbor_bytes(kind), 5})})}};
  if (base) r["deltabasenode"] = bytes(*base);
  if (link) r["linknode"] = bytes(*link);
  return r;
}

// What the handlers saw, one line each.
struct Seen {
  std::vector<std::string> lines;
  RevisionStream::OnRevision on_revision() {
    return [this](hgrpc::store::IncomingRevision& rev, const RevisionRecord& rec) -> ClientResult<void> {
      std::string line = hgrpc::store::hex(rev.node).substr(0, 4) + " p1 " + hgrpc::store::hex(rev.p1).substr(0, 4) +
                         " p2 " + hgrpc::store::hex(rev.p2).substr(0, 4) + " data " +
                         std::string(reinterpret_cast<const char*>(rev.data.data()), rev.data.size());
      if (rev.delta_base) line += " base " + hgrpc::store::hex(*rev.delta_base).substr(0, 4);
      if (rec.linknode) line += " link " + hgrpc::store::hex(*rec.linknode).substr(0, 4);
      lines.push_back(line);
      return {};
    };
  }
  RevisionStream::OnPath on_path() {
    return [this](const std::string& path, std::uint64_t index, std::uint64_t items) -> ClientResult<void> {
      lines.push_back("path " + path + " #" + std::to_string(index) + " items " + std::to_string(items));
      return {};
    };
  }
};

// Feeds values; the first error's message, or "" when every value and the
// finish were accepted.
std::string run(RevisionStream& stream, std::vector<json> values) {
  for (auto& v : values) {
    if (auto ok = stream.feed(std::move(v)); !ok) return ok.error().message;
  }
  auto end = stream.finish();
  return end ? std::string() : end.error().message;
}

std::vector<json> good_manifests() {
  return {json{{"totalitems", 2u}}, record(node(0xa1), node(0), node(0)), cbor_bytes("text one"),
          record(node(0xa2), node(0xa1), node(0), "delta", node(0xa1)), cbor_bytes("delta two"),
          cbor_bytes("ignored after the last item")};
}

std::vector<json> good_files() {
  return {json{{"totalitems", 3u}, {"totalpaths", 3u}},
          json{{"path", cbor_bytes("a.txt")}, {"totalitems", 2u}},
          record(node(0xb1), node(0), node(0), "revision", std::nullopt, node(0xc1)), cbor_bytes("a1"),
          record(node(0xb2), node(0xb1), node(0), "delta", node(0xb1), node(0xc2)), cbor_bytes("a2"),
          json{{"path", cbor_bytes("empty")}, {"totalitems", 0u}},
          json{{"path", cbor_bytes("d/b.txt")}, {"totalitems", 1u}},
          record(node(0xb3), node(0), node(0), "revision", std::nullopt, node(0xc2)), cbor_bytes("b1")};
}

const std::vector<std::string> kFilesSeen{"path a.txt #0 items 2",
                                          "b1b1 p1 0000 p2 0000 data a1 link c1c1",
                                          "b2b2 p1 b1b1 p2 0000 data a2 base b1b1 link c2c2",
                                          "path empty #1 items 0",
                                          "path d/b.txt #2 items 1",
                                          "b3b3 p1 0000 p2 0000 data b1 link c2c2"};

}  // namespace

TEST_CASE("revision stream: manifestdata, one value at a time") {
  Seen seen;
  auto stream = RevisionStream::manifests(2, seen.on_revision());
  CHECK(stream.state() == RevisionStream::State::Header);
  auto values = good_manifests();
  const RevisionStream::State after[] = {RevisionStream::State::Record, RevisionStream::State::Data,
                                         RevisionStream::State::Record, RevisionStream::State::Data,
                                         RevisionStream::State::Done, RevisionStream::State::Done};
  for (std::size_t i = 0; i < values.size(); ++i) {
    CAPTURE(i);
    REQUIRE(stream.feed(std::move(values[i])));
    CHECK(stream.state() == after[i]);
  }
  CHECK(stream.finish());
  CHECK(seen.lines == std::vector<std::string>{"a1a1 p1 0000 p2 0000 data text one",
                                               "a2a2 p1 a1a1 p2 0000 data delta two base a1a1"});
}

TEST_CASE("revision stream: filesdata paths, their records, a path without items") {
  Seen seen;
  auto stream = RevisionStream::files(seen.on_path(), seen.on_revision());
  CHECK(run(stream, good_files()) == "");
  CHECK(stream.state() == RevisionStream::State::Done);
  CHECK(stream.paths() == 3);
  CHECK(seen.lines == kFilesSeen);

  Seen none;
  auto empty = RevisionStream::files(none.on_path(), none.on_revision());
  CHECK(run(empty, {json{{"totalitems", 0u}, {"totalpaths", 0u}}}) == "");
  CHECK(none.lines.empty());
}

TEST_CASE("revision stream: changesetdata records with and without a revision") {
  Seen seen;
  std::vector<std::string> records;
  auto stream = RevisionStream::changesets(
      [&](const json& rec) -> ClientResult<bool> {
        records.push_back(hgrpc::framing::bytes_or_text(rec.at("phase")).value_or("?"));
        return rec.contains("fieldsfollowing");
      },
      seen.on_revision());
  json phase_only{{"node", bytes(node(0xd0))}, {"phase", "public"}};
  json with_phase = record(node(0xd1), node(0), node(0));
  with_phase["phase"] = "draft";
  CHECK(run(stream, {json{{"totalitems", 1u}}, phase_only, with_phase, cbor_bytes("cs")}) == "");
  CHECK(records == std::vector<std::string>{"public", "draft"});
  CHECK(seen.lines == std::vector<std::string>{"d1d1 p1 0000 p2 0000 data cs"});
  CHECK(stream.state() == RevisionStream::State::Record);  // the response's end ends it

  auto no_header = RevisionStream::changesets([](const json&) -> ClientResult<bool> { return true; }, seen.on_revision());
  CHECK(run(no_header, {}) == "changesetdata: no totalitems header");
  auto bad_header = RevisionStream::changesets([](const json&) -> ClientResult<bool> { return true; }, seen.on_revision());
  CHECK(run(bad_header, {json{{"totalitems", -1}}}) == "changesetdata: no totalitems header");
  auto no_data = RevisionStream::changesets([](const json&) -> ClientResult<bool> { return true; }, seen.on_revision());
  CHECK(run(no_data, {json{{"totalitems", 1u}}, record(node(0xd2), node(0), node(0))}) ==
        "changesetdata: node " + hgrpc::store::hex(node(0xd2)) + ": its data is missing");
}

TEST_CASE("revision stream: each malformed manifestdata value has its message") {
  const std::string a1 = "manifestdata: node " + hgrpc::store::hex(node(0xa1)) + ": ";
  json no_parents = record(node(0xa1), node(0), node(0));
  no_parents.erase("parents");
  json short_parent = record(node(0xa1), node(0), node(0));
  short_parent["parents"][1] = cbor_bytes("short");
  json two_fields = record(node(0xa1), node(0), node(0));
  two_fields["fieldsfollowing"].push_back(json::array({cbor_bytes("revision"), 1}));
  json short_node = record(node(0xa1), node(0), node(0));
  short_node["node"] = cbor_bytes("abc");
  const std::vector<std::pair<std::vector<json>, std::string>> cases{
      {{}, "manifestdata: totalitems does not match the 2 nodes asked for"},
      {{json{{"totalitems", 3u}}}, "manifestdata: totalitems does not match the 2 nodes asked for"},
      {{cbor_bytes("not a map")}, "manifestdata: totalitems does not match the 2 nodes asked for"},
      {{json{{"totalitems", 2u}}}, "manifestdata: revision record 0 is missing"},
      {{json{{"totalitems", 2u}}, cbor_bytes("x")}, "manifestdata: revision record 0 is missing"},
      {{json{{"totalitems", 2u}}, short_node}, "manifestdata: record 0 has no 20-byte node"},
      {{json{{"totalitems", 2u}}, no_parents}, a1 + "no parents"},
      {{json{{"totalitems", 2u}}, short_parent}, a1 + "parents are not 20-byte nodes"},
      {{json{{"totalitems", 2u}}, two_fields}, a1 + "expected exactly one field following"},
      {{json{{"totalitems", 2u}}, record(node(0xa1), node(0), node(0))}, a1 + "its data is missing"},
      {{json{{"totalitems", 2u}}, record(node(0xa1), node(0), node(0)), json{{"a", 1}}}, a1 + "its data is missing"},
      {{json{{"totalitems", 2u}}, record(node(0xa1), node(0), node(0), "delta"), cbor_bytes("d")},
       a1 + "a delta without a 20-byte deltabasenode"},
      {{json{{"totalitems", 2u}}, record(node(0xa1), node(0), node(0), "linknode"), cbor_bytes("d")},
       a1 + "unknown field following (expected revision or delta)"},
      {{json{{"totalitems", 2u}}, record(node(0xa1), node(0), node(0)), cbor_bytes("t")},
       "manifestdata: revision record 1 is missing"},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    CAPTURE(i);
    Seen seen;
    auto stream = RevisionStream::manifests(2, seen.on_revision());
    CHECK(run(stream, cases[i].first) == cases[i].second);
  }
}

TEST_CASE("revision stream: each malformed filesdata value has its message, handler errors stop it") {
  const std::string b1 = "filesdata: a.txt: node " + hgrpc::store::hex(node(0xb1)) + ": ";
  const json header{{"totalpaths", 2u}};
  const json path_a{{"path", cbor_bytes("a.txt")}, {"totalitems", 1u}};
  const std::vector<std::pair<std::vector<json>, std::string>> cases{
      {{}, "filesdata: no totalpaths header"},
      {{json{{"totalitems", 1u}}}, "filesdata: no totalpaths header"},
      {{header}, "filesdata: path 0 is missing"},
      {{header, cbor_bytes("a.txt")}, "filesdata: a path header without path or totalitems"},
      {{header, json{{"path", cbor_bytes("a.txt")}}}, "filesdata: a path header without path or totalitems"},
      {{header, json{{"totalitems", 1u}}}, "filesdata: a path header without path or totalitems"},
      {{header, path_a}, "filesdata: a.txt: revision record 0 is missing"},
      {{header, path_a, record(node(0xb1), node(0), node(0))}, b1 + "its data is missing"},
      {{header, path_a, record(node(0xb1), node(0), node(0)), cbor_bytes("x")}, "filesdata: path 1 is missing"},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    CAPTURE(i);
    Seen seen;
    auto stream = RevisionStream::files(seen.on_path(), seen.on_revision());
    CHECK(run(stream, cases[i].first) == cases[i].second);
  }

  // The handlers' own errors come back unchanged and nothing after them is read.
  int revisions = 0;
  auto refusing = RevisionStream::files(
      [](const std::string& path, std::uint64_t, std::uint64_t) -> ClientResult<void> {
        if (path == "d/b.txt") return client_fail(ErrorKind::Protocol, "no " + path);
        return {};
      },
      [&](hgrpc::store::IncomingRevision&, const RevisionRecord&) -> ClientResult<void> {
        ++revisions;
        return {};
      });
  CHECK(run(refusing, good_files()) == "no d/b.txt");
  CHECK(revisions == 2);
}

TEST_CASE("revision stream: a filesdata response body split at every byte, through ResponseBodyReader") {
  using namespace hgrpc::framing;
  for (Encoding e : {Encoding::Identity, Encoding::Zstd8mb}) {
    CAPTURE(encoding_name(e));
    OutputStream out(2, make_encoder(e));
    PlannedFrames planned;
    EmitterOptions small;
    small.max_frame_size = 64;  // values spread over frames
    ResponseEmitter r1(1, 2, small);
    for (const auto& v : good_files()) r1.value(v, planned);
    r1.end(planned);
    Bytes body;
    for (const auto& f : planned) REQUIRE(out.render(f, body));

    for (std::size_t split = 0; split <= body.size(); ++split) {
      CAPTURE(split);
      ClientReactorOptions ro;
      ClientReactor reactor(ro);
      Bytes ignored;
      std::map<std::uint16_t, std::size_t> ids{{*reactor.call_command("filesdata", json::object(), ignored), 0}};
      Seen seen;
      auto stream = RevisionStream::files(seen.on_path(), seen.on_revision());
      std::vector<Outcome> outcomes;
      ResponseBodyReader reader(
          reactor, ids, [&](std::size_t, Outcome&& o) { outcomes.push_back(std::move(o)); }, kDefaultMaxPayload,
          [&](std::size_t index, json&& value) -> Result<void> {
            CHECK(index == 0);
            auto ok = stream.feed(std::move(value));
            if (!ok) return fail(ok.error().message);
            return {};
          });
      REQUIRE(reader.feed(ByteView(body).first(split)));
      REQUIRE(reader.feed(ByteView(body).subspan(split)));
      REQUIRE(reader.finish());
      REQUIRE(outcomes.size() == 1);
      CHECK(outcomes[0].kind == Outcome::Kind::Ok);
      CHECK(outcomes[0].values.empty());  // they went to the sink
      CHECK(stream.finish());
      CHECK(seen.lines == kFilesSeen);
    }
  }
}

TEST_CASE("revision stream: a value sink's error aborts the response body") {
  using namespace hgrpc::framing;
  OutputStream out(2, make_encoder(Encoding::Identity));
  PlannedFrames planned;
  ResponseEmitter r1(1, 2);
  auto values = good_manifests();
  values[4] = json{{"not", "bytes"}};  // record a2's data
  for (const auto& v : values) r1.value(v, planned);
  r1.end(planned);
  Bytes body;
  for (const auto& f : planned) REQUIRE(out.render(f, body));
  ClientReactor reactor;
  Bytes ignored;
  std::map<std::uint16_t, std::size_t> ids{{*reactor.call_command("manifestdata", json::object(), ignored), 0}};
  Seen seen;
  auto stream = RevisionStream::manifests(2, seen.on_revision());
  std::size_t outcomes = 0;
  ResponseBodyReader reader(
      reactor, ids, [&](std::size_t, Outcome&&) { ++outcomes; }, kDefaultMaxPayload,
      [&](std::size_t, json&& value) -> Result<void> {
        auto ok = stream.feed(std::move(value));
        if (!ok) return fail(ok.error().message);
        return {};
      });
  auto fed = reader.feed(body);
  REQUIRE_FALSE(fed);
  CHECK(fed.error().message == "manifestdata: node " + hgrpc::store::hex(node(0xa2)) + ": its data is missing");
  CHECK(outcomes == 0);
  CHECK(seen.lines == std::vector<std::string>{"a1a1 p1 0000 p2 0000 data text one"});
}

TEST_CASE("Exchange: a collecting one hands its Ok outcomes' values to a consumer, a streaming one collects") {
  Exchange collecting = [](const std::vector<Call>& calls) -> ClientResult<std::vector<Outcome>> {
    std::vector<Outcome> out(calls.size());
    out[0].values = {1, 2};
    out[1].kind = Outcome::Kind::CommandError;
    out[1].values = {3};
    out[2].values = {4};
    return out;
  };
  const std::vector<Call> calls{Call{"a", json::object(), std::nullopt}, Call{"b", json::object(), std::nullopt},
                                Call{"c", json::object(), std::nullopt}};
  std::vector<std::pair<std::size_t, json>> seen;
  auto outcomes = collecting(calls, [&](std::size_t index, json&& value) -> ClientResult<void> {
    seen.emplace_back(index, std::move(value));
    return {};
  });
  REQUIRE(outcomes);
  CHECK(seen == std::vector<std::pair<std::size_t, json>>{{0, 1}, {0, 2}, {2, 4}});
  CHECK((*outcomes)[0].values.empty());
  CHECK((*outcomes)[1].kind == Outcome::Kind::CommandError);

  auto refused = collecting(calls, [](std::size_t, json&&) -> ClientResult<void> {
    return client_fail(ErrorKind::Protocol, "refused");
  });
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message == "refused");

  Exchange streaming = Exchange::streaming(
      [](const std::vector<Call>& asked, const ValueConsumer& consume) -> ClientResult<std::vector<Outcome>> {
        for (std::size_t i = 0; i < asked.size(); ++i) {
          if (auto ok = consume(i, json(static_cast<int>(10 * i))); !ok) return hgrpc::unexpected<ClientError>(ok.error());
        }
        return std::vector<Outcome>(asked.size());
      });
  auto collected = streaming(calls);
  REQUIRE(collected);
  CHECK((*collected)[0].values == std::vector<json>{0});
  CHECK((*collected)[1].values == std::vector<json>{10});
  CHECK((*collected)[2].values == std::vector<json>{20});
}
