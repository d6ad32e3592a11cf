#!/usr/bin/env python3
"""Three pollers, one PostgreSQL database, one fleet in steady state (issue 13).

A throwaway PostgreSQL (tests/integration/pgserver.py; fsync off as in the tests: the figures are
healthtop's work and the server's CPU, not this disk's) and a real nginx (bench/benchlib.py)
serving N targets at --interval seconds. Three `healthtop daemon --db postgresql://...` share the
targets by leased shards. Once the three hold their shards evenly, one interval of warm-up, then
a window of --intervals intervals is measured:

  * Every target checked exactly once per interval: each target's rows in the window, counted in
    the database. A gap of more than 1.5 intervals between two checks of a target (or from the
    window's edge to its first/last check) is a missed interval, a gap under half an interval a
    second check in one interval. Goal: 0 missed, 0 twice.
  * The shards spread evenly: rows per poller in the window, and the shards each holds.
  * Start lag: each poller's healthtop_check_start_lag_seconds (its --metrics-listen), scraped
    before and after the window, summed over the three; p99. Beside it, from the stored times:
    how much later than one interval after the previous check each check came (p99), and the
    checks started in the busiest second against the mean (how evenly the interval is spread).
  * No backlog: every 5 s, how old the newest stored row is (the results waiting to be written
    show as a growing age). Goal: stays under one interval.
  * CPU (utime+stime over the window, % of one core) and RSS of each poller, and of the whole
    PostgreSQL server (postmaster, its live children and those it reaped), against the one
    SQLite daemon of bench/steady.py in the same `make bench` run ($BENCH_TABLE), per check.

    python3 bench/pg_pollers.py             100 000 targets, interval 60 s, 2 intervals measured
                                            (about 4 minutes)
    python3 bench/pg_pollers.py --quick     3 000 targets, interval 5 s, 3 intervals (about 40 s)"""
import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import benchlib  # noqa: E402
from pgserver import PgServer, PgUnavailable  # noqa: E402

_conf = benchlib.NGINX_CONF
from steady import LAG, p99, run_perf, scrape, tree_cpu  # noqa: E402
benchlib.NGINX_CONF = _conf   # steady.py turns nginx's access log on: not needed here

POLLERS = 3
SHARDS = 64
NOW_MS = "(extract(epoch from clock_timestamp()) * 1000)::bigint"


def holders(pg):
    """{poller: shards held with a lease not yet expired}."""
    out = {}
    for line in pg.psql(f"select holder, count(*) from shard_lease where holder is not null and expires > {NOW_MS}"
                        " group by holder").split():
        h, n = line.rsplit("|", 1)
        out[h] = int(n)
    return out


def wait_settled(pg, deadline):
    """Every shard held by the three pollers, none above its fair share (22, 21, 21)."""
    fair = -(-SHARDS // POLLERS)
    while time.time() < deadline:
        try:
            h = holders(pg)
        except RuntimeError:   # the first poller has not created the schema yet
            h = {}
        if len(h) == POLLERS and sum(h.values()) == SHARDS and max(h.values()) <= fair:
            return h
        time.sleep(1)
    raise SystemExit(f"pg_pollers: the shards did not settle over {POLLERS} pollers: {holders(pg)}")


def server_cpu(pg):
    """CPU seconds of the whole server: the postmaster, its live children and the children it
    has reaped (connections and autovacuum workers that ended)."""
    with open(os.path.join(pg.data, "postmaster.pid")) as f:
        pid = int(f.readline())
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    total = (int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])) / benchlib.TICK
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        for kid in f.read().split():
            try:
                total += benchlib.cpu_seconds(int(kid))
            except OSError:
                pass   # ended between the two reads: counted by the next reading, as reaped
    return total


def newest_age(pg):
    """Seconds since the check of the newest stored row began (by id: the index's last page)."""
    out = pg.psql(f"select {NOW_MS} - checked_at from result where id = (select max(id) from result)").strip()
    return int(out) / 1000.0 if out else None


