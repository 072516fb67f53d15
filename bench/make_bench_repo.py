#!/usr/bin/python3
"""Builds a deterministic Mercurial repository of realistic shape for the
repository benchmarks (clone, pull, revision reconstruction).

Usage: bench/make_bench_repo.py DEST [--changesets N] [--files N] [--seed S]
                                     [--compression zstd|zlib]

The same arguments give the same changesets, byte for byte (fixed users,
dates and a seeded generator), so figures of different runs and machines
describe the same history. It drives Debian's Mercurial in-process (one
memctx per changeset, committed in batches under one lock) because 5,000
`hg commit` processes would take most of an hour.

Shape: a tree of text files (source-like lines, most a few KiB, some of
hundreds of KiB) with a few binary files; each changeset edits a handful of
files in place (a few lines replaced, inserted or deleted), and now and then
adds, removes, renames or copies a file. Two named branches fork from
default and are merged back at intervals; a few bookmarks and draft
changesets at the end.
"""

import argparse
import os
import random
import sys
import time

WORDS = (
    "alpha beta gamma delta return if else for while int char const static "
    "struct void size_t buffer index offset length node revision manifest "
    "changeset file store delta chain base parent child merge branch tag "
    "bookmark phase public draft secret commit update pull push clone "
    "stream frame request response encode decode compress zlib zstd"
).split()


