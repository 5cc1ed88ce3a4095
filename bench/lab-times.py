#!/usr/bin/env python3
"""Time `labcheck <lab>` on each lab's solution stack at rest: the median of RUNS runs.

usage: bench/lab-times.py [--runs 5] [--binary PATH ...] LAB...
Each compose lab's solution comes up under the project `h-lab-times-<lab>` (with the lab's
[live] after_up steps), while holding /tmp/compose-lab-live.lock, is checked by every binary
given (e.g. a build before and after a change) RUNS times, interleaved, and is torn down.
Phase 2 (plain containers) runs its [live] up and down scripts. Prints one line per lab and
binary: the median, min and max wall time, and whether the run was green.
"""
import argparse
import fcntl
import os
import statistics
import subprocess
import sys
import time
import tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def sh(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--binary", action="append")
    ap.add_argument("labs", nargs="+")
    a = ap.parse_args()
    binaries = a.binary or [os.path.join(ROOT, "target/debug/labcheck")]
    lock = open("/tmp/compose-lab-live.lock", "w")
    for lab in a.labs:
        d = os.path.join(ROOT, "labs", lab)
        spec = tomllib.load(open(os.path.join(d, "lab.toml"), "rb"))
        live = spec.get("live", {})
        project = f"h-lab-times-{lab}"
        compose = ["docker", "compose", "-f", os.path.join(d, "solution/compose.yaml"), "-p", project]
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if "up" in live:
                up = sh(["bash", os.path.join(d, live["up"])], cwd=d)
                extra = []
            else:
                up = sh(compose + ["up", "-d", "--wait", "--build"])
                for step in live.get("after_up", []):
                    sh(compose + step)
                extra = ["-p", project]
            if up.returncode != 0:
                print(f"{lab}: the stack did not come up: {up.stderr[-300:]}")
                continue
            times = {b: [] for b in binaries}
            codes = {b: set() for b in binaries}
            for b in binaries:  # warm-up
                sh([b, lab] + extra)
            for _ in range(a.runs):
                for b in binaries:
                    t = time.monotonic()
                    r = sh([b, lab] + extra)
                    times[b].append(time.monotonic() - t)
                    codes[b].add(r.returncode)
            for b in binaries:
                ts = times[b]
                print(f"{lab:8} {b}: median {statistics.median(ts):.2f}s "
                      f"(min {min(ts):.2f}, max {max(ts):.2f}, n={len(ts)}) exit {sorted(codes[b])}")
        finally:
            if "down" in live:
                sh(["bash", os.path.join(d, live["down"])], cwd=d)
            else:
                sh(compose + ["down", "-v", "--remove-orphans"])
            fcntl.flock(lock, fcntl.LOCK_UN)
    print("load average:", open("/proc/loadavg").read().split()[:3])


if __name__ == "__main__":
    sys.exit(main())
