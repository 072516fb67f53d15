// hgrpc pull's logic (client/pull.*) in-process against the repository
// commands serving a non-publishing source made by Debian's hg: a clone at
// an early state, then new commits, a new named branch, moved and new
// bookmarks and a draft made public in the source; the pulled repository
// must be what Debian's `hg pull` (v1, over the filesystem) makes of a clone
// at the same early state (tests/store/compare_repos.py: hg verify, every
// revision, hg log --debug, bookmarks, phases). A second pull is one request
// body and changes no byte. A diverged local repository (commits the server
// lacks) finds the right common heads. A failed or killed pull leaves every
// file as it was (the killed one's journal rolled back by the next pull).
#include <openssl/sha.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <functional>
#include <memory>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>

#include "client/clone.hpp"
#include "client/pull.hpp"
#include "server/capabilities.hpp"
#include "store/lock.hpp"
#include "tests/repo/in_process_server.hpp"

using namespace repo_test;

namespace {

void hg(const fs::path& repo, const std::string& args) {
  std::string cmd = "HGRCPATH=/dev/null HGUSER=test HGPLAIN=1 hg --cwd " + shell_quote(repo.string()) + " " + args +
                    " >/dev/null 2>&1";
  REQUIRE_MESSAGE(std::system(cmd.c_str()) == 0, cmd);
}

std::string hg_out(const fs::path& repo, const std::string& args) {
  fs::path out = repo.string() + ".out";
  std::string cmd = "HGRCPATH=/dev/null HGPLAIN=1 hg --cwd " + shell_quote(repo.string()) + " " + args + " >" +
                    shell_quote(out.string()) + " 2>&1";
  REQUIRE_MESSAGE(std::system(cmd.c_str()) == 0, cmd);
  std::string text = read_text(out);
  fs::remove(out);
  return text;
}

void write(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
}

// Every file under .hg: path -> size and sha1.
std::map<std::string, std::string> listing(const fs::path& root) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(root / ".hg")) {
    if (e.is_symlink()) {
      out[e.path().lexically_relative(root).string()] = "symlink " + fs::read_symlink(e.path()).string();
    } else if (e.is_regular_file()) {
      std::string text = read_text(e.path());
      out[e.path().lexically_relative(root).string()] =
          std::to_string(text.size()) + " " + store::hex(store::sha1(store::as_bytes(text)));
    }
  }
  return out;
}

// A non-publishing source at its early state: public 0-1, draft 2, bookmark
// `mark` on 1.
void make_early(const fs::path& src) {
  fs::create_directories(src);
  hg(src, "init");
  write(src / ".hg/hgrc", "[phases]\npublish = False\n");
  write(src / "a.txt", "one\n");
  write(src / "b.txt", "bee\n");
  hg(src, "commit -q -A -m first -d '1700000000 0'");
  write(src / "a.txt", "one\ntwo\n");
  hg(src, "commit -q -m second -d '1700000100 0'");
  hg(src, "bookmark -r 1 mark");
  hg(src, "bookmark -r 0 stays");
  write(src / "b.txt", "bee\nbuzz\n");
  hg(src, "commit -q -m draft -d '1700000200 0'");
  hg(src, "phase -p -r 0:1");
}

// Later: the draft made public, new commits, a named branch, `mark` moved
// forward, a new bookmark.
void make_later(const fs::path& src) {
  hg(src, "phase -p -r 2");
  write(src / "c.txt", "new file\n");
  hg(src, "commit -q -A -m third -d '1700000300 0'");
  hg(src, "bookmark -f -r 3 mark");
  hg(src, "branch -q feature");
  write(src / "a.txt", "one\ntwo\nfeature\n");
  hg(src, "commit -q -m 'on a branch' -d '1700000400 0'");
  hg(src, "bookmark -r 4 fresh");
  hg(src, "update -q default");
  write(src / "b.txt", "bee\nbuzz\nlater\n");
  hg(src, "commit -q -m 'draft head' -d '1700000500 0'");
}

struct Served {
  srv::CommandRegistry registry = srv::CommandRegistry::standard();
  json descriptor;
  explicit Served(const fs::path& src) {
    auto r = store::Repository::open(src);
    REQUIRE(r);
    repo::RepoCommandOptions options;
    options.publishing = false;
    options.manifestdata_batch_size = 2;
    options.filesdata_batch_size = 2;
    repo::register_repository_commands(registry, std::make_shared<const store::Repository>(std::move(*r)), options);
    descriptor = srv::capabilities_map(registry, srv::CommandLimits{});
  }
};

