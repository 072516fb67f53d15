#!/usr/bin/python3
"""Writes framed bodies made by Mercurial's own framing code, and the values
Mercurial decodes from them, for the hgrpc client tests.

Usage: hg_bodies.py OUTDIR

For each case NAME it writes OUTDIR/NAME.bin (the body) and OUTDIR/NAME.json
(one JSON line per request, as `hgrpc frames decode --values` prints them:
{"request_id", "values": [...], "data"?: ..., "error"?: ...}; byte strings as
{"$bytes": "<base64>"}). Request bodies come from Mercurial's clientreactor and
are decoded by its serverreactor; response bodies come from its serverreactor
(identity, zlib and, when available, zstd-8mb output streams, responses
completed out of order) and are decoded by its clientreactor + cborutil.
This script imports Debian's mercurial package; it contains no code of it.
"""
import base64
import io
import json
import os
import sys

from mercurial import ui as uimod
from mercurial import wireprotoframing as wf
from mercurial.utils import cborutil


def to_json(v):
    if isinstance(v, bytes):
        return {"$bytes": base64.b64encode(v).decode("ascii")}
    if isinstance(v, dict):
        return {(k.decode("utf-8") if isinstance(k, bytes) else k): to_json(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, set, frozenset)):
        return [to_json(x) for x in v]
    return v


def frames_of(body):
    fh = io.BytesIO(body)
    while True:
        f = wf.readframe(fh)
        if f is None:
            return
        yield f


def request_body(commands, encoders=None):
    """commands: list of (name, args, data bytes or None)."""
    reactor = wf.clientreactor(uimod.ui(), hasmultiplesend=False, buffersends=True,
                               clientcontentencoders=encoders)
    for name, args, data in commands:
        reactor.callcommand(name, args, datafh=io.BytesIO(data) if data is not None else None)
    action, meta = reactor.flushcommands()
    assert action == b'sendframes'
    return b''.join(meta[b'framegen'])


def decode_request(body):
    """Mercurial's serverreactor view of a request body."""
    reactor = wf.serverreactor(uimod.ui())
    out = []
    for f in frames_of(body):
        action, meta = reactor.onframerecv(f)
        if action == b'error':
            raise SystemExit('mercurial rejected the request: %r' % meta)
        if action == b'runcommand':
            request = {b'name': meta[b'command']}
            if meta[b'args']:
                request[b'args'] = meta[b'args']
            line = {"request_id": meta[b'requestid'], "values": [to_json(request)]}
            if meta[b'data'] is not None:
                line["data"] = to_json(meta[b'data'])
            out.append(line)
    return out


def response_body(request, responses, order):
    """Runs Mercurial's serverreactor over a request body; answers each
    request (in `order` of request ids) with responses[id]: a list of objects,
    or ('error', message) for a command error."""
    reactor = wf.serverreactor(uimod.ui())
    for f in frames_of(request):
        action, meta = reactor.onframerecv(f)
        assert action in (b'wantframe', b'runcommand'), (action, meta)
    stream = reactor.makeoutputstream()
    out = []
    for rid in order:
        answer = responses[rid]
        if isinstance(answer, tuple):
            action, meta = reactor.oncommanderror(stream, rid, answer[1])
        else:
            action, meta = reactor.oncommandresponsereadyobjects(stream, rid, answer)
        assert action == b'sendframes', (action, meta)
        out.extend(meta[b'framegen'])
    return b''.join(out)


def decode_response(body, commands, encoders=None):
    """Mercurial's clientreactor view of a response body."""
    reactor = wf.clientreactor(uimod.ui(), hasmultiplesend=False, buffersends=True,
                               clientcontentencoders=encoders)
    for name, args, data in commands:
        reactor.callcommand(name, args)
    action, meta = reactor.flushcommands()
    b''.join(meta[b'framegen'])  # the requests become active once sent
    payloads = {}
    errors = {}
    order = []
    for f in frames_of(body):
        action, meta = reactor.onframerecv(f)
        if action == b'responsedata':
            rid = meta[b'request'].requestid
            if rid not in payloads:
                payloads[rid] = b''
                order.append(rid)
            payloads[rid] += meta[b'data']
        elif action == b'error' and b'request' in meta:
            rid = meta[b'request'].requestid
            if rid not in payloads:
                order.append(rid)
            payloads.setdefault(rid, b'')
            errors[rid] = {b'type': meta[b'type'], b'message': meta[b'message']}
        elif action != b'noop':
            raise SystemExit('mercurial rejected the response: %r' % meta)
    out = []
    for rid in order:
        line = {"request_id": rid, "values": [to_json(v) for v in cborutil.decodeall(payloads[rid])]}
        if rid in errors:
            line["error"] = to_json(errors[rid])
        out.append(line)
    return out


def main():
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    cases = {}

    single = [(b'capabilities', {}, None)]
    cases['hg-request-single'] = (request_body(single), None)
    multi = [
        (b'diff', {b'a': b'line 1\nline 2\n', b'b': b'line 1\nline two\n'}, None),
        (b'patchedsize', {b'size': 12, b'patches': [b'\x00' * 12]}, None),
        (b'applypatches', {}, b'\x45' + bytes(range(256)) * 300),  # spans frames
        (b'customreadonly', {b'nested': {b'list': [1, -2, True, None, b'x']}}, b''),
    ]
    cases['hg-request-multi'] = (request_body(multi), None)
    cases['hg-request-settings'] = (request_body(single, [b'zlib', b'identity']), None)

    big = bytes(range(256)) * 400  # > one frame
    responses = {
        1: [b'customreadonly bytes response'],
        3: [{b'status': b'x', b'list': [1, 2, 3], b'big': big}, 42, -7, b''],
        5: ('error', b'bad %s'),
        7: [[b'a', b'b'], {b'k': None, b'f': False}],
    }
    names = [(b'c%d' % i, {}, None) for i in range(4)]
    encodings = [b'identity', b'zlib']
    if b'zstd-8mb' in wf.STREAM_ENCODERS or _has_zstd():
        encodings.append(b'zstd-8mb')
    for enc in encodings:
        req = request_body(names, [enc])
        for label, order in (('inorder', [1, 3, 5, 7]), ('outoforder', [7, 3, 1, 5])):
            body = response_body(req, responses, order)
            cases['hg-response-%s-%s' % (enc.decode(), label)] = (body, decode_response(body, names, [enc]))

    for name, (body, decoded) in cases.items():
        if decoded is None:
            decoded = decode_request(body)
        with open(os.path.join(outdir, name + '.bin'), 'wb') as fh:
            fh.write(body)
        with open(os.path.join(outdir, name + '.json'), 'w') as fh:
            for line in decoded:
                fh.write(json.dumps(line, separators=(',', ':'), sort_keys=True) + '\n')
    print('\n'.join(sorted(cases)))


def _has_zstd():
    wf.populatestreamencoders()
    return b'zstd-8mb' in wf.STREAM_ENCODERS


if __name__ == '__main__':
    main()
