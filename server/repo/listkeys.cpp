// listkeys {namespace: bytes}: one map bytes -> bytes.
//   bookmarks   name -> 40-hex node, for served nodes, without divergent
//               names (containing '@' but not ending in it)
//   phases      each draft root -> '1', plus publishing: 'True'
//   namespaces  {bookmarks: '', namespaces: '', phases: ''}
//   anything else: {}
#include "server/repo/repo_commands.hpp"
#include "server/repo/served_view.hpp"

namespace hgrpc::server::repo {

bool is_divergent_bookmark(const std::string& name) {
  return name.find('@') != std::string::npos && !name.ends_with('@');
}

namespace {

json bookmarks(const store::Snapshot& snapshot) {
  json out = json::object();
  for (const auto& [name, node] : snapshot.bookmarks()) {
    if (is_divergent_bookmark(name) || !served_rev(snapshot, node)) continue;
    out[name] = framing::cbor_bytes(store::hex(node));
  }
  return out;
}

json phases(const store::Snapshot& snapshot, bool publishing) {
  json out = json::object();
  // Draft roots: draft revs none of whose parents is draft (a draft rev's
  // parents are public or draft; phases are inherited).
  for (int r = 0; r < snapshot.size(); ++r) {
    if (snapshot.phase(r) != store::kDraft) continue;
    const auto& e = snapshot.changelog().entry(r);
    bool root = true;
    for (int p : {e.p1, e.p2}) root = root && (p < 0 || snapshot.phase(p) != store::kDraft);
    if (root) out[store::hex(e.node)] = framing::cbor_bytes("1");
  }
  if (publishing) out["publishing"] = framing::cbor_bytes("True");
  return out;
}

}  // namespace

CommandSpec listkeys_command(Context context) {
  return repo_command(
      "listkeys", {ArgSpec{.name = "namespace", .type = ArgType::Bytes, .required = true}},
      [](const RepoCall& call, RecordSink& sink) -> RepoError {
        std::string ns = string_of(call.args["namespace"]);
        json out = json::object();
        if (ns == "bookmarks") {
          out = bookmarks(call.snapshot);
        } else if (ns == "phases") {
          out = phases(call.snapshot, call.options.publishing);
        } else if (ns == "namespaces") {
          for (const char* n : {"bookmarks", "namespaces", "phases"}) out[n] = framing::cbor_bytes("");
        }
        if (!sink.value(std::move(out))) return sink_failure(sink);
        return std::nullopt;
      },
      std::move(context));
}

}  // namespace hgrpc::server::repo