// An exchange counting its request bodies.
cl::Exchange counted(cl::Exchange inner, int& count) {
  return [inner, &count](const std::vector<cl::Call>& calls) {
    ++count;
    return inner(calls);
  };
}

const std::string kUrl = "http://127.0.0.1:1/";

void clone_both(Served& served, const fs::path& src, const fs::path& dest, const fs::path& ref) {
  cl::CloneOptions clone_options;
  clone_options.source_url = kUrl;
  auto cloned = cl::clone_repository(in_process(served.registry), served.descriptor, dest, clone_options);
  REQUIRE_MESSAGE(cloned.has_value(), cloned.error().message);
  hg(ref.parent_path(), "clone -q " + shell_quote(src.string()) + " " + shell_quote(ref.string()));
}

// The start of every pull test: the early source, served, cloned by hgrpc
// into dest and by hg into ref.
struct Cloned {
  fs::path dir, src, dest, ref;
  Served served;
  explicit Cloned(const std::string& name)
      : dir(scratch(name)), src(dir / "src"), dest(dir / "dest"), ref(dir / "ref"), served((make_early(src), src)) {
    clone_both(served, src, dest, ref);
  }
};

cl::PullOptions pull_options() {
  cl::PullOptions options;
  options.source_url = kUrl;
  options.lock_timeout = std::chrono::milliseconds(0);
  return options;
}

}  // namespace

TEST_CASE("pull: new commits and a branch and bookmarks and a phase move as hg pull does them: a second pull is one request") {
  Cloned setup("pull");
  const fs::path &dir = setup.dir, &src = setup.src, &dest = setup.dest, &ref = setup.ref;
  Served& served = setup.served;
  CHECK(compare("store", ref, dest) == "");
  make_later(src);

  int requests = 0;
  std::vector<std::pair<std::string, double>> progress;
  cl::PullOptions options = pull_options();
  options.on_progress = [&](const cl::FetchSummary& c, double f) { progress.emplace_back(cl::progress_counts(c), f); };
  auto summary = cl::pull_repository(counted(in_process(served.registry), requests), served.descriptor, dest, options);
  REQUIRE_MESSAGE(summary.has_value(), summary.error().message);
  hg(ref, "pull -q");
  CHECK(compare("store", ref, dest) == "");
  CHECK(summary->fetch.changesets == 3);
  CHECK(summary->fetch.manifests == 3);
  CHECK(summary->fetch.file_revisions == 3);  // c.txt, a.txt on the branch, b.txt
  CHECK(summary->fetch.files == 3);
  CHECK(summary->discovery_rounds == 1);
  CHECK(summary->common_heads == 1);
  CHECK(summary->phase_changes == 1);  // rev 2: draft -> public
  CHECK(summary->bookmark_messages == std::vector<std::string>{"adding remote bookmark fresh", "updating bookmark mark"});
  // discovery; changesetdata; manifestdata 2 + 1; filesdata 2 + 1
  CHECK(requests == 1 + 1 + 2 + 2);
  CHECK(summary->fetch.requests == 6);
  // Progress after changesetdata and after each of the 2 + 2 batches (of 5 steps).
  CHECK(progress == std::vector<std::pair<std::string, double>>{
                        {"changesets 3, manifests 0/3, file revisions 0", 0.2},
                        {"changesets 3, manifests 2/3, file revisions 0", 0.4},
                        {"changesets 3, manifests 3/3, file revisions 0", 0.6},
                        {"changesets 3, manifests 3/3, file revisions 2", 0.8},
                        {"changesets 3, manifests 3/3, file revisions 3", 1.0}});
  CHECK(hg_out(dest, "phase -r 'all()'") == "0: public\n1: public\n2: public\n3: draft\n4: draft\n5: draft\n");

  SUBCASE("a second pull: one request body and no file changed") {
    auto before = listing(dest);
    int again_requests = 0;
    auto again = cl::pull_repository(counted(in_process(served.registry), again_requests), served.descriptor, dest, pull_options());
    REQUIRE_MESSAGE(again.has_value(), again.error().message);
    CHECK(again_requests == 1);
    CHECK(again->fetch.changesets == 0);
    CHECK(again->bookmark_messages.empty());
    CHECK(listing(dest) == before);
  }
  SUBCASE("with nothing new a phase move and a moved bookmark still arrive in that one request") {
    hg(src, "phase -p -r 5");
    hg(src, "bookmark -f -r 5 stays");
    int again_requests = 0;
    auto again = cl::pull_repository(counted(in_process(served.registry), again_requests), served.descriptor, dest, pull_options());
    REQUIRE_MESSAGE(again.has_value(), again.error().message);
    CHECK(again_requests == 1);
    CHECK(again->phase_changes == 2);  // 5 and its parent 3
    CHECK(again->bookmark_messages == std::vector<std::string>{"updating bookmark stays"});
    hg(ref, "pull -q");
    CHECK(compare("store", ref, dest) == "");
  }
  fs::remove_all(dir);
}

