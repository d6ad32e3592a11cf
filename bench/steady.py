#!/usr/bin/env python3
"""Steady state of `healthtop daemon` on a large fleet (issue 12, goal 3).

A real nginx (bench/benchlib.py) serves N targets checked every --interval seconds. After the
first sweep and once the regular timers run, a window of --window seconds is measured:

  * CPU of the daemon (utime+stime of all its threads), as % of one core; goal < 10 %.
    Reference: nginx's own CPU (master + worker) over the same window, answering the same
    requests, and the checks/s rate.
  * Every result written: nginx logs each request ($msec, the target's i=N); after the daemon
    has stopped, the requests nginx answered in the window are matched target by target with
    the rows in the database. Goal: none missing.
  * Start lag: the daemon's healthtop_check_start_lag_seconds histogram (planned start -> the
    probe admitting the check, queue time included), scraped from /metrics before and after the
    window; p99 of the difference. Goal: <= 1 s.

Full mode: 100 000 targets, interval 60 s, a 300 s window (about 6 minutes in all).
--quick: 2 000 targets, interval 10 s, a 30 s window (about 45 s), for CI.
--perf SECONDS records `perf record -g` of the daemon for that long inside the window and prints
the top of the profile (it costs CPU: the figures of such a run are not the ones to quote).
"""
import argparse
import bisect
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

LAG = "healthtop_check_start_lag_seconds"
# nginx logs each request with its time and query string: the target's i=N says whose check it was.
benchlib.NGINX_CONF = benchlib.NGINX_CONF.replace(
    "access_log off;",
    "log_format ht '$msec $args';\n  access_log {d}/access.log ht buffer=256k flush=1s;")


def tree_cpu(pid):
    """CPU seconds of pid and its children (nginx: the master and its worker)."""
    total = benchlib.cpu_seconds(pid)
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            kids = [int(k) for k in f.read().split()]
    except OSError:
        kids = []
    return total + sum(benchlib.cpu_seconds(k) for k in kids)


def scrape(port):
    """The lag histogram and the process counters from /metrics, streamed line by line (the
    page holds every target's series: 170 MB at 100 000 targets)."""
    buckets, out = {}, {}
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=120) as r:
        for raw in r:
            if not raw.startswith(b"healthtop_check_start_lag") and not raw.startswith(b"healthtop_dropped") \
               and not raw.startswith(b"healthtop_store_errors"):
                continue
            line = raw.decode().strip()
            name, value = line.rsplit(" ", 1)
            if name.startswith(LAG + "_bucket"):
                le = name.split('le="')[1].rstrip('"}')
                buckets[float("inf") if le == "+Inf" else float(le)] = float(value)
            else:
                out[name] = float(value)
    out["buckets"] = buckets
    return out


def p99(a, b):
    """p99 of the lags observed between scrapes a and b: the bucket bound it falls under and a
    linear estimate inside that bucket."""
    bounds = sorted(b["buckets"])
    cum = [b["buckets"][x] - a["buckets"].get(x, 0) for x in bounds]
    n = cum[-1] if cum else 0
    if n <= 0:
        return None, None, 0
    want = 0.99 * n
    lo_bound, lo_cum = 0.0, 0.0
    for bound, c in zip(bounds, cum):
        if c >= want:
            if bound == float("inf"):
                return bound, lo_bound, n
            est = lo_bound + (bound - lo_bound) * (want - lo_cum) / max(c - lo_cum, 1)
            return bound, est, n
        lo_bound, lo_cum = bound, c
    return None, None, n


def wait_rows(db, n, deadline):
    while time.time() < deadline:
        try:
            con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
            got = con.execute("SELECT count(*) FROM result").fetchone()[0]
            con.close()
            if got >= n:
                return got
        except sqlite3.Error:
            pass
        time.sleep(1)
    raise SystemExit(f"steady: the first sweep of {n} targets did not finish in time")


