#pragma once
// What clone and pull share: the Exchange (one request body, its outcomes),
// the first round of calls, and the fetch of exchangev2: changesets from
// roots to heads (changesetdata dagrange), then their manifests and files
// (manifestdata, filesdata in the server's recommended batch sizes,
// haveparents), every revision hash-checked by store::RepositoryWriter.
//
// The changelog is written last (append_changesets), after the manifests
// and filelogs and after the phaseroots and bookmarks (the linkrevs are
// known beforehand from its current length): a reader of the repository
// never sees a changeset whose manifest or files are not yet there, nor a
// new draft changeset before its phase root (it would read as public).
// Readers ignore roots and bookmarks on nodes the changelog lacks. That is
// what Mercurial's changelog diversion (00changelog.i.a) achieves; a clone,
// whose repository nobody sees before it is renamed into place, lets a
// writer thread write the changelog while the manifests and files arrive
// (FetchOptions::changelog_with_files). Otherwise the
// received changeset texts wait in an unnamed temporary file
// (client/text_spool.hpp), and their nodes, parents and phases in memory
// (about 70 bytes a changeset, with the node index).
//
// Responses are read as they arrive (client/revision_stream.hpp): every
// manifest and file revision goes to the writer as soon as its data value
// is decoded, and no response is held whole.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "client/errors.hpp"
#include "client/node_index.hpp"
#include "client/outcome.hpp"
#include "client/session.hpp"
#include "client/text_spool.hpp"
#include "store/node.hpp"
#include "store/phases.hpp"
#include "store/repository_writer.hpp"

namespace hgrpc::client {

// A malformed or inconsistent answer, or a store failure while writing what
// was received: protocol errors (exit 3) for clone and pull.
inline hgrpc::unexpected<ClientError> protocol_error(const std::string& message) {
  return client_fail(ErrorKind::Protocol, message);
}
inline hgrpc::unexpected<ClientError> from_store(const store::Error& e) { return protocol_error(e.message); }

// Takes the values of call `call_index` one by one; an error ends the
// exchange with it.
using ValueConsumer = std::function<ClientResult<void>(std::size_t call_index, framing::json&& value)>;

// Runs calls in one request body; their outcomes in call order. Made from a
// collecting function (calls -> outcomes with their values: the tests'
// in-process server) or, with Exchange::streaming, from one that hands each
// value to a consumer as it arrives (HTTP). Either is called both ways: with
// a consumer, a collecting exchange hands the values of its Ok outcomes over
// once the body is complete; without one, a streaming exchange collects them.
class Exchange {
 public:
  using Collecting = std::function<ClientResult<std::vector<Outcome>>(const std::vector<Call>& calls)>;
  // Returns the outcomes without their values (they went to the consumer).
  using Streaming = std::function<ClientResult<std::vector<Outcome>>(const std::vector<Call>& calls,
                                                                     const ValueConsumer& values)>;

  template <class F>
    requires(!std::is_same_v<std::remove_cvref_t<F>, Exchange> &&
             std::is_invocable_r_v<ClientResult<std::vector<Outcome>>, const F&, const std::vector<Call>&>)
  Exchange(F collecting) : collecting_(std::move(collecting)) {}
  static Exchange streaming(Streaming streaming);

  // Outcomes with their values.
  ClientResult<std::vector<Outcome>> operator()(const std::vector<Call>& calls) const;
  // Values through `values`, outcomes without them.
  ClientResult<std::vector<Outcome>> operator()(const std::vector<Call>& calls, const ValueConsumer& values) const;

