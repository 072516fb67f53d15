#pragma once
// The repository commands of Mercurial 5.8's HTTP v2 API, one file each:
// heads, known, lookup, listkeys, branchmap, changesetdata, manifestdata,
// filedata, filesdata. Names, arguments (types, required, defaults,
// validvalues), permissions and recommendedbatchsize are 5.8's; so are the
// response shapes. rawstorefiledata and pushkey are not offered.
#include <memory>

#include "server/command_registry.hpp"
#include "server/repo/repo_command.hpp"
#include "server/repo/repo_options.hpp"
#include "store/repository.hpp"

namespace hgrpc::server::repo {

using Context = std::shared_ptr<const RepoContext>;

CommandSpec heads_command(Context context);
CommandSpec known_command(Context context);
CommandSpec lookup_command(Context context);
CommandSpec listkeys_command(Context context);
CommandSpec branchmap_command(Context context);
CommandSpec changesetdata_command(Context context);
CommandSpec manifestdata_command(Context context);
CommandSpec filedata_command(Context context);
CommandSpec filesdata_command(Context context);

// Adds all of the above, serving `repository`.
void register_repository_commands(CommandRegistry& registry, std::shared_ptr<const store::Repository> repository,
                                  RepoCommandOptions options = {});

// The descriptor keys that describe a served repository, for the
// integrator to merge into capabilities_map: pathfilterprefixes (a set:
// path:, rootfilesin:) and rawrepoformats (the repository's storage
// formats among generaldelta, persistent-nodemap, revlogv1, share-safe,
// sparserevlog, sorted), as 5.8 advertises them.
json repository_capabilities(const store::Repository& repository);

// The `fields` argument of a data command: a set with these valid values.
ArgSpec fields_arg(std::vector<std::string> valid_values);
ArgSpec haveparents_arg();

// A local divergent bookmark ("name@path"): never offered to clients.
bool is_divergent_bookmark(const std::string& name);

}  // namespace hgrpc::server::repo
