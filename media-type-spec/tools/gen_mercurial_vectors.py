#!/usr/bin/python3
"""Generate media-type-spec/vectors/mercurial-*.json and frames-*.json.

This is hgrpcd's own code. It imports Debian's `mercurial` package and uses
its framing module as the oracle: Mercurial's client reactor builds request
bodies, Mercurial's server reactor says which commands a body runs and
produces response bodies, and Mercurial's human-notation parser encodes the
hand-written frame lines of frames-*.json. Nothing of Mercurial is copied.

Run with the system interpreter (where Debian installs mercurial):

    /usr/bin/python3 media-type-spec/tools/gen_mercurial_vectors.py [OUT_DIR]

OUT_DIR defaults to media-type-spec/vectors next to this script. The output
is deterministic: running it twice gives identical files.
"""

import io
import json
import os
import random
import struct
import sys

try:
    from mercurial import ui as uimod
    from mercurial import wireprotoframing as wf
    from mercurial import wireprototypes
    from mercurial.utils import cborutil
except ImportError as e:  # pragma: no cover - environment problem
    sys.exit("gen_mercurial_vectors: needs Mercurial's Python modules "
             "(apt-get install mercurial; run with /usr/bin/python3): %s" % e)


# --- frames: our own header codec and human notation printer -----------------

STREAM_FLAG_NAMES = [(0x01, "stream-begin"), (0x02, "stream-end"),
                     (0x04, "encoded")]
TYPE_NAMES = {
    1: "command-request", 2: "command-data", 3: "command-response",
    5: "error-response", 6: "text-output", 7: "progress",
    8: "sender-protocol-settings", 9: "stream-settings",
}
TYPE_FLAG_NAMES = {
    1: [(1, "new"), (2, "continuation"), (4, "more"), (8, "have-data")],
    2: [(1, "continuation"), (2, "eos")],
    3: [(1, "continuation"), (2, "eos")],
    8: [(1, "continuation"), (2, "eos")],
    9: [(1, "continuation"), (2, "eos")],
}


def make_frame(request_id, stream_id, stream_flags, ftype, flags, payload):
    """Header + payload, built independently of Mercurial (for frames
    Mercurial's helpers refuse to build, such as unassigned types)."""
    n = len(payload)
    return (bytes([n & 0xFF, (n >> 8) & 0xFF, (n >> 16) & 0xFF])
            + struct.pack("<HBB", request_id, stream_id, stream_flags)
            + bytes([(ftype << 4) | flags]) + payload)


def split_frames(data):
    """Frames of a byte string as dicts (24-bit length read correctly)."""
    out, pos = [], 0
    while pos < len(data):
        assert pos + 8 <= len(data), "truncated header"
        length = data[pos] | data[pos + 1] << 8 | data[pos + 2] << 16
        rid, sid, sflags = struct.unpack_from("<HBB", data, pos + 3)
        tf = data[pos + 7]
        payload = data[pos + 8:pos + 8 + length]
        assert len(payload) == length, "truncated payload"
        out.append({"request_id": rid, "stream_id": sid, "stream_flags": sflags,
                    "type": tf >> 4, "flags": tf & 0x0F, "payload": payload})
        pos += 8 + length
    return out


def names(value, table):
    if value == 0:
        return "0"
    parts = []
    for bit in range(8):
        v = 1 << bit
        if value & v:
            name = dict(table).get(v)
            parts.append(name if name else str(v))
    return "|".join(parts)


def escape_bytes(b):
    """Body of a Python bytes literal: printable ASCII as is, the rest escaped."""
    out = []
    for i, c in enumerate(b):
        ch = chr(c)
        if ch == "\\":
            out.append("\\\\")
        elif ch == "'":
            out.append("\\'")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ch == " " and i == len(b) - 1:
            out.append("\\x20")  # a trailing space would be lost by editors
        elif 0x20 <= c < 0x7F:
            out.append(ch)
        else:
            out.append("\\x%02x" % c)
    return "".join(out)


def literal_ok(v):
    """Values whose Python literal our notation parser reads back exactly."""
    if isinstance(v, bool) or v is None or isinstance(v, bytes):
        return True
    if isinstance(v, int):
        return -(2 ** 63) <= v < 2 ** 64
    if isinstance(v, list):
        return all(literal_ok(x) for x in v)
    if isinstance(v, dict):
        return all(isinstance(k, bytes) and literal_ok(x) for k, x in v.items())
    return False  # str, float, set, tuple: avoid


def cbor(v):
    return b"".join(cborutil.streamencode(v))


def payload_notation(payload, encoded):
    if payload and not encoded:
        try:
            values = cborutil.decodeall(payload)
        except Exception:
            values = None
        if (values is not None and len(values) == 1 and literal_ok(values[0])
                and cbor(values[0]) == payload):
            return "cbor:" + repr(values[0])
    return escape_bytes(payload)


