#!/usr/bin/python3
"""Unit tests of v2_exchange.py that need no server: request bodies against
the bodies Mercurial 5.8.1's client sent (tests/interop/vectors/, see
vectors/README.md), and clones/pulls answered from 5.8.1's recorded
responses, written with Debian's Mercurial and checked with `hg verify` and
an in-process comparison with the fixture repository they came from.

Run: /usr/bin/python3 -m unittest tests/interop/v2_exchange_test.py (ctest
registers each test class, see tests/interop/CMakeLists.txt).
"""

import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import v2_exchange as v2  # noqa: E402
from mercurial import hg, wireprotoframing  # noqa: E402
from mercurial.utils import cborutil  # noqa: E402

VECTORS = os.path.join(HERE, "vectors")
URL = "http://127.0.0.1:21582/"  # the URL the vectors were recorded at
HG = "/usr/bin/hg"
ENV = dict(os.environ, HGRCPATH="", HGPLAIN="1", HGUSER="test")


def read(path):
    with open(path, "rb") as fh:
        return fh.read()


def frames_of(data):
    """[(offset, length)] of every frame in a body (8-byte headers)."""
    out, pos = [], 0
    while pos < len(data):
        length = int.from_bytes(data[pos : pos + 3], "little")
        out.append((pos, 8 + length))
        pos += 8 + length
    return out


class MutatedTransport(v2.RecordedTransport):
    """A recording whose response to request n is replaced by mutate(data)."""

    def __init__(self, directory, n, mutate):
        super().__init__(directory)
        self.n, self.mutate = n, mutate

    def post(self, path, body, consume):
        if self.position + 1 != self.n:
            return super().post(path, body, consume)
        data = self.mutate(self._next("POST", path, body))
        return consume(io.BytesIO(data)), len(data)

    def get(self, path_and_query, headers, consume):
        if self.position + 1 != self.n:
            return super().get(path_and_query, headers, consume)
        data = self.mutate(self._next("GET", path_and_query, b""))
        return consume(io.BytesIO(data)), len(data)


def recorded_values(scenario, n, names):
    """{request id: values after the status map} of a recorded response."""
    reactor, requests, _ = v2.build_request_body(v2.make_ui(), [(name, {}) for name in names], v2.DEFAULT_ENCODINGS)
    data = read(os.path.join(VECTORS, scenario, "%03d.response.bin" % n))
    return v2.decode_responses(reactor, requests, names, io.BytesIO(data))


def response(values, raw_tail=b"", requestid=1, stream=None):
    """An unencoded one-frame response to requestid: {status: ok}, values,
    then raw_tail (bytes already CBOR-encoded), with EOS. Pass one stream
    object for several responses in one body (only the first begins it)."""
    payload = b"".join(b"".join(cborutil.streamencode(v)) for v in [{b"status": b"ok"}] + values) + raw_tail
    frame = (stream or wireprotoframing.stream(2)).makeframe(
        requestid, wireprotoframing.FRAME_TYPE_COMMAND_RESPONSE, wireprotoframing.FLAG_COMMAND_RESPONSE_EOS, payload
    )
    return bytes(frame)


def rewrite(scenario, n, name, edit):
    """A mutate function: request n's recorded values, edited, re-framed."""

    def mutate(_data):
        values = list(recorded_values(scenario, n, [name])[1])
        return edit(values)

    return mutate