def rows_by_target(pg, a_ms, b_ms):
    """{target: sorted check times (s)} and {poller: rows} for rows checked in [a_ms, b_ms)."""
    by_target, by_poller = {}, {}
    out = pg.psql(f"copy (select target_id, checked_at, coalesce(poller, '-') from result where checked_at >= {a_ms}"
                  f" and checked_at < {b_ms}) to stdout")
    for line in out.splitlines():
        t, at, poller = line.split("\t")
        by_target.setdefault(int(t), []).append(int(at) / 1000.0)
        by_poller[poller] = by_poller.get(poller, 0) + 1
    for v in by_target.values():
        v.sort()
    return by_target, by_poller


def once_per_interval(by_target, n, t0, t1, interval):
    """Missed intervals and second checks in [t0, t1), from the gaps between a target's checks."""
    missed = twice = 0
    for times in by_target.values():
        edges = [t0] + [t for t in times if t0 <= t < t1] + [t1]
        for a, b in zip(edges, edges[1:]):
            gap = b - a
            if a != t0 and b != t1 and gap < 0.5 * interval:
                twice += 1
            elif gap > 1.5 * interval:
                missed += round(gap / interval) - 1
    seen = sum(1 for times in by_target.values() if any(t0 <= t < t1 for t in times))
    missed += (n - seen) * round((t1 - t0) / interval)   # targets with no row at all
    return missed, twice


def late_p99(by_target, t0, t1, interval):
    """p99 of how much later than one interval after the previous check each check came (the
    schedule keeps its cadence: a late check shows as a gap longer than the interval)."""
    late = sorted(max(0.0, b - a - interval) for times in by_target.values()
                  for a, b in zip(times, times[1:]) if t0 <= b < t1)
    return (late[int(0.99 * (len(late) - 1))], len(late)) if late else (None, 0)


def sqlite_reference():
    """The single SQLite daemon's CPU per check from bench/steady.py's row in this run's table."""
    path = os.environ.get("BENCH_TABLE")
    found = None
    if path and os.path.exists(path):
        with open(path) as f:
            for line in f:
                row = line.rstrip("\n").split("\t")
                if row[0].startswith("daemon CPU in steady state (") and "answering the same" in row[3]:
                    pct = float(row[1].split()[0])
                    rate = float(row[3].split("answering the same")[1].split()[0])
                    found = (pct, rate, "this run: " + row[0].split("(", 1)[1].rstrip(")"))
    return found


def start_pollers(binary, cfg, url, tmp, ports):
    procs = []
    for i, port in enumerate(ports):
        log = open(os.path.join(tmp, f"poller{i}.log"), "w")
        procs.append(subprocess.Popen([binary, "daemon", "-c", cfg, "--db", url, "--metrics-listen",
                                       f"127.0.0.1:{port}"], stdout=log, stderr=subprocess.STDOUT))
        log.close()
    return procs


def stop(procs):
    for p in procs:
        p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(60)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def measure(pg, ng, procs, ports, n, interval, intervals):
    """The window: readings before and after, the newest row's age every 5 s."""
    scrape_all = lambda: [scrape(p) for p in ports]  # noqa: E731
    a = scrape_all()
    time.sleep(2)   # checks delayed by the scrapes themselves report before the window opens
    t0 = time.time()
    cpu0 = [benchlib.cpu_seconds(p.pid) for p in procs]
    pg0, ng0 = server_cpu(pg), tree_cpu(ng.proc.pid)
    ages = []
    t1 = t0 + intervals * interval
    while time.time() < t1:
        time.sleep(min(5.0, max(0.0, t1 - time.time())))
        age = newest_age(pg)
        if age is not None:
            ages.append(age)
    t1 = time.time()
    cpu1 = [benchlib.cpu_seconds(p.pid) for p in procs]
    pg1, ng1 = server_cpu(pg), tree_cpu(ng.proc.pid)
    rss = [benchlib.rss_kib(p.pid) for p in procs]
    b = scrape_all()
    span = t1 - t0
    return {"t0": t0, "t1": t1, "span": span, "ages": ages, "rss": rss,
            "cpu": [100.0 * (y - x) / span for x, y in zip(cpu0, cpu1)],
            "pg": 100.0 * (pg1 - pg0) / span, "nginx": 100.0 * (ng1 - ng0) / span, "lag": (a, b)}