def human(f):
    return "%d %d %s %s %s %s" % (
        f["request_id"], f["stream_id"],
        names(f["stream_flags"], STREAM_FLAG_NAMES),
        TYPE_NAMES.get(f["type"], str(f["type"])),
        names(f["flags"], TYPE_FLAG_NAMES.get(f["type"], [])),
        payload_notation(f["payload"], f["stream_flags"] & 0x04))


def frames_json(data):
    return [{"request_id": f["request_id"], "stream_id": f["stream_id"],
             "stream_flags": f["stream_flags"], "type": f["type"],
             "flags": f["flags"], "payload_hex": f["payload"].hex()}
            for f in split_frames(data)]


def human_lines(data):
    return [human(f) for f in split_frames(data)]


def mercurial_frame(line):
    return bytes(wf.makeframefromhumanstring(line.encode("latin-1")))


# --- Mercurial as the oracle ----------------------------------------------------


def make_ui():
    u = uimod.ui.load()
    u.setconfig(b"ui", b"quiet", b"true")
    return u


UI = make_ui()


def hg_request_body(commands, encoders=None):
    """Request body Mercurial's client reactor sends for `commands`
    [(name, args, data or None)], all in one flush."""
    reactor = wf.clientreactor(UI, hasmultiplesend=False, buffersends=True,
                               clientcontentencoders=encoders)
    for name, args, data in commands:
        reactor.callcommand(name, args,
                            datafh=io.BytesIO(data) if data is not None else None)
    action, meta = reactor.flushcommands()
    assert action == b"sendframes"
    return b"".join(bytes(f) for f in meta[b"framegen"])


def hg_server_actions(body):
    """What Mercurial's server reactor does with a request body: the list of
    run-command actions (it must report no error)."""
    reactor = wf.serverreactor(UI, deferoutput=True)
    actions = []
    stream = io.BytesIO(body)
    while True:
        frame = wf.readframe(stream)
        if frame is None:
            break
        action, meta = reactor.onframerecv(frame)
        if action == b"error":
            raise AssertionError("Mercurial refused the body: %r" % meta)
        if action == b"runcommand":
            data = meta[b"data"]
            actions.append({
                "action": "run-command",
                "request_id": meta[b"requestid"],
                "command": meta[b"command"].decode("utf-8"),
                "args": repr(meta[b"args"]),
                "data": repr(data) if data is not None else None,
            })
    return actions


def server_vector(name, description, body, frames=True):
    v = {"name": name, "description": description, "kind": "server"}
    if frames:
        v["frames"] = human_lines(body)
    v["hex"] = body.hex()
    v["expect"] = {"actions": hg_server_actions(body)}
    return v


class Boom(Exception):
    pass


def response_objects(spec):
    """The objects (or generator) the server side emits for one response."""
    kind = spec[0]
    if kind == "objects":
        return list(spec[1])
    if kind == "indefinite":
        return [wireprototypes.indefinitebytestringresponse(list(spec[1]))]
    if kind == "encoded":
        return [wireprototypes.encodedresponse(cbor(v)) for v in spec[1]]
    if kind == "fail-after":
        def gen():
            for o in spec[1]:
                yield o
            raise Boom(spec[2])
        return gen()
    raise ValueError(kind)


def expected_values(spec):
    kind = spec[0]
    if kind == "objects" or kind == "encoded" or kind == "fail-after":
        return list(spec[1])
    if kind == "indefinite":
        return [b"".join(spec[1])]
    raise ValueError(kind)


def hg_response(responses, encoders=None, interleave=False):
    """Mercurial's server answering requests 1, 3, 5, ... of a request body
    whose client advertised `encoders`. `responses` is a list of specs:
    ("objects", [...]), ("indefinite", [chunks]), ("encoded", [values]),
    ("fail-after", [...], message), ("command-error", msg, args),
    ("server-error", msg). Returns (request ids, response body, expectations)."""
    commands = [(b"command%d" % i, {}, None) for i in range(len(responses))]
    request = hg_request_body(commands, encoders)
    reactor = wf.serverreactor(UI, deferoutput=False)
    ids = []
    stream_in = io.BytesIO(request)
    while True:
        frame = wf.readframe(stream_in)
        if frame is None:
            break
        action, meta = reactor.onframerecv(frame)
        assert action != b"error", meta
        if action == b"runcommand":
            ids.append(meta[b"requestid"])
    assert len(ids) == len(responses)
    # Interleaved responses need one stream each: Mercurial's emitter
    # buffers encoder output, so two responses sharing a compression context
    # must not be interleaved.
    shared = None if interleave else reactor.makeoutputstream()
    gens, expect = [], {}
    for rid, spec in zip(ids, responses):
        out_stream = shared or reactor.makeoutputstream()
        if spec[0] == "command-error":
            action, meta = reactor.oncommanderror(out_stream, rid, spec[1], spec[2])
            err = {b"message": spec[1]}
            if spec[2]:
                err[b"args"] = spec[2]
            expect[str(rid)] = {"values": [], "error": repr(err)}
        elif spec[0] == "server-error":
            action, meta = reactor.onservererror(out_stream, rid, spec[1])
            expect[str(rid)] = {"values": [], "error": repr(
                {b"type": b"server", b"message": [{b"msg": spec[1]}]})}
        else:
            action, meta = reactor.oncommandresponsereadyobjects(
                out_stream, rid, response_objects(spec))
            error = None
            if spec[0] == "fail-after":
                error = repr({b"type": b"server",
                              b"message": [{b"msg": spec[2].encode()}]})
            expect[str(rid)] = {"values": [repr(v) for v in expected_values(spec)],
                                "error": error}
        assert action == b"sendframes"
        gens.append(meta[b"framegen"])
    body = b""
    if interleave:
        # One frame of each response in turn, each on its own stream.
        live = list(gens)
        while live:
            for g in list(live):
                try:
                    body += bytes(next(g))
                except StopIteration:
                    live.remove(g)
    else:
        for g in gens:
            body += b"".join(bytes(f) for f in g)
    check_with_hg_client(request, body, ids, responses, encoders)
    return ids, body, expect


