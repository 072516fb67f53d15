#include "store/lock.hpp"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cstring>
#include <optional>
#include <thread>

namespace hgrpc::store {

namespace fs = std::filesystem;

namespace {

std::string host_prefix() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  std::string prefix = host;
  struct stat st {};
  if (::stat("/proc/self/ns/pid", &st) == 0) {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, static_cast<unsigned long long>(st.st_ino), 16);
    if (ec == std::errc()) {
      prefix.push_back('/');
      prefix.append(buf, end);
    }
  }
  return prefix;
}

enum class Made { kYes, kExists, kFailed };

// Creates the lock as a symlink, else as an exclusively created file.
Made make_lock(const fs::path& path, const std::string& info, std::string& error) {
  if (::symlink(info.c_str(), path.c_str()) == 0) return Made::kYes;
  if (errno == EEXIST) return Made::kExists;
  int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    if (errno == EEXIST) return Made::kExists;
    error = std::strerror(errno);
    return Made::kFailed;
  }
  bool ok = ::write(fd, info.data(), info.size()) == static_cast<ssize_t>(info.size());
  ::close(fd);
  if (!ok) {
    error = "cannot write it";
    ::unlink(path.c_str());
    return Made::kFailed;
  }
  return Made::kYes;
}

// The holder: the symlink's target or the file's text; nullopt if gone.
std::optional<std::string> read_lock(const fs::path& path) {
  char buf[1024];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
  if (n >= 0) return std::string(buf, static_cast<std::size_t>(n));
  if (errno == ENOENT) return std::nullopt;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT ? std::nullopt : std::optional<std::string>("");
  n = ::read(fd, buf, sizeof buf);
  ::close(fd);
  return std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
}

// Held by a process of this host that no longer exists.
bool is_stale(const std::string& holder, const std::string& host) {
  auto colon = holder.find(':');
  if (colon == std::string::npos || holder.substr(0, colon) != host) return false;
  long long pid = 0;
  const char* begin = holder.data() + colon + 1;
  const char* end = holder.data() + holder.size();
  auto [ptr, ec] = std::from_chars(begin, end, pid);
  if (ec != std::errc() || ptr != end || pid <= 0 || pid > 0x7fffffff) return false;
  return ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

// Removes a stale lock under "<lock>.break", rechecking it there.
void break_stale(const fs::path& path, const std::string& info, const std::string& host) {
  fs::path breaker = path.string() + ".break";
  std::string error;
  if (make_lock(breaker, info, error) != Made::kYes) return;
  auto holder = read_lock(path);
  if (holder && is_stale(*holder, host)) ::unlink(path.c_str());
  ::unlink(breaker.c_str());
}

}  // namespace

std::string lock_holder_name() {
  static const std::string host = host_prefix();
  return host + ":" + std::to_string(::getpid());
}

Result<Lock> Lock::acquire(const fs::path& path, const std::string& description, const LockOptions& options) {
  static const std::string host = host_prefix();
  const std::string info = lock_holder_name();
  const auto deadline = std::chrono::steady_clock::now() + options.timeout;
  bool told = false;
  for (;;) {
    std::string error;
    switch (make_lock(path, info, error)) {
      case Made::kYes: return Lock(path);
      case Made::kFailed: return fail(path.string() + ": cannot create the lock of " + description + ": " + error);
      case Made::kExists: break;
    }
    auto holder = read_lock(path);
    if (!holder) continue;  // released meanwhile
    if (is_stale(*holder, host)) {
      break_stale(path, info, host);
      continue;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return fail(path.string() + ": timeout while waiting for the lock of " + description + " held by '" + *holder + "'");
    }
    if (!told && options.on_wait) options.on_wait(*holder);
    told = true;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
        options.poll, std::max<std::chrono::steady_clock::duration>(deadline - std::chrono::steady_clock::now(),
                                                                    std::chrono::milliseconds(1))));
  }
}

Lock::Lock(Lock&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }

Lock::~Lock() {
  if (!path_.empty()) ::unlink(path_.c_str());
}

}  // namespace hgrpc::store
