#pragma once
// The `hgrpc` command line: parses arguments (CLI11) and runs one subcommand.
// Returns the process exit code (see client/errors.hpp).
namespace hgrpc::client {

int run_cli(int argc, char** argv);

}  // namespace hgrpc::client