def expected_payload(spec):
    """The response payload octets (decoded) Mercurial's emitter must produce."""
    ok = cbor({b"status": b"ok"})
    kind = spec[0]
    if kind in ("objects", "encoded", "fail-after"):
        return ok + b"".join(cbor(v) for v in spec[1])
    if kind == "indefinite":
        return ok + b"".join(cborutil.streamencodebytestringfromiter(spec[1]))
    if kind == "command-error":
        err = {b"message": spec[1]}
        if spec[2]:
            err[b"args"] = spec[2]
        return cbor({b"status": b"error", b"error": err})
    if kind == "server-error":
        return b""
    raise ValueError(kind)


def check_with_hg_client(request, body, ids, responses, encoders):
    """Mercurial's client reactor must accept the response body, and see for
    each request exactly the payload octets and error frame we expect."""
    reactor = wf.clientreactor(UI, hasmultiplesend=False, buffersends=True,
                               clientcontentencoders=encoders)
    for i in range(len(ids)):
        reactor.callcommand(b"command%d" % i, {})
    action, meta = reactor.flushcommands()
    sent = b"".join(bytes(f) for f in meta[b"framegen"])
    assert sent == request, "client reactor is not deterministic"
    payloads, errors = {}, {}
    s = io.BytesIO(body)
    while True:
        frame = wf.readframe(s)
        if frame is None:
            break
        action, meta = reactor.onframerecv(frame)
        if action == b"responsedata":
            rid = meta[b"request"].requestid
            payloads[rid] = payloads.get(rid, b"") + bytes(meta[b"data"])
        elif action == b"error":
            assert b"request" in meta, meta
            errors[meta[b"request"].requestid] = {b"type": meta[b"type"],
                                                  b"message": meta[b"message"]}
        else:
            assert action == b"noop", (action, meta)
    for rid, spec in zip(ids, responses):
        got, want = payloads.get(rid, b""), expected_payload(spec)
        assert got == want, (rid, spec[0], len(got), len(want), got[:40].hex(), want[:40].hex())
        if spec[0] == "server-error":
            assert errors[rid] == {b"type": b"server", b"message": [{b"msg": spec[1]}]}
        elif spec[0] == "fail-after":
            assert errors[rid] == {b"type": b"server",
                                   b"message": [{b"msg": spec[2].encode()}]}
        else:
            assert rid not in errors


def client_vector(name, description, responses, encoders=None, interleave=False,
                  frames=True):
    ids, body, expect = hg_response(responses, encoders, interleave)
    v = {"name": name, "description": description, "kind": "client",
         "requests": [{"request_id": i} for i in ids]}
    if frames:
        v["frames"] = human_lines(body)
    v["hex"] = body.hex()
    v["expect"] = {"responses": expect}
    return v


PRINTABLE = bytes(c for c in range(0x20, 0x7F) if c not in (0x27, 0x5C))


def pseudo_random(n, seed):
    """Seeded, poorly compressible, printable octets (short Python literals:
    no quote, no backslash) so that large values still span several frames
    after compression."""
    r = random.Random(seed)
    return bytes(r.choice(PRINTABLE) for _ in range(n))


# --- the vector files -------------------------------------------------------------


