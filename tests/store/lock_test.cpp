// store/lock: Mercurial's lock format (a symlink to "HOST:PID", or a file
// holding it), a live holder waited for and named, stale locks of dead local
// processes broken, other hosts' locks never broken, release on scope exit.
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "store/lock.hpp"
#include "tests/store/support.hpp"

using namespace hgrpc::store;
using namespace hgrpc::store::test;
namespace fs = std::filesystem;

namespace {

std::string host() {
  char buf[256] = {};
  REQUIRE(::gethostname(buf, sizeof buf - 1) == 0);
  return buf;
}

// The pid of a process that has exited and been reaped.
pid_t dead_pid() {
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) ::_exit(0);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  return child;
}

std::string prefix_of(const std::string& holder) { return holder.substr(0, holder.rfind(':')); }

LockOptions no_wait() {
  LockOptions o;
  o.timeout = std::chrono::milliseconds(0);
  return o;
}

}  // namespace

TEST_CASE("lock: a symlink to HOST:PID removed on release") {
  auto dir = scratch_dir("lock-format");
  const fs::path path = dir / "lock";
  const std::string name = lock_holder_name();
  CHECK(name.substr(name.rfind(':') + 1) == std::to_string(::getpid()));
  const std::string prefix = prefix_of(name);
  CHECK((prefix == host() || (prefix.starts_with(host()) && prefix.at(host().size()) == '/')));
  {
    auto lock = Lock::acquire(path, "test repository", no_wait());
    REQUIRE_MESSAGE(lock, (lock ? "" : lock.error().message));
    REQUIRE(fs::is_symlink(path));
    CHECK(fs::read_symlink(path).string() == name);
  }
  CHECK_FALSE(fs::exists(fs::symlink_status(path)));
}

TEST_CASE("lock: a live holder is named after the timeout: the lock stays its own") {
  auto dir = scratch_dir("lock-held");
  const fs::path path = dir / "lock";
  auto first = Lock::acquire(path, "r", no_wait());
  REQUIRE(first);
  auto second = Lock::acquire(path, "repository /r", no_wait());
  REQUIRE_FALSE(second);
  CHECK(second.error().message == path.string() + ": timeout while waiting for the lock of repository /r held by '" +
                                      lock_holder_name() + "'");
  // Another host's lock, even of a pid that does not exist here, is never broken.
  fs::path other = dir / "other";
  std::string elsewhere = "elsewhere.example:";
  elsewhere += std::to_string(dead_pid());
  fs::create_symlink(elsewhere, other);
  std::vector<std::string> waited;
  LockOptions briefly;
  briefly.timeout = std::chrono::milliseconds(250);
  briefly.poll = std::chrono::milliseconds(50);
  briefly.on_wait = [&](const std::string& holder) { waited.push_back(holder); };
  auto third = Lock::acquire(other, "x", briefly);
  REQUIRE_FALSE(third);
  CHECK(waited.size() == 1);
  CHECK(waited.at(0).starts_with("elsewhere.example:"));
  CHECK(fs::read_symlink(other).string().starts_with("elsewhere.example:"));
}

TEST_CASE("lock: a stale lock of a dead local process is broken as a symlink or as a regular file") {
  auto dir = scratch_dir("lock-stale");
  std::string stale = prefix_of(lock_holder_name());
  stale += ':';
  stale += std::to_string(dead_pid());
  const fs::path link = dir / "wlock";
  fs::create_symlink(stale, link);
  {
    auto lock = Lock::acquire(link, "w", no_wait());
    REQUIRE_MESSAGE(lock, (lock ? "" : lock.error().message));
    CHECK(fs::read_symlink(link).string() == lock_holder_name());
  }
  const fs::path file = dir / "lock";
  std::ofstream(file) << stale;
  {
    auto lock = Lock::acquire(file, "s", no_wait());
    REQUIRE_MESSAGE(lock, (lock ? "" : lock.error().message));
    CHECK(fs::read_symlink(file).string() == lock_holder_name());
  }
  CHECK_FALSE(fs::exists(dir / "lock.break"));
  CHECK(fs::is_empty(dir));
}
