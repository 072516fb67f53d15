#include "store/working_copy.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <set>
#include <vector>

#include "store/dirstate.hpp"
#include "store/file_writer.hpp"
#include "store/filelog.hpp"
#include "store/path_validation.hpp"

namespace hgrpc::store {

namespace fs = std::filesystem;

namespace {

// Creates the directories above `path`, refusing to pass through anything
// that is not a real directory.
Result<void> make_parents(const fs::path& root, const std::string& path, std::set<std::string>& made) {
  for (std::size_t slash = path.find('/'); slash != std::string::npos; slash = path.find('/', slash + 1)) {
    std::string prefix = path.substr(0, slash);
    if (made.contains(prefix)) continue;
    fs::path full = root / prefix;
    struct stat st {};
    if (::lstat(full.c_str(), &st) == 0) {
      if (S_ISLNK(st.st_mode)) return fail("path '" + path + "' traverses symbolic link '" + prefix + "'");
      if (!S_ISDIR(st.st_mode)) return fail("path '" + path + "' needs '" + prefix + "' to be a directory, it is a file");
    } else if (errno != ENOENT || ::mkdir(full.c_str(), 0777) != 0) {
      return fail(system_error(full, "cannot create directory"));
    }
    made.insert(prefix);
  }
  return {};
}

Result<void> write_regular(const fs::path& full, ByteView data, bool executable) {
  int fd = ::open(full.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
  if (fd < 0) return fail(system_error(full, "cannot create"));
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      auto message = system_error(full, "write");
      ::close(fd);
      return fail(message);
    }
    done += static_cast<std::size_t>(n);
  }
  if (executable) {
    struct stat st {};
    // Execute where the umask left read permission, as Mercurial's setflags does.
    if (::fstat(fd, &st) != 0 || ::fchmod(fd, (st.st_mode & 07777) | ((st.st_mode & 0444) >> 2)) != 0) {
      auto message = system_error(full, "cannot set the exec bit");
      ::close(fd);
      return fail(message);
    }
  }
  if (::close(fd) != 0) return fail(system_error(full, "close"));
  return {};
}

}  // namespace

Result<int> default_checkout_rev(const Snapshot& snapshot) {
  if (auto at = snapshot.bookmarks().find("@"); at != snapshot.bookmarks().end()) {
    if (auto rev = snapshot.changelog().rev(at->second)) return *rev;
  }
  auto branches = snapshot.branchmap();
  if (!branches) return hgrpc::unexpected<Error>(branches.error());
  if (auto it = branches->find("default"); it != branches->end() && !it->second.empty()) {
    for (auto head = it->second.rbegin(); head != it->second.rend(); ++head) {
      if (!head->closed) return head->rev;
    }
    return it->second.back().rev;
  }
  return snapshot.size() - 1;
}

Result<CheckoutSummary> check_out(const Snapshot& snapshot, int rev, const fs::path& root) {
  auto changeset = snapshot.changeset(rev);
  if (!changeset) return hgrpc::unexpected<Error>(changeset.error());
  auto manifest = snapshot.manifest_of_changeset(rev);
  if (!manifest) return hgrpc::unexpected<Error>(manifest.error());
  for (const auto& entry : manifest->entries()) {  // every path before any write
    if (auto valid = validate_tracked_path(entry.path); !valid) return hgrpc::unexpected<Error>(valid.error());
  }

  CheckoutSummary summary;
  std::set<std::string> made;
  std::vector<DirstateEntry> entries;
  for (const auto& entry : manifest->entries()) {
    if (auto parents = make_parents(root, entry.path, made); !parents) return hgrpc::unexpected<Error>(parents.error());
    auto filelog = snapshot.filelog(entry.path);
    if (!filelog) return hgrpc::unexpected<Error>(filelog.error());
    auto file_rev = filelog->rev(entry.node);
    if (!file_rev || *file_rev == kNullRev) {
      return fail(filelog->name() + ": node " + hex(entry.node) + " of '" + entry.path + "' is not in the filelog");
    }
    auto raw = filelog->rawtext(*file_rev);
    if (!raw) return hgrpc::unexpected<Error>(raw.error());
    auto parsed = parse_file_revision(**raw);
    if (!parsed) return hgrpc::unexpected<Error>(with_context(filelog->name() + ": rev " + std::to_string(*file_rev) + ": ", parsed.error()));
    ByteView data = ByteView(**raw).subspan(parsed->data_offset);
    fs::path full = root / entry.path;
    if (entry.flag == 'l') {
      std::string target(as_chars(data));
      if (target.find('\0') != std::string::npos) return fail("symlink '" + entry.path + "' has a target containing NUL");
      if (::symlink(target.c_str(), full.c_str()) != 0) return fail(system_error(full, "cannot create symlink"));
    } else if (auto w = write_regular(full, data, entry.flag == 'x'); !w) {
      return hgrpc::unexpected<Error>(w.error());
    }
    summary.files += 1;
    summary.bytes += data.size();
    entries.push_back({entry.path, 'n', 0, 0, -1});
  }

  // Stat after every write; a file changed in the current second could
  // change again unseen, so Mercurial must compare its contents (mtime -1).
  const std::time_t now = std::time(nullptr);
  for (auto& e : entries) {
    struct stat st {};
    if (::lstat((root / e.path).c_str(), &st) != 0) return fail(system_error(root / e.path, "lstat"));
    e.mode = static_cast<std::int32_t>(st.st_mode);
    e.size = static_cast<std::int32_t>(st.st_size & 0x7fffffff);
    e.mtime = st.st_mtime >= now ? -1 : static_cast<std::int32_t>(st.st_mtime & 0x7fffffff);
  }
  const fs::path hg = root / ".hg";
  if (auto w = replace_file(hg / "dirstate", encode_dirstate_v1(snapshot.changelog().node(rev), kNullNode, entries)); !w) {
    return hgrpc::unexpected<Error>(w.error());
  }
  if (auto w = replace_file(hg / "branch", as_bytes(changeset->branch() + "\n")); !w) return hgrpc::unexpected<Error>(w.error());
  return summary;
}

}  // namespace hgrpc::store
