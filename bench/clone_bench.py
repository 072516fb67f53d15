#!/usr/bin/python3
"""The server side of a full clone: hgrpcd against Debian's `hg serve`.

  clone_bench.py HGRPCD REPO [--clients 8] [--json OUT]

1. hgrpcd --repo REPO answers one real clone by tests/interop/v2_exchange.py
   (5.8.1's exchangev2 requests; Debian 6.3.2 writes and hash-checks the
   result), whose request bodies are kept.
2. Those bodies are replayed: once alone, then by CLIENTS clients at once,
   each response read to its end and dropped. With --replay-tool (scripts/bench
   passes bench/replay_bodies) the clients are lean C++ threads, so the 2
   cores go to the server; otherwise Python threads, whose GIL and chunked
   decoding cost about as much CPU as the server's answer. Single clones are
   then measured as --rounds (20) in a row, as CPU time comes in 10 ms ticks. Measured: hgrpcd's CPU
   (utime+stime from /proc), wall time, response bytes, peak RSS (VmHWM).
   Then the same bodies with `zstd-8mb-frames` listed first in their
   sender-protocol-settings frame, as the hgrpc client sends them: stored
   zstd chunks go out as they are ("spliced"; the Python client cannot
   decode that profile, so its correctness is tested with hgrpc clone in
   ctest, not here), alone and by CLIENTS clients.
3. The response cache (--cache-bytes): a fresh hgrpcd per row, the spliced
   bodies (and the plain ones, which hold decoded data and cost a
   recompression on every replay): the whole-repository filesdata first
   (computed) then again (from the cache); a whole clone first then again;
   then STORM clients (16) cloning at once from a cold cache, whose CPU is
   compared with one uncached clone's. "recompressed" is hgrpcd's default
   (--cache-recompress: a kept answer's stored chunks are compressed with the
   rest in the background; every figure waits for that pass, read from
   /metrics, so its CPU counts with the answer that caused it); "spliced" is
   the same with --no-cache-recompress. Steps 1-2 run with the cache off.
4. `hg serve` (6.3.2, C extensions) answers `hg clone -U http://` of the same
   repository (its default protocol: bundle2 changegroup) and `hg clone -U
   --stream`; its CPU is measured the same way.
Prints a JSON object of the figures and the ratios (one run).
"""

import argparse
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "interop"))

import v2_exchange as v2  # noqa: E402

ENV = dict(os.environ, HGRCPATH="", HGPLAIN="1", HGUSER="bench")
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def peak_rss_mib(pid):
    with open("/proc/%d/status" % pid) as fh:
        m = re.search(r"VmHWM:\s+(\d+) kB", fh.read())
    return int(m.group(1)) / 1024


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RecordingTransport(v2.HttpTransport):
    def __init__(self, url):
        super().__init__(url, timeout=600, max_response_bytes=1 << 34)
        self.posts = []

    def post(self, path, body, consume):
        self.posts.append((path, body))
        return super().post(path, body, consume)


SENDER_PROTOCOL_SETTINGS = 0x08


def with_encodings(body, names):
    """body with its first frame (sender-protocol-settings, one frame) replaced
    by one listing `names`."""
    from mercurial.utils import cborutil
    length = body[0] | body[1] << 8 | body[2] << 16
    if body[7] >> 4 != SENDER_PROTOCOL_SETTINGS:
        raise RuntimeError("the body does not start with sender-protocol-settings")
    payload = b"".join(cborutil.streamencode({b"contentencodings": names}))
    head = bytes([len(payload) & 0xff, len(payload) >> 8 & 0xff, len(payload) >> 16]) + body[3:8]
    return head + payload + body[8 + length:]


