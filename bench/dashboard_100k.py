#!/usr/bin/env python3
"""The dashboard on 100 000 targets: time from exec to the first frame on a year of history, and
the time each keystroke (filter, sort, scroll) takes to reach the screen.

The history (bench/gen_history.py --bulk, cached in BENCH_DIR): a year of daily rollups, hourly
rollups for the last 2 days and raw results for the last 2 hours (120 checks per target at 60 s:
a full sample ring each, and the 1 h window's 6 M rows). A year of raw or hourly rows for 100 000
targets would be 52 billion or 876 million rows; the dashboard's start reads neither (it reads the
rings and the 1 h window), so their absence changes only the file's size. See docs/performance.md.

The checks are not what is measured: the database's poller lease is held by a stand-in (a
sleeping process named healthtop), so the dashboard is a viewer that reads and draws but never
probes, as a dashboard next to `healthtop daemon` is. (As the poller it would start a sweep of
every target at once, on the same loop.) The dashboard runs on a pseudo-terminal (200x50). The
open is the median of --runs starts; the keys are pressed --runs times in one session once the
history is all on screen (median per key). The reference is the same fleet on an empty database
(the open) and a 1 000-target fleet (the keys).

    python3 bench/dashboard_100k.py [--quick] [--runs 3]
"""
import argparse
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import benchlib  # noqa: E402
from first_frame import Dashboard  # noqa: E402
from gen_history import schema  # noqa: E402

URL = "http://127.0.0.1:9/health"   # closed: nothing is checked in the window anyway
KEYS = [("filter /", b"/"), ("filter s", b"s"), ("filter v", b"v"), ("filter c", b"c"), ("filter -", b"-"),
        ("filter 4", b"4"), ("filter 2", b"2"), ("filter Enter", b"\r"), ("clear Esc", b"\x1b"),
        ("sort s (name)", b"s"), ("sort s (latency)", b"s"), ("sort s (status)", b"s"), ("reverse S", b"S"),
        ("reverse S back", b"S"), ("PgDn", b"\x1b[6~"), ("PgDn", b"\x1b[6~"), ("End (G)", b"G"),
        ("Home (g)", b"g"), ("j", b"j")]


def history(path, targets, quick):
    if os.path.exists(path):
        return
    args = ["--bulk", "--targets", str(targets), "--url", URL] + \
        (["--days", "7", "--raw-hours", "2", "--hourly-days", "1"] if quick else
         ["--days", "365", "--raw-hours", "2", "--hourly-days", "2"])
    subprocess.run([sys.executable, os.path.join(HERE, "gen_history.py"), path + ".tmp"] + args, check=True)
    os.rename(path + ".tmp", path)


class StandIn:
    """A process named healthtop that holds a database's poller lease: the dashboard sees a live
    poller on this host and becomes its viewer."""

    def __init__(self, d):
        self.path = os.path.join(d, "healthtop")
        shutil.copy(shutil.which("sleep"), self.path)
        self.proc = subprocess.Popen([self.path, "100000"])

    def hold(self, db):
        now = int(time.time() * 1000)
        con = sqlite3.connect(db)
        con.execute("INSERT OR REPLACE INTO poller_lease(id, pid, host, started, heartbeat, config)"
                    " VALUES(1, ?, ?, ?, ?, '{}')", (self.proc.pid, socket.gethostname(), now, now))
        con.commit()
        con.close()
        return db

    def empty(self, db):
        schema(db, os.environ.get("HEALTHTOP", os.path.join(HERE, "..", "healthtop"))).close()
        return self.hold(db)

    def close(self):
        self.proc.kill()
        self.proc.wait()


def rchar(pid):
    with open(f"/proc/{pid}/io") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("rchar:"))


def settle(dash, quiet=2.0, timeout=900):
    """Reads until the dashboard has been idle for `quiet` seconds: under 5 % of a core and under
    512 KiB read from the database (reading history is both CPU and I/O: a shared machine may
    starve either). The last byte before that is when the history was all on screen."""
    end = time.monotonic() + timeout
    mark = (benchlib.cpu_seconds(dash.pid), rchar(dash.pid), time.monotonic())
    while time.monotonic() < end:
        dash.read(0.05)
        if time.monotonic() - mark[2] >= quiet:
            now = (benchlib.cpu_seconds(dash.pid), rchar(dash.pid), time.monotonic())
            if now[0] - mark[0] < 0.05 * quiet and now[1] - mark[1] < 512 * 1024:
                return
            mark = now


def loop_cpu_ms(pid):
    """CPU time of the dashboard's loop thread (ns in schedstat: finer than /proc's ticks)."""
    with open(f"/proc/{pid}/task/{pid}/schedstat") as f:
        return int(f.read().split()[0]) / 1e6


