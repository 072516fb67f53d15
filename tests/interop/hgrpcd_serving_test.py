#!/usr/bin/python3
"""hgrpcd serving repositories made by Debian's Mercurial 6.3.2, cloned and
pulled by v2_exchange.py (5.8.1's exchangev2 requests, decoded by 6.3.2's
own `wireprotoframing.clientreactor`, written by 6.3.2's storage, which
checks every node hash). Each clone is `hg verify`-ed and compared in-process
with the served view of its source: the same changesets, manifests and file
revisions (nodes, parents, raw texts), linknodes, phases and bookmarks.

Environment: HGRPCD (the binary), HGRPC_STORE_FIXTURES (the store tests'
fixture repositories), HGRPC_REPO_FIXTURES (tests/repo/make_repo_fixtures.py's
zstd, zlib and empty; built here when unset). Every hgrpcd started listens
on 127.0.0.1 and is stopped by the test that started it.
"""

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import v2_exchange as v2  # noqa: E402
from mercurial import hg  # noqa: E402
from mercurial.utils import cborutil  # noqa: E402

HGRPCD = os.environ.get("HGRPCD", os.path.join(ROOT, "build", "server", "hgrpcd"))
STORE_FIXTURES = os.environ.get("HGRPC_STORE_FIXTURES", os.path.join(ROOT, "build", "store-fixtures"))
ENV = dict(os.environ, HGRCPATH="", HGPLAIN="1", HGUSER="test", TZ="UTC")
EXCHANGE = [sys.executable, "-B", os.path.join(HERE, "v2_exchange.py")]
STORE_KINDS = ["main", "nogd", "nodotencode", "nofncache", "nostore", "bookstore", "shared"]

work = None  # the module's temporary directory
repo_fixtures = os.environ.get("HGRPC_REPO_FIXTURES")


def setUpModule():
    global work, repo_fixtures
    work = tempfile.mkdtemp(prefix="hgrpcd-serving-")
    if not repo_fixtures:
        repo_fixtures = os.path.join(work, "fixtures")
        subprocess.run([sys.executable, "-B", os.path.join(ROOT, "tests", "repo", "make_repo_fixtures.py"),
                        repo_fixtures], check=True, env=ENV, stdout=subprocess.DEVNULL)


def tearDownModule():
    shutil.rmtree(work, ignore_errors=True)


def fixture(name):
    if name in STORE_KINDS:
        return os.path.join(STORE_FIXTURES, name)
    return os.path.join(repo_fixtures, name)


class Server:
    """One hgrpcd on a free port of 127.0.0.1, stopped by stop()."""

    def __init__(self, *args):
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([HGRPCD, "--port", "0", *args], stdout=subprocess.PIPE,
                                     stderr=self.log, env=ENV)
        line = self.proc.stdout.readline().decode()
        if not line.startswith("listening on "):
            self.stop()
            raise AssertionError("hgrpcd did not start: %r %s" % (line, self.stderr()))
        self.url = "http://127.0.0.1:%s" % line.strip().rsplit(":", 1)[1]

    def stderr(self):
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()


def run(args, check=True):
    r = subprocess.run(args, env=ENV, capture_output=True, timeout=240)
    if check and r.returncode != 0:
        raise AssertionError("%s failed (%d): %s%s" % (args, r.returncode, r.stdout.decode(), r.stderr.decode()))
    return r


def exchange(*args):
    return run(EXCHANGE + list(args))


def hg_verify(path):
    r = run(["hg", "-R", path, "verify"], check=False)
    return r.returncode, r.stdout.decode() + r.stderr.decode()