TEST_CASE("pull: a diverged repository finds the common heads: a divergent bookmark is stored as NAME@default") {
  Cloned setup("pull-diverged");
  const fs::path &dir = setup.dir, &src = setup.src, &dest = setup.dest, &ref = setup.ref;
  Served& served = setup.served;
  // The same local commits in both clones (same nodes): a line of 9 on rev 1,
  // `mark` moved onto its end.
  for (const fs::path& r : {dest, ref}) {
    hg(r, "update -q -r 1");
    for (int i = 0; i < 9; ++i) {
      write(r / "local.txt", "local " + std::to_string(i) + "\n");
      hg(r, "commit -q -A -m 'local " + std::to_string(i) + "' -d '1700001000 0'");
    }
    hg(r, "bookmark -f mark");
  }
  make_later(src);  // moves mark to 3: diverged from the local one

  auto summary = cl::pull_repository(in_process(served.registry), served.descriptor, dest, pull_options());
  REQUIRE_MESSAGE(summary.has_value(), summary.error().message);
  hg(ref, "pull -q");
  CHECK(compare("store", ref, dest) == "");
  CHECK(summary->fetch.changesets == 3);
  CHECK(summary->discovery_rounds > 1);
  CHECK(summary->common_heads == 1);  // rev 2, the source's head at the clone
  CHECK(summary->bookmark_messages ==
        std::vector<std::string>{"adding remote bookmark fresh", "divergent bookmark mark stored as mark@default"});
  CHECK(hg_out(dest, "bookmarks -T '{bookmark} {rev}\\n'") == hg_out(ref, "bookmarks -T '{bookmark} {rev}\\n'"));
  fs::remove_all(dir);
}

TEST_CASE("pull -r: only that revision and its ancestors as hg pull -r") {
  Cloned setup("pull-rev");
  const fs::path &dir = setup.dir, &src = setup.src, &dest = setup.dest, &ref = setup.ref;
  Served& served = setup.served;
  make_later(src);
  cl::PullOptions options = pull_options();
  options.revs = {"fresh"};  // the branch's head, via lookup
  auto summary = cl::pull_repository(in_process(served.registry), served.descriptor, dest, options);
  REQUIRE_MESSAGE(summary.has_value(), summary.error().message);
  CHECK(summary->fetch.changesets == 2);
  hg(ref, "pull -q -r fresh");
  CHECK(compare("store", ref, dest) == "");

  options.revs = {"no-such-rev"};
  auto bad = cl::pull_repository(in_process(served.registry), served.descriptor, dest, options);
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().kind == cl::ErrorKind::Command);
  CHECK(bad.error().message == "lookup: unknown revision 'no-such-rev'");
  fs::remove_all(dir);
}

TEST_CASE("pull: a wrong file text from the server leaves every file of the repository as it was") {
  Cloned setup("pull-tampered");
  const fs::path &dir = setup.dir, &src = setup.src, &dest = setup.dest;
  Served& served = setup.served;
  make_later(src);
  const auto before = listing(dest);
  bool tampered = false;
  auto exchange = in_process(served.registry, [&](std::vector<json>& values) {
    for (std::size_t i = 0; i + 1 < values.size() && !tampered; ++i) {
      const json& rec = values[i];
      if (rec.is_object() && rec.contains("linknode") && rec.contains("fieldsfollowing") && !rec.contains("deltabasenode") &&
          values[i + 1].is_binary() &&
          !values[i + 1].get_binary().empty()) {
        values[i + 1].get_binary()[0] ^= 0x20;
        tampered = true;
      }
    }
  });
  auto summary = cl::pull_repository(exchange, served.descriptor, dest, pull_options());
  REQUIRE(tampered);
  REQUIRE_FALSE(summary.has_value());
  CHECK(summary.error().kind == cl::ErrorKind::Protocol);
  CHECK(summary.error().message.find(": hash mismatch: ") != std::string::npos);
  CHECK(listing(dest) == before);
  fs::remove_all(dir);
}