 private:
  Exchange() = default;
  Collecting collecting_;
  Streaming streaming_;
};

// A streaming Exchange over HTTP: one run_calls per request body (bytes
// counted in `progress`, if given).
Exchange http_exchange(HttpTransport& transport, const SessionOptions& options, ProgressLine* progress = nullptr);

struct FetchSummary {
  std::uint64_t changesets = 0;
  std::uint64_t manifests = 0;
  std::uint64_t file_revisions = 0;
  std::uint64_t files = 0;           // distinct paths among the file revisions
  std::uint64_t revision_bytes = 0;  // received texts and deltas
  std::uint64_t requests = 0;        // request bodies (the handshake not counted)
  std::uint64_t manifests_expected = 0;  // known once changesetdata is read
};

// Runs `calls` in one body (counted in summary.requests); a command error
// of any call is an error naming the command.
ClientResult<std::vector<Outcome>> run_round(const Exchange& exchange, FetchSummary& summary,
                                             const std::vector<Call>& calls);
// The same, the values going to `values` as they arrive.
ClientResult<std::vector<Outcome>> run_round(const Exchange& exchange, FetchSummary& summary,
                                             const std::vector<Call>& calls, const ValueConsumer& values);

// Reads values of a first-round outcome.
ClientResult<std::vector<store::Node>> node_list_of(const std::string& command, const Outcome& outcome);
ClientResult<store::Node> node_of_lookup(const std::string& key, const Outcome& outcome);
framing::json node_list(const std::vector<store::Node>& nodes);
Call lookup_call(const std::string& key);

// Called as revisions are written (every few hundred, and at the end of
// each response) with the counts so far and the share of the fetch done:
// changesetdata, each manifestdata batch and each filesdata batch are one
// step each, interpolated within a batch.
using FetchProgress = std::function<void(const FetchSummary& counts, double fraction)>;

// "changesets 12, manifests 3/12, file revisions 40" for the progress line.
std::string progress_counts(const FetchSummary& counts);

// What the repository writer of a clone or pull may keep in memory: each
// revlog written keeps recent full texts (its delta bases) up to
// revlog_cache_bytes, and at most max_open_filelogs filelogs are open (their
// writers and caches) at once, so cached texts stay within
// (max_open_filelogs + 2) x revlog_cache_bytes whatever the repository's
// size. filesdata sends each path's revisions together, and the fetch
// closes a path's filelog when the next path starts: one filelog is open
// at a time, 3 x revlog_cache_bytes in all.
//
// write_threads writer threads (client/write_lanes.hpp) write filelogs,
// and one more the manifest log, while the responses are read, sharing a
// budget of (write_threads + 1) x write_queue_bytes of received revisions;
// a path goes to the filelog thread with the least queued when it starts,
// and each thread holds at most one open filelog: the filelog threads are
// capped at max_open_filelogs, and the texts in memory stay within
// (max_open_filelogs + 2) x revlog_cache_bytes + (write_threads + 1) x
// write_queue_bytes. 0 threads: the reader writes, as it reads.
struct WriterLimits {
  std::uint64_t revlog_cache_bytes = std::uint64_t{8} << 20;
  std::size_t max_open_filelogs = 8;
  std::size_t write_threads = 2;
  std::uint64_t write_queue_bytes = std::uint64_t{1} << 20;
  // The zstd level of the chunks written. 1, not Mercurial's 3: a clone
  // compresses every full text it stores, and on the bench repository
  // level 1 takes a sixth of the clone's wall time less for a store 3% larger
  // (still smaller than the source's, written at 3). Any level reads back.
  int zstd_level = 1;
  store::RepositoryWriterOptions writer_options() const;
  std::size_t threads() const { return std::min(write_threads, max_open_filelogs); }
};

struct FetchOptions {
  bool want_phases_and_bookmarks = true;  // changesetdata fields phase and bookmarks
  FetchProgress on_progress;
  // Where the changeset texts are spooled (the repository's .hg); empty:
  // the system's temporary directory.
  std::filesystem::path spool_dir;
  // The changelog is appended by the fetch, on the manifest lane as soon as
  // changesetdata is read (a clone: see the top of this file), instead of
  // by append_changesets after it.
  bool changelog_with_files = false;
  // Writer threads and their queues (see WriterLimits).
  std::size_t write_threads = 0;
  std::uint64_t write_queue_bytes = std::uint64_t{1} << 20;
};

// What changesetdata said besides the revisions.
struct FetchedChangesets {
  std::vector<store::Node> added;          // changesets new to the repository, in changelog order
  std::vector<std::pair<store::Node, store::Node>> added_parents;
  std::vector<store::Phase> added_phases;  // theirs (with want_phases_and_bookmarks)
  std::vector<store::Node> public_nodes;   // phase-only records: public on the server
  std::map<std::string, store::Node> bookmarks;
  NodeIndex added_index;  // over `added`
  // Not yet written: the texts of `added`, in order. Nothing else of the
  // changesetdata response is kept.
  int first_rev = 0;  // the rev added[0] is given
  std::optional<TextSpool> texts;

  // Where `node` is in `added`.
  std::optional<std::size_t> position(const store::Node& node) const { return added_index.find(added, node); }
};

// Fetches ::heads - ::roots into `writer` (not committed), all but the
// changelog unless options.changelog_with_files. Changesets the repository
// has already are skipped.
ClientResult<FetchedChangesets> fetch_changesets(const Exchange& exchange, const framing::json& descriptor,
                                                 store::RepositoryWriter& writer, const std::vector<store::Node>& roots,
                                                 const std::vector<store::Node>& heads, const FetchOptions& options,
                                                 FetchSummary& summary);

// Appends the fetched changesets to the changelog: the last write.
// Reads the spooled texts back (once).
ClientResult<void> append_changesets(store::RepositoryWriter& writer, FetchedChangesets& fetched);

}  // namespace hgrpc::client
