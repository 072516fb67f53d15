#!/usr/bin/python3
"""Builds the fixture repositories of the repository-command tests with the
installed `hg` (Debian's 6.3.2): HGRCPATH=/dev/null, fixed user and dates, so
every run gives the same nodes.

  make_repo_fixtures.py OUTDIR     -> OUTDIR/{zstd,zlib,empty,names}

zstd and zlib hold the same history (only the revlog compression differs):
branches, merges (one taking the other side's version of a file), bookmarks
(one divergent, one on a secret changeset), draft and secret phases, copies,
renames, removals, binary, empty, executable and symlinked files, names that
need store encoding (one hashed), a long delta chain, a 3 MiB file and an
incompressible one whose filelog has a separate .d file. names (build_names)
holds what lookup and filedata linknodes resolve beyond that.
"""
import os
import shutil
import subprocess
import sys

ENV = dict(os.environ, HGRCPATH="/dev/null", HGUSER="test", HGPLAIN="1", LANG="C", LC_ALL="C", TZ="UTC")
ENV.pop("HGRCSKIPREPO", None)


class Repo:
    def __init__(self, path, extra_init=()):
        self.path = path
        self.date = 0
        os.makedirs(path)
        self.hg("init", *extra_init)

    def hg(self, *args):
        subprocess.run(["hg", "--cwd", self.path, *args], env=ENV, check=True,
                       stdout=subprocess.DEVNULL)

    def write(self, name, data, mode=None):
        full = os.path.join(self.path, name)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())
        if mode is not None:
            os.chmod(full, mode)

    def commit(self, message, *extra):
        self.date += 1
        self.hg("commit", "-A", "-m", message, "-d", "%d 0" % self.date, *extra)


LONG_NAME = "very/" * 10 + "long_directory_name_that_goes_on/AndAFileNameThatIsQuiteLong_" + "x" * 60 + ".txt"


def big_text(seed):
    # 3 MiB of distinct lines; each revision changes a few of them.
    lines = ["line %07d of the big file, revision marker %d\n" % (i, seed if i % 9973 == 0 else 0)
             for i in range(60000)]
    return "".join(lines)


def random_bytes(n, seed):
    # Incompressible and deterministic: its filelog keeps a separate .d file.
    import hashlib
    out, block = bytearray(), seed.encode()
    while len(out) < n:
        block = hashlib.sha256(block).digest()
        out += block
    return bytes(out[:n])


