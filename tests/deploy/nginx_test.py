#!/usr/bin/python3
"""hgrpcd behind nginx, with deploy/nginx.conf as shipped.

Starts two hgrpcd instances and nginx (Debian's nginx-light) on 127.0.0.1
ephemeral ports in a temporary directory, then checks that:
  1. framed responses through nginx are byte-identical to direct ones, and
     nginx spreads requests over both instances;
  2. a long response streams through the proxy: the first frames reach the
     client before hgrpcd has finished the response (its access-log line,
     written when a response ends, is not there yet);
  3. hgrpcd logs the client address from X-Forwarded-For only because nginx
     is a trusted proxy: a direct client's forged header is ignored.
Every process it starts is stopped. Bodies are built by Mercurial's own
client code (tests/interop/hg_client.py).

Usage: nginx_test.py HGRPCD SOURCE_DIR
"""

import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

MEDIA_TYPE = "application/mercurial-exp-framing-0006"
DEADLINE = time.monotonic() + 240  # the whole test, whatever happens


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


class Processes:
    """Every process started here, stopped on exit whatever happens."""

    def __init__(self):
        self.procs = []

    def start(self, args, **kw):
        p = subprocess.Popen(args, **kw)
        self.procs.append(p)
        return p

    def stop_all(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def start_hgrpcd(procs, binary, log_path):
    log = open(log_path, "wb")
    p = procs.start(
        [binary, "--listen", "127.0.0.1", "--port", "0", "--log-format", "json",
         "--trusted-proxy", "127.0.0.1/32", "--compress-threads", "1"],
        stdout=subprocess.PIPE, stderr=log)
    line = p.stdout.readline().decode()
    m = re.match(r"listening on 127\.0\.0\.1:(\d+)", line)
    check(m is not None, "hgrpcd did not print its port: %r" % line)
    return int(m.group(1))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port):
    while time.monotonic() < DEADLINE:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    fail("nothing listens on port %d" % port)


def render_nginx_conf(source, port, upstreams):
    conf = open(os.path.join(source, "deploy", "nginx.conf")).read()
    conf, n = re.subn(r"listen 127\.0\.0\.1:8080;", "listen 127.0.0.1:%d;" % port, conf)
    check(n == 1, "deploy/nginx.conf: expected one 'listen 127.0.0.1:8080;' line")
    servers = "".join("server 127.0.0.1:%d;\n        " % u for u in upstreams)
    conf, n = re.subn(r"server 127\.0\.0\.1:8081;\s*server 127\.0\.0\.1:8082;\s*", servers, conf)
    check(n == 1, "deploy/nginx.conf: expected the two example upstream servers")
    for needed in ("proxy_request_buffering off;", "proxy_buffering off;", "keepalive",
                   "X-Forwarded-For", "client_max_body_size"):
        check(needed in conf, "deploy/nginx.conf lacks " + needed)
    return conf


def build_body(source, spec):
    tool = os.path.join(source, "tests", "interop", "hg_client.py")
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(spec, f)
    try:
        r = subprocess.run(["/usr/bin/python3", tool, "build", f.name], capture_output=True, timeout=120)
    finally:
        os.unlink(f.name)
    check(r.returncode == 0, "hg_client.py build failed: %s" % r.stderr.decode(errors="replace"))
    return r.stdout


def decode_body(source, body):
    tool = os.path.join(source, "tests", "interop", "hg_client.py")
    r = subprocess.run(["/usr/bin/python3", tool, "decode", "-"], input=body,
                       capture_output=True, timeout=120)
    check(r.returncode == 0, "Mercurial could not decode the response: %s %s"
          % (r.stdout.decode(errors="replace")[-500:], r.stderr.decode(errors="replace")))
    return [json.loads(l) for l in r.stdout.decode().splitlines() if l.strip()]


def connect(port, source_address):
    return http.client.HTTPConnection("127.0.0.1", port, timeout=60,
                                      source_address=(source_address, 0))


def post(port, path, body, source_address="127.0.0.1", headers=None):
    c = connect(port, source_address)
    h = {"Content-Type": MEDIA_TYPE, "Accept": MEDIA_TYPE}
    h.update(headers or {})
    c.request("POST", path, body=body, headers=h)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, r.getheader("Content-Type"), data


def log_lines(path):
    with open(path, "rb") as f:
        lines = []
        for raw in f.read().decode(errors="replace").splitlines():
            try:
                lines.append(json.loads(raw))
            except ValueError:
                pass  # the startup and shutdown lines are not access-log lines
        return lines


