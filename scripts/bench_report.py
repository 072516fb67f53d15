#!/usr/bin/env python3
"""Turns the raw results of scripts/bench into one Markdown report.

Usage: bench_report.py RAW_DIR [--hgrpcd PATH] > bench/results.md

RAW_DIR holds <name>_bench.json (Google Benchmark JSON, with repetitions:
the median aggregate is used), e2e-hgrpcd.jsonl and e2e-nginx.jsonl (one
http_load result per line; repeated cases give their median) and
memory.json. Ratios are computed only between figures of the same run.
Throughputs of single-threaded benchmarks are Google Benchmark's (bytes over
CPU time, which a loaded machine disturbs less than wall time); the
multi-stream figures are over wall time.
"""
import argparse
import glob
import json
import os
import platform
import statistics
import sys

MiB = 1024 * 1024


def machine(raw):
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = "?"
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = "%.1f GiB" % (int(line.split()[1]) / 1024 / 1024)
    loads = []
    for name in ("loadavg-start", "loadavg-end"):
        p = os.path.join(raw, name)
        if os.path.exists(p):
            loads.append(open(p).read().split()[0])
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory": mem,
        "kernel": platform.release(),
        "load": " -> ".join(loads) if loads else "?",
    }


def load_gbench(raw):
    """{run_name: entry} using the median aggregate, else the single run."""
    out = {}
    for path in sorted(glob.glob(os.path.join(raw, "*_bench.json"))):
        with open(path) as f:
            data = json.load(f)
        runs = {}
        for b in data.get("benchmarks", []):
            name = b.get("run_name", b["name"])
            if b.get("run_type") == "aggregate":
                if b.get("aggregate_name") == "median":
                    runs[name] = b
            elif name not in runs:
                runs[name] = b
        out[os.path.basename(path)[:-5]] = runs
    return out


def seconds(b, which="real_time"):
    scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[b.get("time_unit", "ns")]
    return b[which] * scale


def load_json(raw, name):
    """The JSON object of raw/name; None if that part did not run."""
    p = os.path.join(raw, name)
    return json.load(open(p)) if os.path.exists(p) else None


