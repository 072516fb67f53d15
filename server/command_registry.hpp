#pragma once
// The command registry: every command hgrpcd serves, with its declared
// argument table. The same table validates requests and is advertised by
// `capabilities`, so the two cannot drift apart.
//
// Validation order (the first failure is reported): arguments not a map;
// unknown arguments (all of them, sorted); command data sent to a command
// that takes none; then each declared argument in table order: given although
// the request carries command data that replaces it, missing, wrong type,
// wrong list element type, negative int, too few list elements.
// Byte-string arguments (and list-of-bytes elements) accept CBOR text strings
// too: Mercurial peers send byte strings, JSON-minded clients send text.
// Error messages use %s placeholders; peer-supplied names are echoed shortened.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "compat/expected.hpp"
#include "framing/bytes.hpp"
#include "framing/cbor.hpp"
#include "server/response_sink.hpp"

namespace hgrpc::server {

using framing::json;

enum class ArgType { Bytes, Int, List, Dict, Bool, Set };  // advertised as b'bytes', b'int', ...

// "bytes", "int", "list", "dict", "bool", "set": the advertised type names.
// A Set argument arrives as a CBOR list or a tag-258 set (both decode to an
// array) of byte strings; it is advertised with its default and validvalues
// as tag-258 sets, as Mercurial does.
std::string_view arg_type_name(ArgType t);

struct ArgSpec {
  std::string name;
  ArgType type = ArgType::Bytes;
  bool required = true;
  std::optional<json> default_value{};  // advertised as `default` when set
  // For List: the element type that validation enforces (e.g. Bytes).
  std::optional<ArgType> element_type{};
  // The argument may come in the command data instead (have-data). When the
  // request carries data the argument must be absent and is not required.
  bool from_data = false;
  // For Int: reject negative values.
  bool non_negative = false;
  // For List: fewest elements accepted.
  std::size_t min_items = 0;
  // For Set: the accepted elements (advertised as `validvalues`); empty: any.
  std::vector<std::string> valid_values{};
};

// Limits a command must respect; also advertised in capabilities.
struct CommandLimits {
  std::uint64_t max_output_bytes = std::uint64_t{256} << 20;
  std::uint64_t max_frame_size = 32768;   // advertised only
  std::uint64_t max_body_bytes = std::uint64_t{1} << 30;  // advertised only
};

// A command error: reported in a command-response {status: error} map; the
// other commands of the same body go on.
struct CommandError {
  std::string message;            // may contain %s placeholders for args
  std::vector<std::string> args;  // as Mercurial's atoms: {msg, args}
};

// The message with each %s replaced by the next arg (and %% by %), for logs.
std::string format_command_error(const CommandError& e);

class CommandRegistry;
class ResponseCache;
struct RedirectRequest;

struct CommandInput {
  const json& args;                          // validated against the table, defaults filled in
  std::optional<framing::ByteView> data;     // command data (have-data), if any
  const CommandLimits& limits;
  const CommandRegistry& registry;           // the registry running the command
  ResponseCache* cache = nullptr;            // the server's response cache, if any
  // Set when the request's `redirect` names a configured target: a cacheable
  // command may answer with a content redirect (server/content_redirect.hpp).
  RedirectRequest* redirect = nullptr;
};

// A handler writes its values into the ResponseSink as it produces them and
// returns success or a command error. An error returned after values were
// written ends the response with an error-response frame (type command); one
// returned before any value is a {status: error} response.
using CommandStatus = hgrpc::expected<void, CommandError>;
using CommandHandler = std::function<CommandStatus(const CommandInput&, ResponseSink&)>;

// The values of a successful response, collected (tests, tools): each was one
// CBOR value after the {status: ok} map.
using CommandOutput = std::vector<json>;
using CommandResult = hgrpc::expected<CommandOutput, CommandError>;

struct CommandSpec {
  std::string name;
  std::string permission;  // "pull" (ro) or "push" (rw)
  std::vector<ArgSpec> args;
  CommandHandler handler;
  // Extra keys of the command's capabilities entry (e.g. recommendedbatchsize).
  json extra_capabilities = json::object();
  // The answer depends on the arguments and data alone: execute() answers
  // it through the response cache. (Repository commands key their answers
  // on the repository state too and use the cache themselves.)
  bool cached_by_arguments = false;
};

class CommandRegistry {
 public:
  // The registry of all hgrpcd commands (capabilities, applypatches,
  // foldpatches, patchedsize, diff).
  static CommandRegistry standard();

  void add(CommandSpec spec);
  const CommandSpec* find(std::string_view name) const;
  const std::map<std::string, CommandSpec, std::less<>>& commands() const { return commands_; }

  // Validates args against the command's table (missing, ill-typed, unknown
  // arguments -> CommandError naming the argument), then runs the handler,
  // which writes into sink. The caller has already checked that the command
  // exists and is permitted.
  CommandStatus execute(const CommandSpec& spec, const json& args,
                        std::optional<framing::ByteView> data, const CommandLimits& limits,
                        ResponseSink& sink, ResponseCache* cache = nullptr,
                        RedirectRequest* redirect = nullptr) const;
  // Same, collecting the values in memory (tests and tools; not the server).
  CommandResult run(const CommandSpec& spec, const json& args, std::optional<framing::ByteView> data,
                    const CommandLimits& limits, ResponseCache* cache = nullptr) const;

  // The `commands` map of the capabilities response, in Mercurial's shape:
  // name -> {args: {name: {type, required, default?}}, permissions: [b'pull']}.
  json commands_capability() const;

  // Top-level keys of the capabilities map that replace the defaults (a
  // served repository's pathfilterprefixes and rawrepoformats): set by the
  // integrator that serves a repository through this registry.
  void set_descriptor_overrides(json overrides) { descriptor_overrides_ = std::move(overrides); }
  const json& descriptor_overrides() const { return descriptor_overrides_; }

 private:
  std::map<std::string, CommandSpec, std::less<>> commands_;
  json descriptor_overrides_ = json::object();
};

// Checks args against spec's table; on success returns args with the defaults
// of absent optional arguments filled in. Exposed for tests and for callers
// that want to reject a request before running it.
hgrpc::expected<json, CommandError> validate_args(const CommandSpec& spec, const json& args,
                                                  bool has_data);

}  // namespace hgrpc::server

// capabilities_map(registry, limits): the full capabilities map.
#include "server/capabilities.hpp"
