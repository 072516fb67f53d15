#include "server/repo/repo_command.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "framing/cbor.hpp"
#include "server/content_redirect.hpp"
#include "server/response_cache.hpp"

namespace hgrpc::server::repo {

namespace {

CommandSpec make_repo_command(std::string name, std::vector<ArgSpec> args, RepoHandler handler,
                              std::shared_ptr<const RepoContext> context, json extra_capabilities, bool cached) {
  CommandSpec spec{.name = std::move(name), .permission = "pull", .args = std::move(args), .handler = {},
                   .extra_capabilities = std::move(extra_capabilities)};
  spec.handler = [handler = std::move(handler), context = std::move(context), cached,
                  name = spec.name](const CommandInput& in, ResponseSink& out) -> CommandStatus {
    auto snapshot = context->repository->snapshot();
    if (!snapshot) return hgrpc::unexpected<CommandError>(store_error(snapshot.error()));
    const auto run_into = [&](ResponseSink& into) -> CommandStatus {
      ResponseRecordSink sink(into, in.limits.max_output_bytes);
      RepoCall call{in.args, *snapshot, context->options};
      if (RepoError error = handler(call, sink)) return hgrpc::unexpected<CommandError>(std::move(*error));
      return {};
    };
    const auto run = [&] { return run_into(out); };
    if (cached && (in.cache != nullptr || in.redirect != nullptr)) {
      // The options and limits decide answers too (phases.publish the
      // phases reported, a limit an error instead of data).
      const auto& o = context->options;
      const std::string state =
          fmt::format("{}|{}|{}|{}|{}|{}|{}|{}|{}|{}", snapshot->state_key(), o.publishing, o.manifestdata_batch_size,
                      o.filesdata_batch_size, o.max_nodes, o.max_revision_specifiers, o.max_changesets,
                      o.max_file_revisions, o.max_localtags_bytes, in.limits.max_output_bytes);
      if (auto key = response_cache_key(name, in.args, in.data, state, out.splices())) {
        const auto answer = [&] { return answer_with_cache(in.cache, *key, out, run); };
        if (in.redirect == nullptr) return answer();
        // The blob holds what a plain stream carries (no spliced zstd frames).
        const auto blob_key = response_cache_key(name, in.args, in.data, state, false);
        return answer_with_redirect(*in.redirect, in.cache, *blob_key, out, run_into, answer);
      }
    }
    return run();
  };
  return spec;
}

}  // namespace

CommandSpec repo_command(std::string name, std::vector<ArgSpec> args, RepoHandler handler,
                         std::shared_ptr<const RepoContext> context, json extra_capabilities) {
  return make_repo_command(std::move(name), std::move(args), std::move(handler), std::move(context),
                           std::move(extra_capabilities), false);
}

CommandSpec cached_repo_command(std::string name, std::vector<ArgSpec> args, RepoHandler handler,
                                std::shared_ptr<const RepoContext> context, json extra_capabilities) {
  return make_repo_command(std::move(name), std::move(args), std::move(handler), std::move(context),
                           std::move(extra_capabilities), true);
}

std::optional<store::Node> node_of(const json& v) {
  const auto b = framing::bytes_or_text_view(v);
  return b ? store::node_from_bytes(*b) : std::nullopt;
}

std::string node_arg_hex(const json& v) {
  if (const auto b = framing::bytes_or_text_view(v)) return store::hex(*b);
  return v.dump();
}

hgrpc::expected<std::vector<int>, CommandError> requested_revs(const store::Revlog& log, const json& nodes,
                                                             const store::Snapshot& snapshot,
                                                             std::string unknown_message) {
  std::vector<int> revs;
  revs.reserve(nodes.size());
  for (const auto& n : nodes) {
    auto node = node_of(n);
    auto rev = node ? log.rev(*node) : std::nullopt;
    if (!rev || *rev < 0 || log.entry(*rev).linkrev >= snapshot.size())
      return hgrpc::unexpected<CommandError>(CommandError{std::move(unknown_message), {node_arg_hex(n)}});
    revs.push_back(*rev);
  }
  std::sort(revs.begin(), revs.end());
  revs.erase(std::unique(revs.begin(), revs.end()), revs.end());
  return revs;
}

std::string string_of(const json& v) { return framing::bytes_or_text(v).value(); }

bool has_field(const json& fields, std::string_view name) {
  for (const auto& f : fields) {
    if (string_of(f) == name) return true;
  }
  return false;
}

json parents_value(const store::Node& p1, const store::Node& p2) {
  return json::array({node_value(p1), node_value(p2)});
}

}  // namespace hgrpc::server::repo