def requests_in_log(path, t0, t1, margin=5.0):
    """nginx's requests near the window, as {target index: sorted times}."""
    by_target = {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) < 2 or not parts[1].startswith("i="):
                continue
            t = float(parts[0])
            if t0 - margin <= t < t1 + margin:
                # the checked URL is the fleet's url + the default path: "?i=7/health"
                by_target.setdefault(int(parts[1][2:].split("/")[0]), []).append(t)
    for v in by_target.values():
        v.sort()
    return by_target


def rows_in_db(db, t0, t1, margin=5.0):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    by_target = {}
    q = ("SELECT t.name, r.checked_at FROM result r JOIN target t ON t.id = r.target_id"
         " WHERE r.checked_at >= ?1 AND r.checked_at < ?2")
    for name, at in con.execute(q, (int((t0 - margin) * 1000), int((t1 + margin) * 1000))):
        by_target.setdefault(int(name.split("-")[1]), []).append(at / 1000.0)
    con.close()
    for v in by_target.values():
        v.sort()
    return by_target


def match(requests, rows, t0, t1, slack=10.0):
    """Requests nginx answered in [t0, t1) with no stored row of that target within slack
    seconds (a row's time is when the check left the queue, before nginx saw it: on a busy
    machine, seconds before; a target's checks are an interval apart)."""
    answered = missing = 0
    for i, times in requests.items():
        have = rows.get(i, [])
        for t in times:
            if not t0 <= t < t1:
                continue
            answered += 1
            k = bisect.bisect_left(have, t - slack)
            if k == len(have) or have[k] > t + slack:
                missing += 1
                near = min(have, key=lambda x: abs(x - t)) if have else None
                print(f"answered without a row: target {i} at {t:.3f}"
                      + (f" (its nearest row {near - t:+.3f} s away)" if near is not None else " (no row)"))
    stored = sum(1 for v in rows.values() for t in v if t0 <= t < t1)
    return answered, stored, missing


