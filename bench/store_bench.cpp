// The store's read path: every revision of every filelog of a repository
// rebuilt from disk (decompression, delta chains, hash checks), with cold
// caches each iteration. The repository is HGRPC_BENCH_REPO, by default the
// main store fixture (<build>/store-fixtures/main, made by ctest's
// store/fixtures or tests/store/make_fixtures.py). bench/hg_store_reference.py
// times Debian Mercurial's C revlog on the same repository.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <set>
#include <string>

#include "store/repository.hpp"

using namespace hgrpc::store;

namespace {

std::string repo_path() {
  const char* env = std::getenv("HGRPC_BENCH_REPO");
  return env != nullptr ? env : HGRPC_BINARY_DIR "/store-fixtures/main";
}

// Every file any changeset touched (removed files included: their filelogs stay).
std::set<std::string> all_files(const Snapshot& snap) {
  std::set<std::string> files;
  for (int rev = 0; rev < snap.size(); ++rev) {
    auto cs = snap.changeset(rev);
    if (cs) files.insert(cs->files.begin(), cs->files.end());
  }
  return files;
}

void BM_rebuild_every_file_revision(benchmark::State& state) {
  auto repo = Repository::open(repo_path());
  if (!repo) {
    state.SkipWithError(("cannot open the repository: " + repo.error().message).c_str());
    return;
  }
  std::set<std::string> files;
  if (auto snap = repo->snapshot()) files = all_files(*snap);
  std::uint64_t bytes = 0, revisions = 0;
  for (auto _ : state) {
    auto snap = repo->snapshot();  // fresh revlogs: cold caches
    if (!snap) {
      state.SkipWithError(snap.error().message.c_str());
      return;
    }
    bytes = revisions = 0;
    for (const auto& f : files) {
      auto fl = snap->filelog(f);
      if (!fl) {
        state.SkipWithError(fl.error().message.c_str());
        return;
      }
      for (int rev = 0; rev < fl->size(); ++rev) {
        auto text = fl->rawtext(rev);
        if (!text) {
          state.SkipWithError(text.error().message.c_str());
          return;
        }
        bytes += (*text)->size();
        ++revisions;
      }
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
  state.counters["files"] = static_cast<double>(files.size());
  state.counters["revisions"] = static_cast<double>(revisions);
}
BENCHMARK(BM_rebuild_every_file_revision)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