def served_view(path):
    """What a clone of `path` must hold, read in-process by Mercurial 6.3.2:
    its served changesets (not secret) and the manifests and file revisions
    they reach, keyed by node: (parents, raw text, linknode when the stored
    linkrev is a served changeset)."""
    repo = hg.repository(v2.make_ui(), path.encode()).unfiltered()
    served = [rev for rev in repo if repo[rev].phasestr() != b"secret"]
    served_nodes = {repo[rev].node() for rev in served}
    cl = repo.changelog
    mlog = repo.manifestlog.getstorage(b"")

    def row(rl, node):
        linknode = cl.node(rl.linkrev(rl.rev(node)))
        return {"parents": [p.hex() for p in rl.parents(node)], "text": rl.rawdata(node).hex(),
                "linknode": linknode.hex() if linknode in served_nodes else None}

    changesets = {cl.node(rev).hex(): row(cl, cl.node(rev)) for rev in served}
    manifests, files = {}, {}
    for rev in served:
        mnode = repo[rev].manifestnode()
        if mnode.hex() in manifests:
            continue
        manifests[mnode.hex()] = row(mlog, mnode)
        for path_, fnode in repo.manifestlog[mnode].read().items():
            files.setdefault(path_.decode(), {})
            if fnode.hex() not in files[path_.decode()]:
                files[path_.decode()][fnode.hex()] = row(repo.file(path_), fnode)
    return {"changesets": changesets, "manifests": manifests, "files": files,
            "bookmarks": {k.decode(): v.hex() for k, v in repo._bookmarks.items()
                          if v in served_nodes and b"@" not in k},
            "phases": {repo[rev].node().hex(): repo[rev].phasestr().decode() for rev in served}}


def clone_view(path):
    """Everything of a clone, keyed by node as served_view has it."""
    repo = hg.repository(v2.make_ui(), path.encode()).unfiltered()
    cl = repo.changelog

    def rows(rl):
        out = {}
        for rev in rl:
            node = rl.node(rev)
            out[node.hex()] = {"parents": [p.hex() for p in rl.parents(node)], "text": rl.rawdata(node).hex(),
                               "linknode": cl.node(rl.linkrev(rev)).hex()}
        return out

    files = {}
    for entry in repo.store.datafiles():
        name = entry[1] if isinstance(entry, tuple) else entry.unencoded_path
        if name.startswith(b"data/") and name.endswith(b".i"):
            files[name[5:-2].decode()] = rows(repo.file(name[5:-2]))
    return {"changesets": rows(cl), "manifests": rows(repo.manifestlog.getstorage(b"")), "files": files,
            "bookmarks": {k.decode(): v.hex() for k, v in repo._bookmarks.items()},
            "phases": {repo[rev].node().hex(): repo[rev].phasestr().decode() for rev in repo}}


class CloneCase(unittest.TestCase):
    def assertSameRevisions(self, expected, got, what):
        self.assertEqual(sorted(got), sorted(expected), "%s: the nodes differ" % what)
        for node, want in expected.items():
            have = got[node]
            self.assertEqual(have["parents"], want["parents"], "%s %s: parents" % (what, node))
            self.assertEqual(have["text"], want["text"], "%s %s: raw text" % (what, node))
            if want["linknode"] is not None:
                self.assertEqual(have["linknode"], want["linknode"], "%s %s: linknode" % (what, node))

    def assertCloneOf(self, source, dest, publishing=True):
        code, out = hg_verify(dest)
        self.assertEqual(code, 0, "hg verify %s:\n%s" % (dest, out))
        want, got = served_view(source), clone_view(dest)
        self.assertSameRevisions(want["changesets"], got["changesets"], "changelog")
        self.assertSameRevisions(want["manifests"], got["manifests"], "manifest")
        self.assertEqual(sorted(got["files"]), sorted(want["files"]))
        for path_ in want["files"]:
            self.assertSameRevisions(want["files"][path_], got["files"][path_], path_)
        self.assertEqual(got["bookmarks"], want["bookmarks"])
        expected_phases = {n: ("public" if publishing else p) for n, p in want["phases"].items()}
        self.assertEqual(got["phases"], expected_phases)


