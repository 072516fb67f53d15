#include "server/command_registry.hpp"

#include <stdexcept>
#include <utility>

#include "server/commands/applypatches.hpp"
#include "server/commands/arguments.hpp"
#include "server/commands/capabilities.hpp"
#include "server/commands/diff.hpp"
#include "server/commands/foldpatches.hpp"
#include "server/commands/patchedsize.hpp"
#include "server/content_redirect.hpp"
#include "server/response_cache.hpp"

namespace hgrpc::server {

using commands::value_type_name;

std::string_view arg_type_name(ArgType t) {
  switch (t) {
    case ArgType::Bytes: return "bytes";
    case ArgType::Int: return "int";
    case ArgType::List: return "list";
    case ArgType::Dict: return "dict";
    case ArgType::Bool: return "bool";
    case ArgType::Set: return "set";
  }
  return "?";
}

std::string format_command_error(const CommandError& e) {
  std::string out;
  std::size_t next_arg = 0;
  for (std::size_t i = 0; i < e.message.size(); ++i) {
    char c = e.message[i];
    if (c == '%' && i + 1 < e.message.size()) {
      char k = e.message[i + 1];
      if (k == 's' && next_arg < e.args.size()) {
        out += e.args[next_arg++];
        ++i;
        continue;
      }
      if (k == '%') {
        out += '%';
        ++i;
        continue;
      }
    }
    out += c;
  }
  return out;
}

namespace {

constexpr std::size_t kMaxEchoedNames = 8;
constexpr std::size_t kMaxEchoedNameBytes = 64;

std::string shorten(const std::string& name) {
  if (name.size() <= kMaxEchoedNameBytes) return name;
  // Cut at a UTF-8 character boundary: the atom is a byte string, but logs and
  // JSON renderings want valid text.
  std::size_t cut = kMaxEchoedNameBytes;
  while (cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80) --cut;
  return name.substr(0, cut) + "...";
}

CommandError arg_error(std::string message, std::vector<std::string> args) {
  return CommandError{std::move(message), std::move(args)};
}

// Byte-string arguments also accept text strings: Mercurial peers send bytes,
// hand-written clients (JSON-minded) often send text.
bool has_type(const json& v, ArgType t) {
  switch (t) {
    case ArgType::Bytes: return framing::bytes_or_text_view(v).has_value();
    case ArgType::Int: return v.is_number_integer();  // unsigned or negative; never bool
    case ArgType::List: return v.is_array();
    case ArgType::Dict: return v.is_object();
    case ArgType::Bool: return v.is_boolean();
    case ArgType::Set: return v.is_array();
  }
  return false;
}

bool is_negative(const json& v) {
  return v.is_number_integer() && !v.is_number_unsigned() && v.get<std::int64_t>() < 0;
}

hgrpc::unexpected<CommandError> reject(std::string message, std::vector<std::string> args) {
  return hgrpc::unexpected<CommandError>(arg_error(std::move(message), std::move(args)));
}

const json& empty_args() {
  static const json kEmpty = json::object();
  return kEmpty;
}

// Validates without copying the (possibly large) arguments: returns a filled-in
// copy only when a default had to be added, else nullopt (use the given args).
hgrpc::expected<std::optional<json>, CommandError> check_args(const CommandSpec& spec,
                                                              const json& given, bool has_data) {
  if (!given.is_object())
    return reject("arguments must be a map, got %s", {std::string(value_type_name(given))});

  std::string unknown;
  std::size_t unknown_count = 0;
  for (const auto& [key, value] : given.items()) {  // sorted: json objects are std::map
    bool declared = false;
    for (const auto& a : spec.args) declared = declared || a.name == key;
    if (declared) continue;
    // Names come from the peer: echo a few, shortened, so the error stays small.
    if (unknown_count++ < kMaxEchoedNames)
      unknown += (unknown.empty() ? "" : ", ") + shorten(key);
  }
  if (unknown_count > kMaxEchoedNames)
    unknown += " and " + std::to_string(unknown_count - kMaxEchoedNames) + " more";
  if (unknown_count != 0) return reject("unknown argument: %s", {unknown});

  if (has_data) {
    bool takes_data = false;
    for (const auto& a : spec.args) takes_data = takes_data || a.from_data;
    if (!takes_data) return reject("command %s takes no command data", {spec.name});
  }

  json filled;  // a copy only when a default must be added
  for (const auto& a : spec.args) {
    auto it = given.find(a.name);
    if (it == given.end()) {
      if (has_data && a.from_data) continue;
      if (a.required) return reject("missing required argument: %s", {a.name});
      if (a.default_value) {
        if (filled.is_null()) filled = given;
        filled[a.name] = *a.default_value;
      }
      continue;
    }
    const json& v = *it;
    if (has_data && a.from_data)
      return reject("argument %s: not allowed when the request carries command data", {a.name});
    if (!has_type(v, a.type))
      return reject("argument %s: expected %s, got %s",
                    {a.name, std::string(arg_type_name(a.type)), std::string(value_type_name(v))});
    if (a.type == ArgType::Int && a.non_negative && is_negative(v))
      return reject("argument %s: must not be negative, got %s", {a.name, v.dump()});
    if (a.type == ArgType::List) {
      if (a.element_type) {
        for (std::size_t i = 0; i < v.size(); ++i) {
          if (!has_type(v[i], *a.element_type))
            return reject("argument %s: element %s: expected %s, got %s",
                          {a.name, std::to_string(i), std::string(arg_type_name(*a.element_type)),
                           std::string(value_type_name(v[i]))});
        }
      }
      if (v.size() < a.min_items)
        return reject("argument %s: expected at least %s element(s), got %s",
                      {a.name, std::to_string(a.min_items), std::to_string(v.size())});
    }
    if (a.type == ArgType::Set) {
      for (std::size_t i = 0; i < v.size(); ++i) {
        if (!has_type(v[i], ArgType::Bytes))
          return reject("argument %s: element %s: expected bytes, got %s",
                        {a.name, std::to_string(i), std::string(value_type_name(v[i]))});
        const std::string item = *framing::bytes_or_text(v[i]);
        bool valid = a.valid_values.empty();
        for (const auto& allowed : a.valid_values) valid = valid || allowed == item;
        if (!valid) {
          std::string list;
          for (const auto& allowed : a.valid_values) list += (list.empty() ? "" : ", ") + allowed;
          return reject("unsupported value for argument %s: %s (valid values: %s)", {a.name, shorten(item), list});
        }
      }
    }
  }
  if (filled.is_null()) return std::optional<json>();
  return std::optional<json>(std::move(filled));
}

}  // namespace

hgrpc::expected<json, CommandError> validate_args(const CommandSpec& spec, const json& args,
                                                  bool has_data) {
  const json& given = args.is_null() ? empty_args() : args;
  auto checked = check_args(spec, given, has_data);
  if (!checked) return hgrpc::unexpected<CommandError>(std::move(checked.error()));
  if (*checked) return std::move(**checked);
  return given;
}

CommandRegistry CommandRegistry::standard() {
  CommandRegistry r;
  r.add(commands::capabilities_command());
  r.add(commands::applypatches_command());
  r.add(commands::foldpatches_command());
  r.add(commands::patchedsize_command());
  r.add(commands::diff_command());
  return r;
}

void CommandRegistry::add(CommandSpec spec) {
  if (commands_.contains(spec.name))
    throw std::logic_error("command registered twice: " + spec.name);
  std::string name = spec.name;
  commands_.emplace(std::move(name), std::move(spec));
}

const CommandSpec* CommandRegistry::find(std::string_view name) const {
  auto it = commands_.find(name);
  return it == commands_.end() ? nullptr : &it->second;
}

CommandStatus CommandRegistry::execute(const CommandSpec& spec, const json& args,
                                       std::optional<framing::ByteView> data,
                                       const CommandLimits& limits, ResponseSink& sink,
                                       ResponseCache* cache, RedirectRequest* redirect) const {
  const json& given = args.is_null() ? empty_args() : args;
  auto checked = check_args(spec, given, data.has_value());
  if (!checked) return hgrpc::unexpected<CommandError>(std::move(checked.error()));
  CommandInput input{*checked ? **checked : given, data, limits, *this, cache, redirect};
  if (spec.cached_by_arguments && (cache != nullptr || redirect != nullptr)) {
    if (auto key = response_cache_key(spec.name, input.args, data, "", sink.splices())) {
      const auto answer = [&] { return answer_with_cache(cache, *key, sink, [&] { return spec.handler(input, sink); }); };
      if (redirect == nullptr) return answer();
      const auto blob_key = response_cache_key(spec.name, input.args, data, "", false);
      return answer_with_redirect(
          *redirect, cache, *blob_key, sink, [&](ResponseSink& blob) { return spec.handler(input, blob); }, answer);
    }
  }
  return spec.handler(input, sink);
}

CommandResult CommandRegistry::run(const CommandSpec& spec, const json& args,
                                   std::optional<framing::ByteView> data,
                                   const CommandLimits& limits, ResponseCache* cache) const {
  // The values come back from the frames the handler produced: the status
  // map first, then the data, all in command-response frames.
  framing::Bytes payload;
  framing::ResponseEmitter emitter(0, 0);
  ResponseSink sink(
      emitter,
      [&](framing::PlannedFrames& frames, framing::ResponseEmitter&) {
        for (const auto& f : frames) framing::append(payload, f.payload);
        frames.clear();  // taken: a later drain must not see them again
        return true;
      },
      std::size_t{1} << 20);
  auto status = execute(spec, args, data, limits, sink, cache);
  if (!status) return hgrpc::unexpected<CommandError>(std::move(status.error()));
  sink.finish();
  framing::CborLimits cbor;
  cbor.max_string_bytes = payload.size();
  auto values = framing::cbor_decode_all(payload, cbor);
  if (!values) throw std::logic_error("command " + spec.name + " produced undecodable output: " + values.error().message);
  if (values->empty()) throw std::logic_error("command " + spec.name + " produced no output");
  values->erase(values->begin());  // {status: ok}
  return std::move(*values);
}

json CommandRegistry::commands_capability() const {
  json out = json::object();
  for (const auto& [name, spec] : commands_) {
    json args = json::object();
    for (const auto& a : spec.args) {
      json entry = {{"type", framing::cbor_bytes(arg_type_name(a.type))}, {"required", a.required}};
      if (a.default_value)
        entry["default"] = a.type == ArgType::Set ? framing::cbor_set(*a.default_value) : *a.default_value;
      if (!a.valid_values.empty()) {
        json values = json::array();
        for (const auto& v : a.valid_values) values.push_back(framing::cbor_bytes(v));
        entry["validvalues"] = framing::cbor_set(values);
      }
      args[a.name] = std::move(entry);
    }
    json entry = {{"args", std::move(args)},
                  {"permissions", json::array({framing::cbor_bytes(spec.permission)})}};
    for (const auto& [key, value] : spec.extra_capabilities.items()) entry[key] = value;
    out[name] = std::move(entry);
  }
  return out;
}

}  // namespace hgrpc::server