class Scratch(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="v2-exchange-test-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def path(self, name):
        return os.path.join(self.dir, name)

    def peer(self, scenario, transport=None):
        return v2.V2Peer(v2.make_ui(), transport or v2.RecordedTransport(os.path.join(VECTORS, scenario)), URL)

    def hg_verify(self, repo):
        result = subprocess.run([HG, "-R", repo, "verify"], env=ENV, capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def fixture(self):
        """The repository the vectors were recorded from, rebuilt with
        Debian's hg (fixed users and dates: the same hashes every time)."""
        path = self.path("fixture")
        subprocess.run(["sh", os.path.join(HERE, "make_fixture.sh"), path], env=ENV, check=True, capture_output=True)
        return path


def by_node(dump):
    """A dump keyed by node, with linkrevs as changeset nodes: independent
    of the order in which the revisions were added."""
    cl = {row[0]: row[1] for row in dump["changelog"]}

    def rows(revlog_rows):
        return {row[1]: (row[2], cl[row[3]], row[4]) for row in revlog_rows}

    return {
        "changelog": rows(dump["changelog"]),
        "manifest": rows(dump["manifest"]),
        "files": {f: rows(r) for f, r in dump["files"].items()},
        "phases": dump["phases"],
        "bookmarks": dump["bookmarks"],
    }


class RequestBodies(unittest.TestCase):
    """Our clientreactor-built bodies equal 5.8.1's, byte for byte."""

    def test_heads_known_multirequest(self):
        _, _, body = v2.build_request_body(
            v2.make_ui(), [(b"heads", {}), (b"known", {b"nodes": []})], v2.DEFAULT_ENCODINGS
        )
        self.assertEqual(body, read(os.path.join(VECTORS, "clone", "002.request.bin")))

    def test_changesetdata(self):
        head = bytes.fromhex("fc2eb0ad0f9c4c70bbb562245acff78bdfb5b975")
        args = {
            b"revisions": [{b"type": b"changesetdagrange", b"roots": [], b"heads": [head]}],
            b"fields": {b"bookmarks", b"parents", b"phase", b"revision"},
        }
        _, _, body = v2.build_request_body(v2.make_ui(), [(b"changesetdata", args)], v2.DEFAULT_ENCODINGS)
        self.assertEqual(body, read(os.path.join(VECTORS, "clone", "003.request.bin")))

    def test_listkeys_lookup_multirequest(self):
        _, _, body = v2.build_request_body(
            v2.make_ui(),
            [(b"listkeys", {b"namespace": b"bookmarks"}), (b"lookup", {b"key": b"3"})],
            v2.DEFAULT_ENCODINGS,
        )
        self.assertEqual(body, read(os.path.join(VECTORS, "pull-r", "002.request.bin")))

    def test_identity_only_settings_frame(self):
        _, _, body = v2.build_request_body(v2.make_ui(), [(b"heads", {})], [b"identity"])
        first = wireprotoframing.readframe(io.BytesIO(body))
        self.assertEqual(first.typeid, wireprotoframing.FRAME_TYPE_SENDER_PROTOCOL_SETTINGS)
        self.assertEqual(cborutil.decodeall(bytes(first.payload)), [{b"contentencodings": [b"identity"]}])


class ReplayClone(Scratch):
    def test_clone_equals_fixture_and_verifies(self):
        peer = self.peer("clone")
        repo = v2.clone(peer, self.path("clone"))
        self.assertTrue(peer.transport.finished())
        self.assertEqual(peer.http_requests, 5)
        self.hg_verify(self.path("clone"))
        self.assertEqual(v2.dump_repo(self.path("clone")), v2.dump_repo(self.fixture()))
        # Created as 6.3.2 creates repositories.
        self.assertIn(b"share-safe", repo.requirements)
        self.assertIn(b"revlog-compression-zstd", repo.requirements)

    def test_identity_encoding_clone(self):
        peer = v2.V2Peer(v2.make_ui(), v2.RecordedTransport(os.path.join(VECTORS, "clone-identity")), URL, [b"identity"])
        v2.clone(peer, self.path("clone"))
        self.assertTrue(peer.transport.finished())
        self.hg_verify(self.path("clone"))
        self.assertEqual(v2.dump_repo(self.path("clone")), v2.dump_repo(self.fixture()))

    def test_log_is_the_request_sequence_5_8_1_sent(self):
        peer = self.peer("clone")
        v2.clone(peer, self.path("clone"))
        self.assertEqual(peer.report()["requests"], v2.recorded_requests(os.path.join(VECTORS, "clone")))
        self.assertEqual(
            [(r["path"], [c["name"] for c in r.get("commands", [])]) for r in peer.report()["requests"]],
            [
                ("/?cmd=capabilities", []),
                ("/api/exp-http-v2-0003/ro/multirequest", ["heads", "known"]),
                ("/api/exp-http-v2-0003/ro/changesetdata", ["changesetdata"]),
                ("/api/exp-http-v2-0003/ro/manifestdata", ["manifestdata"]),
                ("/api/exp-http-v2-0003/ro/filesdata", ["filesdata"]),
            ],
        )


class ReplayIncremental(Scratch):
    def test_clone_r_then_pull_r_then_pull(self):
        dest = self.path("partial")
        peer = self.peer("clone-r")
        v2.clone(peer, dest, [b"1"])
        self.assertEqual(peer.report()["requests"], v2.recorded_requests(os.path.join(VECTORS, "clone-r")))
        self.assertEqual(len(hg.repository(v2.make_ui(), dest.encode())), 2)
        for scenario, revs in (("pull-r", [b"3"]), ("pull", [])):
            peer = self.peer(scenario)
            v2.pull(peer, dest, revs)
            self.assertTrue(peer.transport.finished(), scenario)
            self.assertEqual(peer.report()["requests"], v2.recorded_requests(os.path.join(VECTORS, scenario)))
        self.hg_verify(dest)
        self.assertEqual(by_node(v2.dump_repo(dest)), by_node(v2.dump_repo(self.fixture())))


class ReplayDiscoveryAndBatches(Scratch):
    def test_second_known_round_and_batches_of_two(self):
        fixture = self.fixture()
        dest = self.path("diverged")
        subprocess.run(
            ["sh", os.path.join(HERE, "make_fixture.sh"), "--diverged", fixture, dest], env=ENV, check=True, capture_output=True
        )
        before = by_node(v2.dump_repo(dest))
        peer = self.peer("pull-diverged-batch2")
        v2.pull(peer, dest)
        self.assertTrue(peer.transport.finished())
        requests = peer.report()["requests"]
        self.assertEqual(requests, v2.recorded_requests(os.path.join(VECTORS, "pull-diverged-batch2")))
        self.assertEqual(
            [(r["path"].rsplit("/", 1)[-1], [c["name"] for c in r.get("commands", [])]) for r in requests],
            [
                ("?cmd=capabilities", []),
                ("multirequest", ["heads", "known"]),
                ("known", ["known"]),
                ("changesetdata", ["changesetdata"]),
                ("manifestdata", ["manifestdata"]),
                ("manifestdata", ["manifestdata"]),
                ("filesdata", ["filesdata"]),
                ("filesdata", ["filesdata"]),
            ],
        )
        # recommendedbatchsize 2: 3 new manifests and changesets in 2 + 1.
        self.assertEqual([len(r["commands"][0]["args"]["nodes"]) for r in requests if r["path"].endswith("manifestdata")], [2, 1])
        self.assertEqual(
            [len(r["commands"][0]["args"]["revisions"][0]["nodes"]) for r in requests if r["path"].endswith("filesdata")], [2, 1]
        )
        self.hg_verify(dest)
        after, source = by_node(v2.dump_repo(dest)), by_node(v2.dump_repo(fixture))
        # Everything of the source arrived intact; the local changeset stayed.
        for kind in ("changelog", "manifest"):
            self.assertEqual({n: after[kind][n] for n in source[kind]}, source[kind])
            self.assertEqual(set(after[kind]) - set(source[kind]), set(before[kind]) - set(source[kind]))
        for f, rows in source["files"].items():
            self.assertEqual({n: after["files"][f][n] for n in rows}, rows)
        self.assertEqual(after["bookmarks"], source["bookmarks"])


class CommandLine(Scratch):
    SCRIPT = os.path.join(HERE, "v2_exchange.py")

    def run_cli(self, *args):
        return subprocess.run([sys.executable, "-B", self.SCRIPT, *args], env=ENV, capture_output=True, text=True)

    def test_clone_with_log(self):
        scenario = os.path.join(VECTORS, "clone")
        result = self.run_cli("clone", URL, self.path("clone"), "--replay", scenario, "--log", self.path("log.json"))
        self.assertEqual(result.returncode, 0, result.stderr)
        with open(self.path("log.json")) as fh:
            log = json.load(fh)
        self.assertEqual(log["requests"], v2.recorded_requests(scenario))
        self.assertEqual(log["http_requests"], 5)
        names = sorted(os.listdir(scenario))
        self.assertEqual(log["bytes_sent"], sum(len(read(os.path.join(scenario, n))) for n in names if n.endswith(".request.bin")))
        self.assertEqual(log["bytes_received"], sum(len(read(os.path.join(scenario, n))) for n in names if n.endswith(".response.bin")))
        self.hg_verify(self.path("clone"))

    def test_pull_r_with_log(self):
        dest = self.path("partial")
        self.assertEqual(self.run_cli("clone", URL, dest, "-r", "1", "--replay", os.path.join(VECTORS, "clone-r")).returncode, 0)
        result = self.run_cli("pull", dest, URL, "-r", "3", "--replay", os.path.join(VECTORS, "pull-r"), "--log", self.path("log.json"))
        self.assertEqual(result.returncode, 0, result.stderr)
        with open(self.path("log.json")) as fh:
            self.assertEqual(json.load(fh)["requests"], v2.recorded_requests(os.path.join(VECTORS, "pull-r")))

    def test_existing_destination_is_refused(self):
        os.mkdir(self.path("clone"))
        result = self.run_cli("clone", URL, self.path("clone"), "--replay", os.path.join(VECTORS, "clone"))
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stderr, "v2_exchange.py: destination %s already exists\n" % self.path("clone"))

    def test_replay_detects_a_different_request(self):
        # The clone-r recording answers a clone -r 1; asking for -r 2 sends
        # another lookup body, which the replay refuses.
        result = self.run_cli("clone", URL, self.path("clone"), "-r", "2", "--replay", os.path.join(VECTORS, "clone-r"))
        self.assertEqual(result.returncode, 1)
        self.assertTrue(result.stderr.startswith("v2_exchange.py: replay: request 2 body differs from the recorded one"), result.stderr)


class BadResponses(Scratch):
    def clone_fails(self, transport):
        with self.assertRaises(v2.ExchangeError) as ctx:
            v2.clone(self.peer("clone", transport), self.path("clone"))
        self.assertFalse(os.path.exists(self.path("clone")), "a failed clone leaves no destination")
        return str(ctx.exception)

    def test_response_without_eos_is_an_error(self):
        def drop_last_frame(data):
            offset, _ = frames_of(data)[-1]
            return data[:offset]

        message = self.clone_fails(MutatedTransport(os.path.join(VECTORS, "clone"), 3, drop_last_frame))
        self.assertEqual(message, "response ended without EOS for changesetdata (request 1)")

    def test_truncated_frame_is_an_error(self):
        message = self.clone_fails(MutatedTransport(os.path.join(VECTORS, "clone"), 4, lambda d: d[:-3]))
        self.assertTrue(message.startswith("response: frame length error: expected "), message)

    def test_command_error_is_reported(self):
        def heads_error(data):
            frames = wireprotoframing.createcommanderrorresponse(
                wireprotoframing.stream(2), 1, b"unknown node: %s", [b"x"]
            )
            return b"".join(bytes(f) for f in frames)

        message = self.clone_fails(MutatedTransport(os.path.join(VECTORS, "clone"), 2, heads_error))
        self.assertEqual(message, "heads: command error: unknown node: x")

    def test_heads_not_nodes_is_an_error(self):
        def short_head(data):
            stream = wireprotoframing.stream(2)
            # heads: a list holding a 19-byte "node"; known: b"".
            return response([[b"\x01" * 19]], stream=stream) + response([b""], requestid=3, stream=stream)

        message = self.clone_fails(MutatedTransport(os.path.join(VECTORS, "clone"), 2, short_head))
        self.assertEqual(message, "heads: expected a list of 20-byte nodes, got [%r]" % (b"\x01" * 19,))

    def test_descriptor_missing_argument_is_refused(self):
        def drop_haveparents(data):
            info = cborutil.decodeall(data)[0]
            del info[b"apis"][v2.API_NAME][b"commands"][b"manifestdata"][b"args"][b"haveparents"]
            return b"".join(cborutil.streamencode(info))

        message = self.clone_fails(MutatedTransport(os.path.join(VECTORS, "clone"), 1, drop_haveparents))
        self.assertEqual(message, "command manifestdata: server does not declare argument(s) haveparents")

    def test_descriptor_missing_command_is_refused(self):
        def drop_filesdata(data):
            info = cborutil.decodeall(data)[0]
            del info[b"apis"][v2.API_NAME][b"commands"][b"filesdata"]
            return b"".join(cborutil.streamencode(info))

        message = self.clone_fails(MutatedTransport(os.path.join(VECTORS, "clone"), 1, drop_filesdata))
        self.assertEqual(message, "server does not advertise command filesdata")

    def test_no_v2_api_is_refused(self):
        def no_api(data):
            info = cborutil.decodeall(data)[0]
            info[b"apis"] = {}
            return b"".join(cborutil.streamencode(info))

        message = self.clone_fails(MutatedTransport(os.path.join(VECTORS, "clone"), 1, no_api))
        self.assertEqual(message, "capabilities: the server offers no exp-http-v2-0003 API (apis: [])")

    def test_reencoded_response_is_accepted(self):
        # The crafting below is sound: re-framing unchanged values clones fine.
        v2.clone(self.peer("clone", MutatedTransport(os.path.join(VECTORS, "clone"), 5, rewrite("clone", 5, b"filesdata", response))), self.path("clone"))
        self.hg_verify(self.path("clone"))

    def test_changeset_hash_mismatch_is_refused(self):
        def corrupt(values):
            values[2] = values[2].replace(b"commit 0", b"commit X")
            return response(values)

        message = self.clone_fails(MutatedTransport(os.path.join(VECTORS, "clone"), 3, rewrite("clone", 3, b"changesetdata", corrupt)))
        self.assertEqual(message, "changesetdata: Mercurial refused the data: integrity check failed on 00changelog:b4a9cbde8576")

    def test_unknown_delta_base_is_refused(self):
        def bad_base(values):
            values[3][b"deltabasenode"] = b"\x11" * 20
            return response(values)

        message = self.clone_fails(MutatedTransport(os.path.join(VECTORS, "clone"), 4, rewrite("clone", 4, b"manifestdata", bad_base)))
        self.assertEqual(message, "manifestdata: Mercurial refused the data: 00manifest@" + "11" * 20 + ": unknown delta base")

    def test_filesdata_trailing_value_is_an_error(self):
        message = self.clone_fails(
            MutatedTransport(os.path.join(VECTORS, "clone"), 5, rewrite("clone", 5, b"filesdata", lambda v: response(v + [b"extra"])))
        )
        self.assertEqual(message, "filesdata: 1 value(s) after the last path")

    def test_filesdata_missing_records_is_an_error(self):
        def more_items(values):
            values[1][b"totalitems"] = 3  # path a has 2 records
            return response(values)

        message = self.clone_fails(MutatedTransport(os.path.join(VECTORS, "clone"), 5, rewrite("clone", 5, b"filesdata", more_items)))
        self.assertEqual(message, "filesdata a: expected a record map, got {b'path': b'acopy', b'totalitems': 1}")

    def test_file_node_outside_new_manifests_is_an_error(self):
        def foreign_node(values):
            values[2][b"node"] = b"\x22" * 20
            return response(values)

        message = self.clone_fails(MutatedTransport(os.path.join(VECTORS, "clone"), 5, rewrite("clone", 5, b"filesdata", foreign_node)))
        self.assertEqual(message, "filesdata: file node 222222222222 of a is in none of the new manifests")

    def test_indefinite_byte_string_is_an_error(self):
        def indefinite(values):
            tail = b"".join(cborutil.streamencodeindefinitebytestring(values[-1], 2))
            return response(values[:-1], tail)

        message = self.clone_fails(MutatedTransport(os.path.join(VECTORS, "clone"), 5, rewrite("clone", 5, b"filesdata", indefinite)))
        self.assertEqual(message, "filesdata: indefinite-length byte string in the response (5.8.1's client cannot use it)")

    def test_unknown_phase_is_an_error(self):
        def bad_phase(values):
            values[1][b"phase"] = b"golden"
            return response(values)

        message = self.clone_fails(MutatedTransport(os.path.join(VECTORS, "clone"), 3, rewrite("clone", 3, b"changesetdata", bad_phase)))
        self.assertEqual(message, "changesetdata: b4a9cbde8576 has unknown phase b'golden'")

    def test_silent_server_times_out(self):
        # A 127.0.0.1 listener that accepts and never answers.
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        self.addCleanup(listener.close)
        accepted = []
        thread = threading.Thread(target=lambda: accepted.append(listener.accept()[0]), daemon=True)
        thread.start()
        url = "http://127.0.0.1:%d/" % listener.getsockname()[1]
        peer = v2.V2Peer(v2.make_ui(), v2.HttpTransport(url, timeout=0.5), url)
        with self.assertRaises(v2.ExchangeError) as ctx:
            v2.clone(peer, self.path("clone"))
        self.assertEqual(str(ctx.exception), "GET /?cmd=capabilities: timed out")
        thread.join(5)
        for conn in accepted:
            conn.close()
        self.assertFalse(os.path.exists(self.path("clone")))


if __name__ == "__main__":
    unittest.main()