class CloneEveryFixture(CloneCase):
    """One hgrpcd serving every fixture kind under its name."""

    NAMES = ["zstd", "zlib", "empty"] + STORE_KINDS

    @classmethod
    def setUpClass(cls):
        cls.server = Server(*["--repo=%s=%s" % (n, fixture(n)) for n in cls.NAMES])
        cls.dir = tempfile.mkdtemp(dir=work)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_clone_each_repository(self):
        for name in self.NAMES:
            with self.subTest(repository=name):
                dest = os.path.join(self.dir, "clone-" + name)
                exchange("clone", "%s/%s" % (self.server.url, name), dest)
                self.assertCloneOf(fixture(name), dest)

    def test_clone_with_each_encoding(self):
        for encoding in ["zstd-8mb", "zlib", "identity"]:
            with self.subTest(encoding=encoding):
                dest = os.path.join(self.dir, "enc-" + encoding)
                exchange("clone", "--encodings", encoding, self.server.url + "/zstd", dest)
                self.assertCloneOf(fixture("zstd"), dest)

    def test_cached_answers_decode_in_each_encoding(self):
        # The response cache keeps an answer as the handler wrote it and
        # replays it through each stream's own encoder: Mercurial's decoder
        # reads the replayed answers in every encoding.
        server = Server("--repo=zstd=%s" % fixture("zstd"))
        try:
            def cache_counts():
                text = urllib.request.urlopen(server.url + "/metrics", timeout=30).read().decode()
                counts = {}
                for line in text.splitlines():
                    if line.startswith("hgrpcd_cache_requests_total{"):
                        outcome = line.split('outcome="')[1].split('"')[0]
                        counts[outcome] = int(line.rsplit(" ", 1)[1])
                return counts

            for i, encoding in enumerate(["zstd-8mb", "zlib", "identity"]):
                with self.subTest(encoding=encoding):
                    dest = os.path.join(self.dir, "cached-" + encoding)
                    exchange("clone", "--encodings", encoding, server.url + "/zstd", dest)
                    self.assertCloneOf(fixture("zstd"), dest)
                    # changesetdata, manifestdata, filesdata: computed once, then replayed.
                    self.assertEqual(cache_counts(), {"hit": 3 * i, "shared": 0, "tier": 0, "miss": 3})
        finally:
            server.stop()

    def test_partial_clone_then_pull_transfers_the_rest(self):
        dest = os.path.join(self.dir, "partial")
        exchange("clone", "-r", "10", self.server.url + "/zstd", dest)
        self.assertEqual(run(["hg", "-R", dest, "log", "-T", "{rev}\n"]).stdout.decode().split(),
                         [str(r) for r in range(10, -1, -1)])
        log = os.path.join(self.dir, "pull.json")
        exchange("pull", "--log", log, dest, self.server.url + "/zstd")
        self.assertCloneOf(fixture("zstd"), dest)
        # Nothing new: a second pull sends discovery only.
        exchange("pull", "--log", log, dest, self.server.url + "/zstd")
        with open(log) as fh:
            commands = [c["name"] for r in json.load(fh)["requests"] for c in r.get("commands", [])]
        self.assertEqual(commands, ["heads", "known", "changesetdata"])  # phases and bookmarks

    def test_listing_names_every_repository(self):
        with urllib.request.urlopen(self.server.url + "/?style=json", timeout=30) as r:
            self.assertEqual(r.headers["Content-Type"], "application/json")
            listing = json.load(r)["repositories"]
        self.assertEqual([e["name"] for e in listing], self.NAMES)
        for entry in listing:
            repo = hg.repository(v2.make_ui(), fixture(entry["name"]).encode()).unfiltered()
            served = [rev for rev in repo if repo[rev].phasestr() != b"secret"]
            self.assertEqual(entry["changesets"], len(served))
            self.assertEqual(entry["tip"], repo[served[-1]].hex().decode() if served else "0" * 40)
            self.assertEqual(entry["url"], "/%s/" % entry["name"])
        with urllib.request.urlopen(self.server.url + "/", timeout=30) as r:
            lines = r.read().decode().splitlines()
        self.assertEqual(len(lines), 1 + len(self.NAMES))
        self.assertTrue(lines[1].startswith("/zstd/\t"))

    def test_unknown_repository_is_404_naming_it(self):
        with self.assertRaises(urllib.error.HTTPError) as ctx:
            urllib.request.urlopen(self.server.url + "/nope?cmd=capabilities", timeout=30)
        self.assertEqual(ctx.exception.code, 404)
        self.assertEqual(ctx.exception.read().decode(), "no repository named 'nope' (GET / lists them)\n")

    def test_handshake_describes_each_repository(self):
        for name, formats in [("zstd", [b"generaldelta", b"revlogv1", b"share-safe", b"sparserevlog"]),
                              ("nogd", [b"revlogv1", b"share-safe"])]:
            req = urllib.request.Request(self.server.url + "/%s?cmd=capabilities" % name, headers={
                "X-HgUpgrade-1": "exp-http-v2-0003", "X-HgProto-1": "cbor"})
            with urllib.request.urlopen(req, timeout=30) as r:
                self.assertEqual(r.headers["Content-Type"], "application/mercurial-cbor")
                m = cborutil.decodeall(r.read())[0]
            api = m[b"apis"][b"exp-http-v2-0003"]
            self.assertEqual(api[b"rawrepoformats"], formats, name)
            self.assertEqual(api[b"pathfilterprefixes"], {b"path:", b"rootfilesin:"})
            self.assertIn(b"filesdata", api[b"commands"])
            self.assertIn(b"applypatches", api[b"commands"])  # the patch commands stay


