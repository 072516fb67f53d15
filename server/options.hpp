#pragma once
// hgrpcd's command-line options. Each flag can also be set through an
// environment variable (HGRPCD_<FLAG>, e.g. HGRPCD_PORT); a flag given on the
// command line wins over the variable.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "compat/expected.hpp"
#include "server/content_redirect.hpp"

namespace hgrpc::server {

enum class LogFormat { Text, Json };

struct Options {
  std::string listen = "127.0.0.1";
  int port = 8080;                       // 0: any free port (printed on stdout)
  std::size_t threads = 0;               // 0: max(8, cores); worker threads kept when idle
  std::size_t max_connections = 1024;    // requests served at once (worker threads)
  std::size_t max_open_connections = 4096;  // open connections, waiting ones included
  std::size_t max_connections_per_client = 64;  // 0: no limit
  double header_timeout = 10;            // seconds for a whole request head
  int listen_backlog = 1024;             // connections the kernel queues before accept()
  std::uint64_t max_body_bytes = std::uint64_t{1} << 30;
  std::size_t max_frame_size = 65535;    // largest frame payload accepted
  std::uint64_t max_output_bytes = std::uint64_t{256} << 20;  // per command response
  std::size_t compress_threads = 0;      // 0: number of cores
  // Output encodings in the order the server prefers them (of those a client lists).
  std::vector<std::string> encodings{"zstd-8mb-frames", "zstd-8mb", "zlib", "identity"};
  std::uint64_t spool_bytes = std::uint64_t{32} << 20;  // response bytes kept in memory
  std::uint64_t response_window_bytes = std::uint64_t{4} << 20;  // one response in memory
  std::uint64_t max_request_bytes = std::uint64_t{256} << 20;  // one command's args + data
  std::size_t max_receiving_requests = 1024;  // requests arriving at once in one body
  std::uint64_t max_stream_decoded_bytes = std::uint64_t{1} << 30;  // per input stream
  std::size_t max_open_streams = 32;     // input streams of one body
  std::string token_file;                // empty: no authentication
  bool auth_ro = false;                  // tokens also required under ro/
  std::vector<std::string> trusted_proxies;  // CIDRs allowed to set X-Forwarded-For
  LogFormat log_format = LogFormat::Text;
  bool access_log = true;                // one line per request on stderr
  double read_timeout = 30;              // seconds
  double write_timeout = 30;             // seconds
  std::uint64_t min_body_rate = 1024;    // bytes/s a body must average after read_timeout
  double keep_alive_timeout = 5;         // seconds an idle connection stays open
  std::size_t keep_alive_max = 1000;     // requests per connection
  double shutdown_grace = 10;            // seconds in-flight requests get on SIGTERM
  // Repositories served: "PATH" (at the root) or "NAME=PATH" (under /NAME/,
  // repeatable). Empty: the patch commands only.
  std::vector<std::string> repos;
  bool verify_hashes = true;             // check each rebuilt revision's node hash
  std::uint64_t revlog_cache_bytes = std::uint64_t{8} << 20;   // full texts kept per revlog
  std::uint64_t filelog_cache_bytes = std::uint64_t{8} << 20;  // the same, per open filelog
  std::size_t max_open_filelogs = 8;     // filelogs one request keeps open
  std::uint64_t max_text_bytes = std::uint64_t{1} << 30;       // largest revision rebuilt
  std::size_t max_nodes = 1000000;       // nodes in one list argument
  std::size_t max_changesets = 10000000; // changesets one request may select
  std::size_t max_file_revisions = 50000000;  // file revisions one filesdata may select
  std::uint64_t splice_min_bytes = 0;         // stored zstd chunks spliced from this size (0: all)
  // The response cache (server/response_cache.hpp). 0 bytes: no cache.
  // 64 MiB: a clone of the bench repository (5,000 changesets) takes 38 MiB
  // of it, and a server's peak stays under 96 MiB during a clone.
  std::uint64_t cache_bytes = std::uint64_t{64} << 20;
  std::uint64_t cache_entry_bytes = std::uint64_t{32} << 20;  // larger answers are not kept
  bool cache_admit_second = false;       // --cache-admit second
  bool cache_recompress = true;          // --cache-recompress / --no-cache-recompress
  int cache_recompress_level = 9;        // --cache-recompress-level (ResponseCacheOptions says why 9)
  double cache_wait = 10;                // seconds an identical request waits for the first
  std::string cache_url;                 // shared tier: redis://HOST:PORT[/DB]; empty: none
  double cache_timeout = 0.2;            // seconds for one shared-tier operation
  std::uint64_t cache_ttl = 86400;       // seconds a shared-tier value lives
  // Content redirects (server/content_redirect.hpp): NAME=URL,DIR, parsed
  // and checked (DIR writable) at start. Empty: none advertised.
  std::vector<RedirectTarget> redirect_targets;
  std::uint64_t redirect_min_bytes = std::uint64_t{64} << 10;  // smaller answers stay inline
};

// The resolved number of HTTP worker threads and compression threads.
std::size_t effective_threads(const Options& o);
std::size_t effective_compress_threads(const Options& o);

struct ParseOutcome {
  std::optional<Options> options;  // nullopt: exit with exit_code (help, error)
  int exit_code = 0;
};

// Parses argv (and the environment). Prints --help or the error itself.
ParseOutcome parse_options(int argc, const char* const* argv);

}  // namespace hgrpc::server