def replay(port, posts):
    """Sends the clone's POSTs on one keep-alive connection; returns response bytes."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    total = 0
    headers = {"Accept": v2.FRAMING_TYPE, "Content-Type": v2.FRAMING_TYPE}
    try:
        for path, body in posts:
            conn.request("POST", path, body=body, headers=headers)
            resp = conn.getresponse()
            if resp.status != 200:
                raise RuntimeError("POST %s: HTTP %d" % (path, resp.status))
            while True:
                chunk = resp.read(1 << 20)
                if not chunk:
                    break
                total += len(chunk)
    finally:
        conn.close()
    return total


REPLAY_TOOL = None  # bench/replay_bodies, when given (--replay-tool)
ROUNDS = 1
_bodies_dirs = {}


def bodies_dir(posts):
    """The posts as files for replay_bodies (written once per list)."""
    key = id(posts)
    if key not in _bodies_dirs:
        d = tempfile.mkdtemp(prefix="clone-bodies-")
        for i, (path, body) in enumerate(posts):
            with open(os.path.join(d, "%03d.path" % i), "w") as fh:
                fh.write(path)
            with open(os.path.join(d, "%03d.body" % i), "wb") as fh:
                fh.write(body)
        _bodies_dirs[key] = (d, posts)  # keeps posts alive so the id stays theirs
    return _bodies_dirs[key][0]


def settle(port):
    """Waits until the server's background recompression is done (the
    hgrpcd_cache_recompress_pending gauge is 0, or absent: no cache)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/metrics")
        text = conn.getresponse().read().decode()
        conn.close()
        m = re.search(r"^hgrpcd_cache_recompress_pending (\d+)$", text, re.M)
        if not m or m.group(1) == "0":
            return
        time.sleep(0.02)
    raise RuntimeError("the server's recompression did not finish in 120 s")


def measure(pid, port, posts, clients, rounds=1):
    """clients x rounds clones (each client's one after the other); per-clone
    figures are the totals divided by rounds when clients == 1. The CPU is
    read once the server's background recompression is done."""
    if REPLAY_TOOL:
        d = bodies_dir(posts)
        cpu0 = cpu_seconds(pid)
        run = subprocess.run([REPLAY_TOOL, "--port", str(port), "--clients", str(clients), "--rounds", str(rounds), d],
                             capture_output=True, text=True)
        settle(port)
        cpu = cpu_seconds(pid) - cpu0
        if run.returncode != 0:
            raise RuntimeError("replay_bodies failed: %s %s" % (run.stdout, run.stderr))
        r = json.loads(run.stdout)
        wall = r["wall_s"] / (rounds if clients == 1 else 1)
        clones = clients * (1 if clients == 1 else rounds)
        return {"clients": clients, "rounds": rounds, "wall_s": round(wall, 3),
                "server_cpu_s": round(cpu / (rounds if clients == 1 else 1), 3),
                "response_bytes": r["response_bytes"] // (rounds if clients == 1 else 1),
                "clones_per_s": round(clones / wall, 3)}
    if rounds != 1:
        raise RuntimeError("rounds need --replay-tool")
    results, errors = [0] * clients, []

    def one(i):
        try:
            results[i] = replay(port, posts)
        except Exception as e:  # reported below
            errors.append(str(e))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(clients)]
    cpu0, t0 = cpu_seconds(pid), time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - t0
    settle(port)
    cpu = cpu_seconds(pid) - cpu0
    if errors:
        raise RuntimeError("replay failed: %s" % errors[0])
    return {"clients": clients, "wall_s": round(wall, 3), "server_cpu_s": round(cpu, 3),
            "response_bytes": sum(results), "clones_per_s": round(clients / wall, 3)}


def start(args, ready):
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=ENV)
    line = proc.stdout.readline().decode()
    if ready not in line:
        proc.kill()
        proc.wait()
        raise RuntimeError("%s did not start: %r" % (args[0], line))
    # Keep reading: a server blocked on a full stdout pipe (hg serve's access
    # log) stops answering.
    threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
    return proc, line


def stop(proc):
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


CACHE_FLAGS = ["--cache-bytes", "512M", "--cache-entry-bytes", "256M"]


