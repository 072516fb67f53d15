#!/usr/bin/python3
"""Generate media-type-spec/vectors/reactor-*.json: hgrpcd's reactor vectors.

Frame lines are hand-written in Mercurial's human notation; their bytes come
from Mercurial's own parser (wireprotoframing.makeframefromhumanstring), used
as a library. Encoded payloads are made here: zlib with Python's zlib (one
context per stream, a sync flush per frame), zstd-8mb with the zstd command
(one zstd frame cut across several hgrpc frames). The expected protocol error
messages are hgrpcd's (Mercurial has no equivalent for most of them).

    /usr/bin/python3 tests/vectors/gen_reactor_vectors.py [OUT_DIR]

Deterministic: two runs give identical files.
"""

import json
import os
import subprocess
import sys
import zlib

from mercurial import wireprotoframing as wf
from mercurial.utils import cborutil


def esc(b):
    """Body of a Python bytes literal that both parsers read back as b."""
    out = []
    for c in b:
        if 0x20 <= c < 0x7F and c not in (0x5C, 0x27, 0x22):
            out.append(chr(c))
        else:
            out.append("\\x%02x" % c)
    return "".join(out)


def cbor(v):
    return b"".join(cborutil.streamencode(v))


def line_bytes(line):
    try:
        return bytes(wf.makeframefromhumanstring(line.encode("latin-1")))
    except KeyError:
        # Mercurial's parser knows no flags for unassigned types: integers only.
        rid, sid, sflags, ftype, flags, payload = line.split(" ", 5)
        sf = 0
        for f in sflags.split("|"):
            sf |= {"stream-begin": 1, "stream-end": 2, "encoded": 4}.get(f) or int(f)
        body = payload.encode("latin-1")
        n = len(body)
        return (bytes([n & 0xFF, (n >> 8) & 0xFF, n >> 16]) + int(rid).to_bytes(2, "little")
                + bytes([int(sid), sf, (int(ftype) << 4) | int(flags)]) + body)


def vector(name, description, kind, lines, expect, options=None, requests=None):
    v = {"name": name, "description": description, "kind": kind}
    if requests is not None:
        v["requests"] = [{"request_id": r} for r in requests]
    v["frames"] = lines
    v["hex"] = b"".join(line_bytes(l) for l in lines).hex()
    if options:
        v["options"] = options
    v["expect"] = expect
    return v


def err(message):
    return {"actions": [{"action": "protocol-error", "message": message}]}


def run(request_id, command, args="{}", data=None):
    return {"action": "run-command", "request_id": request_id, "command": command,
            "args": args, "data": data}


REQ = "cbor:{b'name': b'x'}"
F0 = "frame 0 (%s, request 1, stream 1): "
F1 = "frame 1 (%s, request 1, stream 1): "


