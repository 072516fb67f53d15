#include "server/options.hpp"

#include <algorithm>
#include <iostream>
#include <thread>

#include <CLI/CLI.hpp>

namespace hgrpc::server {

std::size_t effective_threads(const Options& o) {
  const std::size_t warm =
      o.threads != 0 ? o.threads : std::max<std::size_t>(8, std::thread::hardware_concurrency());
  return std::min(warm, std::max<std::size_t>(1, o.max_connections));
}

std::size_t effective_compress_threads(const Options& o) {
  if (o.compress_threads != 0) return o.compress_threads;
  return std::max<std::size_t>(1, std::thread::hardware_concurrency());
}

ParseOutcome parse_options(int argc, const char* const* argv) {
  Options o;
  CLI::App app{
      "hgrpcd: a server for hgrpc, the frame-based RPC protocol of Mercurial's HTTP "
      "version 2 API (POST /api/exp-http-v2-0003/{ro,rw}/<command>). With --repo it serves "
      "Mercurial repositories to Mercurial 5.8's HTTP version 2 client and to hgrpc clone/pull."};
  app.option_defaults()->always_capture_default();
  // Sizes accept a unit: 64KiB, 32MB (powers of 1024 either way), or plain bytes.
  const CLI::AsSizeValue size_unit{false};

  app.add_option("--listen", o.listen, "Address to listen on (IPv4 or IPv6)")
      ->envname("HGRPCD_LISTEN");
  app.add_option("--port", o.port,
                 "TCP port; 0 picks a free one. The bound address is printed on stdout as "
                 "'listening on ADDRESS:PORT'")
      ->envname("HGRPCD_PORT")
      ->check(CLI::Range(0, 65535));
  app.add_option("--threads", o.threads,
                 "Worker threads started at once and kept when idle (0: max(8, cores)); more "
                 "are started on demand up to --max-connections")
      ->envname("HGRPCD_THREADS");
  app.add_option("--max-connections", o.max_connections,
                 "Requests served at once, one worker thread each; a complete request head "
                 "arriving when all are busy gets 503 with Retry-After")
      ->envname("HGRPCD_MAX_CONNECTIONS")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20));
  app.add_option("--max-open-connections", o.max_open_connections,
                 "Open connections, including those waiting for a request head (they cost no "
                 "thread); past it a new connection gets 503 (also bounded by ulimit -n)")
      ->envname("HGRPCD_MAX_OPEN_CONNECTIONS")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 24));
  app.add_option("--max-connections-per-client", o.max_connections_per_client,
                 "Open connections from one address; from a --trusted-proxy, requests in "
                 "progress per X-Forwarded-For client. Past it: 503 (0: no limit)")
      ->envname("HGRPCD_MAX_CONNECTIONS_PER_CLIENT");
  app.add_option("--header-timeout", o.header_timeout,
                 "Seconds a request head (request line and headers) may take in total, from "
                 "the connection's start or its first byte after the previous response; a "
                 "late head is closed without an answer")
      ->envname("HGRPCD_HEADER_TIMEOUT")
      ->check(CLI::PositiveNumber);
  app.add_option("--listen-backlog", o.listen_backlog,
                 "Connections the kernel queues until hgrpcd accepts them (capped by "
                 "net.core.somaxconn); past it new connections are dropped or reset")
      ->envname("HGRPCD_LISTEN_BACKLOG")
      ->check(CLI::Range(1, 65535));
  app.add_option("--max-body-bytes", o.max_body_bytes,
                 "Largest request body; a larger declared length gets 413")
      ->envname("HGRPCD_MAX_BODY_BYTES")
      ->transform(size_unit);
  app.add_option("--max-frame-size", o.max_frame_size,
                 "Largest frame payload accepted (and advertised); emitted frames carry at "
                 "most min(32768, this)")
      ->envname("HGRPCD_MAX_FRAME_SIZE")
      ->transform(size_unit)
      ->check(CLI::Range(std::size_t{1024}, std::size_t{0xFFFFFF}));
  app.add_option("--max-output-bytes", o.max_output_bytes,
                 "Largest response of one command")
      ->envname("HGRPCD_MAX_OUTPUT_BYTES")
      ->transform(size_unit);
  app.add_option("--compress-threads", o.compress_threads,
                 "Threads encoding output streams (0: number of cores)")
      ->envname("HGRPCD_COMPRESS_THREADS");
  app.add_option("--encodings", o.encodings,
                 "Output encodings, the server's preference first, of those a client lists "
                 "(identity is the fallback). zstd-8mb-frames (hgrpc clients) lets stored "
                 "zstd revlog chunks go out as they are; drop it to always recompress")
      ->envname("HGRPCD_ENCODINGS")
      ->delimiter(',')
      ->check(CLI::IsMember({"zstd-8mb-frames", "zstd-8mb", "zlib", "identity"}));
  app.add_option("--spool-bytes", o.spool_bytes,
                 "Response bytes of one request kept in memory while its body is still "
                 "arriving; the rest goes to an unlinked temporary file")
      ->envname("HGRPCD_SPOOL_BYTES")
      ->transform(size_unit);
  app.add_option("--response-window-bytes", o.response_window_bytes,
                 "Output of one response held in memory at once; the handler waits for "
                 "the connection beyond it")
      ->envname("HGRPCD_RESPONSE_WINDOW_BYTES")
      ->transform(size_unit);
  app.add_option("--max-request-bytes", o.max_request_bytes,
                 "Largest command request: CBOR arguments plus command data")
      ->envname("HGRPCD_MAX_REQUEST_BYTES")
      ->transform(size_unit);
  app.add_option("--max-receiving-requests", o.max_receiving_requests,
                 "Command requests of one body whose frames may arrive at the same time")
      ->envname("HGRPCD_MAX_RECEIVING_REQUESTS");
  app.add_option("--max-stream-decoded-bytes", o.max_stream_decoded_bytes,
                 "Bytes one compressed input stream may decode to")
      ->envname("HGRPCD_MAX_STREAM_DECODED_BYTES")
      ->transform(size_unit);
  app.add_option("--max-open-streams", o.max_open_streams, "Input streams open at once in one body")
      ->envname("HGRPCD_MAX_OPEN_STREAMS");
  app.add_option("--token-file", o.token_file,
                 "File of bearer tokens, one per line. When set, rw/ requests need "
                 "'Authorization: Bearer <token>' (401 without, 403 with a wrong one)")
      ->envname("HGRPCD_TOKEN_FILE");
  app.add_flag("--auth-ro", o.auth_ro, "Require the token for ro/ requests too")
      ->envname("HGRPCD_AUTH_RO");
  app.add_option("--trusted-proxy", o.trusted_proxies,
                 "CIDR of a proxy whose X-Forwarded-For names the client (repeatable; the "
                 "variable takes a comma-separated list)")
      ->envname("HGRPCD_TRUSTED_PROXY")
      ->delimiter(',');
  std::string log_format = "text";
  app.add_option("--log-format", log_format, "Access log format on stderr")
      ->envname("HGRPCD_LOG_FORMAT")
      ->check(CLI::IsMember({"text", "json"}));
  std::string access_log = "on";
  app.add_option("--access-log", access_log,
                 "One line per request on stderr; off leaves only server messages (startup, "
                 "shutdown, errors) and /metrics as the record of requests")
      ->envname("HGRPCD_ACCESS_LOG")
      ->check(CLI::IsMember({"on", "off"}));
  app.add_option("--read-timeout", o.read_timeout,
                 "Seconds to wait for each read of request bytes (head or body)")
      ->envname("HGRPCD_READ_TIMEOUT")
      ->check(CLI::PositiveNumber);
  app.add_option("--min-body-rate", o.min_body_rate,
                 "Bytes per second a request body must average once --read-timeout seconds "
                 "have passed; a slower body is cut off with 408 (0: no minimum)")
      ->envname("HGRPCD_MIN_BODY_RATE")
      ->transform(size_unit);
  app.add_option("--write-timeout", o.write_timeout,
                 "Seconds to wait for the client to accept response bytes")
      ->envname("HGRPCD_WRITE_TIMEOUT")
      ->check(CLI::PositiveNumber);
  app.add_option("--keep-alive-timeout", o.keep_alive_timeout,
                 "Seconds a keep-alive connection may stay idle between requests")
      ->envname("HGRPCD_KEEP_ALIVE_TIMEOUT")
      ->check(CLI::PositiveNumber);
  app.add_option("--keep-alive-max", o.keep_alive_max, "Requests served on one connection")
      ->envname("HGRPCD_KEEP_ALIVE_MAX")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 30));
  app.add_option("--shutdown-grace", o.shutdown_grace,
                 "Seconds requests in flight get to finish after SIGTERM/SIGINT")
      ->envname("HGRPCD_SHUTDOWN_GRACE")
      ->check(CLI::NonNegativeNumber);

  app.add_option("--repo", o.repos,
                 "Serve a Mercurial repository: PATH serves it at the root URL (/?cmd=capabilities, "
                 "/api/...); NAME=PATH (repeatable) serves each under /NAME/, and GET / lists them. "
                 "Its requirements are checked at start; one that cannot be served stops hgrpcd")
      ->envname("HGRPCD_REPO");
  std::string verify = "on";
  app.add_option("--verify-hashes", verify,
                 "Check every rebuilt revision against its node hash before it is sent")
      ->envname("HGRPCD_VERIFY_HASHES")
      ->check(CLI::IsMember({"on", "off"}));
  app.add_option("--revlog-cache-bytes", o.revlog_cache_bytes,
                 "Recently rebuilt full texts kept per open revlog (delta bases of the next ones)")
      ->envname("HGRPCD_REVLOG_CACHE_BYTES")
      ->transform(size_unit);
  app.add_option("--filelog-cache-bytes", o.filelog_cache_bytes,
                 "Recently rebuilt full texts kept per open filelog")
      ->envname("HGRPCD_FILELOG_CACHE_BYTES")
      ->transform(size_unit);
  app.add_option("--max-open-filelogs", o.max_open_filelogs,
                 "Filelogs one request keeps open (least recently used closed first); with "
                 "--filelog-cache-bytes this bounds a request's cached texts")
      ->envname("HGRPCD_MAX_OPEN_FILELOGS")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20));
  app.add_option("--max-text-bytes", o.max_text_bytes,
                 "Largest revision rebuilt from a revlog; a larger one is a command error naming it")
      ->envname("HGRPCD_MAX_TEXT_BYTES")
      ->transform(size_unit);
  app.add_option("--max-nodes", o.max_nodes, "Nodes in one list argument of a repository command")
      ->envname("HGRPCD_MAX_NODES");
  app.add_option("--max-changesets", o.max_changesets,
                 "Changesets one changesetdata or filesdata request may select")
      ->envname("HGRPCD_MAX_CHANGESETS");
  app.add_option("--max-file-revisions", o.max_file_revisions,
                 "File revisions one filesdata request may select")
      ->envname("HGRPCD_MAX_FILE_REVISIONS");
  app.add_option("--splice-min-bytes", o.splice_min_bytes,
                 "Stored zstd chunks smaller than this are recompressed into a zstd-8mb-frames response "
                 "rather than spliced as they are: fewer bytes on the wire for more CPU (0: splice every one)")
      ->envname("HGRPCD_SPLICE_MIN_BYTES")
      ->transform(size_unit);
  app.add_option("--cache-bytes", o.cache_bytes,
                 "Memory for cached answers of the repository data commands (changesetdata, "
                 "manifestdata, filedata, filesdata) and the patch commands; 0 turns the cache off")
      ->envname("HGRPCD_CACHE_BYTES")
      ->transform(size_unit);
  app.add_option("--cache-entry-bytes", o.cache_entry_bytes,
                 "Largest answer kept in the cache; a larger one is computed every time")
      ->envname("HGRPCD_CACHE_ENTRY_BYTES")
      ->transform(size_unit);
  std::string cache_admit = "first";
  app.add_option("--cache-admit", cache_admit,
                 "first: keep every answer that fits; second: keep an answer once its request "
                 "came twice (one-off requests then never evict the popular ones)")
      ->envname("HGRPCD_CACHE_ADMIT")
      ->check(CLI::IsMember({"first", "second"}));
  app.add_flag("--cache-recompress,!--no-cache-recompress", o.cache_recompress,
               "On by default. A cached zstd-8mb-frames answer (hgrpc clone's) is kept first as it was sent, "
               "stored chunks spliced; one background thread then decodes those and compresses the whole "
               "answer once (at --cache-recompress-level), and the smaller form replaces it: on the bench "
               "repository 28% fewer bytes and less CPU on every later answer, for about 1.6 s of that "
               "thread after the first answer")
      ->envname("HGRPCD_CACHE_RECOMPRESS");
  app.add_option("--cache-recompress-level", o.cache_recompress_level,
                 "zstd level of --cache-recompress's pass (1-19; every level decodes within zstd-8mb's 8 MiB "
                 "window): made once and sent on every hit, so it is above the streams' own 3. On the bench "
                 "repository a cached clone is 21.6 MB at 3, 20.9 MB at 9, 20.0 MB at 12, for 0.4, 1.6 and "
                 "3.5 s of the background thread")
      ->envname("HGRPCD_CACHE_RECOMPRESS_LEVEL")
      ->check(CLI::Range(1, 19));
  app.add_option("--cache-wait", o.cache_wait,
                 "Seconds a request waits for an identical one being answered before it computes "
                 "its own answer")
      ->envname("HGRPCD_CACHE_WAIT")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--cache-url", o.cache_url,
                 "Shared cache tier for several replicas: redis://HOST:PORT[/DB]. A dead or slow "
                 "tier only costs the time of --cache-timeout; answers are then computed")
      ->envname("HGRPCD_CACHE_URL");
  app.add_option("--cache-timeout", o.cache_timeout,
                 "Seconds one shared-tier operation may take (connect, read or write)")
      ->envname("HGRPCD_CACHE_TIMEOUT")
      ->check(CLI::PositiveNumber);
  app.add_option("--cache-ttl", o.cache_ttl,
                 "Seconds an answer written to the shared tier lives there (Redis SET ... EX)")
      ->envname("HGRPCD_CACHE_TTL")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 31));

  std::vector<std::string> redirect_targets;
  app.add_option("--redirect-target", redirect_targets,
                 "Content redirect target NAME=URL,DIR (repeatable): large answers of the data commands "
                 "are written to DIR, which a static server serves at URL (http or https), and clients "
                 "that list NAME are sent there. DIR must exist and be writable")
      ->envname("HGRPCD_REDIRECT_TARGET");
  app.add_option("--redirect-min-bytes", o.redirect_min_bytes,
                 "Smallest response body answered by a redirect; smaller ones stay inline (and are held "
                 "in memory up to this size while they are produced)")
      ->envname("HGRPCD_REDIRECT_MIN_BYTES")
      ->transform(size_unit);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return {std::nullopt, app.exit(e, std::cout, std::cerr)};
  }
  o.log_format = log_format == "json" ? LogFormat::Json : LogFormat::Text;
  o.access_log = access_log == "on";
  o.verify_hashes = verify == "on";
  o.cache_admit_second = cache_admit == "second";
  for (const auto& spec : redirect_targets) {
    auto target = parse_redirect_target(spec);
    if (!target) {
      std::cerr << "hgrpcd: " << target.error() << "\n";
      return {std::nullopt, 1};
    }
    if (auto bad = check_redirect_dir(target->dir)) {
      std::cerr << "hgrpcd: --redirect-target " << spec << ": " << *bad << "\n";
      return {std::nullopt, 1};
    }
    for (const auto& other : o.redirect_targets) {
      if (other.name == target->name) {
        std::cerr << "hgrpcd: --redirect-target " << spec << ": target " << target->name << " is given twice\n";
        return {std::nullopt, 1};
      }
    }
    o.redirect_targets.push_back(std::move(*target));
  }
  return {std::move(o), 0};
}

}  // namespace hgrpc::server