def cache_figures(hgrpcd, repo, posts, storm):
    """Server CPU of answers computed, then replayed from the response cache."""
    out = {}
    files = [pb for pb in posts if pb[0].endswith("/filesdata")]
    spliced = [(pa, with_encodings(b, [b"zstd-8mb-frames", b"zstd-8mb"])) for pa, b in posts]
    for kind, rows, flags in (("recompressed", spliced, []), ("spliced", spliced, ["--no-cache-recompress"]),
                              ("plain", posts, [])):
        fd = [(pa, b) for pa, b in rows if pa.endswith("/filesdata")]
        assert fd and len(fd) == len(files)
        figures = {}
        for name, bodies, clients in (("filesdata", fd, 1), ("clone", rows, 1), ("storm", rows, storm)):
            proc, line = start([hgrpcd, "--port", "0", "--access-log", "off", "--repo", repo, *CACHE_FLAGS, *flags],
                               "listening on ")
            port = int(line.strip().rsplit(":", 1)[1])
            try:
                if clients == 1:
                    # The cached answers as ROUNDS in a row: each costs a few CPU ticks.
                    first = measure(proc.pid, port, bodies, 1)
                    again = measure(proc.pid, port, bodies, 1, ROUNDS if REPLAY_TOOL else 1)
                    figures[name] = {"first": first, "cached": again,
                                     "ratio": round(again["server_cpu_s"] / first["server_cpu_s"], 3)}
                else:
                    many = measure(proc.pid, port, bodies, clients)
                    figures[name] = {"storm": many, "clients": clients,
                                     "ratio_vs_one_uncached_clone":
                                         round(many["server_cpu_s"] / figures["clone"]["first"]["server_cpu_s"], 3)}
                figures[name]["peak_rss_mib"] = round(peak_rss_mib(proc.pid), 1)
            finally:
                stop(proc)
        out[kind] = figures
    return out


def hgrpcd_figures(hgrpcd, repo, clients, work, encodings, storm, cache_only=False):
    proc, line = start([hgrpcd, "--port", "0", "--access-log", "off", "--cache-bytes", "0", "--repo", repo],
                       "listening on ")
    port = int(line.strip().rsplit(":", 1)[1])
    try:
        url = "http://127.0.0.1:%d/" % port
        transport = RecordingTransport(url)
        peer = v2.V2Peer(v2.make_ui(), transport, url, encodings)
        t0 = time.monotonic()
        v2.clone(peer, os.path.join(work, "v2clone"), [])
        python_clone_wall = time.monotonic() - t0
        verify = subprocess.run(["hg", "-R", os.path.join(work, "v2clone"), "verify", "-q"], env=ENV,
                                capture_output=True)
        if verify.returncode != 0:
            raise RuntimeError("hg verify of the v2 clone failed: %s" % verify.stdout.decode())
        posts = transport.posts
        if cache_only:
            stop(proc)
            return {"cache": cache_figures(hgrpcd, repo, posts, storm), "requests": len(posts)}
        rounds = ROUNDS if REPLAY_TOOL else 1
        one = measure(proc.pid, port, posts, 1, rounds)
        one_rss = peak_rss_mib(proc.pid)  # the Python clone and the single replays so far
        many = measure(proc.pid, port, posts, clients)
        spliced_posts = [(path, with_encodings(body, [b"zstd-8mb-frames"] + encodings)) for path, body in posts]
        spliced_one = measure(proc.pid, port, spliced_posts, 1, rounds)
        spliced_many = measure(proc.pid, port, spliced_posts, clients)
        peak = round(peak_rss_mib(proc.pid), 1)
        stop(proc)
        cache = cache_figures(hgrpcd, repo, posts, storm)
        return {"cache": cache,"python_client_clone_wall_s": round(python_clone_wall, 3), "requests": len(posts),
                "one": one, "many": many, "spliced_one": spliced_one, "spliced_many": spliced_many,
                "peak_rss_one_clone_mib": round(one_rss, 1), "peak_rss_mib": peak}
    finally:
        stop(proc)