def server_errors():
    cr, cd, ps, ss = ("command-request", "command-data", "sender-protocol-settings",
                      "stream-settings")
    V = []

    def e(name, desc, lines, message, options=None, before=()):
        expect = err(message)
        expect["actions"][:0] = list(before)
        V.append(vector(name, desc, "server", lines, expect, options))

    # Frame validation.
    e("unknown-frame-type", "Type 12 is unassigned.",
      ["1 1 stream-begin 12 0 "], "frame 0 (type 0x0c, request 1, stream 1): unknown frame type 0x0c")
    e("undefined-type-flags", "command-data defines flags 1 and 2 only.",
      ["1 1 stream-begin command-data 4 "], F0 % cd + "undefined flags 0x04 for command-data")
    e("flags-on-flagless-type", "error-response defines no flags.",
      ["1 1 stream-begin error-response 1 "],
      F0 % "error-response" + "undefined flags 0x01 for error-response")
    e("undefined-stream-flags", "Stream flag 0x08 is undefined.",
      ["1 1 stream-begin|8 command-request new " + REQ], F0 % cr + "undefined stream flags 0x08")
    e("even-client-stream", "Client streams are odd.",
      ["1 2 stream-begin command-request new " + REQ],
      "frame 0 (command-request, request 1, stream 2): stream id 2 is even; client streams are odd")
    for t in ("command-response", "error-response", "text-output", "progress"):
        flags = "eos" if t == "command-response" else "0"
        e("server-only-" + t, "A client must not send %s frames." % t,
          ["1 1 stream-begin %s %s " % (t, flags)], F0 % t + "%s frames are only sent by servers" % t)
    # Streams.
    e("stream-not-open", "The first frame of a stream needs stream-begin.",
      ["1 1 0 command-request new " + REQ],
      F0 % cr + "stream 1 is not open and the frame lacks the stream-begin flag")
    e("stream-begin-twice", "stream-begin on an open stream.",
      ["1 1 stream-begin command-request new|more " + REQ, "1 1 stream-begin command-request continuation "],
      F1 % cr + "stream-begin flag on stream 1, which is already open")
    e("frame-after-stream-end", "stream-end closes the stream; the next frame must begin it again.",
      ["1 1 stream-begin|stream-end command-request new|more " + REQ, "1 1 0 command-request continuation "],
      F1 % cr + "stream 1 is not open and the frame lacks the stream-begin flag")
    e("encoded-without-stream-settings", "encoded needs stream settings first.",
      ["1 1 stream-begin|encoded command-request new " + REQ],
      F0 % cr + "encoded flag on stream 1, which has no stream settings")
    e("stream-settings-both-flags", "continuation and eos are exclusive.",
      ["1 1 stream-begin stream-settings continuation|eos cbor:b'identity'"],
      F0 % ss + "stream-settings frame has both continuation and eos flags")
    e("stream-settings-no-flags", "continuation or eos is required.",
      ["1 1 stream-begin stream-settings 0 cbor:b'identity'"],
      F0 % ss + "stream-settings frame has neither continuation nor eos flag")
    e("stream-settings-empty", "The settings must hold the profile name.",
      ["1 1 stream-begin stream-settings eos "], F0 % ss + "stream settings contain no CBOR value")
    e("stream-settings-text-name", "The profile name is a byte string.",
      ["1 1 stream-begin stream-settings eos " + esc(b"\x64zlib")],
      F0 % ss + "stream settings profile name is not a byte string")
    e("stream-settings-unknown-profile", "Only identity, zlib and zstd-8mb exist.",
      ["1 1 stream-begin stream-settings eos cbor:b'br'"],
      F0 % ss + "unknown stream encoding profile 'br'")
    e("stream-settings-extra-value", "Our three profiles take no extra values.",
      ["1 1 stream-begin stream-settings eos " + esc(cbor(b"zlib") + cbor(1))],
      F0 % ss + "stream settings for zlib have 1 unexpected extra value(s)")
    e("stream-settings-encoded", "A stream-settings frame is never encoded.",
      ["1 1 stream-begin|encoded stream-settings eos cbor:b'identity'"],
      F0 % ss + "stream-settings frame has the encoded flag")
    e("stream-settings-after-other-frame", "Stream settings must open the stream.",
      ["1 1 stream-begin command-request new|more " + REQ, "1 1 0 stream-settings eos cbor:b'identity'"],
      F1 % ss + "stream-settings frame on stream 1, which already carried other frames")
    e("stream-settings-twice", "One set of stream settings per stream.",
      ["1 3 stream-begin stream-settings eos cbor:b'identity'", "1 3 0 stream-settings eos cbor:b'identity'"],
      "frame 1 (stream-settings, request 1, stream 3): stream-settings frame on stream 3, which already carried its stream settings")
    e("frame-inside-stream-settings", "A stream's settings continue before anything else on it.",
      ["1 3 stream-begin stream-settings continuation ", "1 3 0 command-request new " + REQ],
      "frame 1 (command-request, request 1, stream 3): frame on stream 3 while its stream settings are incomplete")
    e("stream-end-inside-stream-settings", "stream-end with settings still continuing.",
      ["1 3 stream-begin|stream-end stream-settings continuation "],
      "frame 0 (stream-settings, request 1, stream 3): stream ended inside its stream settings")
    e("too-many-open-streams", "max_open_streams bounds the decoders a client can make us hold.",
      ["1 1 stream-begin command-request new|more " + REQ, "1 3 stream-begin command-request continuation|more ",
       "1 5 stream-begin command-request continuation "],
      "frame 2 (command-request, request 1, stream 5): too many open streams (limit 2)",
      {"max_open_streams": 2})
    # Sender protocol settings.
    e("protocol-settings-both-flags", "continuation and eos are exclusive.",
      ["1 1 stream-begin sender-protocol-settings continuation|eos cbor:{}"],
      F0 % ps + "sender-protocol-settings frame has both continuation and eos flags")
    e("protocol-settings-no-flags", "continuation or eos is required.",
      ["1 1 stream-begin sender-protocol-settings 0 cbor:{}"],
      F0 % ps + "sender-protocol-settings frame has neither continuation nor eos flag")
    e("protocol-settings-empty", "The settings are one CBOR map.",
      ["1 1 stream-begin sender-protocol-settings eos "],
      F0 % ps + "sender protocol settings hold 0 CBOR values; expected one map")
    e("protocol-settings-two-values", "The settings are exactly one CBOR map.",
      ["1 1 stream-begin sender-protocol-settings eos " + esc(cbor({}) + cbor({}))],
      F0 % ps + "sender protocol settings hold 2 CBOR values; expected one map")
    e("protocol-settings-not-map", "The settings are a map.",
      ["1 1 stream-begin sender-protocol-settings eos cbor:[b'zlib']"],
      F0 % ps + "sender protocol settings are not a CBOR map")
    e("contentencodings-not-list", "contentencodings is a list of byte strings.",
      ["1 1 stream-begin sender-protocol-settings eos cbor:{b'contentencodings': b'zlib'}"],
      F0 % ps + "sender protocol settings: contentencodings is not a list")
    e("contentencodings-item-not-bytes", "contentencodings is a list of byte strings.",
      ["1 1 stream-begin sender-protocol-settings eos cbor:{b'contentencodings': [b'zlib', 3]}"],
      F0 % ps + "sender protocol settings: contentencodings item 1 is not a byte string")
    e("accept-frames-not-list", "hgrpc-accept-frames is a list of byte strings.",
      ["1 1 stream-begin sender-protocol-settings eos cbor:{b'hgrpc-accept-frames': 1}"],
      F0 % ps + "sender protocol settings: hgrpc-accept-frames is not a list")
    e("protocol-settings-interrupted", "A continued settings frame must be followed by more settings.",
      ["1 1 stream-begin sender-protocol-settings continuation ", "1 1 0 command-request new " + REQ],
      F1 % cr + "expected a sender-protocol-settings continuation frame")
    e("protocol-settings-after-request", "Settings only as the first frame(s).",
      ["1 1 stream-begin command-request new " + REQ, "1 1 0 sender-protocol-settings eos cbor:{}"],
      F1 % ps + "sender-protocol-settings is only allowed as the first frame(s) of the body", before=[run(1, "x")])
    e("stream-settings-inside-protocol-settings", "Protocol settings continue before anything else.",
      ["1 1 stream-begin sender-protocol-settings continuation ", "1 3 stream-begin stream-settings eos cbor:b'identity'"],
      "frame 1 (stream-settings, request 1, stream 3): stream-settings frame inside the sender protocol settings")
    e("protocol-settings-too-large", "max_protocol_settings_bytes.",
      ["1 1 stream-begin sender-protocol-settings eos cbor:{b'contentencodings': [b'identity']}"],
      F0 % ps + "sender protocol settings exceed 8 bytes", {"max_protocol_settings_bytes": 8})
    # Command requests.
    e("request-new-and-continuation", "new and continuation are exclusive.",
      ["1 1 stream-begin command-request new|continuation " + REQ],
      F0 % cr + "command-request frame has both new and continuation flags")
    e("request-neither-new-nor-continuation", "One of new and continuation is required.",
      ["1 1 stream-begin command-request 0 " + REQ],
      F0 % cr + "command-request frame has neither new nor continuation flag")
    e("continuation-without-new", "A continuation for a request never begun.",
      ["1 1 stream-begin command-request continuation " + REQ],
      F0 % cr + "command-request continuation for request 1, which is not being received")
    e("new-while-receiving", "A request id is reused while its frames arrive.",
      ["1 1 stream-begin command-request new|more " + REQ, "1 1 0 command-request new " + REQ],
      F1 % cr + "new request 1 while request 1 is still being received")
    e("new-while-active", "A request id is reused before its response is done.",
      ["1 1 stream-begin command-request new " + REQ, "1 1 0 command-request new " + REQ],
      F1 % cr + "new request 1 while request 1 is still active (its response is not done)", before=[run(1, "x")])
    e("continuation-after-dispatch", "Request frames after the request was complete.",
      ["1 1 stream-begin command-request new " + REQ, "1 1 0 command-request continuation " + REQ],
      F1 % cr + "command-request continuation for request 1, which was already dispatched", before=[run(1, "x")])
    e("continuation-after-last-request-frame", "The request frames ended (no more); data was expected.",
      ["1 1 stream-begin command-request new|have-data " + REQ,
       "1 1 0 command-request continuation|have-data " + REQ],
      F1 % cr + "command-request continuation for request 1 after its last command-request frame")
    e("have-data-dropped", "have-data must be on every request frame or none.",
      ["1 1 stream-begin command-request new|more|have-data " + REQ, "1 1 0 command-request continuation "],
      F1 % cr + "have-data flag not set but it was set on the first frame of request 1")
    e("have-data-added", "have-data must be on every request frame or none.",
      ["1 1 stream-begin command-request new|more " + REQ, "1 1 0 command-request continuation|have-data "],
      F1 % cr + "have-data flag set but it was not set on the first frame of request 1")
    # Command data.
    e("data-without-request", "Data for a request that is not being received.",
      ["1 1 stream-begin command-data eos abc"],
      F0 % cd + "command-data for request 1, which is not being received")
    e("data-not-announced", "Data for a request without have-data.",
      ["1 1 stream-begin command-request new|more " + REQ, "1 1 0 command-data eos abc"],
      F1 % cd + "command-data for request 1, which did not announce have-data")
    e("data-before-request-complete", "Data while request frames are still to come.",
      ["1 1 stream-begin command-request new|more|have-data " + REQ, "1 1 0 command-data eos abc"],
      F1 % cd + "command-data for request 1 before its command-request frames were complete")
    e("data-both-flags", "continuation and eos are exclusive.",
      ["1 1 stream-begin command-request new|have-data " + REQ, "1 1 0 command-data continuation|eos abc"],
      F1 % cd + "command-data frame has both continuation and eos flags")
    e("data-no-flags", "continuation or eos is required.",
      ["1 1 stream-begin command-request new|have-data " + REQ, "1 1 0 command-data 0 abc"],
      F1 % cd + "command-data frame has neither continuation nor eos flag")
    V.append(vector("data-after-eos", "Data after the request's data ended.", "server",
                    ["1 1 stream-begin command-request new|have-data " + REQ, "1 1 0 command-data eos abc",
                     "1 1 0 command-data eos abc"],
                    {"actions": [run(1, "x", data="b'abc'"),
                                 {"action": "protocol-error", "message":
                                  "frame 2 (command-data, request 1, stream 1): command-data for request 1, which was already dispatched"}]}))
    # Request payloads.
    P = F0 % cr + "request 1: "
    e("payload-empty", "A request payload is one CBOR map.",
      ["1 1 stream-begin command-request new "], P + "payload holds 0 CBOR values; expected one map")
    e("payload-two-values", "A request payload is exactly one CBOR map.",
      ["1 1 stream-begin command-request new " + esc(cbor({b"name": b"x"}) + cbor(1))],
      P + "payload holds 2 CBOR values; expected one map")
    e("payload-not-map", "A request payload is a map.",
      ["1 1 stream-begin command-request new cbor:[b'x']"], P + "payload is not a CBOR map")
    e("payload-without-name", "name is required.",
      ["1 1 stream-begin command-request new cbor:{b'args': {}}"], P + "payload has no name")
    e("payload-name-not-string", "name is a byte or text string.",
      ["1 1 stream-begin command-request new cbor:{b'name': 5}"], P + "name is not a byte or text string")
    e("payload-args-not-map", "args is a map.",
      ["1 1 stream-begin command-request new cbor:{b'args': [1], b'name': b'x'}"], P + "args is not a map")
    # Limits.
    e("request-too-large", "max_request_bytes counts the request payload and its data.",
      ["1 1 stream-begin command-request new|have-data " + REQ, "1 1 0 command-data continuation abc",
       "1 1 0 command-data eos d"],
      "frame 2 (command-data, request 1, stream 1): request 1 exceeds the limit of 11 bytes (request payload + data)",
      {"max_request_bytes": 11})
    e("too-many-receiving-requests", "max_receiving_requests.",
      ["1 1 stream-begin command-request new|more " + REQ, "3 1 0 command-request new|more " + REQ,
       "5 1 0 command-request new|more " + REQ],
      "frame 2 (command-request, request 5, stream 1): more than 2 requests being received at once",
      {"max_receiving_requests": 2})
    # End of body.
    V.append(vector("input-end-inside-request", "The body ends while a request is incomplete.", "server",
                    ["1 1 stream-begin command-request new " + REQ, "3 1 0 command-request new|have-data " + REQ],
                    {"actions": [run(1, "x")], "input_end_error": "body ended while request 3 was still being received"}))
    V.append(vector("input-end-inside-protocol-settings", "The body ends inside the settings.", "server",
                    ["1 1 stream-begin sender-protocol-settings continuation "],
                    {"actions": [], "input_end_error": "body ended inside the sender protocol settings"}))
    V.append(vector("input-end-inside-stream-settings", "The body ends inside stream settings.", "server",
                    ["1 3 stream-begin stream-settings continuation "],
                    {"actions": [], "input_end_error": "body ended inside the stream settings of stream 3"}))
    return V


