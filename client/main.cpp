// hgrpc: command-line client of hgrpcd (see client/cli.hpp).
#include "client/cli.hpp"

int main(int argc, char** argv) { return hgrpc::client::run_cli(argc, argv); }