TEST_CASE("pull: a killed pull leaves a journal and its locks: the next pull rolls it back and breaks them and succeeds") {
  Cloned setup("pull-killed");
  const fs::path &dir = setup.dir, &src = setup.src, &dest = setup.dest, &ref = setup.ref;
  Served& served = setup.served;
  make_later(src);
  const auto before = listing(dest);
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // Dies when asked for files: manifests are written, the changelog not
    // yet. (With writer threads the manifest log could still be on its way
    // when filesdata is asked for: the reader writes here.)
    auto inner = in_process(served.registry);
    cl::Exchange dying = [inner](const std::vector<cl::Call>& calls) {
      if (calls[0].command == "filesdata") ::_exit(0);
      return inner(calls);
    };
    cl::PullOptions options = pull_options();
    options.writer.write_threads = 0;
    (void)cl::pull_repository(dying, served.descriptor, dest, options);
    ::_exit(1);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  const auto killed = listing(dest);
  CHECK(killed.contains(".hg/store/hgrpc-journal"));
  CHECK(killed.contains(".hg/wlock"));
  CHECK(killed.contains(".hg/store/lock"));
  CHECK(killed.at(".hg/store/00manifest.i") != before.at(".hg/store/00manifest.i"));
  CHECK(killed.at(".hg/store/00changelog.i") == before.at(".hg/store/00changelog.i"));  // written last

  auto summary = cl::pull_repository(in_process(served.registry), served.descriptor, dest, pull_options());
  REQUIRE_MESSAGE(summary.has_value(), summary.error().message);
  CHECK(summary->recovered);
  CHECK(summary->fetch.changesets == 3);
  hg(ref, "pull -q");
  CHECK(compare("store", ref, dest) == "");
  CHECK_FALSE(fs::exists(fs::symlink_status(dest / ".hg/wlock")));
  CHECK_FALSE(fs::exists(fs::symlink_status(dest / ".hg/store/lock")));
  fs::remove_all(dir);
}

// A streaming exchange over the in-process server that calls `cut` before
// handing over value `after` of the first filesdata answer (the values
// before it went to the writer: the first path's revision, not the second's).
cl::Exchange cut_in_filesdata(const srv::CommandRegistry& registry, std::size_t after,
                              std::function<cl::ClientResult<std::vector<cl::Outcome>>()> cut) {
  auto inner = in_process(registry);
  auto done = std::make_shared<bool>(false);
  return cl::Exchange::streaming([inner, after, cut, done](const std::vector<cl::Call>& calls,
                                                           const cl::ValueConsumer& consume) -> cl::ClientResult<std::vector<cl::Outcome>> {
    auto outcomes = inner(calls);
    if (!outcomes) return outcomes;
    for (std::size_t i = 0; i < outcomes->size(); ++i) {
      auto& values = (*outcomes)[i].values;
      for (std::size_t v = 0; v < values.size(); ++v) {
        if (calls[i].command == "filesdata" && v == after && !*done) {
          *done = true;
          return cut();
        }
        if (auto taken = consume(i, std::move(values[v])); !taken) return hgrpc::unexpected<cl::ClientError>(taken.error());
      }
      values.clear();
    }
    return outcomes;
  });
}

// The first filesdata batch (2 changesets) sends a.txt's new revision, then
// c.txt's first: cut after a.txt's data (header, path, record, data).
constexpr std::size_t kAfterFirstPath = 4;

TEST_CASE("pull: a server breaking off in the middle of a filesdata answer leaves every file as it was") {
  Cloned setup("pull-cut");
  make_later(setup.src);
  const auto before = listing(setup.dest);
  auto exchange = cut_in_filesdata(setup.served.registry, kAfterFirstPath, [] {
    return cl::ClientResult<std::vector<cl::Outcome>>(
        hgrpc::unexpected<cl::ClientError>(cl::ClientError{cl::ErrorKind::Protocol, "connection reset by peer"}));
  });
  auto summary = cl::pull_repository(exchange, setup.served.descriptor, setup.dest, pull_options());
  REQUIRE_FALSE(summary.has_value());
  CHECK(summary.error().message == "connection reset by peer");
  CHECK(listing(setup.dest) == before);  // a.txt's appended revision truncated away, no journal, no lock
  fs::remove_all(setup.dir);
}

