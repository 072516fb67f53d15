#!/usr/bin/python3
"""The reference for store_bench: Debian Mercurial's own revlog code (its C
index and mpatch) rebuilding every revision of every filelog of the same
repository, in-process.

Usage: hg_store_reference.py [--reps N] REPO

Each repetition opens fresh filelog objects (cold caches, like store_bench's
fresh snapshot) and calls rawdata(rev) for every rev, which decompresses,
follows the delta chain and checks the hash. Reports the median CPU time of
the repetitions and what was rebuilt, as one JSON object.
"""
import argparse
import json
import os
import statistics
import time

os.environ["HGRCPATH"] = os.devnull


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("repo")
    args = parser.parse_args()
    from mercurial import hg, ui as uimod

    repo = hg.repository(uimod.ui.load(), args.repo.encode()).unfiltered()
    cl = repo.changelog
    files = set()
    for rev in cl:
        files.update(cl.changelogrevision(rev).files)
    times = []
    for _ in range(args.reps):
        total = revisions = 0
        start = time.process_time()
        for f in sorted(files):
            rl = repo.file(f)._revlog  # a new filelog: nothing cached
            for rev in range(len(rl)):
                total += len(rl.rawdata(rev))
                revisions += 1
        times.append((time.process_time() - start) * 1e3)
    print(json.dumps({
        "files": len(files),
        "revisions": revisions,
        "bytes": total,
        "cpu_ms_median": statistics.median(times),
        "cpu_ms_reps": times,
    }))


if __name__ == "__main__":
    main()
