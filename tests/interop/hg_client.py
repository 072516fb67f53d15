#!/usr/bin/python3
"""Mercurial's own client-side framing code, driven from the command line.

Interop tests use it to check hgrpcd against Mercurial's HTTP v2 client code
(mercurial.wireprotoframing's clientreactor and mercurial.utils.cborutil, as
shipped by Debian's `mercurial` package). This file is ours; it only imports
Mercurial's modules.

Usage:
  hg_client.py build SPEC.json      request body bytes on stdout
  hg_client.py decode FILE|-        one JSON line per response on stdout
  hg_client.py frames FILE|-        one line per frame (human-readable), for debugging
  hg_client.py encoders             the stream encoders this Mercurial offers (JSON list)

SPEC.json:
  {"encodings": ["zlib", "identity"],     optional: Mercurial's
                                          clientcontentencoders; absent or
                                          null = advertise nothing (no
                                          sender-protocol-settings frame)
   "commands": [                          one = a single request; several =
                                          a multirequest body (ids 1, 3, 5, ...)
     {"name": "applypatches",
      "args": {"base": {"$hex": "616263"}, "patches": [...]},
      "data": [VALUE, ...],               optional: command data, the CBOR
                                          sequence of these values
      "data_hex": "..."}]}                optional: raw command data bytes

Values (SPEC and decode output alike):
  {"$hex": "6869"}                        a byte string (bytes)
  {"$hex": "6869", "$chunk": 1}           (SPEC only) the same bytes as an
                                          indefinite-length byte string in
                                          chunks of that many bytes
  "text"                                  a text string (str)
  numbers, true/false/null, lists         as such (a CBOR set decodes to a list)
  {"key": VALUE}                          a map; keys are byte strings on the wire

decode output, one line per request, in the order the responses end:
  {"request_id": 1, "status": "ok", "values": [VALUE, ...]}
  {"request_id": 1, "status": "error", "error": VALUE}      ({status: error} map's error)
  {"request_id": 1, "error_response": {"type": "command", "message": VALUE}}
and on a framing error, a last line {"protocol_error": "..."} with exit status 1.
decode needs no SPEC: it registers the request ids it finds in the response.

Exit status: 0 on success, 1 on a decode/protocol error, 2 on bad usage, 3
when Mercurial's modules cannot be imported.
"""

import io
import json
import sys

try:
    from mercurial import ui as uimod
    from mercurial import wireprotoframing
    from mercurial.utils import cborutil
except ImportError as e:  # pragma: no cover - environment problem
    sys.stderr.write(
        "hg_client.py: cannot import Mercurial's modules (%s); "
        "install the Debian package `mercurial` (scripts/install-deps does)\n" % e
    )
    sys.exit(3)


def make_ui():
    # A bare ui: no user or system configuration is read.
    return uimod.ui()


# --- values: JSON <-> Python/CBOR -------------------------------------------


class IndefiniteBytes:
    def __init__(self, data, chunk):
        self.data = data
        self.chunk = chunk


def from_json(v):
    """SPEC value -> Python value as Mercurial's CBOR encoder takes it."""
    if isinstance(v, dict):
        if "$hex" in v:
            data = bytes.fromhex(v["$hex"])
            if "$chunk" in v:
                return IndefiniteBytes(data, int(v["$chunk"]))
            return data
        return {k.encode("utf-8"): from_json(x) for k, x in v.items()}
    if isinstance(v, list):
        return [from_json(x) for x in v]
    return v  # str, int, bool, None


def cbor_encode(v):
    if isinstance(v, IndefiniteBytes):
        return b"".join(cborutil.streamencodeindefinitebytestring(v.data, v.chunk))
    return b"".join(cborutil.streamencode(v))


def key_to_json(k):
    if isinstance(k, bytes):
        try:
            return k.decode("utf-8")
        except UnicodeDecodeError:
            return "$hex:" + k.hex()
    return str(k)


