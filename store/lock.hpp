#pragma once
// Mercurial's repository locks (.hg/wlock, .hg/store/lock), taken as its
// lock.py takes them: the lock is a symlink whose target is "HOST:PID"
// (HOST is the hostname, plus "/<pid namespace inode in hex>" on Linux), or,
// where symlinks cannot be made, a regular file holding that text, created
// exclusively. A lock held by a dead process of this host (same HOST, and
// kill(pid, 0) says there is no such process) is stale: it is broken, under
// the "<lock>.break" lock as Mercurial does, so two breakers cannot remove a
// lock just taken. Any other holder is waited for, up to a timeout
// (Mercurial's ui.timeout, 600 s by default), then the error names it.
#include <chrono>
#include <filesystem>
#include <functional>
#include <string>

#include "store/error.hpp"

namespace hgrpc::store {

struct LockOptions {
  std::chrono::milliseconds timeout = std::chrono::seconds(600);
  std::chrono::milliseconds poll = std::chrono::milliseconds(100);
  // Called once when the lock is found held and we start waiting.
  std::function<void(const std::string& holder)> on_wait;
};

// This process's "HOST:PID".
std::string lock_holder_name();

class Lock {
 public:
  // `description` names the lock in errors ("working directory of /r").
  static Result<Lock> acquire(const std::filesystem::path& path, const std::string& description,
                              const LockOptions& options = {});
  Lock(Lock&& other) noexcept;
  Lock& operator=(Lock&&) = delete;
  Lock(const Lock&) = delete;
  ~Lock();  // releases (removes the lock)

 private:
  explicit Lock(std::filesystem::path path) : path_(std::move(path)) {}
  std::filesystem::path path_;
};

}  // namespace hgrpc::store
