#pragma once
// The frame every repository command runs in: it takes one store snapshot
// when it starts (so the request sees one consistent state), writes its
// records into a RecordSink, and reports failures as CommandErrors. Store
// errors (a corrupt revlog) keep the store's message, which names the file
// and the revision.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "server/command_registry.hpp"
#include "server/repo/record_sink.hpp"
#include "server/repo/repo_options.hpp"
#include "store/error.hpp"
#include "store/node.hpp"
#include "store/repository.hpp"

namespace hgrpc::server::repo {

struct RepoContext {
  std::shared_ptr<const store::Repository> repository;
  RepoCommandOptions options;
};

struct RepoCall {
  const json& args;             // validated, defaults filled in
  const store::Snapshot& snapshot;
  const RepoCommandOptions& options;
};

// nullopt: success. The records already written are then the response.
using RepoError = std::optional<CommandError>;
using RepoHandler = std::function<RepoError(const RepoCall&, RecordSink&)>;

// A CommandSpec whose handler snapshots the repository and runs `handler`
// with the response's sink.
CommandSpec repo_command(std::string name, std::vector<ArgSpec> args, RepoHandler handler,
                         std::shared_ptr<const RepoContext> context, json extra_capabilities = json::object());
// The same, answered through the server's response cache (when it has one)
// under a key of the arguments and the snapshot's state_key: the data
// commands, whose answers are large and the same for every client.
CommandSpec cached_repo_command(std::string name, std::vector<ArgSpec> args, RepoHandler handler,
                                std::shared_ptr<const RepoContext> context,
                                json extra_capabilities = json::object());

// Helpers for handlers.
inline CommandError store_error(const store::Error& e) { return CommandError{"%s", {e.message}}; }
inline CommandError sink_failure(const RecordSink& sink) { return CommandError{"%s", {sink.sink_error()}}; }
// A byte-string node argument: exactly 20 bytes, else nullopt.
std::optional<store::Node> node_of(const json& v);
// Hex of a node argument for messages (whatever its length).
std::string node_arg_hex(const json& v);
// The set-argument's elements contain `name`.
bool has_field(const json& fields, std::string_view name);
// `[p1, p2]` as byte strings.
json parents_value(const store::Node& p1, const store::Node& p2);
inline json node_value(const store::Node& n) { return framing::cbor_bytes(ByteView(n.data(), n.size())); }
// The revs of `nodes` (a list of node arguments) in `log`, ascending and each
// once. A node this snapshot does not reach is a CommandError of
// `unknown_message` (one %s: the node's hex).
hgrpc::expected<std::vector<int>, CommandError> requested_revs(const store::Revlog& log, const json& nodes,
                                                             const store::Snapshot& snapshot,
                                                             std::string unknown_message);
// A validated bytes argument as a string.
std::string string_of(const json& v);

}  // namespace hgrpc::server::repo
