#!/usr/bin/python3
"""The client side of a full clone: `hgrpc clone -U` from hgrpcd against
`hg clone -U http://` and `hg clone -U --stream` from Debian's `hg serve`.

  client_clone_bench.py HGRPC HGRPCD REPO [--rounds 3] [--json OUT] [--no-baseline]
                        [--work-dir DIR]

One run measures, on the same repository, with hgrpcd --repo REPO and one
`hg serve -R REPO` (server.uncompressed true) up at once, ROUNDS rounds of
one clone of each kind in turn (hgrpc, hg clone, hg clone --stream), the
median by wall time kept per kind:
1. `hgrpc clone -U --json`: wall time, the client's peak RSS (ru_maxrss
   of the child from wait4, which is its VmHWM), the bytes of HTTP bodies
   (the client's response_bytes/request_bytes) and its time breakdown
   (stages, from --json).
2. `hg clone -U http://` (its default protocol: a bundle2 changegroup) and
   `hg clone -U --stream`: wall time and peak RSS likewise.
3. Bytes on the wire, the same way for all three: one more clone of each
   through a counting TCP proxy on 127.0.0.1 (bytes in both directions,
   HTTP headers and chunked coding included), and one hgrpc clone with
   --encoding zstd-8mb (everything recompressed: its fewest bytes). The proxy is not in the timed
   clones (its copying would be on the clock, on a 2-core machine).
Prints a JSON object with the figures and the ratios hgrpc/hg clone and
hgrpc/hg clone --stream (wall, bytes).
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

# Starting and stopping servers as the server-side clone bench does.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clone_bench import free_port, print_result, start, stop  # noqa: E402

ENV = dict(os.environ, HGRCPATH="", HGPLAIN="1", HGUSER="bench")


class CountingProxy:
    """127.0.0.1:port -> 127.0.0.1:target, counting the bytes each way."""

    def __init__(self, target):
        self.target = target
        self.up = 0    # client -> server
        self.down = 0  # server -> client
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.closing = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closing:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.target))
            threading.Thread(target=self._pipe, args=(client, server, "up"), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, "down"), daemon=True).start()

    def _pipe(self, src, dst, way):
        n = 0
        try:
            while True:
                data = src.recv(1 << 20)
                if not data:
                    break
                n += len(data)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            with self.lock:
                setattr(self, way, getattr(self, way) + n)
            for s in (dst, src):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def take(self):
        """The counts so far (after the clone's connections closed), reset."""
        time.sleep(0.2)  # the pipes' last counts
        with self.lock:
            out = {"up": self.up, "down": self.down}
            self.up = self.down = 0
        return out

    def close(self):
        self.closing = True
        self.sock.close()


def run_measured(args, env=None):
    """Runs args; returns (wall_s, peak_rss_mib of that process, stdout)."""
    t0 = time.monotonic()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env or ENV)
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(args), proc.returncode, err.decode(errors="replace")))
    return wall, usage.ru_maxrss / 1024, out


