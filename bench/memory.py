#!/usr/bin/env python3
"""Memory at 1 000 / 10 000 / 100 000 targets (issue 12, goal 1): peak RSS of `healthtop check`
and the RSS of `healthtop daemon` in steady state, against 16 MiB + 2 KiB per target; as the
reference, the peak RSS of `curl --parallel --parallel-max 64` fetching the same URLs.

A real nginx on loopback serves every target (each its own URL). `check` and curl are measured
by the kernel's own peak (wait4's ru_maxrss, what /usr/bin/time -f %M prints). The daemon is
read from /proc once its first sweep is stored and it waits for the next (interval 60 s, the
next checks begin 30 s or more later): VmRSS then, and VmHWM (its peak since start, start-up
included).

    python3 bench/memory.py [--quick]     # --quick: 1 000 and 10 000 targets only
Full run: about 2 minutes on the project's 2-core machine (100 000 targets dominate).
"""
import argparse
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
from benchlib import Nginx, peak_rss_kib, record, rss_kib, write_fleet  # noqa: E402
from htlib import BINARY  # noqa: E402

CONCURRENCY = 64


def goal_kib(n):
    return 16 * 1024 + 2 * n


def mib(kib):
    return f"{kib / 1024:.1f} MiB"


def run_peak_kib(argv):
    """Runs argv to its end; its peak RSS in KiB (the kernel's, as /usr/bin/time reports)."""
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_maxrss, p.returncode


def curl_config(path, fleet_urls):
    with open(path, "w") as f:
        for u in fleet_urls:
            f.write(f'url = "{u}"\noutput = "/dev/null"\n')
    return path


def stored_results(db):
    try:
        c = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return c.execute("SELECT count(*) FROM result").fetchone()[0]
        finally:
            c.close()
    except sqlite3.Error:
        return 0


def daemon_rss(cfg, db, n, limit_s):
    """(VmRSS, VmHWM) in KiB once the first sweep is stored, or None if it never is."""
    p = subprocess.Popen([BINARY, "daemon", "-c", cfg, "--db", db],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        t0 = time.monotonic()
        while stored_results(db) < n:
            if time.monotonic() - t0 > limit_s or p.poll() is not None:
                return None
            time.sleep(0.5)
        time.sleep(2)   # the last batch's aftermath; the next checks are 30 s or more away
        return rss_kib(p.pid), peak_rss_kib(p.pid)
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(60)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def measure(nginx, d, n):
    cfg = write_fleet(os.path.join(d, f"fleet{n}.json"), n, nginx.url(), interval_s=60,
                      concurrency=CONCURRENCY)
    urls = [f"{nginx.url()}?i={i}" for i in range(n)]
    curlcfg = curl_config(os.path.join(d, f"curl{n}.txt"), urls)
    goal = goal_kib(n)
    label = f"{n:,}".replace(",", " ")

    curl_kib, _ = run_peak_kib(["curl", "--parallel", "--parallel-max", str(CONCURRENCY), "-s",
                                "--config", curlcfg])
    ref = f"curl --parallel: {mib(curl_kib)}"

    db = os.path.join(d, f"check{n}.db")
    check_kib, rc = run_peak_kib([BINARY, "check", "-c", cfg, "--db", db])
    record(f"check peak RSS, {label} targets", mib(check_kib), f"<= {mib(goal)}", ref,
           f"{check_kib / goal:.2f}", check_kib <= goal and rc == 0,
           f"/usr/bin/time -f %M healthtop check -c fleet{n}.json (nginx, {CONCURRENCY} at once)")

    got = daemon_rss(cfg, os.path.join(d, f"daemon{n}.db"), n, limit_s=120 + n / 500)
    if got is None:
        record(f"daemon steady RSS, {label} targets", "no first sweep", f"<= {mib(goal)}", ref, "", False,
               f"healthtop daemon -c fleet{n}.json")
        return
    rss, hwm = got
    record(f"daemon steady RSS, {label} targets", f"{mib(rss)} (peak {mib(hwm)})", f"<= {mib(goal)}", ref,
           f"{rss / goal:.2f} (peak {hwm / goal:.2f})", rss <= goal,
           f"healthtop daemon -c fleet{n}.json; VmRSS, VmHWM after the first sweep is stored")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="1 000 and 10 000 targets only")
    ap.add_argument("--targets", type=int, nargs="*", help="fleet sizes (default 1000 10000 100000)")
    a = ap.parse_args()
    sizes = a.targets or ([1000, 10000] if a.quick else [1000, 10000, 100000])
    with tempfile.TemporaryDirectory(prefix="healthtop-bench-memory-") as d, Nginx() as nginx:
        for n in sizes:
            measure(nginx, d, n)


if __name__ == "__main__":
    main()