def answer_ms(dash, key, gap=0.12, timeout=10):
    """Key written → the last byte of the redraw it causes (curses writes a frame in one go; a
    frame ends when the terminal has been silent for `gap`); and the loop's CPU time meanwhile."""
    cpu0 = loop_cpu_ms(dash.pid)
    t0 = dash.key(key)
    end, last = t0 + timeout, None
    while time.monotonic() < end:
        if dash.read(0.01):
            last = dash.last_byte
        elif last is not None and time.monotonic() - last >= gap:
            break
    return ((last - t0) * 1000 if last is not None else float("nan")), loop_cpu_ms(dash.pid) - cpu0


def open_ms(cfg, db):
    """exec → the first frame (its header) on screen, and the CPU time the dashboard had used by
    then (the machine is shared: the wall time waits for other processes too)."""
    dash = Dashboard(cfg, db, cols=200)
    t = dash.wait_for(b"last result", timeout=120)
    cpu = benchlib.cpu_seconds(dash.pid)
    dash.close()
    return (t - dash.t0) * 1000, cpu * 1000


def keys_ms(cfg, db, rounds):
    """The history fully on screen (ms after exec), then each key's answer, `rounds` times."""
    dash = Dashboard(cfg, db, cols=200)
    dash.wait_for(b"last result", timeout=120)
    settle(dash)
    full = (dash.last_byte - dash.t0) * 1000
    got = {}
    for _ in range(rounds):
        for label, k in KEYS:
            got.setdefault(label, []).append(answer_ms(dash, k))
    dash.close()
    return full, got


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="10 000 targets, a week of history")
    ap.add_argument("--targets", type=int)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    n = args.targets or (10000 if args.quick else 100000)
    bench_dir = os.environ.get("BENCH_DIR", "/tmp/healthtop-bench")
    os.makedirs(bench_dir, exist_ok=True)
    cached = os.path.join(bench_dir, f"dash{n}{'-quick' if args.quick else ''}.db")
    t = time.monotonic()
    history(cached, n, args.quick)
    print(f"history: {cached} ({os.path.getsize(cached) / 2**20:.0f} MiB, {time.monotonic() - t:.0f} s)")
    d = tempfile.mkdtemp(prefix="healthtop-d100k-")
    poller = StandIn(d)
    try:
        run(args, n, cached, d, poller)
    finally:
        poller.close()
        shutil.rmtree(d, ignore_errors=True)


def run(args, n, cached, d, poller):
    db = os.path.join(d, "big.db")
    shutil.copy(cached, db)   # the dashboard writes (its lease); keep the cached file as it was
    poller.hold(db)
    cfg = benchlib.write_fleet(os.path.join(d, "fleet.json"), n, URL, interval_s=3600)
    small = benchlib.write_fleet(os.path.join(d, "small.json"), 1000, URL, interval_s=3600)
    opened, ref, cpu, cpu_ref = [], [], [], []
    for i in range(args.runs):   # interleaved, so both see the same machine
        wall, used = open_ms(cfg, poller.empty(os.path.join(d, f"empty{i}.db")))
        ref.append(wall)
        cpu_ref.append(used)
        wall, used = open_ms(cfg, db)
        opened.append(wall)
        cpu.append(used)
    full, keys = keys_ms(cfg, db, args.runs)
    _, keys_ref = keys_ms(small, poller.empty(os.path.join(d, "small.db")), args.runs)
    size = f"{n} targets, {os.path.getsize(cached) / 2**20:.0f} MiB of history"
    cmd = f"python3 bench/dashboard_100k.py{' --quick' if args.quick else ''} --runs {args.runs}"
    med, med_ref = statistics.median(opened), statistics.median(ref)
    benchlib.record(f"dashboard open, exec to first frame ({size})",
                    f"{med:.0f} ms (CPU {statistics.median(cpu):.0f} ms)", "< 1000 ms",
                    f"{med_ref:.0f} ms, CPU {statistics.median(cpu_ref):.0f} ms (empty database)",
                    f"{med / med_ref:.2f}", med < 1000, cmd)
    benchlib.record(f"dashboard open, exec to every target's history on screen ({size})", f"{full:.0f} ms",
                    "", "", "", None, cmd)
    worst, worst_label = 0, ""
    for label in keys:
        k, r = statistics.median(w for w, _ in keys[label]), statistics.median(w for w, _ in keys_ref[label])
        c = statistics.median(c for _, c in keys[label])
        print(f"  {label:18} {k:7.1f} ms, loop CPU {c:6.1f} ms   (1 000 targets: {r:5.1f} ms)")
        if k > worst:
            worst, worst_label, worst_cpu = k, label, c
    worst_ref = statistics.median(w for w, _ in keys_ref[worst_label])
    benchlib.record(f"dashboard slowest key, {worst_label} ({n} targets)",
                    f"{worst:.0f} ms (loop CPU {worst_cpu:.0f} ms)", "< 50 ms",
                    f"{worst_ref:.0f} ms (1 000 targets)", f"{worst / worst_ref:.1f}", worst < 50, cmd)


if __name__ == "__main__":
    main()