def mercurial_requests():
    big_arg = pseudo_random(40000, 1)
    vectors = [
        server_vector(
            "customreadonly",
            "Mercurial's client: one command, no arguments, no protocol settings.",
            hg_request_body([(b"customreadonly", {}, None)])),
        server_vector(
            "settings-identity",
            "Mercurial's client advertising identity only: a sender-protocol-settings "
            "frame (request id 1, stream-begin) and then the command on stream 1.",
            hg_request_body([(b"customreadonly", {}, None)], [b"identity"])),
        server_vector(
            "settings-all-encodings",
            "Mercurial's client advertising zstd-8mb, zlib and identity.",
            hg_request_body([(b"capabilities", {}, None)],
                            [b"zstd-8mb", b"zlib", b"identity"])),
        server_vector(
            "arguments",
            "A command with arguments: Mercurial sorts map keys, so args precedes name.",
            hg_request_body([(b"applypatches", {
                b"base": b"line1\nline2\nline3\n",
                b"patches": [bytes.fromhex(
                    "000000060000000c0000000c4c494e45320a65787472610a")]}, None)])),
        server_vector(
            "three-commands",
            "Three commands in one body: request ids 1, 3, 5, each dispatched "
            "when its frame arrives.",
            hg_request_body([
                (b"patchedsize", {b"size": 18, b"patches": []}, None),
                (b"diff", {b"a": b"abc", b"b": b"abd"}, None),
                (b"capabilities", {}, None)], [b"identity"])),
        server_vector(
            "command-data-small",
            "Command data in one eos frame (have-data on the request frame).",
            hg_request_body([(b"diff", {}, cbor(b"abc") + cbor(b"abd"))])),
        server_vector(
            "command-data-empty",
            "have-data with empty data: one empty command-data eos frame.",
            hg_request_body([(b"patchedsize", {b"size": 0}, b"")])),
        server_vector(
            "command-data-32768",
            "Data of exactly 32768 bytes: one full continuation frame, then an "
            "empty eos frame.",
            hg_request_body([(b"customdata", {}, pseudo_random(32768, 2))]),
            frames=False),
        server_vector(
            "command-data-40000",
            "Data of 40000 bytes: a 32768-byte continuation frame and a "
            "7232-byte eos frame.",
            hg_request_body([(b"customdata", {}, pseudo_random(40000, 3))]),
            frames=False),
        server_vector(
            "request-spanning-frames",
            "A request map of more than 32768 bytes: new|more, then continuation.",
            hg_request_body([(b"diff", {b"a": big_arg, b"b": b""}, None)]),
            frames=False),
        server_vector(
            "request-spanning-frames-with-data",
            "A request map spanning frames (new|more|have-data, "
            "continuation|have-data), then command data.",
            hg_request_body([(b"applypatches", {b"base": big_arg}, cbor(b"x"))]),
            frames=False),
        server_vector(
            "two-commands-with-data",
            "Two commands with data, one after the other, in one body.",
            hg_request_body([(b"diff", {}, cbor(b"a") + cbor(b"b")),
                             (b"foldpatches", {}, cbor(b""))], [b"identity"])),
    ]
    return {"description": "Request bodies built by Mercurial's own client reactor "
                           "(mercurial.wireprotoframing.clientreactor) and the commands "
                           "Mercurial's server reactor runs for them. Generated by "
                           "media-type-spec/tools/gen_mercurial_vectors.py; do not edit.",
            "vectors": vectors}