TEST_CASE("pull: killed (SIGKILL) in the middle of a filesdata answer: the next pull rolls back the appended revisions") {
  // Written by the reader (0), a.txt's revision is on disk when the kill
  // comes; with writer threads (2) it may or may not be, and the next pull
  // recovers either way.
  for (const std::size_t write_threads : {std::size_t{0}, std::size_t{2}}) {
    CAPTURE(write_threads);
    Cloned setup("pull-sigkill");
    const fs::path &dest = setup.dest, &ref = setup.ref;
    make_later(setup.src);
    const auto before = listing(dest);
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      auto dying = cut_in_filesdata(setup.served.registry, kAfterFirstPath, []() -> cl::ClientResult<std::vector<cl::Outcome>> {
        ::raise(SIGKILL);
        std::abort();
      });
      cl::PullOptions options = pull_options();
      options.writer.write_threads = write_threads;
      (void)cl::pull_repository(dying, setup.served.descriptor, dest, options);
      ::_exit(1);
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGKILL);
    const auto killed = listing(dest);
    CHECK(killed.contains(".hg/store/hgrpc-journal"));
    if (write_threads == 0) {
      CHECK(killed.at(".hg/store/data/a.txt.i") != before.at(".hg/store/data/a.txt.i"));  // appended before the kill
    }
    CHECK_FALSE(killed.contains(".hg/store/data/c.txt.i"));  // its revision never came
    CHECK(killed.at(".hg/store/00changelog.i") == before.at(".hg/store/00changelog.i"));

    auto summary = cl::pull_repository(in_process(setup.served.registry), setup.served.descriptor, dest, pull_options());
    REQUIRE_MESSAGE(summary.has_value(), summary.error().message);
    CHECK(summary->recovered);
    hg(ref, "pull -q");
    CHECK(compare("store", ref, dest) == "");
    fs::remove_all(setup.dir);
  }
}

TEST_CASE("pull: a lock a live process holds is waited for: then the error names its holder") {
  Cloned setup("pull-locked");
  const fs::path &dir = setup.dir, &dest = setup.dest;
  Served& served = setup.served;
  auto held = store::Lock::acquire(dest / ".hg/store/lock", "test");
  REQUIRE(held);
  const auto before = listing(dest);
  std::vector<std::string> waits;
  cl::PullOptions options = pull_options();
  options.lock_timeout = std::chrono::milliseconds(300);
  options.on_wait = [&](const std::string& m) { waits.push_back(m); };
  auto summary = cl::pull_repository(in_process(served.registry), served.descriptor, dest, options);
  REQUIRE_FALSE(summary.has_value());
  const std::string holder = store::lock_holder_name();
  CHECK(summary.error().message == (dest / ".hg/store/lock").string() + ": timeout while waiting for the lock of repository " +
                                       dest.string() + " held by '" + holder + "'");
  CHECK(waits == std::vector<std::string>{"waiting for lock on repository " + dest.string() + " held by '" + holder + "'"});
  CHECK(listing(dest) == before);  // the wlock taken meanwhile is released again
  fs::remove_all(dir);
}

TEST_CASE("pull: a malformed known answer is a protocol error naming it and changes nothing") {
  Cloned setup("pull-bad-known");
  const fs::path &dir = setup.dir, &src = setup.src, &dest = setup.dest;
  Served& served = setup.served;
  make_later(src);
  const auto before = listing(dest);
  auto inner = in_process(served.registry);
  cl::Exchange short_known = [inner](const std::vector<cl::Call>& calls) {
    auto outcomes = inner(calls);
    if (outcomes && calls.size() > 1 && calls[1].command == "known") (*outcomes)[1].values[0] = json::binary({});
    return outcomes;
  };
  auto summary = cl::pull_repository(short_known, served.descriptor, dest, pull_options());
  REQUIRE_FALSE(summary.has_value());
  CHECK(summary.error().kind == cl::ErrorKind::Protocol);
  CHECK(summary.error().message == "known: expected one byte string of 1 flags");
  CHECK(listing(dest) == before);
  fs::remove_all(dir);
}