class ServedWhileCommitting(CloneCase):
    """New commits, bookmarks and phases written by hg while hgrpcd runs are
    served from the next request on."""

    def test_pull_sees_what_was_committed_meanwhile(self):
        d = tempfile.mkdtemp(dir=work)
        source = os.path.join(d, "source")
        shutil.copytree(fixture("zstd"), source, symlinks=True)
        with open(os.path.join(source, ".hg", "hgrc"), "w") as fh:
            fh.write("[phases]\npublish = False\n")
        server = Server("--repo", source)  # served at the root
        try:
            dest = os.path.join(d, "clone")
            exchange("clone", server.url + "/", dest)
            self.assertCloneOf(source, dest, publishing=False)
            run(["hg", "-R", source, "update", "-q", "-C", "48"])  # draft work (49, 50 are secret)
            with open(os.path.join(source, "new.txt"), "w") as fh:
                fh.write("new while served\n")
            run(["hg", "-R", source, "commit", "-q", "-A", "-m", "new", "-d", "100 0"])
            run(["hg", "-R", source, "branch", "-q", "newbranch"])
            with open(os.path.join(source, "new.txt"), "a") as fh:
                fh.write("on a new branch\n")
            run(["hg", "-R", source, "commit", "-q", "-m", "branch", "-d", "101 0"])
            run(["hg", "-R", source, "bookmark", "-f", "-r", ".", "book1"])
            run(["hg", "-R", source, "phase", "--public", "-r", "48"])
            drafts = run(["hg", "-R", source, "log", "-r", "draft()", "-T", "{rev} "]).stdout.decode().split()
            self.assertEqual(drafts, ["47", "51", "52"])  # the new ones; 48 moved to public
            exchange("pull", dest, server.url + "/")
            self.assertCloneOf(source, dest, publishing=False)
        finally:
            server.stop()