def run_perf(pid, seconds, outdir):
    data = os.path.join(outdir, "perf.data")
    subprocess.run(["perf", "record", "-q", "--call-graph", "dwarf,16384", "-F", "499", "-p", str(pid), "-o", data, "--", "sleep", str(seconds)],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rep = subprocess.run(["perf", "report", "-i", data, "--no-children", "--stdio", "--percent-limit", "1.5",
                          "-g", "none", "--sort", "dso,sym"], capture_output=True, text=True)
    print("\n".join(l for l in rep.stdout.splitlines() if l and not l.startswith("#"))[:6000])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--targets", type=int, default=100000)
    ap.add_argument("--interval", type=int, default=60)
    ap.add_argument("--window", type=float, default=300)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--quick", action="store_true", help="2000 targets, interval 10 s, a 30 s window")
    ap.add_argument("--perf", type=float, default=0, help="profile the daemon this many seconds")
    ap.add_argument("--keep", help="keep the database here (a directory)")
    ap.add_argument("--reuse", action="store_true", help="reuse_connections in the fleet's defaults")
    args = ap.parse_args()
    if args.quick:
        args.targets, args.interval, args.window = 2000, 10, 30
    binary = os.environ.get("HEALTHTOP", "./healthtop")
    tmp = args.keep or tempfile.mkdtemp(prefix="healthtop-steady-")
    cfg, db = os.path.join(tmp, "fleet.json"), os.path.join(tmp, "steady.db")
    for f in (db, db + "-wal", db + "-shm"):
        if os.path.exists(f):
            os.remove(f)
    port = benchlib.free_port()
    mode = "--quick" if args.quick else f"--targets {args.targets} --interval {args.interval} --window {args.window:g}"
    mode += " --reuse" if args.reuse else ""
    command = f"python3 bench/steady.py {mode}"
    n = args.targets

    with benchlib.Nginx() as ng:
        benchlib.write_fleet(cfg, n, ng.url(), interval_s=args.interval, concurrency=args.concurrency,
                             extra_defaults={"reuse_connections": True} if args.reuse else None)
        log = open(os.path.join(tmp, "daemon.log"), "w")
        start = time.time()
        d = subprocess.Popen([binary, "daemon", "-c", cfg, "--db", db, "--metrics-listen", f"127.0.0.1:{port}"],
                             stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_rows(db, n, start + 60 + n / 400)   # a busy machine sweeps slowly
            swept = time.time()
            print(f"first sweep of {n} targets stored {swept - start:.1f} s after start", flush=True)
            if swept - start > 0.5 * args.interval:
                print("note: the first sweep outlasted half an interval: regular checks that fell due "
                      "meanwhile wait behind it, and the window opens while they drain", flush=True)
            # the regular timers start between 0.5 and 1.5 intervals: the window opens when they run
            time.sleep(max(0.0, start + 0.5 * args.interval + 2 - time.time(), swept + 3 - time.time()))
            a = scrape(port)
            time.sleep(2)   # checks delayed by the scrape itself report before the window opens
            t0, cpu0, ng0 = time.time(), benchlib.cpu_seconds(d.pid), tree_cpu(ng.proc.pid)
            if args.perf:
                run_perf(d.pid, args.perf, tmp)
            time.sleep(max(0.0, t0 + args.window - time.time()))
            t1, cpu1, ng1 = time.time(), benchlib.cpu_seconds(d.pid), tree_cpu(ng.proc.pid)
            rss = benchlib.rss_kib(d.pid)
            b = scrape(port)
            time.sleep(10)   # the window's last checks report and the writer commits them
        finally:
            d.send_signal(signal.SIGTERM)
            try:
                d.wait(30)
            except subprocess.TimeoutExpired:
                d.kill()
            log.close()
        time.sleep(2.5)   # nginx flushes its log each second
        requests = requests_in_log(os.path.join(ng.dir, "access.log"), t0, t1)

    rows = rows_in_db(db, t0, t1)
    answered, stored, missing = match(requests, rows, t0, t1)
    span = t1 - t0
    cpu = 100.0 * (cpu1 - cpu0) / span
    ngcpu = 100.0 * (ng1 - ng0) / span
    bound, est, lagged = p99(a, b)
    dropped = b.get("healthtop_dropped_results_total", 0) - a.get("healthtop_dropped_results_total", 0)
    print(f"window {span:.0f} s: {answered} requests answered by nginx ({answered / span:.0f}/s), "
          f"{stored} rows stored, {missing} answered without a row, {lagged:.0f} checks in the lag "
          f"histogram, {dropped:.0f} dropped; daemon RSS {rss / 1024:.1f} MiB")
    per = f"{n} targets, interval {args.interval} s, {span:.0f} s window" + (", reuse_connections" if args.reuse else "")
    benchlib.record(f"daemon CPU in steady state ({per})", f"{cpu:.2f} % of a core", "< 10 %",
                    f"nginx {ngcpu:.2f} % answering the same {answered / span:.0f} checks/s",
                    f"{cpu / ngcpu:.2f}" if ngcpu > 0 else "", cpu < 10, command)
    benchlib.record(f"results stored of checks answered ({per})",
                    f"{stored} rows, {missing} missing", "every result written",
                    f"{answered} requests nginx answered", f"{stored / answered:.4f}" if answered else "",
                    answered > 0 and missing == 0, command)
    if bound is None:
        benchlib.record(f"check start lag p99 ({per})", "no checks", "<= 1 s", "", "", False, command)
    else:
        shown = f"<= {bound:g} s (about {est * 1000:.0f} ms)" if bound != float("inf") else f"> {est:g} s"
        benchlib.record(f"check start lag p99 ({per})", shown, "<= 1 s",
                        f"{lagged:.0f} checks, mean {1000 * (b[LAG + '_sum'] - a[LAG + '_sum']) / lagged:.1f} ms",
                        "", bound <= 1.0, command)


if __name__ == "__main__":
    main()
