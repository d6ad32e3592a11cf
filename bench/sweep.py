#!/usr/bin/env python3
"""Sweep speed (issue 12, goal 2): the wall time of `healthtop check` over N loopback targets on
a real nginx, against curl fetching the same N URLs at the same concurrency, run alternately in
the same run, median of --runs (one run at 100 000).

  fresh connections (healthtop's default) vs `curl --parallel -H 'Connection: close'`:
      10 000 and 100 000 targets; goal <= 1.0x
  reuse_connections: true vs plain `curl --parallel` (keep-alive): 10 000; goal <= 1.25x

    python3 bench/sweep.py            # the full run: 2 minutes on the quiet 2-core machine, 6 busy
    python3 bench/sweep.py --quick    # 2 000 targets, one run each: seconds

Both sides do the whole job of a command line: start, read their list, fetch, write what they
got (healthtop its SQLite database and its table, curl the bodies to /dev/null), exit. One
untimed run of each comes first: it creates healthtop's database, as a `check` run from cron
finds it, and warms nginx and the page cache for both.
"""
import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

from benchlib import HERE, Nginx, record, write_fleet

HEALTHTOP = os.environ.get("HEALTHTOP") or os.path.join(HERE, "..", "healthtop")
CURL = "curl"


def write_curl_config(path, n, url):
    """The same N URLs as write_fleet's targets, as a curl --config file."""
    sep = "&" if "?" in url else "?"
    with open(path, "w") as f:
        for i in range(n):
            f.write(f'url = "{url}{sep}i={i}"\noutput = "/dev/null"\n')
    return path


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(argv, env=None):
    """(wall seconds, CPU seconds) of one run. The CPU time is shown beside the wall time: on a
    machine shared with other jobs it says what the wall time cannot, who did more work."""
    c0, t0 = children_cpu(), time.monotonic()
    p = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    wall, cpu = time.monotonic() - t0, children_cpu() - c0
    if p.returncode != 0:
        sys.exit(f"sweep: {' '.join(argv[:3])} ... exited {p.returncode}: {p.stderr.decode()[-400:]}")
    return wall, cpu


def healthtop_run(cfg, db, concurrency):
    env = dict(os.environ, NO_COLOR="1")
    return timed([HEALTHTOP, "check", "-c", cfg, "--db", db, "--concurrency", str(concurrency)], env)


def curl_run(curl_cfg, concurrency, close):
    argv = [CURL, "-s", "--parallel", "--parallel-max", str(concurrency), "--config", curl_cfg]
    if close:
        argv[1:1] = ["-H", "Connection: close"]
    return timed(argv)


def compare(d, nginx, n, runs, concurrency, reuse):
    """Alternates healthtop and curl `runs` times; returns each one's [(wall, cpu)] per run."""
    # Every target must be healthy (exit 0) whatever the machine's load: slowness is what is
    # measured here, not judged (curl judges nothing either).
    extra = {"timeout_ms": 60000, "degraded_ms": 60000}
    if reuse:
        extra["reuse_connections"] = True
    cfg = write_fleet(os.path.join(d, f"fleet-{n}-{int(reuse)}.json"), n, nginx.url(),
                      concurrency=concurrency, extra_defaults=extra)
    curl_cfg = write_curl_config(os.path.join(d, f"curl-{n}.txt"), n, nginx.url())
    db = os.path.join(d, f"sweep-{n}-{int(reuse)}.db")
    healthtop_run(cfg, db, concurrency)
    curl_run(curl_cfg, concurrency, close=not reuse)
    ht, cu = [], []
    for _ in range(runs):
        ht.append(healthtop_run(cfg, db, concurrency))
        cu.append(curl_run(curl_cfg, concurrency, close=not reuse))
    return ht, cu


def median(runs, i):
    return statistics.median(r[i] for r in runs)


def report(n, reuse, concurrency, runs, ht, cu, goal):
    wall, ref_wall = median(ht, 0), median(cu, 0)
    ratio = wall / ref_wall
    mode = "reuse_connections" if reuse else "fresh connections"
    ref = "curl --parallel (keep-alive)" if reuse else "curl --parallel, Connection: close"
    record(f"check, {n} targets, {mode} (wall, median of {runs})",
           f"{wall:.2f} s (CPU {median(ht, 1):.2f} s)", f"<= {goal:.2f}x curl",
           f"{ref}: {ref_wall:.2f} s (CPU {median(cu, 1):.2f} s)", f"{ratio:.2f}", ratio <= goal,
           f"python3 bench/sweep.py --targets {n} --runs {runs} --concurrency {concurrency}"
           + (" --reuse" if reuse else ""))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="2 000 targets, one run of each")
    ap.add_argument("--targets", type=int, help="one size only (and --reuse: only the reuse row)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--reuse", action="store_true")
    args = ap.parse_args()
    if args.quick:
        plan = [(2000, False, 1), (2000, True, 1)]
    elif args.targets:
        plan = [(args.targets, args.reuse, args.runs)]
    else:
        plan = [(10000, False, args.runs), (100000, False, 1), (10000, True, args.runs)]
    with tempfile.TemporaryDirectory(prefix="healthtop-sweep-") as d, Nginx() as nginx:
        for n, reuse, runs in plan:
            ht, cu = compare(d, nginx, n, runs, args.concurrency, reuse)
            print(f"sweep: {n} targets reuse={reuse}: (wall, cpu) healthtop "
                  f"{[f'{w:.2f}/{c:.2f}' for w, c in ht]} curl {[f'{w:.2f}/{c:.2f}' for w, c in cu]}", flush=True)
            report(n, reuse, args.concurrency, runs, ht, cu, 1.25 if reuse else 1.0)


if __name__ == "__main__":
    main()
