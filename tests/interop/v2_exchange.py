#!/usr/bin/python3
"""An HTTP v2 (exchangev2) clone/pull client on Debian's Mercurial 6.3.2.

Mercurial 6.3.2 has no v2 client, and CI cannot run 5.8.1. This module does
what 5.8.1's `hg clone` / `hg pull` do over exp-http-v2-0003: the same
requests, with the same arguments, in the same order (see
/work/shared/notes/mercurial-repositories.md sections 1-2, 4, 7), and writes
the result with 6.3.2's own storage code (every node hash is checked by
addgroup), so `hg verify` and in-process comparisons can judge a server.
It is our code; it only imports Mercurial's modules.

Usage:
  v2_exchange.py clone URL DEST [-r REV]... [options]
  v2_exchange.py pull DEST URL [-r REV]... [options]
  v2_exchange.py dump REPO        a JSON dump of every revision, phases, bookmarks
  v2_exchange.py requests DIR     the requests recorded in DIR (recording_proxy.py's
                                  exchanges.json + NNN.request.bin) in --log's form
options:
  --log FILE           JSON {"requests": [...], "http_requests": N, ...}: every
                       request sent (path, command, args; bytes as {"$hex": ...})
  --encodings LIST     contentencodings advertised in the request body
                       (default "zlib,identity", what pure 5.8.1 sends)
  --timeout SECONDS    every socket operation (default 60)
  --max-response-bytes N   one HTTP response body (default 1073741824)

Differences from 5.8.1, by design:
  * discovery is 6.3.2's setdiscovery.findcommonheads (5.8.1's algorithm with
    6.3.2's sampling); it sends the same first round (heads + known(local
    heads)); later `known` samples may differ (they are randomized anyway);
  * no working-copy checkout after clone (like `hg clone -U`), no hooks;
  * stricter on bad responses: a response that ends without EOS, an
    indefinite-length byte string, a trailing value after filesdata's last
    path, or a file node outside the new manifests is a clear error.

Exit status: 0 ok, 1 exchange error (message on stderr), 2 bad usage.
"""

import argparse
import collections
import contextlib
import http.client
import io
import json
import os
import shutil
import sys
import urllib.parse

from mercurial import bookmarks as bookmarksmod
from mercurial import error
from mercurial import hg
from mercurial import mdiff
from mercurial import phases
from mercurial import setdiscovery
from mercurial import ui as uimod
from mercurial import wireprotoframing
from mercurial.node import nullid, short
from mercurial.utils import cborutil

API_NAME = b"exp-http-v2-0003"
FRAMING_TYPE = "application/mercurial-exp-framing-0006"
CBOR_TYPE = "application/mercurial-cbor"
DEFAULT_ENCODINGS = (b"zlib", b"identity")
DEFAULT_TIMEOUT = 60.0
DEFAULT_MAX_RESPONSE_BYTES = 1 << 30
# 5.8.1's defaults when the descriptor gives no recommendedbatchsize.
DEFAULT_BATCH = {b"manifestdata": 10000, b"filesdata": 50000}


class ExchangeError(Exception):
    """A clear, specific failure of the exchange (server, wire or data)."""


# --- JSON form of values (as hg_client.py: bytes as {"$hex": ...}) ---------


