#!/usr/bin/python3
"""A recording HTTP proxy for 127.0.0.1: forwards every request to one
upstream server and saves each exchange (request and response bodies, method,
path, the headers that matter) into a directory.

Used only by record_vectors.sh to capture what a reference client sends and
what a reference server answers; it contains no Mercurial code.

Usage: recording_proxy.py LISTEN_PORT UPSTREAM_PORT OUTDIR
  OUTDIR/NNN.request.bin, OUTDIR/NNN.response.bin, OUTDIR/exchanges.json
It prints "ready PORT" on stdout once it listens, and stops on SIGTERM.
"""

import http.client
import http.server
import json
import os
import sys
import threading

KEPT_HEADERS = ("content-type", "accept", "x-hgproto-1", "x-hgupgrade-1", "vary")


class Recorder:
    def __init__(self, outdir):
        self.outdir = outdir
        self.lock = threading.Lock()
        self.exchanges = []

    def save(self, entry, request_body, response_body):
        with self.lock:
            n = len(self.exchanges) + 1
            entry["n"] = n
            with open(os.path.join(self.outdir, "%03d.request.bin" % n), "wb") as fh:
                fh.write(request_body)
            with open(os.path.join(self.outdir, "%03d.response.bin" % n), "wb") as fh:
                fh.write(response_body)
            self.exchanges.append(entry)
            with open(os.path.join(self.outdir, "exchanges.json"), "w") as fh:
                json.dump(self.exchanges, fh, indent=1)


def make_handler(upstream_port, recorder):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            pass

        def forward(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
            conn = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=60)
            conn.request(self.command, self.path, body=body if self.command == "POST" else None, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            conn.close()
            recorder.save(
                {
                    "method": self.command,
                    "path": self.path,
                    "request_headers": {k.lower(): v for k, v in self.headers.items() if k.lower() in KEPT_HEADERS},
                    "status": resp.status,
                    "response_headers": {k.lower(): v for k, v in resp.getheaders() if k.lower() in KEPT_HEADERS},
                },
                body,
                data,
            )
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = forward
        do_POST = forward

    return Handler


def main(argv):
    if len(argv) != 4:
        sys.stderr.write(__doc__)
        return 2
    listen, upstream, outdir = int(argv[1]), int(argv[2]), argv[3]
    os.makedirs(outdir, exist_ok=True)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", listen), make_handler(upstream, Recorder(outdir)))
    print("ready %d" % server.server_address[1], flush=True)
    import signal

    signal.signal(signal.SIGTERM, lambda *a: threading.Thread(target=server.shutdown).start())
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