def load_jsonl(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def median_by(rows, key):
    """Groups rows by key(row) and takes the median of every numeric field."""
    groups = {}
    for r in rows:
        groups.setdefault(key(r), []).append(r)
    out = {}
    for k, rs in groups.items():
        m = dict(rs[0])
        for field, v in rs[0].items():
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                m[field] = statistics.median(r[field] for r in rs)
        m["runs"] = len(rs)
        out[k] = m
    return out


def fmt(v, digits=3):
    if v is None:
        return "-"
    if abs(v) >= 100:
        return "%.0f" % v
    return ("%%.%dg" % digits) % v


class Table:
    def __init__(self):
        self.rows = []

    def add(self, figure, value, unit, ratio="", target="", verdict=""):
        self.rows.append((figure, fmt(value) if isinstance(value, (int, float)) else value,
                          unit, ratio, target, verdict))

    def markdown(self):
        lines = ["| figure | median | unit | ratio (same run) | target | verdict |",
                 "| --- | ---: | --- | ---: | --- | --- |"]
        for r in self.rows:
            lines.append("| " + " | ".join(r) + " |")
        return "\n".join(lines)


def verdict(ok, gap=""):
    return "met" if ok else ("**not met**" + (": " + gap if gap else ""))


def micro_targets(t, g):
    fb = g.get("framing_bench", {})
    mem = fb.get("BM_Memcpy")
    # 1. Frame reader against memcpy of the same body.
    for name, b in sorted(fb.items()):
        if name.startswith("BM_FrameReader/") and mem:
            chunk = name.split("/")[1]
            what = ("whole body in one chunk (zero-copy: payloads are views)" if chunk == "0"
                    else "fed in %s-byte chunks" % chunk)
            r = b["bytes_per_second"] / mem["bytes_per_second"]
            t.add("frame reader, 32 KiB identity frames, " + what, b["bytes_per_second"] / 1e9, "GB/s",
                  "%.2f x memcpy" % r, ">= 0.5 x memcpy", verdict(r >= 0.5, "%.2f" % r))
    if mem:
        t.add("memcpy of the same 8 MiB body", mem["bytes_per_second"] / 1e9, "GB/s")

    # 2. CBOR.
    for name, b in sorted(g.get("cbor_bench", {}).items()):
        if "bytes_per_second" in b:
            t.add("CBOR " + name[3:], b["bytes_per_second"] / 1e6, "MB/s")

    # 3. Encodings: one stream, and N streams on N threads.
    for name, b in sorted(fb.items()):
        if name.startswith(("BM_Encode/", "BM_Decode/")):
            what = "encode" if name.startswith("BM_Encode") else "decode"
            label = b.get("label", name)
            t.add("%s, one stream, 32 KiB payloads (%s)" % (what, label), b["bytes_per_second"] / 1e6, "MB/s")
    es = g.get("encoding_scaling_bench", {})
    cores = os.cpu_count() or 1
    streams = {k: b for k, b in es.items() if k.startswith("BM_EncodeStreams/")}
    paired = {k: b for k, b in es.items() if k.startswith("BM_EncodeScalingPaired/")}
    singles = {}
    for name, b in streams.items():
        parts = name.split("/")  # BM_EncodeStreams/<enc>/<n>/real_time
        if len(parts) >= 3 and parts[2] == "1":
            singles[parts[1]] = b
    for name, b in sorted(streams.items(), key=lambda kv: (kv[0].split("/")[1], int(kv[0].split("/")[2]))):
        parts = name.split("/")
        n = int(parts[2])
        label = b.get("label", name)
        one = singles.get(parts[1])
        ratio = target = v = ""
        if one and n > 1:
            s = b["bytes_per_second"] / one["bytes_per_second"]
            ratio = "%.2f x one stream" % s
            if n == cores and not paired:
                target = ">= %.1f (0.8 x %d cores)" % (0.8 * cores, cores)
                v = verdict(s >= 0.8 * cores, "%.2f" % s)
        t.add("encode, %d stream(s) on %d thread(s) (%s)" % (n, n, label), b["bytes_per_second"] / 1e6,
              "MB/s (wall)", ratio, target, v)
    # The target's factor, from one-stream and N-stream rounds timed in pairs.
    for name, b in sorted(paired.items()):
        n = int(name.split("/")[2])  # BM_EncodeScalingPaired/<enc>/<n>/...
        s = b["scaling_median"]
        target = ">= %.1f (0.8 x %d cores)" % (0.8 * cores, cores) if n == cores else ""
        t.add("scaling, %s, timed in pairs" % b.get("label", name), s, "x one stream",
              "round of 1 MiB per stream: %s ms on one, %s ms on %d (medians)"
              % (fmt(b["one_ms_median"]), fmt(b["many_ms_median"]), n),
              target, verdict(s >= 0.8 * cores, "%.2f" % s) if target else "")

    # 4. Context reuse.
    for name, b in sorted(g.get("context_reuse_bench", {}).items()):
        if name.startswith("BM_ContextReuseCbor"):
            r = b["long_lived_bytes"] / b["fresh_bytes"]
            t.add("1000 ~%d-byte CBOR responses, long-lived context (%s)" % (b["raw_bytes"] / 1000, b.get("label", "")),
                  b["long_lived_bytes"], "bytes", "%.2f x fresh (%d bytes)" % (r, b["fresh_bytes"]),
                  "<= 0.5 x fresh", verdict(r <= 0.5, "%.2f" % r))
        if name.startswith("BM_FreshContextPerResponse"):
            t.add("create + use a fresh context per response (%s)" % b.get("label", ""),
                  seconds(b, "cpu_time") / 1000 * 1e6, "us CPU per response")
    reuse = {}
    for name, b in fb.items():
        if name.startswith("BM_ContextReuse/"):
            _, enc, keep = name.split("/")[:3]
            reuse.setdefault(enc, {})[keep] = b
    for enc, d in sorted(reuse.items()):
        if "0" in d and "1" in d:
            r = d["1"]["bytes_per_response"] / d["0"]["bytes_per_response"]
            label = d["1"].get("label", enc).replace(" long-lived", "")
            t.add("1000 ~300-byte similar byte responses, long-lived context (%s)" % label,
                  d["1"]["bytes_per_response"] * 1000, "bytes",
                  "%.2f x fresh (%d bytes)" % (r, d["0"]["bytes_per_response"] * 1000),
                  "<= 0.5 x fresh", verdict(r <= 0.5, "%.2f" % r))

    # 5. Patch engine against memcpy of the output size.
    mp = g.get("mpatch_bench", {})
    pairs = [("BM_fold_apply_chain_1MiB_1000", "BM_memcpy_1MiB", "fold + apply, 1000-delta chain on 1 MiB"),
             ("BM_fold_only_1MiB_1000", "BM_memcpy_1MiB", "fold only, 1000-delta chain on 1 MiB"),
             ("BM_fold_apply_64MiB_10_reused", "BM_memcpy_64MiB_reused", "apply 10 deltas on 64 MiB (output buffer reused)"),
             ("BM_fold_apply_64MiB_10_fresh", "BM_memcpy_64MiB_fresh", "apply 10 deltas on 64 MiB (fresh output)"),
             ("BM_diff_text_1MiB_1pct_lines", "BM_memcpy_1MiB", "diff of 1 MiB texts, 1% of lines changed"),
             ("BM_diff_binary_1MiB_100x16", "BM_memcpy_1MiB", "diff of 1 MiB binary, 100 x 16-byte changes")]
    for op, base, label in pairs:
        if op in mp:
            ratio = ""
            if base in mp:
                q = seconds(mp[op], "cpu_time") / seconds(mp[base], "cpu_time")
                ratio = "%.1f x memcpy of the output (%s ms)" % (q, fmt(seconds(mp[base], "cpu_time") * 1e3))
            t.add(label, seconds(mp[op], "cpu_time") * 1e3, "ms CPU", ratio)
    # The target's ratio, from apply and memcpy timed in alternation.
    for name, b in mp.items():
        if name.startswith("BM_apply_vs_memcpy_64MiB_reused_paired"):
            q = b["ratio_median"]
            t.add("apply 10 deltas on 64 MiB over memcpy, timed in pairs (reused buffers)", q, "x memcpy",
                  "apply %s ms, memcpy %s ms (medians)" % (fmt(b["apply_ms_median"]), fmt(b["memcpy_ms_median"])),
                  "<= 1.3 x memcpy", verdict(q <= 1.3, "%.2f" % q))


def reference_targets(t, g, raw):
    """Mercurial's C mpatch on the same chains (bench/hg_mpatch_reference.py)."""
    mp = g.get("mpatch_bench", {})
    ours = {"chain-1mib-1000": ("BM_fold_apply_chain_1MiB_1000", "1000-delta chain on 1 MiB"),
            "chain-64mib-10": ("BM_fold_apply_64MiB_10_fresh", "10 deltas on 64 MiB (fresh output, like ours)")}
    for r in load_jsonl(os.path.join(raw, "hg-mpatch.jsonl")):
        op, label = ours.get(r["chain"], (None, r["chain"]))
        ratio = target = v = ""
        if op in mp:
            speedup = r["cpu_ms_median"] / (seconds(mp[op], "cpu_time") * 1e3)
            ratio = "hgrpcd %.2f x faster (%s ms)" % (speedup, fmt(seconds(mp[op], "cpu_time") * 1e3))
            if "empty_chain_cpu_ms_median" in r:
                ratio += "; the same call with empty deltas: %s ms" % fmt(r["empty_chain_cpu_ms_median"])
            if r["chain"] == "chain-1mib-1000":
                target, v = ">= 1.5 x faster", verdict(speedup >= 1.5, "%.2f" % speedup)
        if not r["same_text_as_hgrpc"]:
            v = (v + "; " if v else "") + "**different text from hgrpcd's apply**"
        t.add("Mercurial 6.3 C mpatch.patches (reference), " + label, r["cpu_ms_median"], "ms CPU",
              ratio, target, v)


def store_targets(t, raw):
    """Revision reconstruction on the bench repository: store_bench against
    Mercurial's C revlog (bench/hg_store_reference.py), same run."""
    path = os.path.join(raw, "store-benchrepo.json")
    ours = None
    if os.path.exists(path):
        with open(path) as f:
            for b in json.load(f).get("benchmarks", []):
                if b.get("run_type") != "aggregate" or b.get("aggregate_name") == "median":
                    ours = b
    hg = load_jsonl(os.path.join(raw, "hg-store-benchrepo.jsonl"))
    if ours:
        t.add("store: rebuild every file revision of the bench repository (%d revisions)"
              % ours.get("revisions", 0), seconds(ours, "cpu_time") * 1e3, "ms CPU")
    if hg:
        r = hg[0]
        ratio = target = v = ""
        if ours:
            speedup = r["cpu_ms_median"] / (seconds(ours, "cpu_time") * 1e3)
            ratio = "hgrpcd %.2f x faster" % speedup
            target, v = ">= 2 x faster", verdict(speedup >= 2, "%.2f" % speedup)
        t.add("Mercurial 6.3 C revlog rawdata of the same %d revisions (%.0f MiB)" % (r["revisions"], r["bytes"] / MiB),
              r["cpu_ms_median"], "ms CPU", ratio, target, v)


def clone_targets(t, raw):
    m = load_json(raw, "clone.json")
    if m is None:
        return
    ours, theirs, r = m["hgrpcd"], m["hg_serve"], m["ratios"]
    hg_ms = theirs["clone"]["server_cpu_s"] * 1000
    client = m.get("client", "Python threads")
    # hgrpc clone lists zstd-8mb-frames first: stored chunks go out as they
    # are. Mercurial 5.8's client asks for zstd-8mb: everything recompressed.
    cpu = r["spliced_server_cpu_vs_hg_serve_clone"]
    t.add("full clone of the bench repository, server CPU: hgrpcd, stored chunks spliced (hgrpc clone's "
          "zstd-8mb-frames; %d requests, %.1f MB out)" % (ours["requests"], ours["spliced_one"]["response_bytes"] / 1e6),
          ours["spliced_one"]["server_cpu_s"] * 1000, "ms", "%.3fx hg serve's %.0f ms (hg clone)" % (cpu, hg_ms),
          "<= 0.1x", verdict(cpu <= 0.1, "%.3fx" % cpu))
    t.add("  the same, recompressed (zstd-8mb, as Mercurial 5.8's client asks; %.1f MB out)"
          % (ours["one"]["response_bytes"] / 1e6), ours["one"]["server_cpu_s"] * 1000, "ms",
          "%.3fx hg serve's" % r["server_cpu_vs_hg_serve_clone"])
    t.add("  hg serve answering hg clone --stream, server CPU", theirs["stream"]["server_cpu_s"] * 1000, "ms",
          "hgrpcd (recompressed) %.1fx of it" % r["server_cpu_vs_hg_serve_stream"])
    conc = r["spliced_concurrent_throughput"]
    t.add("  %d clones at once (spliced; clients: %s): aggregate clones/s over one clone's"
          % (ours["spliced_many"]["clients"], client), ours["spliced_many"]["clones_per_s"], "clones/s",
          "%.2fx (one: %.3f)" % (conc, ours["spliced_one"]["clones_per_s"]), ">= 1.7x", verdict(conc >= 1.7, "%.2fx" % conc))
    t.add("  %d clones at once (recompressed)" % ours["many"]["clients"], ours["many"]["clones_per_s"], "clones/s",
          "%.2fx (one: %.3f)" % (r["concurrent_throughput"], ours["one"]["clones_per_s"]))
    one_rss = ours.get("peak_rss_one_clone_mib", 0)
    t.add("  hgrpcd peak RSS (VmHWM) during one clone at a time", one_rss, "MiB", "", "<= 96 MiB",
          verdict(one_rss <= 96, "%.1f MiB" % one_rss))
    t.add("  hgrpcd peak RSS (VmHWM) with %d clones at once" % ours["many"]["clients"], ours["peak_rss_mib"], "MiB")
    kinds = ours.get("cache", {})
    if "recompressed" in kinds:
        cache_rows(t, kinds["recompressed"], "response cache, %s (recompressed in the background, the default)",
                   "response cache: %d identical clones", kinds.get("spliced"))
    if "spliced" in kinds:
        cache_rows(t, kinds["spliced"], "  --no-cache-recompress, %s (stored chunks spliced)",
                   "  --no-cache-recompress: %d identical clones")


def cache_rows(t, figures, answer_label, storm_label, spliced=None):
    """The response cache's rows of one kind (clone_bench.py's cache figures);
    with spliced, each answer row also compares the cached answer's size."""
    for name, label, target in (("filesdata", "whole-repository filesdata", 0.05), ("clone", "whole clone", 0.1)):
        c = figures[name]
        note = "%.3fx computing it (%.0f ms, with any recompression it caused)" % (
            c["ratio"], c["first"]["server_cpu_s"] * 1000)
        if spliced:
            note += "; %.1f MB a cached answer (spliced: %.1f MB)" % (
                c["cached"]["response_bytes"] / 1e6, spliced[name]["cached"]["response_bytes"] / 1e6)
        t.add((answer_label % label) + ": server CPU answered from the cache", c["cached"]["server_cpu_s"] * 1000,
              "ms", note, "<= %.2fx" % target, verdict(c["ratio"] <= target, "%.3fx" % c["ratio"]))
    storm = figures["storm"]
    ratio = storm["ratio_vs_one_uncached_clone"]
    t.add((storm_label % storm["clients"]) + " at once from a cold cache, server CPU",
          storm["storm"]["server_cpu_s"] * 1000, "ms", "%.2fx one uncached clone" % ratio, "<= 1.5x",
          verdict(ratio <= 1.5, "%.2fx" % ratio))

def client_clone_targets(t, raw):
    """hgrpc clone -U against hg clone -U and hg clone -U --stream (bench/client_clone_bench.py)."""
    m = load_json(raw, "client-clone.json")
    if m is None:
        return
    ours, theirs, r = m["hgrpc"], m.get("hg"), m.get("ratios")
    wire = ours["wire_bytes_down"] + ours["wire_bytes_up"]
    if theirs:
        t.add("hgrpc clone -U of the bench repository from hgrpcd (%d changesets, %d file revisions, %d requests, "
              "%s writer threads; clones written under %s), client wall time"
              % (ours["changesets"], ours["file_revisions"], ours["requests"], ours.get("write_threads", 0),
                 m.get("work_dir", "/tmp")),
              ours["wall_s"] * 1000, "ms", "%.3fx hg clone -U http:// (%.0f ms)" % (r["wall_vs_hg_clone"],
              theirs["clone"]["wall_s"] * 1000), "<= 0.33x", verdict(r["wall_vs_hg_clone"] <= 0.33,
              "%.3fx" % r["wall_vs_hg_clone"]))
        t.add("  the same against hg clone -U --stream from the same hg serve", ours["wall_s"] * 1000, "ms",
              "%.3fx hg clone --stream (%.0f ms)" % (r["wall_vs_hg_stream"], theirs["stream"]["wall_s"] * 1000),
              "<= 1.0x", verdict(r["wall_vs_hg_stream"] <= 1.0, "%.3fx" % r["wall_vs_hg_stream"]))
        t.add("  bytes on the wire (both ways, headers included; counting proxy)", wire / 1e6, "MB",
              "%.3fx hg clone's %.1f MB (--stream: %.1f MB)" % (r["wire_bytes_vs_hg_clone"],
              (theirs["clone"]["wire_bytes_down"] + theirs["clone"]["wire_bytes_up"]) / 1e6,
              (theirs["stream"]["wire_bytes_down"] + theirs["stream"]["wire_bytes_up"]) / 1e6),
              "<= 1.0x", verdict(r["wire_bytes_vs_hg_clone"] <= 1.0, "%.3fx" % r["wire_bytes_vs_hg_clone"]))
        if "wire_bytes_zstd_8mb_vs_hg_clone" in r:
            z = r["wire_bytes_zstd_8mb_vs_hg_clone"]
            t.add("  bytes on the wire with --encoding zstd-8mb (everything recompressed by the server)",
                  ours["wire_bytes_zstd_8mb"] / 1e6, "MB", "%.3fx hg clone's" % z, "<= 1.0x",
                  verdict(z <= 1.0, "%.3fx" % z))
    t.add("  hgrpc clone peak RSS (ru_maxrss of the client)", ours["peak_rss_mib"], "MiB",
          "hg clone %.0f MiB, --stream %.0f MiB" % (theirs["clone"]["peak_rss_mib"], theirs["stream"]["peak_rss_mib"])
          if theirs else "", "<= 128 MiB", verdict(ours["peak_rss_mib"] <= 128, "%.1f MiB" % ours["peak_rss_mib"]))
    st = ours["stages"]
    t.add("  where hgrpc clone's time goes (s): " + ", ".join("%s %.3f" % (k, st[k]) for k in
          ("network_wait", "http", "decode", "patch", "hash", "revlog_write", "write_wait", "checkout", "other")
          if k in st) + " (every thread's, summed)",
          ours["client_wall_s"] * 1000, "ms", "CPU %.3f s (every thread)" % ours["cpu_s"])


def redirect_targets(t, raw):
    """hgrpc clone -U through content redirects served by nginx (bench/redirect_bench.py)."""
    m = load_json(raw, "redirect.json")
    if m is None:
        return
    first, again, inline = m["first"], m["again"], m["inline"]
    share = m["hgrpcd_share"]
    t.add("hgrpc clone -U through content redirects (nginx serves the blobs): response bytes from hgrpcd itself",
          again["bytes_from_server"], "bytes",
          "%.4f%% of the clone's %.1f MB (first clone: %d bytes; without redirects %.1f MB from hgrpcd)"
          % (share * 100, (again["bytes_from_server"] + again["bytes_from_redirects"]) / 1e6,
             first["bytes_from_server"], inline["bytes_from_server"] / 1e6),
          "<= 5%", verdict(share <= 0.05, "%.2f%%" % (share * 100)))
    t.add("  wall time of that clone: blobs written, then reused (without redirects: %.0f ms)"
          % (inline["wall_s"] * 1000), again["wall_s"] * 1000, "ms", "first %.0f ms" % (first["wall_s"] * 1000))


def streams_targets(t, raw):
    """One large response over 1 and 2 output streams, per encoding (wall time)."""
    rows = median_by(load_jsonl(os.path.join(raw, "streams.jsonl")),
                     lambda r: (r["encodings"][0], r["compress_threads"]))
    for enc in ("zstd-8mb", "zlib"):
        one, two = rows.get((enc, 1)), rows.get((enc, 2))
        for r in (one, two):
            if not r:
                continue
            ratio = target = v = ""
            if r is two and one and one["mb_per_s"] > 0:
                q = r["mb_per_s"] / one["mb_per_s"]
                ratio = "%.2f x one stream" % q
                target, v = ">= 1.6 x one stream", verdict(q >= 1.6, "%.2f" % q)
            err = r.get("error")
            if err:
                v = (v + "; " if v else "") + err
            t.add("one %.0f MiB response, %s, %d output stream(s) used (--compress-threads %d)"
                  % (r["response_bytes"] / MiB, enc, r.get("streams", 0), r["compress_threads"]),
                  r["mb_per_s"], "MB/s wall", ratio, target, v)


def e2e_targets(t, raw):
    h = median_by(load_jsonl(os.path.join(raw, "e2e-hgrpcd.jsonl")), lambda r: (r["case"], r["connections"]))
    n = median_by(load_jsonl(os.path.join(raw, "e2e-nginx.jsonl")), lambda r: (r["as"], r["connections"]))
    labels = {"patchedsize": "patchedsize (small)", "applypatches": "applypatches (1 MiB base, 100 deltas)",
              "multirequest": "multirequest of 200 patchedsize"}
    for (case, conns), r in sorted(h.items()):
        label = "%s, %d conn" % (labels.get(case, case), conns)
        ng = n.get((case, conns))
        ratio = target = v = ""
        if ng and ng["rps"] > 0:
            q = r["rps"] / ng["rps"]
            ratio = "%.2f x nginx static (%s req/s)" % (q, fmt(ng["rps"]))
            if case == "patchedsize":
                target = ">= 0.5 x nginx"
                v = verdict(q >= 0.5, "%.2f" % q)
        if r.get("errors"):
            v = (v + "; " if v else "") + "%d errors: %s" % (r["errors"], r.get("first_error", ""))
        t.add(label + ": requests/s", r["rps"], "req/s", ratio, target, v)
        if case == "multirequest":
            t.add(label + ": commands/s", r["rps"] * r["commands_per_request"], "commands/s")
        t.add(label + ": latency p50 / p99", "%s / %s" % (fmt(r["p50_us"] / 1e3), fmt(r["p99_us"] / 1e3)), "ms",
              "nginx: %s / %s" % (fmt(ng["p50_us"] / 1e3), fmt(ng["p99_us"] / 1e3)) if ng else "")
    for (case, conns), r in sorted(n.items()):
        t.add("nginx static file of %d bytes (as %s), %d conn: requests/s" % (r["response_bytes"], case, conns),
              r["rps"], "req/s")


def memory_targets(t, raw):
    m = load_json(raw, "memory.json")
    if m is None:
        return
    hwm = m.get("server_vmhwm", 0) / MiB
    v = verdict(hwm <= 64 and not m.get("error"), "%.1f MiB" % hwm)
    if m.get("error"):
        v += "; " + m["error"]
    t.add("hgrpcd peak RSS (VmHWM) while a %.2f GiB multirequest body streams through (%d requests)"
          % (m["body_bytes"] / 1024 / MiB, m["requests"]), hwm, "MiB",
          "idle before: %.1f MiB" % (m.get("server_vmhwm_before", 0) / MiB), "<= 64 MiB", v)
    t.add("  the same body: ingest rate", m["mb_per_s"], "MB/s")
    p = os.path.join(raw, "memory-response.jsonl")
    if not os.path.exists(p):
        return
    for line in open(p):
        m = json.loads(line)
        hwm = m.get("server_vmhwm", 0) / MiB
        v = verdict(hwm <= 64 and not m.get("error"), "%.1f MiB" % hwm)
        if m.get("error"):
            v += "; " + m["error"]
        t.add("hgrpcd peak RSS (VmHWM) while one %d MiB response streams out (%s, benchstream)"
              % (m["response_bytes"] / MiB, ",".join(m["encodings"])), hwm, "MiB",
              "idle before: %.1f MiB; %.0f MB/s" % (m.get("server_vmhwm_before", 0) / MiB, m["mb_per_s"]),
              "<= 64 MiB", v)


def conn_targets(t, raw):
    for name, label, load in (("conn-direct.json", "default hgrpcd", "1000 silent + 200 slow-head"),
                              ("conn-nginx.json", "deploy/nginx.conf in front", "2000 silent + 400 slow-head")):
        p = os.path.join(raw, name)
        if not os.path.exists(p):
            continue
        m = json.load(open(p))
        ok = m["p99_ms"] <= 50 and m["failures"] == 0
        t.add("small requests, %s, %s connections held: p99 (%d requests, %d failed)"
              % (label, load, m["requests"], m["failures"]), m["p99_ms"], "ms",
              "p50 %.2f, max %.1f" % (m["p50_ms"], m["max_ms"]), "<= 50 ms, 0 failed",
              verdict(ok, m.get("first_failure", "")))
        back = m["threads_after"] <= m["threads_idle"]
        t.add("  hgrpcd threads idle / peak / after", "%d / %d / %d" % (m["threads_idle"], m["threads_peak"],
              m["threads_after"]), "threads", "", "back to idle", verdict(back))
        t.add("  hgrpcd RSS idle / peak / after", "%.1f / %.1f / %.1f" % (m["rss_kib_idle"] / 1024,
              m["rss_kib_peak"] / 1024, m["rss_kib_after"] / 1024), "MiB")
    p = os.path.join(raw, "conn-overlimit.json")
    if os.path.exists(p):
        m = json.load(open(p))
        t.add("503 past --max-open-connections: connect to complete answer, p99 (%d probes, %d not 503)"
              % (m["probes"], m["not_503"]), m["p99_ms"], "ms", "max %.1f" % m["max_ms"], "<= 10 ms",
              verdict(m["p99_ms"] <= 10 and m["not_503"] == 0))
    p = os.path.join(raw, "soak.json")
    if os.path.exists(p):
        m = json.load(open(p))
        back = m.get("back_to_idle")
        idle = "fds_idle" in m
        fds_idle = m["fds_idle"] if idle else m["fds_before"]
        threads_idle = m["threads_idle"] if idle else m["threads_before"]
        grew = m["fds_after"] > fds_idle or m["threads_after"] > threads_idle
        t.add("soak, %d clients, %.0f s: wrong answers (of %d exchanges)" % (m["clients"], m["seconds"],
              m["exchanges"]), m["wrong"], "", "", "0", verdict(m["wrong"] == 0, m.get("first_wrong", "")))
        if "retried_after_keep_alive_close" in m:
            t.add("  requests sent again after a keep-alive close (server's idle closes)",
                  "%d (%d)" % (m["retried_after_keep_alive_close"], m["server_keep_alive_closes"]), "", "",
                  "<= idle closes", verdict(m["retried_after_keep_alive_close"] <= max(0, m["server_keep_alive_closes"])))
        t.add("  fds / threads idle -> after", "%d -> %d / %d -> %d" % (fds_idle, m["fds_after"],
              threads_idle, m["threads_after"]), "", "", "back to idle", verdict(not grew))
        if idle:
            t.add("  RSS fresh / idle / peak / after", "%.1f / %.1f / %.1f / %.1f" % (
                  m["rss_kib_before"] / 1024, m["rss_kib_idle"] / 1024, m["rss_kib_peak"] / 1024,
                  m["rss_kib_after"] / 1024), "MiB", "", "after <= idle + %.1f" % (m["rss_slack_kib"] / 1024),
                  verdict(bool(back and back["rss"])))
        else:
            t.add("  RSS before / peak / after", "%.1f / %.1f / %.1f" % (m["rss_kib_before"] / 1024,
                  m["rss_kib_peak"] / 1024, m["rss_kib_after"] / 1024), "MiB")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("raw")
    ap.add_argument("--hgrpcd", default="")
    args = ap.parse_args()
    m = machine(args.raw)
    t = Table()
    gbench = load_gbench(args.raw)
    micro_targets(t, gbench)
    reference_targets(t, gbench, args.raw)
    store_targets(t, args.raw)
    clone_targets(t, args.raw)
    client_clone_targets(t, args.raw)
    redirect_targets(t, args.raw)
    streams_targets(t, args.raw)
    e2e_targets(t, args.raw)
    memory_targets(t, args.raw)
    conn_targets(t, args.raw)
    print("# hgrpcd benchmark results\n")
    print("Machine: %d CPUs (%s), %s RAM, Linux %s; load average %s during the run."
          % (m["nproc"], m["cpu"], m["memory"], m["kernel"], m["load"]))
    print("Client and server share the machine; every load is on 127.0.0.1. In the end-to-end cases")
    print("neither server writes an access log (hgrpcd --access-log off, nginx access_log off).\n")
    print(t.markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main())