class Generator:
    def __init__(self, seed, files):
        self.rng = random.Random(seed)
        self.nfiles = files
        self.serial = 0

    def line(self):
        r = self.rng
        indent = "    " * r.randrange(4)
        words = " ".join(r.choice(WORDS) for _ in range(r.randrange(2, 12)))
        return (indent + words + (";" if r.random() < 0.6 else "")).encode() + b"\n"

    def text(self, size):
        out, n = [], 0
        while n < size:
            l = self.line()
            out.append(l)
            n += len(l)
        return out

    def new_path(self):
        self.serial += 1
        r = self.rng
        depth = r.randrange(1, 4)
        dirs = [f"d{r.randrange(12)}" for _ in range(depth)]
        ext = r.choice([".c", ".h", ".py", ".txt", ".md", ".rs"])
        return "/".join(dirs + [f"file{self.serial}{ext}"]).encode()

    def size(self):
        r = self.rng.random()
        if r < 0.70:
            return self.rng.randrange(500, 8000)
        if r < 0.97:
            return self.rng.randrange(8000, 60000)
        return self.rng.randrange(100000, 600000)

    def initial_files(self):
        files = {}
        for _ in range(self.nfiles):
            path = self.new_path()
            if self.rng.random() < 0.02:
                files[path + b".bin"] = (self.rng.randbytes(self.rng.randrange(1000, 200000)), b"")
            else:
                flags = b"x" if self.rng.random() < 0.03 else b""
                files[path] = (b"".join(self.text(self.size())), flags)
        return files

    def edit(self, data):
        """A few lines replaced, inserted or deleted (or bytes, for binaries)."""
        r = self.rng
        if b"\0" in data[:1000] or not data.endswith(b"\n"):
            b = bytearray(data)
            for _ in range(r.randrange(1, 4)):
                at = r.randrange(max(1, len(b)))
                b[at : at + 64] = r.randbytes(64)
            return bytes(b)
        lines = data.splitlines(keepends=True)
        for _ in range(r.randrange(1, 4)):
            at = r.randrange(len(lines) + 1)
            op = r.random()
            if op < 0.5 and at < len(lines):
                lines[at : at + r.randrange(1, 5)] = self.text(r.randrange(40, 400))
            elif op < 0.8:
                lines[at:at] = self.text(r.randrange(40, 800))
            elif len(lines) > 10:
                del lines[at : at + r.randrange(1, 6)]
        return b"".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dest")
    ap.add_argument("--changesets", type=int, default=5000)
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--compression", choices=["zstd", "zlib"], default="zstd")
    ap.add_argument("--batch", type=int, default=250, help="changesets per transaction")
    args = ap.parse_args()

    os.environ["HGRCPATH"] = "/dev/null"
    os.environ.setdefault("HGMODULEPOLICY", "c")
    from mercurial import context, hg, ui as uimod

    ui = uimod.ui.load()
    ui.setconfig(b"ui", b"quiet", b"true")
    ui.setconfig(b"format", b"revlog-compression", args.compression.encode())
    ui.setconfig(b"phases", b"new-commit", b"public")
    if os.path.exists(args.dest):
        sys.exit(f"make_bench_repo: {args.dest} exists")
    hg.repository(ui, args.dest.encode(), create=True)
    repo = hg.repository(ui, args.dest.encode())

    gen = Generator(args.seed, args.files)
    r = gen.rng
    # Each line of development: its head node and its full file state.
    heads = {b"default": (None, gen.initial_files())}
    forked = {}  # branch -> files changed since it forked or last merged
    started = time.time()
    clock = 1_600_000_000

    def commit(branch, p1node, p2node, state, changed, message):
        nonlocal clock
        clock += r.randrange(60, 7200)

        def filectxfn(repo_, memctx_, path):
            if path not in state:
                return None
            data, flags = state[path]
            copy = copies.get(path)
            return context.memfilectx(repo_, memctx_, path, data, islink=flags == b"l",
                                      isexec=flags == b"x", copysource=copy)

        ctx = context.memctx(repo, (p1node, p2node), message.encode(), sorted(changed), filectxfn,
                             user=r.choice([b"alice <alice@example.org>", b"bob <bob@example.org>",
                                            b"carol <carol@example.org>"]),
                             date=(clock, 0), branch=branch)
        return repo.commitctx(ctx)

    copies = {}
    n = 0
    with repo.wlock(), repo.lock():
        while n < args.changesets:
            with repo.transaction(b"bench-repo"):
                for _ in range(min(args.batch, args.changesets - n)):
                    copies.clear()
                    if n == 0:
                        node, state = heads[b"default"]
                        node = commit(b"default", None, None, state, state.keys(), "initial import")
                        heads[b"default"] = (node, state)
                        n += 1
                        continue
                    # Fork a branch now and then; merge it back later.
                    if n % 700 == 350 and len(heads) < 3:
                        name = f"feature-{n}".encode()
                        heads[name] = (heads[b"default"][0], dict(heads[b"default"][1]))
                        forked[name] = set()
                    if n % 700 == 0 and len(heads) > 1:
                        name = sorted(k for k in heads if k != b"default")[0]
                        (p1, s1), (p2, s2) = heads[b"default"], heads.pop(name)
                        state = dict(s1)
                        changed = set()
                        for f in forked.pop(name):
                            if f in s2:
                                state[f] = s2[f]
                            else:
                                state.pop(f, None)
                            changed.add(f)
                        node = commit(b"default", p1, p2, state, changed, f"merge {name.decode()}")
                        heads[b"default"] = (node, state)
                        n += 1
                        continue
                    branch = r.choice(sorted(heads)) if r.random() < 0.3 else b"default"
                    parent, state = heads[branch]
                    state = dict(state)
                    changed = set()
                    paths = sorted(state)
                    for _ in range(r.randrange(1, 8)):
                        f = r.choice(paths)
                        data, flags = state[f]
                        state[f] = (gen.edit(data), flags)
                        changed.add(f)
                    op = r.random()
                    if op < 0.04:
                        f = gen.new_path()
                        state[f] = (b"".join(gen.text(gen.size())), b"")
                        changed.add(f)
                    elif op < 0.06 and len(paths) > 100:
                        f = r.choice(paths)
                        state.pop(f)
                        changed.add(f)
                    elif op < 0.08:
                        src = r.choice(paths)
                        if src in state and state[src][1] != b"l":
                            dst = gen.new_path()
                            state[dst] = state[src]
                            copies[dst] = src
                            changed.add(dst)
                            if op < 0.07:  # a rename, not a copy
                                state.pop(src)
                                changed.add(src)
                    node = commit(branch, parent, None, state, changed, f"change {n} on {branch.decode()}")
                    heads[branch] = (node, state)
                    if branch in forked:
                        forked[branch] |= changed
                    n += 1
            print(f"make_bench_repo: {n} changesets, {time.time() - started:.0f} s", file=sys.stderr)

    repo = hg.repository(ui, args.dest.encode())
    from mercurial import bookmarks, phases
    with repo.wlock(), repo.lock(), repo.transaction(b"bench-marks") as tr:
        cl = repo.changelog
        marks = repo._bookmarks
        marks.applychanges(repo, tr, [(b"stable", cl.node(len(cl) // 2)), (b"tip-mark", cl.tip())])
        # The last 20 changesets are drafts (not yet published).
        phases.retractboundary(repo, tr, phases.draft, [cl.node(r_) for r_ in range(len(cl) - 20, len(cl))])
    print(f"make_bench_repo: done, {len(repo.changelog)} changesets in {time.time() - started:.0f} s",
          file=sys.stderr)


if __name__ == "__main__":
    main()
