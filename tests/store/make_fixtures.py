#!/usr/bin/python3
"""Builds the store tests' repositories with Debian's Mercurial and dumps
what Mercurial itself reads from them (the oracle) as JSON.

Usage: make_fixtures.py OUTPUT_DIR

Everything runs in-process (mercurial.dispatch), with HGRCPATH=/dev/null,
a fixed user and fixed dates, so the repositories and the oracle are the
same on every run. OUTPUT_DIR is emptied first; it must be in the build
directory, never in the source tree.
"""
import hashlib
import json
import os
import random
import shutil
import sys

os.environ["HGRCPATH"] = os.devnull
os.environ["HGUSER"] = "Fixture Writer <fixture@example.org>"
os.environ["HGENCODING"] = "utf-8"
os.environ["HGPLAIN"] = "1"
os.environ.pop("HGRCSKIPREPO", None)

from mercurial import dispatch, hg, store, ui as uimod  # noqa: E402
from mercurial.node import hex as hghex  # noqa: E402
from mercurial.utils import storageutil  # noqa: E402


class Builder:
    """Runs hg commands in one repository, each at the next fixed date."""

    def __init__(self, path, init_args=()):
        self.path = path
        self.clock = 1700000000
        self.run_at(None, "init", *init_args, path)

    @staticmethod
    def run_at(cwd, *args):
        argv = [a.encode("utf-8") if isinstance(a, str) else a for a in args]
        if cwd is not None:
            argv = [b"--cwd", cwd.encode("utf-8")] + argv
        rc = dispatch.dispatch(dispatch.request(argv))
        if rc not in (0, None):
            raise SystemExit("hg %s failed with %s" % (" ".join(map(str, args)), rc))

    def hg(self, *args):
        self.run_at(self.path, *args)

    def commit(self, message, *extra):
        self.clock += 3600
        self.hg("commit", "-q", "-A", "--config", "ui.portablefilenames=ignore", "-m", message, "-d", "%d -3600" % self.clock, *extra)

    def write(self, name, data, mode=None):
        full = os.path.join(self.path, name)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        if isinstance(data, str):
            data = data.encode("utf-8")
        with open(full, "wb") as f:
            f.write(data)
        if mode is not None:
            os.chmod(full, mode)

    def symlink(self, target, name):
        full = os.path.join(self.path, name)
        if os.path.lexists(full):
            os.unlink(full)
        os.symlink(target, full)


LONG_DIR = "very/" * 10 + "long_directory_name_that_goes_on/"
LONG_NAME = LONG_DIR + "AndAFileNameThatIsQuiteLong_" + "x" * 60 + ".txt"
ENCODED_NAMES = [
    "FOO/Bar_baz.txt",
    "aux.txt",
    "AUX.c",
    "con/inner.txt",
    "com1.txt",
    "lpt9/x",
    "t~ilde",
    " lead space",
    "trail./x",
    "dir.i/f",
    "x.hg/y",
    ".hidden",
    "été.txt",
    "a:b?c",
    LONG_NAME,
    "Another/" * 12 + "UPPER_and_lower_" + "Y" * 50,
]