def main():
    binary, source = sys.argv[1], sys.argv[2]
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    check(os.path.exists(nginx), "nginx is not installed (scripts/install-deps installs nginx-light)")
    procs = Processes()
    tmp = tempfile.mkdtemp(prefix="hgrpcd-nginx-")
    try:
        logs = [os.path.join(tmp, "hgrpcd-a.log"), os.path.join(tmp, "hgrpcd-b.log")]
        ports = [start_hgrpcd(procs, binary, l) for l in logs]
        nginx_port = free_port()
        conf_path = os.path.join(tmp, "nginx.conf")
        with open(conf_path, "w") as f:
            f.write(render_nginx_conf(source, nginx_port, ports))
        for d in ("client_body_temp", "proxy_temp", "logs"):
            os.makedirs(os.path.join(tmp, d))
        nginx_log = open(os.path.join(tmp, "nginx.stderr"), "wb")
        procs.start([nginx, "-p", tmp + "/", "-c", conf_path, "-g",
                     "daemon off; pid %s/nginx.pid; error_log %s/error.log;" % (tmp, tmp)],
                    stdout=nginx_log, stderr=nginx_log)
        wait_for_port(nginx_port)

        # 1. Byte-identical responses, direct and through nginx.
        rng = random.Random(1234)
        base = bytes(rng.getrandbits(8) for _ in range(4096))
        delta = (0).to_bytes(4, "big") + (10).to_bytes(4, "big") + (5).to_bytes(4, "big") + b"HELLO"
        spec = {"encodings": ["zlib", "identity"], "commands": [
            {"name": "applypatches", "args": {"base": {"$hex": base.hex()}, "patches": [{"$hex": delta.hex()}]}},
            {"name": "patchedsize", "args": {"size": 100, "patches": [{"$hex": delta.hex()}]}},
            {"name": "nosuchcommand", "args": {}}]}
        body = build_body(source, spec)
        path = "/api/exp-http-v2-0003/ro/multirequest"
        direct = post(ports[0], path, body)
        check(direct[0] == 200 and direct[1] == MEDIA_TYPE, "direct request: %r %r" % direct[:2])
        for i in range(8):  # round robin (per nginx worker): both instances answer
            proxied = post(nginx_port, path, body)
            check(proxied == direct, "response %d through nginx differs from the direct one "
                  "(%d vs %d bytes)" % (i, len(proxied[2]), len(direct[2])))
        decoded = decode_body(source, direct[2])
        check(decoded[0]["values"] == [{"$hex": (b"HELLO" + base[10:]).hex()}], "applypatches result: %r" % decoded[0])
        served = [sum(1 for l in log_lines(lp) if l.get("path") == path) for lp in logs]
        check(served[0] >= 2 and served[1] >= 1, "nginx did not spread requests over both instances: %r" % served)

        # 2. A long response streams through the proxy.
        big_base = bytes(rng.getrandbits(8) for _ in range(1 << 20))
        big_spec = {"commands": [{"name": "applypatches",
                                  "args": {"base": {"$hex": big_base.hex()}, "patches": []}}] * 48}
        big_body = build_body(source, big_spec)
        before = [len(log_lines(lp)) for lp in logs]
        c = connect(nginx_port, "127.0.0.1")
        c.request("POST", path, body=big_body, headers={"Content-Type": MEDIA_TYPE, "Accept": MEDIA_TYPE})
        r = c.getresponse()
        check(r.status == 200, "long response: HTTP %d" % r.status)
        first = r.read(64 * 1024)
        check(len(first) == 64 * 1024, "long response: short first read")
        time.sleep(1.0)  # let hgrpcd run ahead as far as the buffers allow
        done_early = [len(log_lines(lp)) - b for lp, b in zip(logs, before)]
        check(done_early == [0, 0], "hgrpcd finished the 48 MiB response before the client read "
              "past 64 KiB: something buffered it (%r)" % done_early)
        rest = r.read()
        c.close()
        total = len(first) + len(rest)
        check(total > 48 * (1 << 20), "long response: only %d bytes" % total)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and sum(len(log_lines(lp)) for lp in logs) == sum(before):
            time.sleep(0.05)
        check(sum(len(log_lines(lp)) for lp in logs) == sum(before) + 1, "no access-log line after the long response")

        # 3. X-Forwarded-For is believed from nginx (trusted), not from a direct client.
        via_nginx = post(nginx_port, "/api/exp-http-v2-0003/ro/multirequest", body, source_address="127.0.0.5")
        check(via_nginx[0] == 200, "request from 127.0.0.5 through nginx: %d" % via_nginx[0])
        forged = post(ports[1], "/api/exp-http-v2-0003/ro/multirequest", body, source_address="127.0.0.6",
                      headers={"X-Forwarded-For": "198.51.100.9"})
        check(forged[0] == 200, "direct request from 127.0.0.6: %d" % forged[0])
        clients = [l.get("client") for lp in logs for l in log_lines(lp)]
        check("127.0.0.5" in clients, "hgrpcd did not log the real client 127.0.0.5 from X-Forwarded-For: %r" % clients)
        check("198.51.100.9" not in clients, "hgrpcd believed a forged X-Forwarded-For from an untrusted client")
        check("127.0.0.6" in clients, "hgrpcd did not log the direct client's own address 127.0.0.6")
        print("nginx_test: ok (%d requests through nginx, %d-byte streamed response)" % (sum(served), total))
    finally:
        procs.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