def hg_serve_figures(repo, work):
    port = free_port()
    proc, _ = start(["hg", "serve", "-R", repo, "-a", "127.0.0.1", "-p", str(port), "--config",
                     "server.uncompressed=true", "--config", "ui.verbose=true"], "listening at")
    try:
        out = {}
        for kind, extra in (("clone", []), ("stream", ["--stream"])):
            dest = os.path.join(work, "hg-" + kind)
            cpu0, t0 = cpu_seconds(proc.pid), time.monotonic()
            subprocess.run(["hg", "clone", "-q", "-U", *extra, "http://127.0.0.1:%d/" % port, dest], env=ENV,
                           check=True)
            out[kind] = {"wall_s": round(time.monotonic() - t0, 3),
                         "server_cpu_s": round(cpu_seconds(proc.pid) - cpu0, 3)}
        return out
    finally:
        stop(proc)


def print_result(result, json_path):
    """Prints the figures as JSON, and writes them to json_path if given."""
    text = json.dumps(result, indent=1, sort_keys=True)
    if json_path:
        with open(json_path, "w") as fh:
            fh.write(text + "\n")
    print(text)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("hgrpcd")
    p.add_argument("repo")
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--storm", type=int, default=16, help="identical clones at once from a cold cache")
    p.add_argument("--json")
    p.add_argument("--encodings", default="zstd-8mb,zlib,identity",
                   help="contentencodings the clone advertises (the replay keeps them)")
    p.add_argument("--no-baseline", action="store_true", help="skip hg serve (quick looks at hgrpcd alone)")
    p.add_argument("--cache-only", action="store_true",
                   help="only the response cache's figures (step 3; implies --no-baseline)")
    p.add_argument("--replay-tool", help="bench/replay_bodies: C++ clients replay the bodies (else Python threads)")
    p.add_argument("--rounds", type=int, default=20,
                   help="with --replay-tool: single clones measured as ROUNDS in a row (CPU ticks are 10 ms)")
    a = p.parse_args()
    global REPLAY_TOOL, ROUNDS
    REPLAY_TOOL, ROUNDS = a.replay_tool, a.rounds
    work = tempfile.mkdtemp(prefix="clone-bench-")
    try:
        ours = hgrpcd_figures(a.hgrpcd, a.repo, a.clients, work,
                              [e.encode() for e in a.encodings.split(",") if e], a.storm, a.cache_only)
        theirs = None if a.no_baseline or a.cache_only else hg_serve_figures(a.repo, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        for d, _ in _bodies_dirs.values():
            shutil.rmtree(d, ignore_errors=True)
    result = {"hgrpcd": ours, "client": "bench/replay_bodies (C++)" if REPLAY_TOOL else "Python threads"}
    if theirs is not None:
        result.update({"hg_serve": theirs, "ratios": {
        "server_cpu_vs_hg_serve_clone": round(ours["one"]["server_cpu_s"] / theirs["clone"]["server_cpu_s"], 3),
        "server_cpu_vs_hg_serve_stream": round(ours["one"]["server_cpu_s"] / theirs["stream"]["server_cpu_s"], 3),
        "concurrent_throughput": round(ours["many"]["clones_per_s"] / ours["one"]["clones_per_s"], 3),
        "spliced_server_cpu_vs_hg_serve_clone":
            round(ours["spliced_one"]["server_cpu_s"] / theirs["clone"]["server_cpu_s"], 3),
        "spliced_concurrent_throughput":
            round(ours["spliced_many"]["clones_per_s"] / ours["spliced_one"]["clones_per_s"], 3),
        "cached_filesdata_cpu_vs_first": ours["cache"]["recompressed"]["filesdata"]["ratio"],
        "cached_clone_cpu_vs_first": ours["cache"]["recompressed"]["clone"]["ratio"],
        "storm_cpu_vs_one_clone": ours["cache"]["recompressed"]["storm"]["ratio_vs_one_uncached_clone"]}})
    print_result(result, a.json)


if __name__ == "__main__":
    main()
