#!/usr/bin/python3
"""Checks a repository written by hgrpc's store writer against its source,
with Debian's Mercurial as the judge.

Usage:
  compare_repos.py store SRC DST      hg verify DST; every revision of every
                                      revlog (node, parents, linkrev, rawdata,
                                      i.e. what hg debugdata shows); hg log
                                      --debug, hg bookmarks, hg phase -r 'all()'
  compare_repos.py checkout SRC DST   DST's working copy equals what `hg update`
                                      (from a fresh clone -U of SRC) writes:
                                      same parent, paths, contents, exec bits,
                                      symlinks; `hg status` in DST is empty

Prints what differs and exits 1 on any difference.
"""
import os
import shutil
import stat
import subprocess
import sys
import tempfile

os.environ["HGRCPATH"] = os.devnull
os.environ["HGPLAIN"] = "1"
os.environ["HGENCODING"] = "utf-8"

from mercurial import hg, ui as uimod  # noqa: E402

problems = []


def problem(message):
    problems.append(message)
    print(message)


def run(repo, *args):
    p = subprocess.run(["hg", "--cwd", repo] + list(args), capture_output=True)
    return p.returncode, p.stdout, p.stderr


def same_output(src, dst, *args):
    a = run(src, *args)
    b = run(dst, *args)
    if a[0] != 0 or b[0] != 0:
        problem("hg %s failed: %r / %r" % (" ".join(args), a[2], b[2]))
    elif a[1] != b[1]:
        problem("hg %s differs:\n--- source\n%s\n--- copy\n%s" % (" ".join(args), a[1][:2000], b[1][:2000]))


def revlog_records(rl):
    out = []
    for rev in range(len(rl)):
        node = rl.node(rev)
        out.append((node, rl.parents(node), rl.linkrev(rev), rl.rawdata(rev)))
    return out


def compare_revlog(name, a, b):
    ra, rb = revlog_records(a), revlog_records(b)
    if len(ra) != len(rb):
        problem("%s: %d revisions in the source, %d in the copy" % (name, len(ra), len(rb)))
        return
    for rev, (x, y) in enumerate(zip(ra, rb)):
        if x != y:
            problem("%s: rev %d differs" % (name, rev))
            return


def check_store(src, dst):
    rc, out, err = run(dst, "verify")
    if rc != 0 or b"warning" in out + err or b"error" in out + err:
        problem("hg verify of the copy: rc %d\n%s%s" % (rc, out.decode(), err.decode()))
    u = uimod.ui.load()
    a = hg.repository(u, src.encode()).unfiltered()
    b = hg.repository(u, dst.encode()).unfiltered()
    compare_revlog("00changelog", a.changelog, b.changelog)
    compare_revlog("00manifest", a.manifestlog.getstorage(b""), b.manifestlog.getstorage(b""))
    files = set()
    for rev in a.changelog:
        files.update(a.changelog.changelogrevision(rev).files)
        files.update(a[rev].manifest().keys())
    for f in sorted(files):
        compare_revlog("filelog %r" % f, a.file(f), b.file(f))
    same_output(src, dst, "log", "--debug")
    same_output(src, dst, "bookmarks")
    same_output(src, dst, "phase", "-r", "all()")


def tree(root):
    entries = {}
    for dirpath, dirnames, filenames in os.walk(root):
        if dirpath == root:
            dirnames[:] = [d for d in dirnames if d != ".hg"]
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root)
            st = os.lstat(full)
            if stat.S_ISLNK(st.st_mode):
                entries[rel] = ("link", os.readlink(full))
            else:
                with open(full, "rb") as f:
                    entries[rel] = ("file", bool(st.st_mode & 0o100), f.read())
    return entries


def check_checkout(src, dst):
    ref = tempfile.mkdtemp(prefix="hgrpc-ref-")
    try:
        subprocess.run(["hg", "clone", "-q", "-U", src, ref + "/r"], check=True)
        subprocess.run(["hg", "--cwd", ref + "/r", "update", "-q"], check=True)
        same_output(ref + "/r", dst, "log", "-r", ".", "-T", "{node} {branch}\n")
        ta, tb = tree(ref + "/r"), tree(dst)
        if set(ta) != set(tb):
            problem("paths differ: only in hg update %s, only in ours %s" % (sorted(set(ta) - set(tb)), sorted(set(tb) - set(ta))))
        for path in sorted(set(ta) & set(tb)):
            if ta[path] != tb[path]:
                problem("%s differs: hg update %r, ours %r" % (path, ta[path][:2], tb[path][:2]))
    finally:
        shutil.rmtree(ref)
    rc, out, err = run(dst, "status")
    if rc != 0 or out or err:
        problem("hg status in the copy: rc %d, %r %r" % (rc, out, err))


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("store", "checkout"):
        raise SystemExit(__doc__)
    mode, src, dst = sys.argv[1:]
    (check_store if mode == "store" else check_checkout)(src, dst)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
