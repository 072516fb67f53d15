#include "server/access_log.hpp"

#include <ctime>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace hgrpc::server {

void CommandTally::add(std::string_view name) {
  for (auto& [n, count] : entries_) {
    if (n == name) {
      ++count;
      return;
    }
  }
  entries_.emplace_back(std::string(name), 1);
}

std::string CommandTally::to_string() const {
  std::string out;
  for (const auto& [n, count] : entries_) {
    if (!out.empty()) out += ',';
    out += n;
    if (count > 1) out += fmt::format("*{}", count);
  }
  return out;
}

std::string format_utc(std::chrono::system_clock::time_point t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms % 1000);
}

namespace {

// Peers choose paths and names: keep each log entry on one line.
std::string escape_text(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
      out += fmt::format("\\x{:02x}", c);
    else
      out += static_cast<char>(c);
  }
  return out;
}

}  // namespace

std::string format_access_log(const AccessLogEntry& e, LogFormat format) {
  if (format == LogFormat::Json) {
    nlohmann::json commands = nlohmann::json::object();
    for (const auto& [n, count] : e.commands.entries()) commands[n] = count;
    nlohmann::json j = {{"time", format_utc(e.time)},   {"client", e.client},
                        {"method", e.method},           {"path", e.path},
                        {"commands", std::move(commands)}, {"status", e.status},
                        {"bytes_in", e.bytes_in},       {"bytes_out", e.bytes_out},
                        {"duration_ms", e.duration_ms}};
    if (!e.cache.empty()) {
      nlohmann::json cache = nlohmann::json::object();
      for (const auto& [n, count] : e.cache.entries()) cache[n] = count;
      j["cache"] = std::move(cache);
    }
    if (!e.redirect.empty()) {
      nlohmann::json redirect = nlohmann::json::object();
      for (const auto& [n, count] : e.redirect.entries()) redirect[n] = count;
      j["redirect"] = std::move(redirect);
    }
    // Invalid UTF-8 from a peer is replaced, never a reason to lose the line.
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  return fmt::format("{} {} \"{} {}\" {} in={} out={} ms={:.3f} commands={}{}{}", format_utc(e.time),
                     escape_text(e.client), escape_text(e.method), escape_text(e.path), e.status,
                     e.bytes_in, e.bytes_out, e.duration_ms,
                     e.commands.empty() ? std::string("-") : escape_text(e.commands.to_string()),
                     e.cache.empty() ? std::string() : " cache=" + e.cache.to_string(),
                     e.redirect.empty() ? std::string() : " redirect=" + e.redirect.to_string());
}

void AccessLog::write(const AccessLogEntry& e) {
  if (!requests_) return;
  const std::string line = format_access_log(e, format_) + "\n";
  std::lock_guard lock(mutex_);
  std::fwrite(line.data(), 1, line.size(), out_);
  std::fflush(out_);
}

void AccessLog::note(std::string_view message) {
  std::string line;
  const auto now = format_utc(std::chrono::system_clock::now());
  if (format_ == LogFormat::Json) {
    line = nlohmann::json{{"time", now}, {"message", message}}.dump(
               -1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  } else {
    line = fmt::format("{} hgrpcd: {}\n", now, escape_text(message));
  }
  std::lock_guard lock(mutex_);
  std::fwrite(line.data(), 1, line.size(), out_);
  std::fflush(out_);
}

}  // namespace hgrpc::server