def build_main(path, init_args=()):
    """Branches, merges, bookmarks, phases, copies, renames, removals,
    binary/empty/big files, flags, encoded names and a 300+ rev chain."""
    b = Builder(path, init_args)
    rnd = random.Random(1234)
    b.write("a.txt", "a0\n")
    b.write("empty", "")
    b.write("bin.dat", bytes(range(256)) * 4)
    b.write("tool.sh", "#!/bin/sh\necho hi\n", 0o755)
    b.symlink("a.txt", "link")
    b.write("meta-like", "\x01\nnot metadata\n")  # data that starts like a metadata block
    for i, name in enumerate(ENCODED_NAMES):
        b.write(name, "file %d: %s\n" % (i, name))
    b.commit("initial\n\nwith a description of several lines")

    big = bytearray(rnd.getrandbits(8) for _ in range(3 << 20))
    b.write("big.bin", bytes(big))
    b.write("big.txt", "".join("line %d of a big text file\n" % i for i in range(150000)))
    b.commit("big files")

    for i in range(310):
        b.write("chain.txt", "".join("chain line %d\n" % j for j in range(i + 1)))
        if i % 50 == 0:
            big[i * 1000 : i * 1000 + 10] = b"0123456789"
            b.write("big.bin", bytes(big))
        b.commit("chain %d" % i)

    b.hg("cp", "a.txt", "a-copy.txt")
    b.hg("mv", "bin.dat", "moved/bin.dat")
    b.hg("rm", "empty")
    b.commit("copy, rename, remove")
    b.hg("bookmark", "-r", ".", "book-default")

    b.hg("branch", "-q", "feature")
    b.write("a.txt", "a0\nfeature\n")
    b.write("tool.sh", "#!/bin/sh\necho feature\n", 0o644)  # drops the exec flag
    b.commit("feature 1")
    b.hg("bookmark", "feature-book")
    b.write("f.txt", "feature only\n")
    b.commit("feature 2")
    b.hg("update", "-q", "default")
    b.write("a.txt", "default side\na0\n")
    b.commit("default work")
    b.hg("merge", "-q", "feature")
    b.commit("merge feature")

    b.hg("branch", "-q", "closing")
    b.write("c.txt", "to close\n")
    b.commit("on closing")
    b.commit("close it", "--close-branch")
    b.hg("update", "-q", "default")

    b.hg("phase", "--public", "-r", "0::10")
    b.write("d.txt", "draft\n")
    b.commit("a draft change")
    b.write("s.txt", "secret\n")
    b.commit("a secret change", "--secret")
    b.write("s.txt", "secret child\n")
    b.commit("child of secret")
    b.hg("bookmark", "-r", ".", "on-secret")
    b.hg("update", "-q", "-r", "312")  # a second head on default
    b.write("d2.txt", "another draft head\n")
    b.commit("a second draft")
    return b


def build_small(path, init_args=()):
    b = Builder(path, init_args)
    b.write("a.txt", "one\n")
    for name in ENCODED_NAMES[:6] + [".hidden", LONG_NAME]:
        b.write(name, "small %s\n" % name)
    b.commit("small 0")
    b.write("a.txt", "one\ntwo\n")
    b.write("big.txt", "".join("%d\n" % i for i in range(60000)))
    b.commit("small 1")
    b.hg("cp", "a.txt", "b.txt")
    b.commit("small 2")
    return b


def build_nogd(path):
    """Non-generaldelta revlogs: each delta applies to the previous rev."""
    b = build_small(path, ["--config", "format.usegeneraldelta=false",
                           "--config", "format.sparse-revlog=false"])
    for i in range(40):
        b.write("a.txt", "".join("line %d\n" % j for j in range(i * 3 + 1)))
        b.write("big.txt", "".join("%d\n" % j for j in range(60000 + i)))
        b.commit("nogd %d" % i)
    return b


def revlog_dump(store_object, text_of):
    rl = getattr(store_object, "_revlog", store_object)
    revs = []
    for rev in range(len(rl)):
        node = rl.node(rev)
        p1, p2 = rl.parents(node)
        raw = rl.rawdata(rev)
        revs.append(
            {
                "node": hghex(node).decode(),
                "p1": hghex(p1).decode(),
                "p2": hghex(p2).decode(),
                "linkrev": rl.linkrev(rev),
                "flags": rl.flags(rev),
                "rawsize": len(raw),
                "delta_parent": rl.deltaparent(rev),
                "sha1": hashlib.sha1(raw).hexdigest(),
                "text": text_of(raw),
            }
        )
    return revs


def b2s(b):
    return b.decode("utf-8", "surrogateescape")