def median_run(runs):
    """The run of median wall time."""
    return sorted(runs, key=lambda r: r["wall_s"])[len(runs) // 2]


def clone_round(kind, hgrpc, hgrpc_port, hg_port, dest):
    """One timed clone of `kind` (hgrpc, clone, stream) into dest, removed after."""
    if kind == "hgrpc":
        wall, rss, out = run_measured([hgrpc, "--quiet", "clone", "-U", "--json",
                                       "http://127.0.0.1:%d/" % hgrpc_port, dest])
        run = {"wall_s": round(wall, 3), "peak_rss_mib": round(rss, 1), "summary": json.loads(out)}
    else:
        extra = ["--stream"] if kind == "stream" else []
        wall, rss, _ = run_measured(["hg", "clone", "-q", "-U", *extra, "http://127.0.0.1:%d/" % hg_port, dest])
        run = {"wall_s": round(wall, 3), "peak_rss_mib": round(rss, 1)}
    shutil.rmtree(dest)
    return run


def measure(hgrpc, hgrpcd, repo, work, rounds, baseline, server_flags=()):
    """Both servers up at once; each round clones with hgrpc, then hg clone,
    then hg clone --stream, so that a slow patch of the machine (or of its
    file system) falls on all three rather than on one kind's rounds."""
    hgrpcd_proc, line = start([hgrpcd, "--repo", repo, "--listen", "127.0.0.1", "--port", "0", "--access-log", "off",
                               *server_flags], "listening on")
    hgrpc_port = int(line.strip().rsplit(":", 1)[1])
    procs, proxies = [hgrpcd_proc], []
    try:
        hg_port = None
        kinds = ["hgrpc"]
        if baseline:
            hg_port = free_port()
            hg_proc, _ = start(["hg", "serve", "-R", repo, "-a", "127.0.0.1", "-p", str(hg_port), "--config",
                                "server.uncompressed=true", "--config", "ui.verbose=true"], "listening at")
            procs.append(hg_proc)
            kinds += ["clone", "stream"]
        runs = {k: [] for k in kinds}
        for i in range(rounds):
            for kind in kinds:
                runs[kind].append(clone_round(kind, hgrpc, hgrpc_port, hg_port, os.path.join(work, "%s-%d" % (kind, i))))
        # Bytes on the wire, the same way for all: through a counting proxy
        # (not in the timed clones: its copying would be on the clock).
        hgrpc_proxy = CountingProxy(hgrpc_port)
        proxies.append(hgrpc_proxy)
        wire = {}
        clone_round("hgrpc", hgrpc, hgrpc_proxy.port, None, os.path.join(work, "hgrpc-wire"))
        wire["hgrpc"] = hgrpc_proxy.take()
        # The fewest bytes hgrpc can ask for: everything recompressed into
        # one zstd stream (more server CPU than the stored chunks spliced).
        dest = os.path.join(work, "hgrpc-wire-zstd")
        run_measured([hgrpc, "--quiet", "clone", "-U", "--encoding", "zstd-8mb",
                      "http://127.0.0.1:%d/" % hgrpc_proxy.port, dest])
        shutil.rmtree(dest)
        wire_zstd = hgrpc_proxy.take()
        if baseline:
            hg_proxy = CountingProxy(hg_port)
            proxies.append(hg_proxy)
            for kind in ("clone", "stream"):
                clone_round(kind, None, None, hg_proxy.port, os.path.join(work, "%s-wire" % kind))
                wire[kind] = hg_proxy.take()
    finally:
        for proxy in proxies:
            proxy.close()
        for proc in procs:
            stop(proc)

    best = median_run(runs["hgrpc"])
    s = best["summary"]
    ours = {"wall_s": best["wall_s"], "walls_s": [r["wall_s"] for r in runs["hgrpc"]],
            "peak_rss_mib": best["peak_rss_mib"], "peak_rss_mib_max": max(r["peak_rss_mib"] for r in runs["hgrpc"]),
            "changesets": s["changesets"], "file_revisions": s["file_revisions"], "requests": s["requests"],
            "response_bytes": s["response_bytes"], "request_bytes": s["request_bytes"],
            "cpu_s": s["cpu_s"], "stages": s["stages"], "client_wall_s": s["wall_s"],
            "write_threads": s["write_threads"],
            "wire_bytes_down": wire["hgrpc"]["down"], "wire_bytes_up": wire["hgrpc"]["up"],
            "wire_bytes_zstd_8mb": wire_zstd["down"] + wire_zstd["up"]}
    theirs = None
    if baseline:
        theirs = {}
        for kind in ("clone", "stream"):
            b = median_run(runs[kind])
            theirs[kind] = {"wall_s": b["wall_s"], "walls_s": [r["wall_s"] for r in runs[kind]],
                            "peak_rss_mib": b["peak_rss_mib"],
                            "wire_bytes_down": wire[kind]["down"], "wire_bytes_up": wire[kind]["up"]}
    return ours, theirs


def main():
    p = argparse.ArgumentParser()
    p.add_argument("hgrpc")
    p.add_argument("hgrpcd")
    p.add_argument("repo")
    p.add_argument("--rounds", type=int, default=3, help="clones of each kind; the median wall is kept")
    p.add_argument("--json")
    p.add_argument("--no-baseline", action="store_true", help="hgrpc clone alone (e.g. its RSS on a larger repository)")
    p.add_argument("--work-dir", help="where the clones are written (default: the system's temporary directory); "
                   "/dev/shm takes the file system's allocator out of the figures")
    p.add_argument("--server-flag", action="append", default=[],
                   help="one more hgrpcd argument (repeatable), e.g. --server-flag=--no-cache-recompress")
    a = p.parse_args()
    work = tempfile.mkdtemp(prefix="client-clone-bench-", dir=a.work_dir)
    try:
        ours, theirs = measure(a.hgrpc, a.hgrpcd, a.repo, work, a.rounds, not a.no_baseline, a.server_flag)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result = {"repo": a.repo, "work_dir": os.path.dirname(work), "server_flags": a.server_flag, "hgrpc": ours}
    if theirs is not None:
        wire = lambda f: f["wire_bytes_down"] + f["wire_bytes_up"]
        result.update({"hg": theirs, "ratios": {
            "wall_vs_hg_clone": round(ours["wall_s"] / theirs["clone"]["wall_s"], 3),
            "wall_vs_hg_stream": round(ours["wall_s"] / theirs["stream"]["wall_s"], 3),
            "wire_bytes_vs_hg_clone": round(wire(ours) / wire(theirs["clone"]), 3),
            "wire_bytes_vs_hg_stream": round(wire(ours) / wire(theirs["stream"]), 3),
            "wire_bytes_zstd_8mb_vs_hg_clone": round(ours["wire_bytes_zstd_8mb"] / wire(theirs["clone"]), 3)}})
    print_result(result, a.json)


if __name__ == "__main__":
    sys.exit(main())