def lag_p99(pairs):
    """p99 over the three pollers' lag histograms (bucket counts added up)."""
    tot_a, tot_b = {"buckets": {}}, {"buckets": {}}
    lag_sum = 0.0
    for a, b in zip(*pairs):
        for tot, one in ((tot_a, a), (tot_b, b)):
            for k, v in one["buckets"].items():
                tot["buckets"][k] = tot["buckets"].get(k, 0) + v
        lag_sum += b.get(LAG + "_sum", 0) - a.get(LAG + "_sum", 0)
    bound, est, n = p99(tot_a, tot_b)
    return bound, est, n, lag_sum


def report(m, by_target, by_poller, held, n, interval, command):
    per = f"{POLLERS} pollers, {n} targets, interval {interval} s, {m['span']:.0f} s window"
    missed, twice = once_per_interval(by_target, n, m["t0"], m["t1"], interval)
    checks = sum(by_poller.values())
    benchlib.record(f"PostgreSQL: every target checked once per interval ({per})",
                    f"{missed} missed, {twice} twice", "0 missed, 0 twice",
                    f"{checks} rows, {n * m['span'] / interval:.0f} expected", f"{checks / (n * m['span'] / interval):.4f}",
                    missed == 0 and twice == 0, command)
    counts = sorted(by_poller.values())
    shards = sorted(held.values())
    # even: no poller above its fair share of shards (ceil(64 / 3) = 22), and each one's checks
    # within 10 % of what its shards hold (a target's shard is a hash of its name)
    share = {p: held.get(p, 0) / SHARDS * checks for p in by_poller}
    even = len(counts) == POLLERS and len(shards) == POLLERS and shards[-1] <= -(-SHARDS // POLLERS) and \
        all(abs(c - share[p]) <= 0.1 * share[p] for p, c in by_poller.items())
    benchlib.record(f"PostgreSQL: checks per poller ({per})", " / ".join(str(c) for c in counts),
                    "even: its shards' share", "shards held " + "/".join(str(v) for v in shards),
                    f"{counts[-1] / counts[0]:.2f} (most/least)" if counts and counts[0] else "", even, command)
    bound, est, lagged, lag_sum = lag_p99(m["lag"])
    if bound is None:
        benchlib.record(f"PostgreSQL: check start lag p99 ({per})", "no checks", "n/a (issue 12's one daemon: <= 1 s)",
                        "", "", None, command)
    else:
        shown = f"<= {bound:g} s (about {est * 1000:.0f} ms)" if bound != float("inf") else f"> {est:g} s"
        benchlib.record(f"PostgreSQL: check start lag p99 ({per})", shown, "n/a (issue 12's one daemon: <= 1 s)",
                        f"{lagged:.0f} checks, mean {1000 * lag_sum / lagged:.1f} ms", "", None, command)
    late, gaps = late_p99(by_target, m["t0"], m["t1"], interval)
    benchlib.record(f"PostgreSQL: check later than its interval, p99, from the stored times ({per})",
                    f"{late:.2f} s" if late is not None else "no gaps", "n/a", f"{gaps} gaps between checks", "",
                    None, command)
    per_second = {}
    for times in by_target.values():
        for t in times:
            if m["t0"] <= t < m["t1"]:
                per_second[int(t)] = per_second.get(int(t), 0) + 1
    busiest = max(per_second.values()) if per_second else 0
    benchlib.record(f"PostgreSQL: checks started in the busiest second ({per})", f"{busiest}", "n/a",
                    f"mean {checks / m['span']:.0f}/s", f"{busiest / (checks / m['span']):.1f}" if checks else "",
                    None, command)
    worst = max(m["ages"]) if m["ages"] else float("inf")
    benchlib.record(f"PostgreSQL: age of the newest stored row, sampled every 5 s ({per})",
                    f"at most {worst:.1f} s (median {sorted(m['ages'])[len(m['ages']) // 2]:.1f} s)"
                    if m["ages"] else "no rows", "bounded: < 1 interval", f"{len(m['ages'])} samples", "",
                    worst < interval, command)
    total = sum(m["cpu"])
    rate = checks / m["span"]
    ref = sqlite_reference()
    # make bench runs this beside memory.py, before steady.py: then the reference is steady.py's
    # last full run as docs/performance.md records it (fresh connections, 100 000 targets)
    pct, ref_rate, where = ref if ref else (25.97, 1667, "docs/performance.md, not this run")
    us, ref_us = (1e4 * total / rate if rate else 0), 1e4 * pct / ref_rate
    refs = f"one SQLite daemon (steady.py, {where}): {pct:.2f} % at {ref_rate:.0f} checks/s, {ref_us:.0f} us/check"
    ratio = f"{us / ref_us:.2f} per check"
    benchlib.record(f"PostgreSQL: pollers' CPU ({per})",
                    " + ".join(f"{c:.2f}" for c in m["cpu"]) + f" = {total:.2f} % of a core ({us:.0f} us/check)",
                    "n/a (issue 12's one daemon: < 10 %)", refs, ratio, None, command)
    benchlib.record(f"PostgreSQL: pollers' RSS ({per})", " / ".join(f"{r / 1024:.1f}" for r in m["rss"]) + " MiB",
                    "n/a", "", "", None, command)
    benchlib.record(f"PostgreSQL: server CPU ({per})", f"{m['pg']:.2f} % of a core",
                    "n/a", f"nginx {m['nginx']:.2f} % answering the same {rate:.0f} checks/s",
                    f"{m['pg'] / m['nginx']:.2f}" if m["nginx"] > 0 else "", None, command)
    return missed == 0 and twice == 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--targets", type=int, default=100000)
    ap.add_argument("--interval", type=int, default=60)
    ap.add_argument("--intervals", type=int, default=2, help="intervals measured after the warm-up one")
    ap.add_argument("--quick", action="store_true", help="3 000 targets, interval 5 s, 3 intervals")
    ap.add_argument("--perf", type=float, default=0, help="profile the first poller this many seconds after"
                    " the warm-up (perf costs CPU: not a run to quote)")
    args = ap.parse_args()
    if args.quick:
        args.targets, args.interval, args.intervals = 3000, 5, 3
    n, interval = args.targets, args.interval
    binary = os.environ.get("HEALTHTOP", "./healthtop")
    mode = "--quick" if args.quick else f"--targets {n} --interval {interval} --intervals {args.intervals}"
    command = f"python3 bench/pg_pollers.py {mode}"
    try:
        pg = PgServer()
    except PgUnavailable as e:
        print(f"pg_pollers: skipped: {e}")
        return 0
    with pg, benchlib.Nginx() as ng, tempfile.TemporaryDirectory(prefix="healthtop-pgpollers-") as tmp:
        cfg = benchlib.write_fleet(os.path.join(tmp, "fleet.json"), n, ng.url(), interval_s=interval)
        ports = [benchlib.free_port() for _ in range(POLLERS)]
        start = time.time()
        procs = start_pollers(binary, cfg, pg.url(), tmp, ports)
        try:
            held = wait_settled(pg, start + 120 + n / 1000)
            settled = time.time()
            print(f"shards settled {settled - start:.1f} s after start: {sorted(held.values())}", flush=True)
            time.sleep(interval)   # warm-up: the interval in which the shards moved
            if args.perf:
                run_perf(procs[0].pid, args.perf, tmp)
            m = measure(pg, ng, procs, ports, n, interval, args.intervals)
            held = holders(pg)
            time.sleep(min(10, interval))   # the window's last checks report and are committed
        finally:
            stop(procs)
        for i in range(POLLERS):
            with open(os.path.join(tmp, f"poller{i}.log")) as f:
                log = f.read().strip()
            # the daemon prints each state change: its first verdicts are not news
            log = "\n".join(line for line in log.splitlines() if ": healthy (" not in line)
            if log:
                print(f"poller {i}: {log[-800:]}")
        by_target, by_poller = rows_by_target(pg, int((m["t0"] - 2 * interval) * 1000),
                                              int((m["t1"] + 2 * interval) * 1000))
        in_window = {p: 0 for p in by_poller}
        for line in pg.psql(f"select coalesce(poller, '-'), count(*) from result where checked_at >= {int(m['t0'] * 1000)}"
                            f" and checked_at < {int(m['t1'] * 1000)} group by 1").split():
            p, c = line.rsplit("|", 1)
            in_window[p] = int(c)
        ok = report(m, by_target, {p: c for p, c in in_window.items() if c}, held, n, interval, command)
    return 0 if ok or not args.quick else 1


if __name__ == "__main__":
    sys.exit(main())
