#!/usr/bin/python3
"""The reference for the patch-engine figures: Mercurial's own C mpatch
(mercurial.cext.mpatch, from Debian's mercurial package) on the same seeded
chains as bench/mpatch_bench, in the same run.

Usage: hg_mpatch_reference.py [--reps N] CHAIN.bin...   (from mpatch_chain_dump)

Times mpatch.patches(base, deltas), which folds the chain and applies it in
one call into a new bytes object, as Mercurial's revlog does. Each repetition
runs the call for at least MIN_SECONDS and reports CPU time per call (like
Google Benchmark's cpu_time); the median repetition is printed. The result
is checked against the text hgrpcd's apply() made of the same chain. The
same call with as many empty deltas gives the part of the time that is not
patching (Python's argument handling, the output's allocation and copy).
Prints one JSON object per chain.
"""
import argparse
import json
import os
import statistics
import struct
import sys
import time

MIN_SECONDS = 0.5


def read_records(path):
    with open(path, "rb") as f:
        data = f.read()
    records, pos = [], 0
    while pos < len(data):
        (length,) = struct.unpack_from("<Q", data, pos)
        pos += 8
        records.append(data[pos:pos + length])
        pos += length
    return records


def cpu_ms_per_call(call):
    """CPU milliseconds per call, over at least MIN_SECONDS of calls."""
    calls, start = 0, time.process_time()
    while True:
        call()
        calls += 1
        spent = time.process_time() - start
        if spent >= MIN_SECONDS:
            return spent * 1e3 / calls


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("chains", nargs="+")
    args = parser.parse_args()
    try:
        from mercurial.cext import mpatch
    except ImportError as e:
        sys.exit("hg_mpatch_reference: Mercurial's C mpatch is not importable (%s); "
                 "install Debian's mercurial package" % e)

    for path in args.chains:
        records = read_records(path)
        base, deltas, expected = records[0], records[1:-1], records[-1]
        result = mpatch.patches(base, deltas)
        times = [cpu_ms_per_call(lambda: mpatch.patches(base, deltas)) for _ in range(args.reps)]
        # What the call costs without patching: as many empty deltas, so the
        # same per-delta buffer handling, the same output allocation and copy.
        empty = [b""] * len(deltas)
        floor = [cpu_ms_per_call(lambda: mpatch.patches(base, empty)) for _ in range(args.reps)]
        print(json.dumps({
            "chain": os.path.basename(path).removesuffix(".bin"),
            "deltas": len(deltas),
            "output_bytes": len(result),
            "same_text_as_hgrpc": result == expected,
            "cpu_ms_median": statistics.median(times),
            "cpu_ms_reps": times,
            "empty_chain_cpu_ms_median": statistics.median(floor),
        }))


if __name__ == "__main__":
    main()