def dump_oracle(path):
    u = uimod.ui.load()
    repo = hg.repository(u, path.encode()).unfiltered()
    cl = repo.changelog
    oracle = {"requirements": sorted(b2s(r) for r in repo.requirements)}

    changesets = []
    files = set()
    for rev in cl:
        c = cl.changelogrevision(rev)
        files.update(c.files)
        changesets.append(
            {
                "manifest": hghex(c.manifest).decode(),
                "user": b2s(c.user),
                "time": c.date[0],
                "tz": c.date[1],
                "extras": {b2s(k): b2s(v) for k, v in c.extra.items()},
                "files": [b2s(f) for f in c.files],
                "description": b2s(c.description),
            }
        )
    oracle["changesets"] = changesets

    ml = repo.manifestlog
    mrl = ml.getstorage(b"")
    manifests = []
    for mrev in range(len(mrl)):
        m = ml[mrl.node(mrev)].read()
        files.update(m.keys())
        manifests.append([[b2s(f), hghex(m[f]).decode(), b2s(m.flags(f))] for f in sorted(m.keys())])
    oracle["manifests"] = manifests

    revlogs = {
        "00changelog": revlog_dump(cl, lambda raw: None),
        "00manifest": revlog_dump(mrl, lambda raw: None),
    }
    filelogs = {}
    # fncachestore has its encoder as .encode; the others filter their vfs.
    encode = getattr(repo.store, "encode", None) or repo.store.vfs._filter
    for f in sorted(files):
        fl = repo.file(f)
        entries = revlog_dump(fl, lambda raw: raw.hex() if len(raw) <= 256 else None)
        for e, rev in zip(entries, range(len(fl))):
            meta, _ = storageutil.parsemeta(fl.rawdata(rev))
            e["meta"] = {b2s(k): b2s(v) for k, v in (meta or {}).items()}
        filelogs[b2s(f)] = {
            "index_path": b2s(encode(b"data/" + f + b".i")),
            "data_path": b2s(encode(b"data/" + f + b".d")),
            "revs": entries,
        }
    oracle["revlogs"] = revlogs
    oracle["filelogs"] = filelogs

    pc = repo._phasecache
    oracle["phases"] = [pc.phase(repo, rev) for rev in cl]
    served = repo.filtered(b"served")
    oracle["served"] = [rev for rev in served.changelog]
    oracle["bookmarks"] = {b2s(k): hghex(v).decode() for k, v in repo._bookmarks.items()}
    bm = served.branchmap()
    oracle["branchmap"] = {
        b2s(branch): [[cl.rev(h), h in bm._closednodes] for h in heads]
        for branch, heads in bm.items()
    }
    return oracle


PATH_INPUTS = [
    "data/FOO/Bar_baz.i", "data/a:b?c.i", "data/aux.i", "data/AUX.i", "data/com1.txt.i",
    "data/lpt9/x.d", "data/.hgtags.i", "data/ lead.i", "data/trail./x.i", "data/dir.i/f.i",
    "data/x.hg/y.i", "data/t~ilde.i", "data/été.i", "data/nul", "data/prn.foo/con.i",
    "data/com0.i", "data/lpt1x.i", "data/foo. .i", "data/tab\there.i", "data/del\x7f.i",
    "data/" + "very/" * 10 + "long_directory_name_that_goes_on/AndAFileNameThatIsQuiteLong_"
    + "x" * 60 + ".txt.i",
    "data/" + "very/" * 10 + "long_directory_name_that_goes_on/AndAFileNameThatIsQuiteLong_"
    + "x" * 60 + ".txt.d",
    "data/" + "Dir_With.Dot./" * 8 + "name.i",
    "data/" + "a" * 200 + ".i",
    "data/" + "aux/" * 30 + "f.i",
    "data/.dotdir/" + "q" * 130 + ".d",
    "data/short/" + "Z" * 58 + ".i",  # over 120 only once encoded
]


def path_vectors():
    out = []
    for p in PATH_INPUTS:
        raw = p.encode("utf-8")
        out.append(
            {
                "input": raw.hex(),
                "fncache_dotencode": b2s(store._pathencode(raw)),
                "fncache": b2s(store._hybridencode(raw, False)),
                "encoded": b2s(store.encodefilename(raw)),
                "basic": b2s(store.encodedir(raw)),
            }
        )
    return out


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    out = os.path.abspath(sys.argv[1])
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    repos = {
        "main": lambda p: build_main(p),
        "zlib": lambda p: build_small(p, ["--config", "format.revlog-compression=zlib"]),
        "nodotencode": lambda p: build_small(p, ["--config", "format.dotencode=false"]),
        "nofncache": lambda p: build_small(p, ["--config", "format.usefncache=false"]),
        "nostore": lambda p: build_small(p, ["--config", "format.usestore=false"]),
        "bookstore": lambda p: build_small(p, ["--config", "format.bookmarks-in-store=true"]),
        "nogd": build_nogd,
    }
    oracle = {}
    for name, build in repos.items():
        path = os.path.join(out, name)
        b = build(path)
        if name == "bookstore":
            b.hg("bookmark", "-r", "1", "stored-mark")
        oracle[name] = dump_oracle(path)
    # A share of a share-safe repository: the store is followed through sharedpath.
    Builder.run_at(None, "--config", "extensions.share=", "share", "-q", "-U",
                   os.path.join(out, "zlib"), os.path.join(out, "shared"))
    oracle["shared"] = dump_oracle(os.path.join(out, "shared"))
    oracle["path_vectors"] = path_vectors()
    with open(os.path.join(out, "oracle.json"), "w") as f:
        json.dump(oracle, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