def mercurial_responses():
    big = pseudo_random(60000, 4)
    vectors = []
    for enc_name, encoders in (("identity", None), ("zlib", [b"zlib", b"identity"]),
                               ("zstd-8mb", [b"zstd-8mb", b"zlib", b"identity"])):
        pre = "%s-" % enc_name
        how = ("no protocol settings (identity)" if encoders is None
               else "the client lists %s; Mercurial's server picks %s"
               % (b", ".join(encoders).decode(), enc_name))
        vectors += [
            client_vector(pre + "bytes",
                          "One byte-string result; " + how + ".",
                          [("objects", [b"customreadonly bytes response"])], encoders),
            client_vector(pre + "map",
                          "One map result; " + how + ".",
                          [("objects", [{b"key": b"value", b"n": 42, b"list": [1, -2, True, None]}])],
                          encoders),
            client_vector(pre + "several-values",
                          "Three result values in one response; " + how + ".",
                          [("objects", [b"a", 1, [b"b", {b"c": b"d"}]])], encoders),
            client_vector(pre + "large-bytes",
                          "A 60000-byte result split over frames of at most 32768 "
                          "bytes; " + how + ".",
                          [("objects", [big])], encoders, frames=False),
            client_vector(pre + "indefinite-bytes",
                          "A result sent as an indefinite-length byte string; " + how + ".",
                          [("indefinite", [b"chunk one, ", b"chunk two, ", b"chunk three"])],
                          encoders),
            client_vector(pre + "pre-encoded",
                          "Results handed to the emitter as already encoded CBOR; " + how + ".",
                          [("encoded", [b"pre-encoded", 7])], encoders),
            client_vector(pre + "two-requests",
                          "Two requests answered one after the other on one stream "
                          "(the second compresses against the first); " + how + ".",
                          [("objects", [b"first response " * 4]),
                           ("objects", [b"first response " * 4 + b"second"])], encoders),
            client_vector(pre + "interleaved",
                          "Three responses interleaved frame by frame, each on its own "
                          "server stream (2, 4, 6) with its own context; "
                          + how + ".",
                          [("objects", [pseudo_random(40000, 5)]),
                           ("objects", [b"short"]),
                           ("objects", [{b"k": pseudo_random(33000, 6)}])],
                          encoders, interleave=True, frames=False),
        ]
        if encoders is None:
            # Only with identity: Mercurial's zlib and zstd encoders flush at
            # the end of a response, so a response that fails midway leaves
            # part of its value in the compressor, never sent.
            vectors.append(
            client_vector(pre + "server-error-after-output",
                          "The command fails after its first value: status ok, a "
                          "40000-byte value (large enough for Mercurial's emitter to "
                          "send it at once; smaller values still buffered are lost), "
                          "then an error-response frame of type server; " + how + ".",
                          [("fail-after", [pseudo_random(40000, 7)], "boom")], encoders,
                          frames=False))
    vectors += [
        client_vector("command-error-mercurial-shape",
                      "Mercurial's server reports a command error with a bare byte "
                      "string message (hgrpcd sends a list of atoms; clients must "
                      "pass either through).",
                      [("command-error", b"missing argument: %s", [b"base"])]),
        client_vector("server-error",
                      "An error-response frame of type server before any output.",
                      [("server-error", b"server failed")]),
        client_vector("mixed-outcomes",
                      "Three requests: a result, a command error, a server error.",
                      [("objects", [b"ok"]),
                       ("command-error", b"bad input", None),
                       ("server-error", b"oops")], [b"zlib", b"identity"]),
    ]
    return {"description": "Response bodies produced by Mercurial's own server reactor "
                           "(serverreactor, outputstream, bufferingcommandresponseemitter) "
                           "in the identity, zlib and zstd-8mb profiles, and what a client "
                           "decodes from them. Mercurial's encoders flush only at the end of "
                           "each response, so frame payloads split compressed data at "
                           "arbitrary points. Generated by "
                           "media-type-spec/tools/gen_mercurial_vectors.py; do not edit.",
            "vectors": vectors}


def frames_vector(name, description, lines=None, raw=None, options=None):
    """A frames-kind vector from human-notation lines (encoded by Mercurial)
    or from raw bytes (for headers Mercurial's helpers refuse to build)."""
    data = b"".join(mercurial_frame(l) for l in lines) if lines else raw
    v = {"name": name, "description": description, "kind": "frames"}
    if lines:
        v["frames"] = lines
    v["hex"] = data.hex()
    if options:
        v["options"] = options
    v["expect"] = {"frames": frames_json(data)}
    return v


def frames_server_vector(name, description, lines):
    body = b"".join(mercurial_frame(l) for l in lines)
    return {"name": name, "description": description, "kind": "server",
            "frames": lines, "hex": body.hex(),
            "expect": {"actions": hg_server_actions(body)}}


