#!/usr/bin/python3
"""What Mercurial (Debian's 6.3.2, in-process) says about a repository's
served view, as JSON on stdout: the expected answers of the repository
commands. Nodes are hex; revision texts are given as the SHA-1 of the
rawdata (and changelog texts in full, as hex).

  oracle.py REPO
"""
import hashlib
import json
import os
import sys

os.environ["HGRCPATH"] = "/dev/null"
from mercurial import error, hg, node as nodemod, ui as uimod  # noqa: E402


def h(n):
    return nodemod.hex(n).decode()


def served_linknode(repo, path, fnode, linkrev):
    """The changeset filedata should name: the linkrev if it is served, else
    the first served changeset that introduces the file node (lists the file
    and has that node in its manifest)."""
    cl = repo.changelog
    if linkrev not in cl.filteredrevs:
        return h(cl.node(linkrev))
    for r in cl:
        ctx = repo[r]
        if r > linkrev and path in ctx.files() and ctx.manifest().get(path) == fnode:
            return h(ctx.node())
    return None


def main():
    u = uimod.ui.load()
    unfi = hg.repository(u, sys.argv[1].encode()).unfiltered()
    repo = unfi.filtered(b"served")
    cl = repo.changelog
    out = {}
    out["heads"] = [h(n) for n in repo.heads()]
    out["heads_public"] = [h(n) for n in repo.filtered(b"immutable").heads()]
    all_nodes = [unfi.changelog.node(r) for r in unfi]
    out["all_nodes"] = [h(n) for n in all_nodes]
    out["known"] = "".join("1" if k else "0" for k in repo.known(all_nodes))
    changesets = []
    manifest_entries = {}
    for r in cl:
        ctx = repo[r]
        p1, p2 = cl.parents(ctx.node())
        changesets.append({"rev": r, "node": h(ctx.node()), "p1": h(p1), "p2": h(p2),
                           "phase": ctx.phasestr().decode(), "text": cl.revision(ctx.node()).hex(),
                           "manifest": h(ctx.manifestnode()),
                           "bookmarks": sorted(b.decode() for b in ctx.bookmarks())})
        manifest_entries[h(ctx.node())] = {p.decode(): h(n) for p, n in ctx.manifest().items()}
    out["changesets"] = changesets
    out["manifest_entries"] = manifest_entries
    out["listkeys"] = {ns: {k.decode(): v.decode() for k, v in repo.listkeys(ns.encode()).items()}
                       for ns in ["bookmarks", "phases", "namespaces", "nonsense"]}
    out["branchmap"] = {b.decode(): [h(n) for n in heads] for b, heads in repo.branchmap().items()}

    keys = ["tip", "null", "0", "1", "-1", "41", "46", "47", "48", "49", "50", "book1", "merged", "onsecret",
            "feat@remote", "default", "feature", "nosuchname", "010", "999",
            ".", "v0", "v1", "v5", "vboth", "gone", "tsecret", "other", "lzero", "lsecret"]
    if len(cl):
        keys += [h(cl.node(3)), h(cl.node(3))[:8], h(cl.node(3))[:8].upper()]
    if len(unfi.changelog) > 49:
        keys.append(h(unfi.changelog.node(49)))
    lookups = {}
    for k in keys:
        try:
            lookups[k] = {"node": h(repo.lookup(k.encode()))}
        except (error.RepoLookupError, error.FilteredRepoLookupError) as e:
            lookups[k] = {"error": e.args[0].decode()}
    out["lookups"] = lookups

    ml = unfi.manifestlog.getstorage(b"")
    manifests = {}
    for ctx_entry in changesets:
        n = nodemod.bin(ctx_entry["manifest"])
        if n == nodemod.nullid or h(n) in manifests:
            continue
        r = ml.rev(n)
        p1, p2 = ml.parents(n)
        manifests[h(n)] = {"rev": r, "p1": h(p1), "p2": h(p2),
                           "sha1": hashlib.sha1(ml.rawdata(n)).hexdigest()}
    out["manifests"] = manifests

    files = {}
    for entries in manifest_entries.values():
        for path, fnode in entries.items():
            files.setdefault(path, set()).add(fnode)
    file_revs = {}
    for path, fnodes in files.items():
        fl = unfi.file(path.encode())
        revs = {}
        for fn in fnodes:
            n = nodemod.bin(fn)
            p1, p2 = fl.parents(n)
            linkrev = fl.linkrev(fl.rev(n))
            revs[fn] = {"rev": fl.rev(n), "p1": h(p1), "p2": h(p2), "linknode": h(unfi.changelog.node(linkrev)),
                        "served_linknode": served_linknode(repo, path.encode(), n, linkrev),
                        "sha1": hashlib.sha1(fl.rawdata(n)).hexdigest(), "size": len(fl.rawdata(n))}
        file_revs[path] = revs
    out["files"] = file_revs
    json.dump(out, sys.stdout, sort_keys=True)


if __name__ == "__main__":
    main()
