#pragma once
// Content redirects (Mercurial 5.8's wireprotocolrpc "Content Redirects"):
// a cacheable command whose request names a configured target in its
// `redirect` map, and whose response body is at least --redirect-min-bytes,
// is written once to the target's directory under the sha256 hex of its
// bytes and answered with
//
//   {status: redirect, location: {mediatype: application/mercurial-cbor,
//    url: URL/<sha256 hex>, size: N, fullhashes: [[sha256, digest]]}}
//
// A static server (nginx) serves the directory at URL. The blob is the CBOR
// values of the response without its status map, what Mercurial's client
// decodes with `fromredirect`. Anything that goes wrong on disk falls back
// to the inline answer (counted), never an error to the client.
//
//   --redirect-target NAME=URL,DIR   NAME=http://cdn.example/hg,/srv/blobs
//       (URL up to the last comma; its scheme, http or https, is the
//       advertised protocol)
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "compat/expected.hpp"
#include "framing/bytes.hpp"
#include "framing/cbor.hpp"
#include "server/command_registry.hpp"

namespace hgrpc::server {

class ResponseCache;
class ResponseSink;

inline constexpr std::string_view kRedirectMediaType = "application/mercurial-cbor";

struct RedirectTarget {
  std::string name;      // what clients list in a request's redirect.targets
  std::string protocol;  // "http" or "https", from url
  std::string url;       // public base URL, without a trailing '/'
  std::string dir;       // where the blobs are written (served at url)
};

// "NAME=URL,DIR" -> target, or a message naming what is wrong.
hgrpc::expected<RedirectTarget, std::string> parse_redirect_target(std::string_view spec);
// DIR exists, is a directory and takes a new file (a probe is created and
// removed); else the reason.
std::optional<std::string> check_redirect_dir(const std::string& dir);

// The capabilities map's `redirect` value, shaped as 5.8's server shapes it.
framing::json redirect_capability(const std::vector<RedirectTarget>& targets);
// Adds it to the registry's descriptor overrides (handshake and the
// capabilities command then both carry it); no targets: no change.
void advertise_redirect_targets(CommandRegistry& registry, const std::vector<RedirectTarget>& targets);

// How one request that asked for a redirect was answered (access log
// `redirect=`).
enum class RedirectOutcome { None, New, Reused, Small, Failed };
// "new" (blob written), "reused" (blob already there), "small" (below
// --redirect-min-bytes: inline), "failed" (writing failed: inline); empty
// for None.
std::string_view redirect_outcome_name(RedirectOutcome o);

struct RedirectStats {
  std::uint64_t redirects = 0;       // redirect answers sent
  std::uint64_t redirect_bytes = 0;  // blob bytes those answers point to
  std::uint64_t failures = 0;        // blobs that could not be written (inline answers instead)
};

// A written blob: its file name (sha256 hex), size and sha256.
struct RedirectBlob {
  std::string name;
  std::uint64_t size = 0;
  framing::Bytes sha256;
};

class RedirectStore;

// One request's redirect state, handed to the command through CommandInput.
struct RedirectRequest {
  RedirectStore* store = nullptr;
  const RedirectTarget* target = nullptr;  // the target chosen for this request
  RedirectOutcome outcome = RedirectOutcome::None;
};

class RedirectStore {
 public:
  RedirectStore(std::vector<RedirectTarget> targets, std::uint64_t min_bytes);

  const std::vector<RedirectTarget>& targets() const { return targets_; }
  std::uint64_t min_bytes() const { return min_bytes_; }

  // The first target of the request's `redirect.targets` (client order, as
  // 5.8's server would pick) that is configured; nullptr when none is (or
  // the request has no well-formed redirect map).
  const RedirectTarget* choose(const framing::json& request_redirect) const;

  // A blob written earlier for this key and target, if its file is still
  // there with its size.
  std::optional<RedirectBlob> find(const RedirectTarget& target, const std::string& key);
  void remember(const RedirectTarget& target, const std::string& key, const RedirectBlob& blob);

  // The location map of a redirect to blob, pre-encoded in the key order
  // of 5.8's server (mediatype, url, fullhashes, size).
  framing::json location(const RedirectTarget& target, const RedirectBlob& blob) const;

  void count_redirect(std::uint64_t bytes) {
    redirects_.fetch_add(1, std::memory_order_relaxed);
    redirect_bytes_.fetch_add(bytes, std::memory_order_relaxed);
  }
  // Counts a blob that could not be written and reports why (to the log
  // set by set_failure_log, if any).
  void count_failure(const std::string& why);
  void set_failure_log(std::function<void(const std::string&)> log) { failure_log_ = std::move(log); }
  RedirectStats stats() const;

 private:
  std::vector<RedirectTarget> targets_;
  std::uint64_t min_bytes_;
  std::mutex mutex_;
  std::map<std::string, RedirectBlob> index_;  // target name + key -> blob (bounded)
  std::atomic<std::uint64_t> redirects_{0}, redirect_bytes_{0}, failures_{0};
  std::function<void(const std::string&)> failure_log_;
};

// Answers one cacheable request that asked for a redirect to request.target:
// compute(sink) writes the response into a sink whose values go to a new
// blob (through the response cache under blob_key, a plain-stream key);
// then `out` gets the redirect, or, below min_bytes, the same values
// inline. When the blob cannot be written, inline_answer() answers on out
// as without redirects. Sets request.outcome.
CommandStatus answer_with_redirect(RedirectRequest& request, ResponseCache* cache, const std::string& blob_key,
                                   ResponseSink& out, const std::function<CommandStatus(ResponseSink&)>& compute,
                                   const std::function<CommandStatus()>& inline_answer);

}  // namespace hgrpc::server