def frames_headers():
    v = []
    combos = [
        ("command-request", ["new", "new|more", "new|have-data", "new|more|have-data",
                             "continuation", "continuation|more",
                             "continuation|have-data", "continuation|more|have-data"]),
        ("command-data", ["continuation", "eos"]),
        ("command-response", ["continuation", "eos"]),
        ("error-response", ["0"]),
        ("text-output", ["0"]),
        ("progress", ["0"]),
        ("sender-protocol-settings", ["continuation", "eos"]),
        ("stream-settings", ["continuation", "eos"]),
    ]
    for ftype, flag_list in combos:
        for flags in flag_list:
            v.append(frames_vector(
                "%s-%s" % (ftype, flags.replace("|", "-") if flags != "0" else "noflags"),
                "Header octet 7 of %s with flags %s." % (ftype, flags),
                ["1 1 0 %s %s abc" % (ftype, flags)]))
    for sflags in ["0", "stream-begin", "stream-end", "encoded", "stream-begin|stream-end",
                   "stream-begin|encoded", "stream-end|encoded",
                   "stream-begin|stream-end|encoded"]:
        v.append(frames_vector(
            "stream-flags-%s" % (sflags.replace("|", "-") if sflags != "0" else "none"),
            "Stream flags %s in octet 6." % sflags,
            ["1 1 %s command-response eos " % sflags]))
    v += [
        frames_vector("empty-payload", "A frame with an empty payload: length 0.",
                      ["1 2 0 command-response eos "]),
        frames_vector("large-ids", "Request id 65535 and stream id 255: both "
                      "little-endian fields at their maximum.",
                      ["65535 255 stream-begin command-request new cbor:{b'name': b'x'}"]),
        frames_vector("request-id-byte-order", "Request id 258 = 02 01 on the wire "
                      "(little-endian).",
                      ["258 3 stream-begin command-request new cbor:{b'name': b'x'}"]),
        frames_vector("length-two-octets", "A 300-byte payload: length 2c 01 00.",
                      ["1 1 stream-begin command-data eos " + "x" * 300]),
        frames_vector("length-65535", "The largest payload receivers accept by default.",
                      raw=make_frame(1, 1, 1, 2, 2, b"\x00" * 65535)),
        frames_vector("length-third-octet",
                      "A 65536-byte payload: length 00 00 01 (third octet weighs 65536; "
                      "Mercurial misreads it). Needs a receiver limit above 65535.",
                      raw=make_frame(1, 1, 1, 2, 2, b"\x00" * 65536),
                      options={"max_payload": 70000}),
        frames_vector("unassigned-type-4",
                      "Type 4 is unassigned: the frame layer still delimits it (the "
                      "reactors reject it).",
                      raw=make_frame(1, 1, 1, 4, 0, b"")),
        frames_vector("unassigned-type-15-all-flags",
                      "Octet 7 = ff: type 15, flags 15, read as raw numbers.",
                      raw=make_frame(1, 1, 0xFF, 0xF, 0xF, b"\x01")),
        frames_vector("payload-with-spaces",
                      "A byte-literal payload containing spaces and escapes.",
                      ["1 1 stream-begin command-data eos a b\\x00\\n\\\\ c"]),
        frames_vector("cbor-payloads", "cbor: payloads of every literal kind.",
                      ["1 1 stream-begin command-response continuation "
                       "cbor:{b'status': b'ok'}",
                       "1 1 0 command-response continuation cbor:[1, -1, 0, 23, 24, 255, "
                       "256, 65536, 4294967296, -4294967297, True, False, None]",
                       "1 1 0 command-response eos cbor:[b'', b'\\x00\\xff', [], {}]"]),
        frames_vector("sequence", "Several frames back to back.",
                      ["1 1 stream-begin sender-protocol-settings eos "
                       "cbor:{b'contentencodings': [b'identity']}",
                       "1 1 0 command-request new cbor:{b'name': b'capabilities'}",
                       "3 1 0 command-request new|have-data cbor:{b'name': b'diff'}",
                       "3 1 0 command-data eos CabcCabd"]),
    ]
    return {"description": "Frame headers: every frame type with every defined flag "
                           "combination, every stream flag combination, id and length "
                           "byte order, edge lengths, unassigned types (delimited by the "
                           "frame layer, rejected by the reactors). Hex encoded by "
                           "Mercurial's makeframefromhumanstring where it can build the "
                           "frame. Generated by "
                           "media-type-spec/tools/gen_mercurial_vectors.py; do not edit.",
            "vectors": v}