def build_history(r):
    r.write("a.txt", "a0\n")
    r.write("dir/Sub/C.txt", "c0\n")
    r.write("bin.dat", bytes(range(256)) * 4 + b"\0\0\1\n")
    r.write("empty.txt", "")
    r.write("exec.sh", "#!/bin/sh\necho hi\n", 0o755)
    os.symlink("a.txt", os.path.join(r.path, "link"))
    for name in ["AUX.txt", "aux/x", "Upper/Case.txt", "sp ace.txt", LONG_NAME, "dir.i/f", ".hidden",
                 "meta\x01start.txt"]:
        r.write(name, "content of %s\n" % name)
    r.write("metaheader.txt", "\x01\nlooks like metadata\n\x01\nbody\n")
    r.commit("initial")                                   # 0
    r.write("big.txt", big_text(1))
    r.write("random.bin", random_bytes(300000, "r1"))
    r.commit("big file")                                  # 1
    for i in range(1, 41):                                # 2..41: a long delta chain
        with open(os.path.join(r.path, "a.txt"), "a") as f:
            f.write("a line %d\n" % i)
        if i % 10 == 0:
            r.write("big.txt", big_text(i))
        if i == 20:
            data = bytearray(random_bytes(300000, "r1"))
            data[1000:1100] = random_bytes(100, "r20")
            r.write("random.bin", bytes(data) + random_bytes(5000, "tail"))
        r.commit("grow a %d" % i)
    r.hg("bookmark", "book1")
    r.hg("cp", "a.txt", "acopy.txt")
    r.hg("mv", "dir/Sub/C.txt", "dir/D.txt")
    r.hg("rm", "bin.dat")
    r.commit("copy, rename, remove")                      # 42
    r.hg("phase", "--public", "-r", ".")
    # A feature branch, then a merge taking the feature side's version of f.
    r.write("f.txt", "f base\n")
    r.commit("add f")                                     # 43
    r.hg("branch", "feature")
    r.write("f.txt", "f feature\n")
    r.write("g.txt", "g on feature\n")
    r.commit("feature change")                            # 44
    r.hg("bookmark", "feat@remote")                       # divergent: not listed
    r.hg("update", "default")
    r.write("h.txt", "h on default\n")
    r.commit("default change")                            # 45
    r.hg("merge", "--tool", ":other", "feature")
    r.commit("merge feature, taking its f")               # 46
    r.hg("bookmark", "merged")
    # A closed branch head.
    r.hg("update", "44")
    r.write("g.txt", "g closing\n")
    r.commit("close feature", "--close-branch")           # 47
    r.hg("update", "default")
    # Draft changesets on top, then a secret one and its descendant.
    r.write("a.txt", "rewritten\n")
    r.write("exec.sh", "#!/bin/sh\necho bye\n", 0o755)
    r.commit("draft work")                                # 48
    r.hg("phase", "--public", "-r", "46")
    r.write("s.txt", "secret\n")
    r.commit("secret work", "--secret")                   # 49
    r.hg("bookmark", "onsecret")
    r.write("s.txt", "secret child\n")
    r.commit("secret child")                              # 50 (secret by inheritance)
    r.hg("update", "48")


def build_names(r):
    """Tags, local tags, a branch, a working-directory parent that is secret,
    and a file revision whose linkrev is a secret changeset while a draft one
    also introduces it (the filelog keeps one revision for both)."""
    r.write("a.txt", "a\n")
    r.commit("root")                                      # 0 public
    r.hg("tag", "-d", "2 0", "-r", "0", "v0")             # 1 .hgtags: v0
    r.hg("tag", "-d", "3 0", "-r", "0", "gone")           # 2 ... gone
    r.hg("tag", "-d", "4 0", "--remove", "gone")          # 3 ... gone -> null
    r.date = 4
    r.hg("phase", "--public", "-r", ".")
    r.write("dup.txt", "same\n")
    r.commit("secret first", "--secret")                  # 4 secret: dup.txt's linkrev
    r.hg("update", "3")
    r.write("dup.txt", "same\n")
    r.commit("draft second")                              # 5 draft, the same dup.txt node
    r.hg("tag", "-d", "6 0", "-r", "5", "v5")             # 6
    r.hg("tag", "-d", "7 0", "-r", "4", "tsecret")        # 7 a tag on a secret changeset
    r.hg("tag", "-d", "8 0", "-r", "0", "vboth")          # 8
    r.hg("tag", "-d", "9 0", "-r", "0", "other")          # 9 a tag named like a branch
    r.hg("update", "3")
    r.hg("branch", "other")
    r.write("b.txt", "b\n")
    r.commit("on other")                                  # 10 branch other
    r.hg("tag", "-d", "11 0", "-f", "-r", "10", "vboth")     # 11 the later head moves vboth
    r.hg("tag", "-d", "12 0", "-r", "10", "v1")           # 12
    r.hg("tag", "--local", "-r", "0", "lzero")
    r.hg("tag", "--local", "-r", "4", "lsecret")          # on a secret node: ignored
    r.hg("tag", "--local", "-f", "-r", "5", "v0")         # local tags win over global ones
    r.hg("update", "4")                                   # `.` is a secret changeset


def main():
    out = sys.argv[1]
    if os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(out)
    build_history(Repo(os.path.join(out, "zstd")))
    build_history(Repo(os.path.join(out, "zlib"), ["--config", "format.revlog-compression=zlib"]))
    Repo(os.path.join(out, "empty"))
    build_names(Repo(os.path.join(out, "names")))


if __name__ == "__main__":
    main()
