// hgrpcd: serves hgrpc (Mercurial's HTTP version 2 frame protocol) over HTTP/1.1.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <thread>

#include <fmt/format.h>
#include <malloc.h>
#include <pthread.h>
#include <sys/resource.h>

#include "server/access_log.hpp"
#include "server/command_registry.hpp"
#include "server/content_redirect.hpp"
#include "server/http_binding.hpp"
#include "server/options.hpp"
#include "server/repo/repository_mount.hpp"
#include "server/site.hpp"
#ifdef HGRPC_BENCH_COMMANDS
#include "bench/bench_commands.hpp"  // hgrpcd_bench only
#endif

using namespace hgrpc::server;

int main(int argc, char** argv) {
  auto parsed = parse_options(argc, argv);
  if (!parsed.options) return parsed.exit_code;
  const Options options = *parsed.options;

  // Bodies, arguments, results and spools of a MiB or more get their own
  // mappings, returned to the system when freed. glibc's default threshold
  // grows after such a free (up to 32 MiB), and the worker threads' arenas
  // then kept hundreds of MiB resident after a burst of large requests.
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  // Setting it also fixes the trim threshold at its 128 KiB default: every
  // free at an arena's top then handed the pages back and the next buffer
  // faulted them in again, which was 80% of the CPU of a cached 26 MB
  // answer (100 ms; 17 ms with 8 MiB). An arena keeps at most this much free.
  mallopt(M_TRIM_THRESHOLD, 8 << 20);

  // SIGTERM/SIGINT are taken by sigwait on one thread; block them before any
  // other thread starts so that every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  AccessLog log(options.log_format, options.access_log);

  // Every open connection is a descriptor: raise the soft limit to the hard
  // one (commonly 1024 soft), and say so when --max-open-connections cannot fit.
  rlimit nofile{};
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
    nofile.rlim_cur = nofile.rlim_max;
    setrlimit(RLIMIT_NOFILE, &nofile);
  }
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY &&
      nofile.rlim_cur < options.max_open_connections + 64)
    log.note(fmt::format("ulimit -n is {}: fewer than --max-open-connections {} connections can be open",
                         nofile.rlim_cur, options.max_open_connections));
  const CommandRegistry base = [] {
    CommandRegistry r = CommandRegistry::standard();
#ifdef HGRPC_BENCH_COMMANDS
    r.add(hgrpc::bench::bench_stream_command());
#endif
    return r;
  }();
  repo::MountSettings settings;
  settings.store.revlog.verify_hashes = options.verify_hashes;
  settings.store.revlog.cache_bytes = options.revlog_cache_bytes;
  settings.store.revlog.max_text_bytes = options.max_text_bytes;
  settings.store.filelog_cache_bytes = options.filelog_cache_bytes;
  settings.store.max_open_filelogs = options.max_open_filelogs;
  settings.store.revlog.max_delta_bytes = options.max_text_bytes;
  settings.commands.max_nodes = options.max_nodes;
  settings.commands.max_changesets = options.max_changesets;
  settings.commands.max_file_revisions = options.max_file_revisions;
  settings.commands.splice_min_bytes = options.splice_min_bytes;
  auto mounts = repo::mounts_for(options.repos, base, settings);
  if (!mounts) {
    std::fprintf(stderr, "hgrpcd: %s\n", mounts.error().c_str());
    return 1;
  }
  for (auto& m : *mounts) advertise_redirect_targets(m.registry, options.redirect_targets);
  auto site = Site::make(std::move(*mounts));
  if (!site) {
    std::fprintf(stderr, "hgrpcd: %s\n", site.error().c_str());
    return 1;
  }
  for (const auto& m : site->mounts())
    if (m.describe) log.note(fmt::format("serving {} at /{}", m.describe().value("path", ""), m.name));
  HttpServer server(options, *site, log);
  auto port = server.bind();
  if (!port) {
    std::fprintf(stderr, "hgrpcd: %s\n", port.error().c_str());
    return 1;
  }
  const bool v6 = options.listen.find(':') != std::string::npos;
  std::printf("listening on %s:%d\n", (v6 ? "[" + options.listen + "]" : options.listen).c_str(), *port);
  std::fflush(stdout);

  std::promise<void> stopped;
  auto stopped_future = stopped.get_future();
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    // Woken by main after run() returned on its own: nothing to stop.
    if (stopped_future.wait_for(std::chrono::seconds(0)) == std::future_status::ready) return;
    log.note(fmt::format("signal {}: no new connections; {} request(s) in flight get {} s",
                         sig, server.metrics().in_flight(), options.shutdown_grace));
    server.stop();
    const auto grace = std::chrono::duration<double>(options.shutdown_grace);
    if (stopped_future.wait_for(grace) != std::future_status::ready) {
      log.note("shutdown grace expired; exiting with requests in flight");
      std::_Exit(0);
    }
  });

  server.run();  // returns once the workers finished the requests in flight
  stopped.set_value();
  // Wake the waiter if run() ended without a signal (e.g. listen failed).
  pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  log.note("stopped");
  return 0;
}