def frames_requests():
    applyargs = ("cbor:{b'name': b'applypatches', b'args': {b'base': b'line1\\nline2\\n"
                 "line3\\n', b'patches': [b'\\x00\\x00\\x00\\x06\\x00\\x00\\x00\\x0c\\x00"
                 "\\x00\\x00\\x0cLINE2\\nextra\\n']}}")
    v = [
        frames_server_vector(
            "single-request", "One complete request in one frame.",
            ["1 1 stream-begin command-request new " + applyargs]),
        frames_server_vector(
            "request-over-three-frames",
            "A request map cut at arbitrary octets over three frames "
            "(new|more, continuation|more, continuation).",
            ["1 1 stream-begin command-request new|more \\xa2Dargs\\xa1Ds",
             "1 1 0 command-request continuation|more ize\\x05",
             "1 1 0 command-request continuation DnameKpatchedsize"]),
        frames_server_vector(
            "empty-continuation-frames",
            "Empty command-request continuation frames are valid.",
            ["1 1 stream-begin command-request new|more \\xa1DnameDdiff",
             "1 1 0 command-request continuation|more ",
             "1 1 0 command-request continuation "]),
        frames_server_vector(
            "command-data-three-frames",
            "Command data over three frames (continuation, continuation, eos).",
            ["1 1 stream-begin command-request new|have-data cbor:{b'name': b'foldpatches'}",
             "1 1 0 command-data continuation \\x4c\\x00\\x00\\x00\\x00",
             "1 1 0 command-data continuation \\x00\\x00\\x00\\x00\\x00\\x00\\x00",
             "1 1 0 command-data eos \\x00"]),
        frames_server_vector(
            "request-and-data-spanning-frames",
            "have-data set on every request frame of a multi-frame request, then data.",
            ["5 1 stream-begin command-request new|more|have-data \\xa1Dname",
             "5 1 0 command-request continuation|have-data Ddiff",
             "5 1 0 command-data continuation Ca",
             "5 1 0 command-data eos bcCabd"]),
        frames_server_vector(
            "interleaved-requests",
            "Two requests whose request frames interleave: request 3 completes "
            "first and runs first.",
            ["1 1 stream-begin command-request new|more \\xa1Dname",
             "3 1 0 command-request new cbor:{b'name': b'capabilities'}",
             "1 1 0 command-request continuation Ddiff"]),
        frames_server_vector(
            "interleaved-command-data",
            "Command data of two requests interleaved frame by frame; each runs "
            "when its eos data frame arrives.",
            ["1 1 stream-begin command-request new|have-data cbor:{b'name': b'diff'}",
             "3 1 0 command-request new|have-data cbor:{b'name': b'foldpatches'}",
             "1 1 0 command-data continuation Cabc",
             "3 1 0 command-data continuation L\\x00\\x00\\x00\\x00\\x00\\x00\\x00",
             "3 1 0 command-data eos \\x00\\x00\\x00\\x00\\x00",
             "1 1 0 command-data eos Cabd"]),
        frames_server_vector(
            "request-ids-any-order",
            "Any unused request id is valid, in any order, even ids and 0 "
            "included: 7, 0, 2, 65535.",
            ["7 1 stream-begin command-request new cbor:{b'name': b'capabilities'}",
             "0 1 0 command-request new cbor:{b'name': b'capabilities'}",
             "2 1 0 command-request new cbor:{b'name': b'capabilities'}",
             "65535 1 0 command-request new cbor:{b'name': b'capabilities'}"]),
        frames_server_vector(
            "settings-then-requests",
            "Protocol settings spanning two frames, then a request with data.",
            ["1 1 stream-begin sender-protocol-settings continuation "
             "\\xa1Pcontentencodings\\x82Dzlib",
             "1 1 0 sender-protocol-settings eos Hidentity",
             "1 1 0 command-request new|have-data cbor:{b'name': b'applypatches'}",
             "1 1 0 command-data eos Eabcde"]),
        frames_server_vector(
            "two-client-streams",
            "Requests on two client streams (1 and 3), each opened with stream-begin.",
            ["1 1 stream-begin command-request new cbor:{b'name': b'capabilities'}",
             "3 3 stream-begin command-request new cbor:{b'name': b'capabilities'}",
             "5 1 0 command-request new cbor:{b'name': b'capabilities'}"]),
        frames_server_vector(
            "stream-end-and-reopen",
            "Stream 1 ends with stream-end; reopening it needs stream-begin again.",
            ["1 1 stream-begin|stream-end command-request new cbor:{b'name': b'capabilities'}",
             "3 1 stream-begin command-request new cbor:{b'name': b'capabilities'}"]),
    ]
    return {"description": "Request channels written by hand: multi-frame requests, "
                           "command data, interleaving, request ids, settings and "
                           "streams. Hex encoded and expected actions computed by "
                           "Mercurial's framing module. Generated by "
                           "media-type-spec/tools/gen_mercurial_vectors.py; do not edit.",
            "vectors": v}


def frames_client_vector(name, description, request_ids, lines, responses):
    body = b"".join(mercurial_frame(l) for l in lines)
    check_payloads_with_hg_client(request_ids, body, responses)
    return {"name": name, "description": description, "kind": "client",
            "requests": [{"request_id": i} for i in request_ids],
            "frames": lines, "hex": body.hex(),
            "expect": {"responses": {str(k): v for k, v in responses.items()}}}