def to_json(v):
    """Decoded Python value -> JSON value (see the module docstring)."""
    if isinstance(v, (bytes, bytearray)):
        return {"$hex": bytes(v).hex()}
    if isinstance(v, dict):
        return {key_to_json(k): to_json(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [to_json(x) for x in v]
    if isinstance(v, (set, frozenset)):
        return sorted((to_json(x) for x in v), key=lambda x: json.dumps(x, sort_keys=True))
    return v


def join_chunks(values):
    """cborutil hands an indefinite-length byte string over as a series of
    bytestringchunk items (first/last flags); make each one bytes again."""
    out = []
    pending = None
    for v in values:
        if isinstance(v, cborutil.bytestringchunk):
            if v.isfirst:
                pending = []
            pending.append(bytes(v))
            if v.islast:
                out.append(b"".join(pending))
                pending = None
            continue
        out.append(v)
    if pending is not None:
        raise ValueError("indefinite-length byte string without its last chunk")
    return out


# --- build ----------------------------------------------------------------


def build(spec):
    encodings = spec.get("encodings")
    if encodings is not None:
        encodings = [e.encode("ascii") for e in encodings]
    reactor = wireprotoframing.clientreactor(
        make_ui(),
        hasmultiplesend=False,
        buffersends=True,
        clientcontentencoders=encodings,
    )
    for command in spec["commands"]:
        args = from_json(command.get("args", {}))
        datafh = None
        if "data" in command:
            datafh = io.BytesIO(b"".join(cbor_encode(from_json(x)) for x in command["data"]))
        elif "data_hex" in command:
            datafh = io.BytesIO(bytes.fromhex(command["data_hex"]))
        reactor.callcommand(command["name"].encode("utf-8"), args, datafh=datafh)
    action, meta = reactor.flushcommands()
    if action != b"sendframes":
        raise SystemExit("hg_client.py: no commands in the spec")
    return b"".join(bytes(f) for f in meta[b"framegen"])


# --- decode ---------------------------------------------------------------


def read_frames(data):
    fh = io.BytesIO(data)
    frames = []
    while True:
        f = wireprotoframing.readframe(fh)
        if f is None:
            return frames
        frames.append(f)


def decode(data, out):
    frames = read_frames(data)
    reactor = wireprotoframing.clientreactor(make_ui(), hasmultiplesend=False, buffersends=True)
    # Mercurial's reactor only accepts frames for requests it issued: issue
    # placeholders for ids 1, 3, ... up to the largest id in the response.
    top = max((f.requestid for f in frames), default=0)
    for _ in range(1, top + 1, 2):
        reactor.callcommand(b"placeholder", {})
    action, meta = reactor.flushcommands()
    if action == b"sendframes":
        for _ in meta[b"framegen"]:
            pass

    decoders = {}
    for f in frames:
        action, meta = reactor.onframerecv(f)
        if action == b"noop":
            continue
        if action == b"responsedata":
            rid = meta[b"request"].requestid
            decoder = decoders.setdefault(rid, cborutil.bufferingdecoder())
            decoder.decode(meta[b"data"])
            if meta[b"eos"]:
                values = join_chunks(decoder.getavailable())
                if not values:
                    raise ValueError("request %d: response without a status map" % rid)
                status = values[0]
                line = {"request_id": rid}
                if status.get(b"status") == b"ok":
                    line["status"] = "ok"
                    line["values"] = [to_json(v) for v in values[1:]]
                elif status.get(b"status") == b"error":
                    line["status"] = "error"
                    line["error"] = to_json(status.get(b"error"))
                else:
                    line["status"] = to_json(status.get(b"status"))
                    line["values"] = [to_json(v) for v in values[1:]]
                out.write(json.dumps(line, sort_keys=True) + "\n")
            continue
        if action == b"error" and b"request" in meta:
            line = {
                "request_id": meta[b"request"].requestid,
                "error_response": {
                    "type": to_json(meta[b"type"]),
                    "message": to_json(meta[b"message"]),
                },
            }
            out.write(json.dumps(line, sort_keys=True) + "\n")
            continue
        message = meta.get(b"message", b"")
        if isinstance(message, bytes):
            message = message.decode("utf-8", "replace")
        out.write(json.dumps({"protocol_error": message}) + "\n")
        return 1
    return 0


def frames_cmd(data, out):
    for f in read_frames(data):
        out.write(
            "request=%d stream=%d streamflags=%#x type=%d flags=%#x size=%d payload=%s\n"
            % (f.requestid, f.streamid, f.streamflags, f.typeid, f.flags, len(f.payload), bytes(f.payload).hex())
        )
    return 0


def read_input(path):
    if path == "-":
        return sys.stdin.buffer.read()
    with open(path, "rb") as fh:
        return fh.read()


def main(argv):
    if len(argv) < 2 or argv[1] not in ("build", "decode", "frames", "encoders"):
        sys.stderr.write(__doc__)
        return 2
    command = argv[1]
    if command == "encoders":
        wireprotoframing.populatestreamencoders()
        print(json.dumps([e.decode("ascii") for e in wireprotoframing.STREAM_ENCODERS_ORDER]))
        return 0
    if len(argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    if command == "build":
        with open(argv[2], "r", encoding="utf-8") as fh:
            spec = json.load(fh)
        sys.stdout.buffer.write(build(spec))
        return 0
    data = read_input(argv[2])
    try:
        if command == "decode":
            return decode(data, sys.stdout)
        return frames_cmd(data, sys.stdout)
    except Exception as e:  # report Mercurial's failures as data, not a traceback
        sys.stdout.write(json.dumps({"protocol_error": "%s: %s" % (type(e).__name__, e)}) + "\n")
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