def to_json(v):
    if isinstance(v, (bytes, bytearray)):
        return {"$hex": bytes(v).hex()}
    if isinstance(v, dict):
        return {(k.decode("utf-8", "replace") if isinstance(k, bytes) else str(k)): to_json(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [to_json(x) for x in v]
    if isinstance(v, (set, frozenset)):
        return sorted((to_json(x) for x in v), key=lambda x: json.dumps(x, sort_keys=True))
    return v


# --- transports ------------------------------------------------------------


class CountingReader:
    """A response body as a file object for wireprotoframing.readframe, with
    a byte budget (bad input must not make us read forever)."""

    def __init__(self, fh, limit, what):
        self.fh = fh
        self.limit = limit
        self.what = what
        self.count = 0

    def _account(self, n):
        self.count += n
        if self.count > self.limit:
            raise ExchangeError("%s: response larger than %d bytes (--max-response-bytes)" % (self.what, self.limit))

    def readinto(self, buf):
        n = self.fh.readinto(buf)
        self._account(n or 0)
        return n

    def read(self, n):
        data = self.fh.read(n)
        self._account(len(data))
        return data


class HttpTransport:
    """Plain HTTP to 127.0.0.1-style URLs; one connection per request, a
    timeout on every socket operation."""

    def __init__(self, url, timeout=DEFAULT_TIMEOUT, max_response_bytes=DEFAULT_MAX_RESPONSE_BYTES):
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme != "http" or not parsed.hostname:
            raise ExchangeError("unsupported URL %r: only http://host[:port]/path" % url)
        self.host = parsed.hostname
        self.port = parsed.port or 80
        self.path = parsed.path or "/"
        self.timeout = timeout
        self.max_response_bytes = max_response_bytes

    def _connect(self):
        return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)

    def _check(self, resp, what, content_type):
        if resp.status != 200:
            body = resp.read(4096)
            raise ExchangeError("%s: HTTP %d %s: %r" % (what, resp.status, resp.reason, body))
        got = resp.getheader("Content-Type", "")
        if got != content_type:
            raise ExchangeError("%s: Content-Type %r, expected %r" % (what, got, content_type))

    def get(self, path_and_query, headers, consume):
        conn = self._connect()
        try:
            try:
                conn.request("GET", path_and_query, headers=headers)
                resp = conn.getresponse()
                self._check(resp, "GET " + path_and_query, CBOR_TYPE)
                reader = CountingReader(resp, self.max_response_bytes, "GET " + path_and_query)
                return consume(reader), reader.count
            except (OSError, http.client.HTTPException) as e:  # OSError includes socket.timeout
                raise ExchangeError("GET %s: %s" % (path_and_query, e)) from e
        finally:
            conn.close()

    def post(self, path, body, consume):
        headers = {"Accept": FRAMING_TYPE, "Content-Type": FRAMING_TYPE}
        conn = self._connect()
        try:
            try:
                conn.request("POST", path, body=body, headers=headers)
                resp = conn.getresponse()
                self._check(resp, "POST " + path, FRAMING_TYPE)
                reader = CountingReader(resp, self.max_response_bytes, "POST " + path)
                return consume(reader), reader.count
            except (OSError, http.client.HTTPException) as e:
                raise ExchangeError("POST %s: %s" % (path, e)) from e
        finally:
            conn.close()


class RecordedTransport:
    """Replays exchanges recorded by recording_proxy.py, with no server: each
    request must be the recorded one, byte for byte (path and body)."""

    def __init__(self, directory):
        self.directory = directory
        with open(os.path.join(directory, "exchanges.json")) as fh:
            self.exchanges = json.load(fh)
        self.position = 0
        self.path = "/"

    def _next(self, method, path, body):
        if self.position >= len(self.exchanges):
            raise ExchangeError("replay: request %d (%s %s) was never recorded" % (self.position + 1, method, path))
        entry = self.exchanges[self.position]
        self.position += 1
        n = entry["n"]
        if (entry["method"], entry["path"]) != (method, path):
            raise ExchangeError("replay: request %d is %s %s, recorded %s %s" % (n, method, path, entry["method"], entry["path"]))
        with open(os.path.join(self.directory, "%03d.request.bin" % n), "rb") as fh:
            recorded = fh.read()
        if recorded != body:
            raise ExchangeError(
                "replay: request %d body differs from the recorded one:\n sent     %s\n recorded %s" % (n, body.hex(), recorded.hex())
            )
        with open(os.path.join(self.directory, "%03d.response.bin" % n), "rb") as fh:
            return fh.read()

    def get(self, path_and_query, headers, consume):
        data = self._next("GET", path_and_query, b"")
        return consume(io.BytesIO(data)), len(data)

    def post(self, path, body, consume):
        data = self._next("POST", path, body)
        return consume(io.BytesIO(data)), len(data)

    def finished(self):
        return self.position == len(self.exchanges)


# --- handshake and descriptor ----------------------------------------------


def parse_handshake(data):
    try:
        values = cborutil.decodeall(data)
    except Exception as e:
        raise ExchangeError("capabilities: bad CBOR: %s" % e) from e
    if len(values) != 1 or not isinstance(values[0], dict):
        raise ExchangeError("capabilities: expected one CBOR map, got %d values" % len(values))
    info = values[0]
    apis = info.get(b"apis")
    if not isinstance(apis, dict) or API_NAME not in apis:
        raise ExchangeError("capabilities: the server offers no %s API (apis: %r)" % (API_NAME.decode(), sorted(apis or {})))
    apibase = info.get(b"apibase")
    if not isinstance(apibase, bytes):
        raise ExchangeError("capabilities: apibase missing or not a byte string")
    descriptor = apis[API_NAME]
    if not isinstance(descriptor, dict) or not isinstance(descriptor.get(b"commands"), dict):
        raise ExchangeError("capabilities: the %s descriptor has no commands map" % API_NAME.decode())
    return apibase, descriptor


def check_command(descriptor, name, args):
    """What 5.8.1's executor refuses: an unadvertised command, an argument it
    sends that the command does not declare, a missing permissions list."""
    commands = descriptor[b"commands"]
    if name not in commands:
        raise ExchangeError("server does not advertise command %s" % name.decode())
    entry = commands[name]
    declared = entry.get(b"args") if isinstance(entry, dict) else None
    if not isinstance(declared, dict):
        raise ExchangeError("command %s: descriptor has no args map" % name.decode())
    unknown = sorted(set(args) - set(declared))
    if unknown:
        raise ExchangeError(
            "command %s: server does not declare argument(s) %s" % (name.decode(), ", ".join(a.decode() for a in unknown))
        )
    permissions = entry.get(b"permissions")
    if not isinstance(permissions, list):
        raise ExchangeError("command %s: descriptor has no permissions list" % name.decode())
    return b"rw" if b"push" in permissions else b"ro"


# --- one HTTP request: frames out, frames in --------------------------------


def build_request_body(ui, commands, encodings):
    """commands: [(name, args)]. Mercurial's clientreactor with the settings
    5.8.1's httppeer uses; returns (reactor, [request objects], body)."""
    reactor = wireprotoframing.clientreactor(
        ui, hasmultiplesend=False, buffersends=True, clientcontentencoders=list(encodings)
    )
    requests = [reactor.callcommand(name, args)[0] for name, args in commands]
    action, meta = reactor.flushcommands()
    if action != b"sendframes":
        raise ExchangeError("internal: clientreactor produced no frames (%r)" % action)
    return reactor, requests, b"".join(bytes(f) for f in meta[b"framegen"])


def format_command_error(err):
    message = err.get(b"message", b"") if isinstance(err, dict) else err
    args = err.get(b"args", []) if isinstance(err, dict) else []
    try:
        return (message % tuple(args)).decode("utf-8", "replace")
    except Exception:
        return "%r %% %r" % (message, args)


def decode_responses(reactor, requests, names, fh):
    """Reads frames until the body ends; returns {request id: [values after
    the status map]}. Errors: a protocol error, an error frame, a command
    error, and any request whose response did not end with EOS."""
    by_id = {r.requestid: name for r, name in zip(requests, names)}
    decoders = {rid: cborutil.bufferingdecoder() for rid in by_id}
    done = {}
    while True:
        try:
            frame = wireprotoframing.readframe(fh)
        except error.Abort as e:
            raise ExchangeError("response: %s" % e.message.decode("utf-8", "replace")) from e
        if frame is None:
            break
        action, meta = reactor.onframerecv(frame)
        if action == b"noop":
            continue
        if action == b"error":
            rid = meta[b"request"].requestid if b"request" in meta else None
            where = "%s (request %d)" % (by_id[rid].decode(), rid) if rid in by_id else "response"
            if b"type" in meta:
                raise ExchangeError("%s: server %s error: %r" % (where, meta[b"type"].decode(), meta[b"message"]))
            raise ExchangeError("%s: protocol error: %s" % (where, meta[b"message"].decode("utf-8", "replace")))
        if action != b"responsedata":
            raise ExchangeError("response: unexpected reactor action %r" % action)
        rid = meta[b"request"].requestid
        decoder = decoders[rid]
        try:
            decoder.decode(meta[b"data"])
        except cborutil.CBORDecodeError as e:
            raise ExchangeError("%s: bad CBOR in the response: %s" % (by_id[rid].decode(), e)) from e
        if meta[b"eos"]:
            done[rid] = finish_values(by_id[rid], decoder)
    missing = [rid for rid in by_id if rid not in done]
    if missing:
        raise ExchangeError(
            "response ended without EOS for %s"
            % ", ".join("%s (request %d)" % (by_id[rid].decode(), rid) for rid in missing)
        )
    return done


def finish_values(name, decoder):
    _, _, wanted = decoder.decode(b"")
    if wanted:
        raise ExchangeError("%s: response ends inside a CBOR value" % name.decode())
    values = decoder.getavailable()
    for v in values:
        if isinstance(v, cborutil.bytestringchunk):
            raise ExchangeError(
                "%s: indefinite-length byte string in the response (5.8.1's client cannot use it)" % name.decode()
            )
    if not values or not isinstance(values[0], dict):
        raise ExchangeError("%s: response without a status map" % name.decode())
    status = values[0].get(b"status")
    if status == b"error":
        raise ExchangeError("%s: command error: %s" % (name.decode(), format_command_error(values[0].get(b"error"))))
    if status != b"ok":
        raise ExchangeError("%s: unknown status %r" % (name.decode(), status))
    return values[1:]


# --- the peer: what setdiscovery and the exchange call ----------------------


def decode_single(name):
    def decode(values):
        if len(values) != 1:
            raise ExchangeError("%s: expected 1 value, got %d" % (name, len(values)))
        return values[0]

    return decode


def decode_known(values):
    v = decode_single("known")(values)
    if not isinstance(v, bytes) or any(c not in b"01" for c in v):
        raise ExchangeError("known: expected a byte string of '0'/'1', got %r" % (v,))
    return [c == ord("1") for c in v]


def is_node(v):
    return isinstance(v, bytes) and len(v) == 20


def decode_heads(values):
    v = decode_single("heads")(values)
    if not isinstance(v, list) or not all(is_node(n) for n in v):
        raise ExchangeError("heads: expected a list of 20-byte nodes, got %r" % (v,))
    return v


def decode_lookup(values):
    v = decode_single("lookup")(values)
    if not is_node(v):
        raise ExchangeError("lookup: expected a 20-byte node, got %r" % (v,))
    return v


def decode_listkeys(values):
    v = decode_single("listkeys")(values)
    if not isinstance(v, dict) or not all(isinstance(k, bytes) and isinstance(x, bytes) for k, x in v.items()):
        raise ExchangeError("listkeys: expected a map of byte strings, got %r" % (v,))
    return v


DECODERS = {
    b"heads": decode_heads,
    b"known": decode_known,
    b"lookup": decode_lookup,
    b"listkeys": decode_listkeys,
}


class Future:
    def __init__(self, executor):
        self.executor = executor
        self.value = None

    def result(self):
        self.executor.sendcommands()
        return self.value


class Executor:
    """5.8.1's executor semantics: commands queue up and go in one HTTP
    request (multirequest when several) on the first result() or at exit."""

    def __init__(self, peer):
        self.peer = peer
        self.calls = []
        self.sent = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if exc[0] is None:
            self.sendcommands()

    def callcommand(self, name, args):
        if self.sent:
            raise ExchangeError("internal: command %s after the batch was sent" % name.decode())
        f = Future(self)
        self.calls.append((name, args, f))
        return f

    def sendcommands(self):
        if self.sent or not self.calls:
            return
        self.sent = True
        results = self.peer.run([(n, a) for n, a, _ in self.calls])
        for (name, _, f), values in zip(self.calls, results):
            decode = DECODERS.get(name)
            f.value = decode(values) if decode else iter(values)


class V2Peer:
    limitedarguments = False  # as 5.8.1's httpv2peer

    def __init__(self, ui, transport, url, encodings=DEFAULT_ENCODINGS):
        self.ui = ui
        self.transport = transport
        self.url = url
        self.encodings = tuple(encodings)
        self.log = []
        self.http_requests = 0
        self.bytes_sent = 0
        self.bytes_received = 0
        self.apipath = None
        self.descriptor = None

    def handshake(self):
        base = self.transport.path
        query = base + "?cmd=capabilities"
        headers = {
            "Accept": "application/mercurial-0.1",
            "X-HgProto-1": "cbor",
            "X-HgUpgrade-1": API_NAME.decode(),
            "Vary": "X-HgProto-1,X-HgUpgrade-1",
        }
        data, received = self.transport.get(query, headers, lambda fh: fh.read(self.transport_limit()))
        self._count(0, received, {"method": "GET", "path": query})
        apibase, self.descriptor = parse_handshake(data)
        self.apipath = base.rstrip("/") + "/" + apibase.decode("ascii").rstrip("/") + "/" + API_NAME.decode()

    def transport_limit(self):
        return getattr(self.transport, "max_response_bytes", DEFAULT_MAX_RESPONSE_BYTES) + 1

    def _count(self, sent, received, entry):
        self.http_requests += 1
        self.bytes_sent += sent
        self.bytes_received += received
        self.log.append(entry)

    def commandexecutor(self):
        return Executor(self)

    def require(self, names):
        """Refuses up front a server lacking a command the exchange needs."""
        for name in names:
            if name not in self.descriptor[b"commands"]:
                raise ExchangeError("server does not advertise command %s" % name.decode())

    def batchsize(self, name):
        self.require([name])
        size = self.descriptor[b"commands"][name].get(b"recommendedbatchsize", DEFAULT_BATCH[name])
        if not isinstance(size, int) or size <= 0:
            raise ExchangeError("%s: recommendedbatchsize %r is not a positive integer" % (name.decode(), size))
        return size

    def run(self, commands):
        """Sends commands [(name, args)] as one HTTP request; returns the
        list of value lists, in order."""
        modes = {check_command(self.descriptor, name, args) for name, args in commands}
        mode = "rw" if b"rw" in modes else "ro"
        target = commands[0][0].decode() if len(commands) == 1 else "multirequest"
        path = "%s/%s/%s" % (self.apipath, mode, target)
        reactor, requests, body = build_request_body(self.ui, commands, self.encodings)
        names = [name for name, _ in commands]
        results, received = self.transport.post(path, body, lambda fh: decode_responses(reactor, requests, names, fh))
        self._count(
            len(body),
            received,
            {"method": "POST", "path": path, "commands": [{"name": n.decode(), "args": to_json(a)} for n, a in commands]},
        )
        return [results[r.requestid] for r in requests]

    def call(self, name, args):
        with self.commandexecutor() as e:
            return e.callcommand(name, args).result()

    def report(self):
        return {
            "requests": self.log,
            "http_requests": self.http_requests,
            "bytes_sent": self.bytes_sent,
            "bytes_received": self.bytes_received,
        }


# --- applying the data (exchangev2's steps, with 6.3.2's storage) -----------


def trivial_delta(text):
    return mdiff.trivialdiffheader(len(text)) + text


def take_fields(what, record, objs):
    fields = {}
    for entry in record.get(b"fieldsfollowing", []):
        if not isinstance(entry, list) or len(entry) != 2:
            raise ExchangeError("%s: bad fieldsfollowing entry %r" % (what, entry))
        try:
            fields[entry[0]] = next(objs)
        except StopIteration:
            raise ExchangeError("%s: the response ends before the %r field" % (what, entry[0]))
        if not isinstance(fields[entry[0]], bytes):
            raise ExchangeError("%s: the %r field is not a byte string" % (what, entry[0]))
    return fields


def revision_delta(what, record, fields):
    """(delta base, delta) from a manifest/file record, or None (skipped, as
    5.8.1 skips records with neither)."""
    if b"delta" in fields:
        base = record.get(b"deltabasenode")
        if not isinstance(base, bytes) or len(base) != 20:
            raise ExchangeError("%s: delta without a 20-byte deltabasenode" % what)
        return base, fields[b"delta"]
    if b"revision" in fields:
        return nullid, trivial_delta(fields[b"revision"])
    return None


def record_node_parents(what, record):
    node = record.get(b"node")
    parents = record.get(b"parents")
    if not isinstance(node, bytes) or len(node) != 20:
        raise ExchangeError("%s: record without a 20-byte node: %r" % (what, record))
    if not isinstance(parents, list) or len(parents) != 2:
        raise ExchangeError("%s: record %s without two parents" % (what, short(node).decode()))
    return node, parents


@contextlib.contextmanager
def refused_by_storage(what):
    """Mercurial's storage refusing received data (a hash that does not
    match, an unknown parent or delta base, a bad delta) names the command."""
    try:
        yield
    except error.StorageError as e:
        raise ExchangeError("%s: Mercurial refused the data: %s" % (what, e)) from e


def fetch_changesets(repo, tr, peer, common, heads):
    objs = peer.call(
        b"changesetdata",
        {
            b"revisions": [{b"type": b"changesetdagrange", b"roots": sorted(common), b"heads": sorted(heads)}],
            b"fields": {b"bookmarks", b"parents", b"phase", b"revision"},
        },
    )
    cl = repo.unfiltered().changelog
    cl.delayupdate(tr)
    meta = next(objs, None)
    if not isinstance(meta, dict):
        raise ExchangeError("changesetdata: the first value is not a map")
    added, new, manifestnodes = [], [], {}
    nodesbyphase = {name: set() for name in phases.phasenames.values()}
    remotebookmarks = {}

    def onchangeset(cl, rev):
        revision = cl.changelogrevision(rev)
        added.append(cl.node(rev))
        new.append(rev)
        manifestnodes[rev] = revision.manifest
        repo.register_changeset(rev, revision)

    def ondup(cl, rev):
        added.append(cl.node(rev))

    def deltas():
        for cset in objs:
            if not isinstance(cset, dict) or not isinstance(cset.get(b"node"), bytes):
                raise ExchangeError("changesetdata: a record is not a map with a node: %r" % (cset,))
            node = cset[b"node"]
            if b"phase" in cset:
                if cset[b"phase"] not in nodesbyphase:
                    raise ExchangeError("changesetdata: %s has unknown phase %r" % (short(node).decode(), cset[b"phase"]))
                nodesbyphase[cset[b"phase"]].add(node)
            for mark in cset.get(b"bookmarks", []):
                remotebookmarks[mark] = node
            fields = take_fields("changesetdata %s" % short(node).decode(), cset, objs)
            if b"revision" not in fields:
                continue
            _, parents = record_node_parents("changesetdata", cset)
            yield (node, parents[0], parents[1], node, nullid, trivial_delta(fields[b"revision"]), 0, {})

    with refused_by_storage("changesetdata"):
        cl.addgroup(deltas(), lambda node: len(cl), tr, alwayscache=True, addrevisioncb=onchangeset, duplicaterevisioncb=ondup)
    return {"added": added, "new": new, "nodesbyphase": nodesbyphase, "bookmarks": remotebookmarks, "manifestnodes": manifestnodes}


def fetch_manifests(repo, tr, peer, manifestnodes):
    store = repo.manifestlog.getstorage(b"")
    fetch, linkrevs, seen = [], {}, set()
    for clrev, node in sorted(manifestnodes.items()):
        if node in seen:
            continue
        seen.add(node)
        try:
            store.rev(node)
        except error.LookupError:
            fetch.append(node)
            linkrevs[node] = clrev
    added = []

    def onrev(rl, rev):
        added.append(rl.node(rev))

    batchsize = peer.batchsize(b"manifestdata")
    for i in range(0, len(fetch), batchsize):
        objs = peer.call(
            b"manifestdata",
            {b"tree": b"", b"nodes": fetch[i : i + batchsize], b"fields": {b"parents", b"revision"}, b"haveparents": True},
        )
        next(objs, None)

        def deltas():
            for record in objs:
                if not isinstance(record, dict):
                    raise ExchangeError("manifestdata: a record is not a map: %r" % (record,))
                node, parents = record_node_parents("manifestdata", record)
                what = "manifestdata %s" % short(node).decode()
                delta = revision_delta(what, record, take_fields(what, record, objs))
                if delta is None:
                    continue
                if node not in linkrevs:
                    raise ExchangeError("%s: the server sent a manifest that was not asked for" % what)
                yield (node, parents[0], parents[1], node, delta[0], delta[1], 0, {})

        with refused_by_storage("manifestdata"):
            store.addgroup(deltas(), linkrevs.__getitem__, tr, addrevisioncb=onrev, duplicaterevisioncb=onrev)
    return {"added": added, "linkrevs": linkrevs}


def derive_file_nodes(repo, manifestnodes):
    """path -> {file node: first new manifest listing it}, from readfast()
    as 5.8.1 derives it (so a delta-read manifest lists only its changes)."""
    fnodes = collections.defaultdict(dict)
    for mnode in manifestnodes:
        for path, fnode in repo.manifestlog.get(b"", mnode).readfast().items():
            fnodes[path].setdefault(fnode, mnode)
    return fnodes


def fetch_files(repo, tr, peer, fnodes, csets, manlinkrevs):
    batchsize = peer.batchsize(b"filesdata")
    for i in range(0, len(csets), batchsize):
        objs = peer.call(
            b"filesdata",
            {
                b"revisions": [{b"type": b"changesetexplicit", b"nodes": csets[i : i + batchsize]}],
                b"fields": {b"parents", b"revision"},
                b"haveparents": True,
            },
        )
        overall = next(objs, None)
        if not isinstance(overall, dict) or not isinstance(overall.get(b"totalpaths"), int):
            raise ExchangeError("filesdata: the first value is not a map with totalpaths: %r" % (overall,))
        for _ in range(overall[b"totalpaths"]):
            header = next(objs, None)
            if not isinstance(header, dict) or not isinstance(header.get(b"path"), bytes) or not isinstance(header.get(b"totalitems"), int):
                raise ExchangeError("filesdata: expected a {path, totalitems} header, got %r" % (header,))
            path = header[b"path"]
            linkrevs = {fnode: manlinkrevs[mnode] for fnode, mnode in fnodes.get(path, {}).items()}

            def linkrev(node, path=path, linkrevs=linkrevs):
                if node not in linkrevs:
                    raise ExchangeError(
                        "filesdata: file node %s of %s is in none of the new manifests"
                        % (short(node).decode(), path.decode("utf-8", "replace"))
                    )
                return linkrevs[node]

            def deltas(path=path, remaining=header[b"totalitems"]):
                while remaining:
                    record = next(objs, None)
                    if record is None:
                        raise ExchangeError(
                            "filesdata %s: %d record(s) announced but missing" % (path.decode("utf-8", "replace"), remaining)
                        )
                    if not isinstance(record, dict) or b"path" in record:
                        raise ExchangeError(
                            "filesdata %s: expected a record map, got %r" % (path.decode("utf-8", "replace"), record)
                        )
                    node, parents = record_node_parents("filesdata", record)
                    what = "filesdata %s %s" % (path.decode("utf-8", "replace"), short(node).decode())
                    delta = revision_delta(what, record, take_fields(what, record, objs))
                    remaining -= 1
                    if delta is None:
                        continue
                    yield (node, parents[0], parents[1], record.get(b"linknode", node), delta[0], delta[1], 0, {})

            with refused_by_storage("filesdata %s" % path.decode("utf-8", "replace")):
                repo.file(path).addgroup(deltas(), linkrev, tr)
        rest = list(objs)
        if rest:
            raise ExchangeError("filesdata: %d value(s) after the last path" % len(rest))


def discover(repo, peer, heads):
    """(common, fetch, remoteheads) as 5.8.1's _pullchangesetdiscovery."""
    if heads and all(repo.changelog.hasnode(h) for h in heads):
        return list(heads), False, list(heads)
    common, fetch, remoteheads = setdiscovery.findcommonheads(repo.ui, repo, peer, abortwhenunrelated=True)
    common, remoteheads = set(common), set(remoteheads)
    if fetch and remoteheads:
        has_node = repo.unfiltered().changelog.index.has_node
        common |= {h for h in remoteheads if has_node(h)}
        if remoteheads.issubset(common):
            fetch = []
    common.discard(nullid)
    return common, fetch, remoteheads


def pull_into(repo, peer, heads=None, source=b"pull"):
    """exchangev2.pull: all of it in one transaction."""
    with repo.wlock(), repo.lock(), repo.transaction(source + b"\n" + peer.url.encode()) as tr:
        common, _, remoteheads = discover(repo, peer, heads)
        csets = fetch_changesets(repo, tr, peer, common, heads or remoteheads)
        if csets["new"]:
            phases.registernew(repo, tr, phases.draft, csets["new"])
        for number, name in phases.phasenames.items():
            if name == b"secret" or not csets["nodesbyphase"][name]:
                continue
            phases.advanceboundary(repo, tr, number, csets["nodesbyphase"][name])
        bookmarksmod.updatefromremote(repo.ui, repo, csets["bookmarks"], peer.url.encode(), lambda: tr)
        manifests = fetch_manifests(repo, tr, peer, csets["manifestnodes"])
        fnodes = derive_file_nodes(repo, manifests["added"])
        fetch_files(repo, tr, peer, fnodes, csets["added"], manifests["linkrevs"])
    return csets


def make_ui(quiet=True):
    ui = uimod.ui()  # no user or system configuration
    if quiet:
        ui.setconfig(b"ui", b"quiet", b"true", b"v2_exchange")
    return ui


PULL_COMMANDS = (b"heads", b"known", b"changesetdata", b"manifestdata", b"filesdata")


def clone(peer, dest, revs=()):
    """hg clone -U over v2: dest is created as 6.3.2 creates repositories,
    and removed again if the clone fails."""
    ui, url = peer.ui, peer.url
    if os.path.exists(dest):
        raise ExchangeError("destination %s already exists" % dest)
    peer.handshake()
    peer.require(PULL_COMMANDS + ((b"lookup",) if revs else ()))
    # hg.py:clone: one lookup request per -r, before anything else.
    heads = [peer.call(b"lookup", {b"key": r}) for r in revs]
    repo = hg.repository(ui, dest.encode(), create=True)
    try:
        repo.vfs.write(b"hgrc", b"[paths]\ndefault = %s\n" % url.encode())
        pull_into(repo, peer, heads or None, source=b"clone")
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    return repo


def pull(peer, dest, revs=()):
    """hg pull [-r REV]... over v2."""
    repo = hg.repository(peer.ui, dest.encode())
    peer.handshake()
    peer.require(PULL_COMMANDS + ((b"listkeys", b"lookup") if revs else ()))
    heads = None
    if revs:
        # commands.py:pull: listkeys bookmarks + the lookups in one request.
        with peer.commandexecutor() as e:
            e.callcommand(b"listkeys", {b"namespace": b"bookmarks"})
            futures = [e.callcommand(b"lookup", {b"key": r}) for r in revs]
        heads = [f.result() for f in futures]
    pull_into(repo, peer, heads)
    return repo


# --- recorded requests in --log's form --------------------------------------


def recorded_requests(directory):
    """The requests of a recording (recording_proxy.py) as --log entries,
    decoded with Mercurial's serverreactor."""
    with open(os.path.join(directory, "exchanges.json")) as fh:
        exchanges = json.load(fh)
    out = []
    for entry in exchanges:
        if entry["method"] == "GET":
            out.append({"method": "GET", "path": entry["path"]})
            continue
        with open(os.path.join(directory, "%03d.request.bin" % entry["n"]), "rb") as fh:
            body = fh.read()
        reactor = wireprotoframing.serverreactor(make_ui(), deferoutput=True)
        commands = []
        src = io.BytesIO(body)
        while True:
            frame = wireprotoframing.readframe(src)
            if frame is None:
                break
            action, meta = reactor.onframerecv(frame)
            if action == b"error":
                raise ExchangeError("recorded request %d: %r" % (entry["n"], meta[b"message"]))
            if action == b"runcommand":
                commands.append({"name": meta[b"command"].decode(), "args": to_json(meta[b"args"])})
        out.append({"method": "POST", "path": entry["path"], "commands": commands})
    return out


def dump_repo(path):
    """Everything a clone must reproduce, read in-process by 6.3.2: every
    changelog, manifest and filelog revision (node, parents, linkrev, raw
    text as hex), phases and bookmarks. For comparisons of two repositories."""
    repo = hg.repository(make_ui(), path.encode()).unfiltered()

    def revlog_rows(rl):
        rows = []
        for rev in rl:
            node = rl.node(rev)
            rows.append([rev, node.hex(), [p.hex() for p in rl.parents(node)], rl.linkrev(rev), rl.rawdata(node).hex()])
        return rows

    files = sorted({f for rev in repo for f in repo[rev].files() if f in repo[rev]} | {f for rev in repo for f in repo[rev].manifest()})
    return {
        "changelog": revlog_rows(repo.changelog),
        "manifest": revlog_rows(repo.manifestlog.getstorage(b"")),
        "files": {f.decode(): revlog_rows(repo.file(f)) for f in files},
        "phases": {repo[rev].node().hex(): repo[rev].phasestr().decode() for rev in repo},
        "bookmarks": {k.decode(): v.hex() for k, v in sorted(repo._bookmarks.items())},
    }


def main(argv):
    parser = argparse.ArgumentParser(prog="v2_exchange.py", description="HTTP v2 clone/pull on Debian's Mercurial")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, first, second in (("clone", "url", "dest"), ("pull", "dest", "url")):
        p = sub.add_parser(name)
        p.add_argument(first)
        p.add_argument(second)
        p.add_argument("-r", "--rev", action="append", default=[])
        p.add_argument("--log")
        p.add_argument("--encodings", default=",".join(e.decode() for e in DEFAULT_ENCODINGS))
        p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT)
        p.add_argument("--max-response-bytes", type=int, default=DEFAULT_MAX_RESPONSE_BYTES)
        p.add_argument("--replay", metavar="DIR", help="answer from a recording instead of the network")
    p = sub.add_parser("requests")
    p.add_argument("dir")
    p = sub.add_parser("dump")
    p.add_argument("repo")
    args = parser.parse_args(argv[1:])
    if args.command == "dump":
        json.dump(dump_repo(args.repo), sys.stdout, indent=1, sort_keys=True)
        sys.stdout.write("\n")
        return 0
    if args.command == "requests":
        json.dump(recorded_requests(args.dir), sys.stdout, indent=1, sort_keys=True)
        sys.stdout.write("\n")
        return 0
    encodings = [e.encode("ascii") for e in args.encodings.split(",") if e]
    ui = make_ui()
    peer = None
    try:
        if args.replay:
            transport = RecordedTransport(args.replay)
        else:
            transport = HttpTransport(args.url, args.timeout, args.max_response_bytes)
        peer = V2Peer(ui, transport, args.url, encodings)
        (clone if args.command == "clone" else pull)(peer, args.dest, [r.encode() for r in args.rev])
        if args.replay and not transport.finished():
            raise ExchangeError("replay: %d recorded request(s) were not sent" % (len(transport.exchanges) - transport.position))
    except (ExchangeError, error.Abort, error.RepoError, error.StorageError) as e:
        raw = getattr(e, "message", None) or (e.args[0] if e.args else b"")
        msg = raw.decode("utf-8", "replace") if isinstance(raw, bytes) and not isinstance(e, ExchangeError) else str(e)
        sys.stderr.write("v2_exchange.py: %s\n" % msg)
        return 1
    finally:
        if args.log and peer is not None:
            with open(args.log, "w") as fh:
                json.dump(peer.report(), fh, indent=1, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