class ContentRedirects(unittest.TestCase):
    """A filesdata request carrying 5.8's `redirect` key, built and decoded by
    Mercurial's own wireprotoframing.clientreactor and cborutil: the answer
    is the status map Mercurial's createalternatelocationresponseframe makes
    for the same location, and the blob under DIR decodes (as 5.8's client
    reads it, `fromredirect`: no status map) to the inline answer's values."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="redirects-", dir=work)
        self.blobs = os.path.join(self.dir, "blobs")
        os.mkdir(self.blobs)

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def post(self, server, command, args, redirect=None):
        from mercurial import ui as uimod
        from mercurial import wireprotoframing
        reactor = wireprotoframing.clientreactor(uimod.ui(), hasmultiplesend=False, buffersends=True)
        request, action, meta = reactor.callcommand(command, args, redirect=redirect)
        action, meta = reactor.flushcommands()
        body = b"".join(bytes(f) for f in meta[b"framegen"])
        req = urllib.request.Request(server.url + "/api/exp-http-v2-0003/ro/" + command.decode(), data=body, headers={
            "Content-Type": "application/mercurial-exp-framing-0006",
            "Accept": "application/mercurial-exp-framing-0006"})
        data = urllib.request.urlopen(req, timeout=60).read()
        frames = []
        fh = io.BytesIO(data)
        while True:
            f = wireprotoframing.readframe(fh)
            if f is None:
                break
            frames.append(f)
        decoder = cborutil.bufferingdecoder()
        for f in frames:
            action, meta = reactor.onframerecv(f)
            if action == b"responsedata":
                decoder.decode(meta[b"data"])
            else:
                self.assertEqual(action, b"noop", meta)
        return frames, decoder.getavailable()

    def test_redirected_filesdata_decodes_with_mercurials_code(self):
        from mercurial import wireprotoframing, wireprototypes
        server = Server("--repo=%s" % fixture("zstd"), "--redirect-min-bytes=1KiB",
                        "--redirect-target=cdn=http://127.0.0.1:9/blobs,%s" % self.blobs)
        try:
            _, heads = self.post(server, b"heads", {})
            args = {b"revisions": [{b"type": b"changesetdagrange", b"roots": [], b"heads": heads[1]}],
                    b"fields": {b"parents", b"revision"}, b"haveparents": True}
            _, inline = self.post(server, b"filesdata", args)
            self.assertEqual(inline[0], {b"status": b"ok"})
            frames, objs = self.post(server, b"filesdata", args, {b"targets": [b"cdn"], b"hashes": [b"sha256", b"sha1"]})
        finally:
            server.stop()
        self.assertEqual(len(objs), 1)
        location = objs[0][b"location"]
        names = os.listdir(self.blobs)
        self.assertEqual(len(names), 1)
        with open(os.path.join(self.blobs, names[0]), "rb") as fh:
            blob = fh.read()
        digest = hashlib.sha256(blob).digest()
        self.assertEqual(names[0], digest.hex())
        self.assertEqual(objs[0], {b"status": b"redirect", b"location": {
            b"mediatype": b"application/mercurial-cbor", b"url": b"http://127.0.0.1:9/blobs/" + digest.hex().encode(),
            b"size": len(blob), b"fullhashes": [[b"sha256", digest]]}})
        # Byte for byte what Mercurial's server frames for that location.
        alternate = wireprototypes.alternatelocationresponse(
            url=location[b"url"], mediatype=location[b"mediatype"], size=location[b"size"],
            fullhashes=location[b"fullhashes"], fullhashseed=None, serverdercerts=None, servercadercerts=None)
        stream = wireprotoframing.outputstream(2)
        theirs = wireprotoframing.readframe(io.BytesIO(
            wireprotoframing.createalternatelocationresponseframe(stream, frames[0].requestid, alternate)))
        ours = [f for f in frames if f.typeid == wireprotoframing.FRAME_TYPE_COMMAND_RESPONSE]
        self.assertEqual(len(ours), 2)  # the status map, then the empty eos frame
        self.assertEqual((ours[1].flags, bytes(ours[1].payload)), (wireprotoframing.FLAG_COMMAND_RESPONSE_EOS, b""))
        self.assertEqual((ours[0].typeid, ours[0].flags, bytes(ours[0].payload)),
                         (theirs.typeid, theirs.flags, bytes(theirs.payload)))
        self.assertEqual(cborutil.decodeall(blob), inline[1:])


class RefusedAtStart(unittest.TestCase):
    def start_fails(self, *args):
        r = subprocess.run([HGRPCD, "--port", "0", *args], env=ENV, capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stdout, b"")
        return r.stderr.decode()

    def repo_with_requirement(self, requirement):
        path = os.path.join(tempfile.mkdtemp(dir=work), "r")
        shutil.copytree(fixture("zstd"), path, symlinks=True)
        with open(os.path.join(path, ".hg", "store", "requires"), "a") as fh:
            fh.write(requirement + "\n")
        return path

    def test_each_refused_requirement_is_named(self):
        for requirement in ["treemanifest", "revlogv2", "narrowhg-experimental", "largefiles", "lfs", "frobnicate"]:
            with self.subTest(requirement=requirement):
                path = self.repo_with_requirement(requirement)
                err = self.start_fails("--repo", "r=" + path)
                self.assertTrue(err.startswith("hgrpcd: cannot serve %s: " % path), err)
                self.assertIn(requirement, err)

    def test_missing_repository(self):
        err = self.start_fails("--repo", os.path.join(work, "absent"))
        self.assertTrue(err.startswith("hgrpcd: cannot serve %s: " % os.path.join(work, "absent")), err)

    def test_bad_mount_combinations(self):
        zstd = fixture("zstd")
        self.assertEqual(self.start_fails("--repo", "a=" + zstd, "--repo", "a=" + zstd),
                         "hgrpcd: repository name 'a' given twice\n")
        self.assertEqual(self.start_fails("--repo", zstd, "--repo", "a=" + zstd),
                         "hgrpcd: a repository served at the root (--repo PATH) cannot be combined with "
                         "other --repo options\n")


if __name__ == "__main__":
    unittest.main()
