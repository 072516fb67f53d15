#pragma once
// One access-log line per request, on stderr: time, client, method, path,
// commands, status, bytes in and out, duration. Text or JSON lines.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "server/options.hpp"

namespace hgrpc::server {

// Names of the commands a request ran with their counts, in order of first
// appearance. Bounded: a multirequest of a million commands logs one entry
// per distinct name.
class CommandTally {
 public:
  void add(std::string_view name);
  const std::vector<std::pair<std::string, std::uint64_t>>& entries() const { return entries_; }
  bool empty() const { return entries_.empty(); }
  // "applypatches", "applypatches*3,diff": a count only when above one.
  std::string to_string() const;

 private:
  std::vector<std::pair<std::string, std::uint64_t>> entries_;
};

struct AccessLogEntry {
  std::chrono::system_clock::time_point time;
  std::string client;
  std::string method;
  std::string path;
  CommandTally commands;
  CommandTally cache;  // how the response cache answered them ("hit*2,miss")
  CommandTally redirect;  // requests that asked for a content redirect ("new,reused*2,small")
  int status = 0;
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  double duration_ms = 0;
};

// "2026-11-25T03:40:00.123Z"
std::string format_utc(std::chrono::system_clock::time_point t);

// Text: `TIME CLIENT "METHOD PATH" STATUS in=N out=N ms=D commands=...` and
// ` cache=...` when the cache answered or computed any of them, ` redirect=...`
// when any asked for a content redirect to a configured target, with
// control characters and quotes of the path escaped. JSON: one object.
std::string format_access_log(const AccessLogEntry& e, LogFormat format);

class AccessLog {
 public:
  // requests = false (--access-log off) drops the per-request lines, which
  // cost a formatted write per request, and keeps the notes.
  AccessLog(LogFormat format, bool requests = true, std::FILE* out = stderr)
      : format_(format), requests_(requests), out_(out) {}
  void write(const AccessLogEntry& e);
  // A server message (startup, shutdown) in the same format.
  void note(std::string_view message);

 private:
  LogFormat format_;
  bool requests_;
  std::FILE* out_;
  std::mutex mutex_;
};

}  // namespace hgrpc::server
