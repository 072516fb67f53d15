// The input format of clone_responses_fuzz (tests/fuzz/replayed_exchange.hpp)
// against a real exchange: a clone's answers recorded block by block replay
// into the same clone, and a cut or a changed byte fails it with no DEST.
// HGRPC_WRITE_FUZZ_SEED=FILE writes the recording of the names fixture (the
// committed seed tests/fuzz/corpus/clone_responses/names).
#include <cstdlib>
#include <fstream>

#include "client/clone.hpp"
#include "tests/fuzz/replayed_exchange.hpp"
#include "tests/repo/in_process_server.hpp"

using namespace repo_test;
namespace cl = hgrpc::client;
namespace fr = hgrpc::framing;

namespace {

// The batch sizes clone_responses_fuzz announces: the calls then match.
json fuzz_descriptor() {
  return {{"commands", {{"manifestdata", {{"recommendedbatchsize", 3}}}, {"filesdata", {{"recommendedbatchsize", 2}}}}}};
}

cl::Exchange recording(cl::Exchange inner, fr::Bytes& record) {
  return [inner = std::move(inner), &record](const std::vector<cl::Call>& calls) -> cl::ClientResult<std::vector<cl::Outcome>> {
    auto outcomes = inner(calls);
    if (outcomes) {
      for (const auto& o : *outcomes) fr::append(record, hgrpc::fuzz::encode_block(o));
    }
    return outcomes;
  };
}

cl::ClientResult<cl::CloneSummary> replay(const fr::Bytes& input, const fs::path& dest) {
  hgrpc::fuzz::ReplayedExchange r(input);
  cl::CloneOptions options;
  options.checkout = false;
  return cl::clone_repository(r.exchange(), fuzz_descriptor(), dest, options);
}

}  // namespace

TEST_CASE("fuzz seed: a recorded clone replays into the same clone, a cut or changed byte fails it") {
  for (std::string name : {"names", "zstd"}) {
    CAPTURE(name);
    auto registry = registry_for(name);
    const fs::path dir = scratch("fuzz-seed-" + name);
    fr::Bytes record;
    cl::CloneOptions options;
    options.checkout = false;
    auto live = cl::clone_repository(recording(in_process(registry), record), fuzz_descriptor(), dir / "live", options);
    REQUIRE_MESSAGE(live, (live ? "" : live.error().message));
    CHECK(live->changesets > 0);

    auto again = replay(record, dir / "replayed");
    REQUIRE_MESSAGE(again, (again ? "" : again.error().message));
    CHECK(again->changesets == live->changesets);
    CHECK(again->manifests == live->manifests);
    CHECK(again->file_revisions == live->file_revisions);
    CHECK(again->revision_bytes == live->revision_bytes);
    CHECK(compare("store", dir / "live", dir / "replayed") == "");

    // Cut inside the last block: the exchange breaks, no DEST.
    fr::Bytes cut(record.begin(), record.end() - 1);
    auto broken = replay(cut, dir / "cut");
    REQUIRE_FALSE(broken);
    CHECK(broken.error().message == "replayed exchange: a block runs past the input");
    CHECK_FALSE(fs::exists(dir / "cut"));

    // A changed byte of revision data: a hash mismatch (or a malformed value),
    // never a clone.
    fr::Bytes changed = record;
    changed[changed.size() - 2] ^= 0x20;
    CHECK_FALSE(replay(changed, dir / "changed"));
    CHECK_FALSE(fs::exists(dir / "changed"));

    if (const char* out = std::getenv("HGRPC_WRITE_FUZZ_SEED"); out != nullptr && name == "names") {
      std::ofstream f(out, std::ios::binary);
      f.write(reinterpret_cast<const char*>(record.data()), static_cast<std::streamsize>(record.size()));
    }
    fs::remove_all(dir);
  }
}
