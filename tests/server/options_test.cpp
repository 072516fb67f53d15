// hgrpcd's command line: flags that are on by default can be turned off,
// by flag and by environment variable.
#include <doctest/doctest.h>

#include <cstdlib>
#include <vector>

#include "server/options.hpp"

using namespace hgrpc::server;

namespace {

Options parsed(std::vector<const char*> args) {
  args.insert(args.begin(), "hgrpcd");
  const auto outcome = parse_options(static_cast<int>(args.size()), args.data());
  REQUIRE(outcome.options);
  return *outcome.options;
}

}  // namespace

TEST_CASE("options: --cache-recompress is on by default, off with --no-cache-recompress or HGRPCD_CACHE_RECOMPRESS=0") {
  ::unsetenv("HGRPCD_CACHE_RECOMPRESS");
  CHECK(parsed({}).cache_recompress);
  CHECK(parsed({"--cache-recompress"}).cache_recompress);
  CHECK_FALSE(parsed({"--no-cache-recompress"}).cache_recompress);
  ::setenv("HGRPCD_CACHE_RECOMPRESS", "0", 1);
  CHECK_FALSE(parsed({}).cache_recompress);
  CHECK(parsed({"--cache-recompress"}).cache_recompress);  // the command line wins
  ::setenv("HGRPCD_CACHE_RECOMPRESS", "1", 1);
  CHECK(parsed({}).cache_recompress);
  ::unsetenv("HGRPCD_CACHE_RECOMPRESS");
}
