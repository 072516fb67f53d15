#include "server/repo/repo_commands.hpp"

namespace hgrpc::server::repo {

void register_repository_commands(CommandRegistry& registry, std::shared_ptr<const store::Repository> repository,
                                  RepoCommandOptions options) {
  auto context = std::make_shared<const RepoContext>(RepoContext{std::move(repository), options});
  for (auto make : {heads_command, known_command, lookup_command, listkeys_command, branchmap_command,
                    changesetdata_command, manifestdata_command, filedata_command, filesdata_command}) {
    registry.add(make(context));
  }
}

json repository_capabilities(const store::Repository& repository) {
  json formats = json::array();
  for (const char* f : {"generaldelta", "persistent-nodemap", "revlogv1", "share-safe", "sparserevlog"}) {
    if (repository.layout().requirements.contains(f)) formats.push_back(framing::cbor_bytes(f));
  }
  return {{"pathfilterprefixes",
           framing::cbor_set(json::array({framing::cbor_bytes("path:"), framing::cbor_bytes("rootfilesin:")}))},
          {"rawrepoformats", std::move(formats)}};
}

ArgSpec fields_arg(std::vector<std::string> valid_values) {
  return ArgSpec{.name = "fields",
                 .type = ArgType::Set,
                 .required = false,
                 .default_value = json::array(),
                 .valid_values = std::move(valid_values)};
}

ArgSpec haveparents_arg() {
  return ArgSpec{.name = "haveparents", .type = ArgType::Bool, .required = false, .default_value = false};
}

}  // namespace hgrpc::server::repo