def zlib_frames(chunks):
    """Each chunk compressed on one zlib context, sync-flushed per frame."""
    c = zlib.compressobj()
    return [c.compress(x) + c.flush(zlib.Z_SYNC_FLUSH) for x in chunks]


def zstd_frames(chunks):
    """All chunks as one zstd frame (zstd CLI), cut in equal parts: a decoder
    must carry its state over, and values complete only with the last part
    (fine within one request's response)."""
    whole = subprocess.run(["zstd", "-q", "-c", "-3", "--no-check"], input=b"".join(chunks),
                           stdout=subprocess.PIPE, check=True).stdout
    n = len(chunks)
    step = max(1, len(whole) // n)
    out = [whole[i * step:(i + 1) * step] for i in range(n - 1)]
    out.append(whole[(n - 1) * step:])
    return out


def zstd_each(chunks):
    """Each chunk as its own complete zstd frame: decodable on arrival, as a
    flushing encoder's output is (a stream may hold many zstd frames)."""
    return [subprocess.run(["zstd", "-q", "-c", "-3"], input=x, stdout=subprocess.PIPE,
                           check=True).stdout for x in chunks]


def server_requests():
    V = []
    big = {b"name": b"lookup", b"args": {b"key": b"k" * 40, b"n": 7}}
    enc = cbor(big)
    V.append(vector("request-over-three-frames", "One request's CBOR cut in three frames.", "server",
                    ["1 1 stream-begin command-request new|more " + esc(enc[:10]),
                     "1 1 0 command-request continuation|more " + esc(enc[10:30]),
                     "1 1 0 command-request continuation " + esc(enc[30:])],
                    {"actions": [run(1, "lookup", "{b'key': b'%s', b'n': 7}" % ("k" * 40))]}))
    V.append(vector("interleaved-with-data", "Request 1 sends data in two frames around request 3; "
                    "request 5 spans two frames.", "server",
                    ["1 1 stream-begin command-request new|have-data cbor:{b'name': b'put'}",
                     "1 1 0 command-data continuation abc",
                     "5 1 0 command-request new|more " + esc(cbor({b"name": b"long"})[:3]),
                     "3 1 0 command-request new cbor:{b'name': b'get'}",
                     "5 1 0 command-request continuation " + esc(cbor({b"name": b"long"})[3:]),
                     "1 1 0 command-data eos def"],
                    {"actions": [run(3, "get"), run(5, "long"), run(1, "put", data="b'abcdef'")]}))
    V.append(vector("empty-data", "have-data with one empty eos data frame.", "server",
                    ["1 1 stream-begin command-request new|have-data cbor:{b'name': b'put'}",
                     "1 1 0 command-data eos "],
                    {"actions": [run(1, "put", data="b''")]}))
    V.append(vector("settings-over-two-frames", "Protocol settings in two frames, with our opt-in key.", "server",
                    ["1 1 stream-begin sender-protocol-settings continuation " +
                     esc(cbor({b"contentencodings": [b"zlib"], b"hgrpc-accept-frames": [b"progress"]})[:5]),
                     "1 1 0 sender-protocol-settings eos " +
                     esc(cbor({b"contentencodings": [b"zlib"], b"hgrpc-accept-frames": [b"progress"]})[5:]),
                     "1 1 0 command-request new cbor:{b'name': b'x'}"],
                    {"actions": [run(1, "x")]}))
    V.append(vector("text-string-name", "A text-string name is accepted.", "server",
                    ["1 1 stream-begin command-request new " + esc(b"\xa1\x44name\x68textname")],
                    {"actions": [run(1, "textname")]}))
    # Encoded uploads on stream 3, as our client sends them.
    req = cbor({b"name": b"putdelta", b"args": {b"base": b"line1\nline2\n" * 4}})
    data = b"0123456789" * 20
    for profile in ("identity", "zlib", "zstd-8mb"):
        chunks = [req[:20], req[20:], data[:120], data[120:]]
        if profile == "identity":
            payloads = chunks
        elif profile == "zlib":
            payloads = zlib_frames(chunks)
        else:
            payloads = zstd_each(chunks)
        lines = ["1 1 stream-begin sender-protocol-settings eos cbor:{b'contentencodings': [b'%s']}" % profile,
                 "1 3 stream-begin stream-settings eos cbor:b'%s'" % profile,
                 "1 3 encoded command-request new|more|have-data " + esc(payloads[0]),
                 "1 3 encoded command-request continuation|have-data " + esc(payloads[1]),
                 "1 3 encoded command-data continuation " + esc(payloads[2]),
                 "1 3 encoded command-data eos " + esc(payloads[3])]
        if profile == "zlib":
            # A plain frame in the middle of an encoded stream.
            lines.insert(2, "3 3 0 command-request new cbor:{b'name': b'plain'}")
        actions = [run(1, "putdelta", "{b'base': b'%s'}" % ("line1\\nline2\\n" * 4), "b'%s'" % ("0123456789" * 20))]
        if profile == "zlib":
            actions.insert(0, run(3, "plain"))
        V.append(vector("upload-" + profile, "A request and its data on client stream 3, %s-encoded." % profile,
                        "server", lines, {"actions": actions}))
    return V


def ok_status():
    return cbor({b"status": b"ok"})


def client_responses():
    V = []
    values = [b"customreadonly bytes response", {b"list": [1, -2, True, None], b"n": 42}, b"x" * 300]
    raw = [ok_status()] + [cbor(v) for v in values]
    want = ["b'customreadonly bytes response'", "{b'list': [1, -2, True, None], b'n': 42}", "b'%s'" % ("x" * 300)]
    for profile in ("identity", "zlib", "zstd-8mb"):
        if profile == "identity":
            payloads = raw
        elif profile == "zlib":
            payloads = zlib_frames(raw)
        else:
            payloads = zstd_frames(raw)
        lines = ["1 2 stream-begin stream-settings eos cbor:b'%s'" % profile]
        lines += ["1 2 encoded command-response continuation " + esc(p) for p in payloads]
        lines.append("1 2 0 command-response eos ")
        V.append(vector("response-" + profile, "Status and three values, %s-encoded, one value per frame." % profile,
                        "client", lines, {"responses": {"1": {"values": want, "error": None}}}, requests=[1]))
    # Two requests interleaved, one moving to a second stream (zlib each).
    r1 = [ok_status(), cbor(b"a" * 50)[:20], cbor(b"a" * 50)[20:]]
    r3 = [ok_status(), cbor(7)]
    s2 = zlib_frames([r1[0], r3[0], r1[1]])
    s4 = zlib_frames([r1[2], r3[1]])
    V.append(vector("two-requests-two-streams",
                    "Request 1's value starts on stream 2 and ends on stream 4; request 3 uses both too.",
                    "client",
                    ["1 2 stream-begin stream-settings eos cbor:b'zlib'",
                     "1 2 encoded command-response continuation " + esc(s2[0]),
                     "3 2 encoded command-response continuation " + esc(s2[1]),
                     "1 2 encoded command-response continuation " + esc(s2[2]),
                     "1 4 stream-begin stream-settings eos cbor:b'zlib'",
                     "1 4 encoded command-response continuation " + esc(s4[0]),
                     "3 4 encoded command-response continuation " + esc(s4[1]),
                     "3 2 0 command-response eos ",
                     "1 4 0 command-response eos "],
                    {"responses": {"1": {"values": ["b'%s'" % ("a" * 50)], "error": None},
                                   "3": {"values": ["7"], "error": None}}}, requests=[1, 3]))
    V.append(vector("indefinite-bytes-across-frames", "An indefinite-length byte string in chunks over frames.",
                    "client",
                    ["1 2 stream-begin command-response continuation cbor:{b'status': b'ok'}",
                     "1 2 0 command-response continuation " + esc(b"\x5f\x43abc"),
                     "1 2 0 command-response continuation " + esc(b"\x42de\xff"),
                     "1 2 0 command-response eos "],
                    {"responses": {"1": {"values": ["b'abcde'"], "error": None}}}, requests=[1]))
    V.append(vector("side-channels", "text-output and progress frames do not disturb the response.", "client",
                    ["1 2 stream-begin text-output 0 cbor:[{b'msg': b'hello %s\\n', b'args': [b'you']}]",
                     "1 2 0 progress 0 cbor:{b'topic': b'files', b'pos': 1, b'total': 2}",
                     "1 2 0 command-response eos " + esc(ok_status() + cbor(1))],
                    {"responses": {"1": {"values": ["1"], "error": None}}}, requests=[1]))

    def perr(name, desc, lines, message, requests=(1,)):
        V.append(vector(name, desc, "client", lines, {"protocol_error": message, "responses": {}},
                        requests=list(requests)))

    C = "frame 0 (command-response, request 1, stream 2): "
    perr("client-odd-stream", "Server streams are even.",
         ["1 1 stream-begin command-response eos " + esc(ok_status())],
         "frame 0 (command-response, request 1, stream 1): stream id 1 is odd; server streams are even")
    perr("client-unknown-request", "A response for a request never sent.",
         ["3 2 stream-begin command-response eos " + esc(ok_status())],
         "frame 0 (command-response, request 3, stream 2): frame for request 3, which has no pending response")
    perr("client-request-frame", "Servers do not send command requests.",
         ["1 2 stream-begin command-request new " + REQ],
         "frame 0 (command-request, request 1, stream 2): command-request frames are only sent by clients")
    perr("client-both-flags", "continuation and eos are exclusive.",
         ["1 2 stream-begin command-response continuation|eos " + esc(ok_status())],
         C + "command-response frame has both continuation and eos flags")
    perr("client-ends-inside-value", "eos in the middle of a CBOR value.",
         ["1 2 stream-begin command-response eos " + esc(ok_status()[:3])],
         C + "response to request 1 ended inside a CBOR value")
    perr("client-no-status", "The first value must be the status map.",
         ["1 2 stream-begin command-response eos cbor:1"],
         C + "response to request 1 does not start with a status map")
    perr("client-empty-response", "eos without any value.",
         ["1 2 stream-begin command-response eos "], C + "response to request 1 ended without a status map")
    perr("client-unknown-profile", "Only identity, zlib and zstd-8mb exist.",
         ["1 2 stream-begin stream-settings eos cbor:b'gzip'"],
         "frame 0 (stream-settings, request 1, stream 2): unknown stream encoding profile 'gzip'")
    V.append(vector("client-incomplete-response", "The body ends before eos.", "client",
                    ["1 2 stream-begin command-response continuation " + esc(ok_status())],
                    {"input_end_error": "body ended before the response to request 1 was complete",
                     "responses": {"1": {"values": [], "error": None}}}, requests=[1]))
    return V


def write(out_dir, name, description, vectors):
    with open(os.path.join(out_dir, name), "w") as f:
        json.dump({"description": description, "vectors": vectors}, f, indent=1)
        f.write("\n")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "..", "media-type-spec", "vectors")
    gen = "Generated by tests/vectors/gen_reactor_vectors.py; do not edit."
    write(out_dir, "reactor-server-errors.json",
          "Every protocol error of hgrpcd's server reactor, with its exact message. " + gen, server_errors())
    write(out_dir, "reactor-server-requests.json",
          "Requests hgrpcd's server reactor must assemble: multi-frame, data, interleaving, "
          "encoded uploads in all three profiles. " + gen, server_requests())
    write(out_dir, "reactor-client-responses.json",
          "Responses hgrpcd's client reactor must decode (all three profiles, two streams, side channels) "
          "and the protocol errors it reports. " + gen, client_responses())


if __name__ == "__main__":
    main()
