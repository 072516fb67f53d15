#!/usr/bin/python3
"""A clone through content redirects: how much of it hgrpcd itself serves.

  redirect_bench.py HGRPC HGRPCD REPO [--json OUT]

hgrpcd --repo REPO --redirect-target bench=URL,DIR with Debian's nginx
serving DIR at URL, both on 127.0.0.1. `hgrpc clone -U --json` twice: the
first writes the blobs, the second reuses them; then one clone with
--no-redirects for comparison. Per clone: wall time and the response bytes
that came from hgrpcd and from the redirect target (the client's
bytes_from_server and bytes_from_redirects: HTTP bodies). The figure is
hgrpcd's share of the redirected clone's bytes (the larger of the two).
"""

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time

from clone_bench import free_port, print_result, start, stop

NGINX = "/usr/sbin/nginx"


def start_nginx(prefix, blobs, port):
    os.makedirs(prefix)
    conf = os.path.join(prefix, "nginx.conf")
    with open(conf, "w") as fh:
        fh.write("worker_processes 1;\nevents { worker_connections 64; }\nhttp {\n  access_log off;\n"
                 "  server {\n    listen 127.0.0.1:%d;\n    location /blobs/ { alias %s/; }\n  }\n}\n"
                 % (port, blobs))
    proc = subprocess.Popen([NGINX, "-p", prefix + "/", "-c", conf, "-g", "daemon off; pid %s/nginx.pid; "
                             "error_log %s/error.log;" % (prefix, prefix)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not os.path.exists(os.path.join(prefix, "nginx.pid")):
        if proc.poll() is not None or time.monotonic() > deadline:
            stop(proc)
            raise RuntimeError("nginx did not start: %s" % open(os.path.join(prefix, "error.log")).read())
        time.sleep(0.02)
    return proc


def clone(hgrpc, url, dest, extra=()):
    t0 = time.monotonic()
    run = subprocess.run([hgrpc, "-q", *extra, "clone", "-U", "--json", url, dest], capture_output=True, text=True)
    wall = time.monotonic() - t0
    if run.returncode != 0:
        raise RuntimeError("hgrpc clone failed: %s" % run.stderr)
    shutil.rmtree(dest)
    s = json.loads(run.stdout)
    return {"wall_s": round(wall, 3), "bytes_from_server": s["bytes_from_server"],
            "bytes_from_redirects": s["bytes_from_redirects"], "changesets": s["changesets"]}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("hgrpc")
    p.add_argument("hgrpcd")
    p.add_argument("repo")
    p.add_argument("--json")
    a = p.parse_args()
    if not os.path.exists(NGINX):
        raise SystemExit("redirect_bench: %s is not installed (scripts/install-deps installs nginx-light)" % NGINX)
    work = tempfile.mkdtemp(prefix="redirect-bench-")
    os.chmod(work, 0o755)  # nginx's worker may run as another user
    procs = []
    try:
        blobs = os.path.join(work, "blobs")
        os.makedirs(blobs)
        port = free_port()
        procs.append(start_nginx(os.path.join(work, "nginx"), blobs, port))
        target = "bench=http://127.0.0.1:%d/blobs,%s" % (port, blobs)
        proc, line = start([a.hgrpcd, "--repo", a.repo, "--listen", "127.0.0.1", "--port", "0", "--access-log", "off",
                            "--redirect-target", target], "listening on")
        procs.append(proc)
        url = "http://127.0.0.1:%s/" % line.strip().rsplit(":", 1)[1]
        dest = os.path.join(work, "clone")
        first = clone(a.hgrpc, url, dest)
        again = clone(a.hgrpc, url, dest)
        inline = clone(a.hgrpc, url, dest, ["--no-redirects"])
    finally:
        for proc in reversed(procs):
            stop(proc)
        shutil.rmtree(work, ignore_errors=True)

    def share(c):
        return c["bytes_from_server"] / (c["bytes_from_server"] + c["bytes_from_redirects"])

    print_result({"first": first, "again": again, "inline": inline,
                  "hgrpcd_share": round(max(share(first), share(again)), 6)}, a.json)


if __name__ == "__main__":
    main()