def check_payloads_with_hg_client(request_ids, body, responses):
    """Mercurial's client reactor accepts the body (it knows every frame type
    used here) and reports an error exactly for the requests we expect."""
    reactor = wf.clientreactor(UI, hasmultiplesend=False, buffersends=True)
    issued = []
    for _ in range(max(request_ids) // 2 + 1):
        req, _, _ = reactor.callcommand(b"x", {})
        issued.append(req.requestid)
    action, meta = reactor.flushcommands()
    for _ in meta[b"framegen"]:
        pass
    errors = set()
    s = io.BytesIO(body)
    while True:
        frame = wf.readframe(s)
        if frame is None:
            break
        action, meta = reactor.onframerecv(frame)
        assert action in (b"responsedata", b"noop", b"error"), (action, meta)
        if action == b"error":
            errors.add(meta[b"request"].requestid)
    for rid, e in responses.items():
        if rid in errors:
            assert e["error"] is not None and "b'type'" in e["error"], rid


def frames_responses():
    ok = "cbor:{b'status': b'ok'}"
    v = [
        frames_client_vector(
            "no-stream-settings",
            "A server stream without stream settings is identity; frames are not "
            "flagged encoded.",
            [1],
            ["1 2 stream-begin command-response continuation " + ok,
             "1 2 0 command-response continuation cbor:b'abc'",
             "1 2 0 command-response eos "],
            {1: {"values": ["b'abc'"], "error": None}}),
        frames_client_vector(
            "status-and-value-in-eos-frame",
            "The status map and the value in the one eos frame.",
            [1],
            ["1 2 stream-begin command-response eos \\xa1FstatusBokC123"],
            {1: {"values": ["b'123'"], "error": None}}),
        frames_client_vector(
            "value-split-at-odd-octets",
            "Values cut inside a byte string and inside a map (between a key and its "
            "value) across three frames.",
            [1],
            ["1 2 stream-begin command-response continuation \\xa1FstatusBokX\\x03ab",
             "1 2 0 command-response continuation c\\xa2An",
             "1 2 0 command-response eos \\x18\\x2aAy\\x80"],
            {1: {"values": ["b'abc'", "{b'n': 42, b'y': []}"], "error": None}}),
        frames_client_vector(
            "indefinite-byte-string",
            "A result as an indefinite-length byte string whose chunks span frames.",
            [1],
            ["1 2 stream-begin command-response continuation " + ok,
             "1 2 0 command-response continuation _Cabc",
             "1 2 0 command-response continuation B",
             "1 2 0 command-response continuation de@A",
             "1 2 0 command-response eos f\\xff"],
            {1: {"values": ["b'abcdef'"], "error": None}}),
        frames_client_vector(
            "out-of-order-completion",
            "Requests 1, 3, 5 answered in the order 5, 1, 3 with their frames "
            "interleaved on one stream.",
            [1, 3, 5],
            ["5 2 stream-begin command-response continuation " + ok,
             "1 2 0 command-response continuation " + ok,
             "3 2 0 command-response continuation " + ok,
             "5 2 0 command-response eos cbor:5",
             "3 2 0 command-response continuation cbor:b'three'",
             "1 2 0 command-response eos cbor:1",
             "3 2 0 command-response eos "],
            {1: {"values": ["1"], "error": None},
             3: {"values": ["b'three'"], "error": None},
             5: {"values": ["5"], "error": None}}),
        frames_client_vector(
            "two-server-streams",
            "One response spread over streams 2 and 4 (each identity, without "
            "settings); the client orders data by frame arrival.",
            [1],
            ["1 2 stream-begin command-response continuation " + ok,
             "1 4 stream-begin command-response continuation X\\x06abc",
             "1 2 0 command-response eos def"],
            {1: {"values": ["b'abcdef'"], "error": None}}),
        frames_client_vector(
            "hgrpc-command-error",
            "A command error in hgrpcd's shape: the message is a list of atoms.",
            [1],
            ["1 2 stream-begin command-response eos cbor:{b'status': b'error', "
             "b'error': {b'message': [{b'msg': b'missing required argument: %s', "
             "b'args': [b'base']}]}}"],
            {1: {"values": [], "error": "{b'message': [{b'msg': b'missing required "
                 "argument: %s', b'args': [b'base']}]}"}}),
        frames_client_vector(
            "command-error-after-output",
            "An error-response frame of type command after the status map and a "
            "value ends the request without an eos frame.",
            [1, 3],
            ["1 2 stream-begin command-response continuation " + ok,
             "1 2 0 command-response continuation cbor:b'partial'",
             "3 2 0 command-response eos " + ok[5:].join(["cbor:", ""]),
             "1 2 0 error-response 0 cbor:{b'type': b'command', b'message': "
             "[{b'msg': b'invalid delta %s', b'args': [b'2']}]}"],
            {1: {"values": ["b'partial'"], "error": "{b'type': b'command', b'message': "
                 "[{b'msg': b'invalid delta %s', b'args': [b'2']}]}"},
             3: {"values": [], "error": None}}),
        frames_client_vector(
            "stream-settings-spanning-frames",
            "A server stream whose stream settings span two frames "
            "(continuation, eos); the profile is identity.",
            [1],
            ["1 2 stream-begin stream-settings continuation H",
             "1 2 0 stream-settings eos identity",
             "1 2 encoded command-response continuation " + ok,
             "1 2 0 command-response eos cbor:True"],
            {1: {"values": ["True"], "error": None}}),
    ]
    return {"description": "Response channels written by hand: values cut at arbitrary "
                           "octets, indefinite byte strings, out-of-order completion, a "
                           "response over two streams, errors. Hex encoded by Mercurial's "
                           "makeframefromhumanstring; Mercurial's client reactor accepts "
                           "each. Generated by "
                           "media-type-spec/tools/gen_mercurial_vectors.py; do not edit.",
            "vectors": v}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "vectors")
    files = {
        "mercurial-requests.json": mercurial_requests(),
        "mercurial-responses.json": mercurial_responses(),
        "frames-headers.json": frames_headers(),
        "frames-requests.json": frames_requests(),
        "frames-responses.json": frames_responses(),
    }
    for name, content in files.items():
        path = os.path.join(out_dir, name)
        with open(path, "w") as f:
            json.dump(content, f, indent=1, ensure_ascii=True)
            f.write("\n")
        print("%s: %d vectors" % (os.path.normpath(path), len(content["vectors"])))


if __name__ == "__main__":
    main()
