#!/usr/bin/env python3
"""Synthetic history in healthtop's schema, as a long-running poller would leave it: raw results
for the last --raw-days, hourly and daily rollups and state changes for the whole --days.
Latencies are log-normal around 40 ms; each target has rare degraded spells and outages.

    python3 bench/gen_history.py OUT.db [--targets 200] [--days 365] [--raw-days 14] [--interval 60]

For fleets far larger than a Python loop can fill (100 000 targets), --bulk writes the history
with SQL alone, in the shape the dashboard reads at start: raw results for the last --raw-hours,
hourly rollups for the last --hourly-days, daily rollups for the whole --days (see
docs/performance.md for why not every level for the whole year):

    python3 bench/gen_history.py OUT.db --bulk --targets 100000 [--raw-hours 2] [--hourly-days 2]
"""
import argparse
import math
import os
import random
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time

HIST_BUCKETS, RATIO, BASE = 166, 1.1, 0.1


def bucket(ms):
    if not ms >= BASE:
        return 0
    b = math.floor(math.log(ms / BASE) / math.log(RATIO)) + 1
    return min(b, HIST_BUCKETS - 1)


def blob(counts):
    return b"".join(struct.pack("<BI", b, c) for b, c in sorted(counts.items()) if c)


def add_check(r, cls, ms):
    """r: [healthy, degraded, down, n_latency, sum_ms, min_ms, max_ms, {bucket: n}]"""
    r[cls] += 1
    if ms is not None:
        r[3] += 1
        r[4] += ms
        r[5] = ms if r[5] is None else min(r[5], ms)
        r[6] = ms if r[6] is None else max(r[6], ms)
        b = bucket(ms)
        r[7][b] = r[7].get(b, 0) + 1


def merge(into, r):
    for i in range(5):
        into[i] += r[i]
    if r[5] is not None:
        into[5] = r[5] if into[5] is None else min(into[5], r[5])
        into[6] = r[6] if into[6] is None else max(into[6], r[6])
    for b, n in r[7].items():
        into[7][b] = into[7].get(b, 0) + n


def old_hours(rnd, tid, start, raw_from, interval):
    """Hours before the raw window, built from sample templates of the same distribution
    (drawing every minute of a year in Python takes too long)."""
    base = rnd.uniform(10, 80)
    per_hour = 3600 // interval
    templates = [[rnd.lognormvariate(math.log(base), 0.35) for _ in range(per_hour)] for _ in range(40)]
    whole = []
    for sample in templates:   # an ordinary hour, aggregated once
        r = [0, 0, 0, 0, 0.0, None, None, {}]
        for ms in sample:
            add_check(r, 0, ms)
        whole.append(r)
    hours, changes = {}, []
    for h in range(start // 3600 * 3600, raw_from // 3600 * 3600, 3600):
        k = rnd.randrange(len(templates))
        if rnd.random() >= 0.01:
            w = whole[k]
            hours[h] = [w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]   # rows only read the dict
            continue
        r = [0, 0, 0, 0, 0.0, None, None, {}]
        bad, cls = rnd.randint(1, per_hour), 2 if rnd.random() < 0.3 else 1
        for i, ms in enumerate(templates[k]):
            c = cls if i < bad else 0
            add_check(r, c, None if c == 2 else ms * (4 if c == 1 else 1))
        changes += [(tid, h * 1000, 0, cls), (tid, (h + bad * interval) * 1000, cls, 0)]
        hours[h] = r
    return hours, changes, base


def raw_window(con, rnd, targets, raw_from, now, interval):
    """Minute by minute, every target in turn, inserted in time order as a poller would."""
    state = {tid: [0, 0, 0] for tid, _, _ in targets}   # previous class, spell end, spell class
    batch, count = [], 0
    for at in range(raw_from // interval * interval, now, interval):
        for tid, base, hours in targets:
            st = state[tid]
            if at >= st[1] and rnd.random() < 0.0004:
                st[2] = 2 if rnd.random() < 0.3 else 1
                st[1] = at + rnd.randint(2, 40) * interval
            cls = st[2] if at < st[1] else 0
            ms = None if cls == 2 else rnd.lognormvariate(math.log(base), 0.35) * (4 if cls == 1 else 1)
            if cls != st[0]:
                con.execute("INSERT INTO state_change VALUES(?,?,?,?)", (tid, at * 1000, st[0], cls))
            st[0] = cls
            add_check(hours.setdefault(at // 3600 * 3600, [0, 0, 0, 0, 0.0, None, None, {}]), cls, ms)
            batch.append((tid, at * 1000 + rnd.randint(0, 999), cls, 200 if cls == 0 else (503 if cls == 1 else None),
                          round(ms if ms is not None else 0.3, 3), 0.02, 0.1, None,
                          round(ms * 0.8, 3) if ms is not None else None, None,
                          ("HTTP 200", "HTTP 503", "connection refused")[cls], "Failed to connect" if cls == 2 else None,
                          int(cls == 0)))   # up: only the 200s (a 503 or a refusal is downtime)
        if len(batch) >= 100000:
            insert_raw(con, batch)
            count += len(batch)
            batch = []
    insert_raw(con, batch)
    return count + len(batch)


def insert_raw(con, rows):
    con.executemany("INSERT INTO result(target_id, checked_at, status, http_code, response_ms, dns_ms, connect_ms,"
                    " tls_ms, ttfb_ms, cert_expiry, reason, error, up) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)


def schema(db, binary):
    """Let healthtop create the schema it uses, so the generator never drifts from it."""
    cfg = os.path.join(tempfile.mkdtemp(), "c.json")
    with open(cfg, "w") as f:
        f.write('{"targets":[{"name":"x","url":"http://127.0.0.1:9"}]}')
    subprocess.run([binary, "check", "-c", cfg, "--db", db], capture_output=True)
    con = sqlite3.connect(db)
    con.executescript("DELETE FROM state_change; DELETE FROM rollup_hour; DELETE FROM rollup_day;"
                      "DELETE FROM result; DELETE FROM target;")
    return con


def bulk(con, args, now):
    """The same schema filled by SQLite itself: a numbers table crossed with the targets, a
    latency base per target, one check in 400 degraded and one in 1000 down. Rollups take their
    histogram from a few shared blobs (the dashboard's start and keys never read them)."""
    n = args.targets
    con.execute("CREATE TEMP TABLE num(i INTEGER PRIMARY KEY)")
    con.execute("INSERT INTO num WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < ?)"
                " SELECT i FROM c", (max(n, 400 * 24, args.days) - 1,))
    con.executemany("INSERT INTO target(id, name, project, url) VALUES(?, ?, ?, ?)",
                    ((i + 1, f"svc-{i:06d}", f"team-{i % 50:02d}", f"{args.url}?i={i}") for i in range(n)))
    blobs = [blob({bucket(10 + 7 * k + j): 60 - j for j in range(6)}) for k in range(8)]
    con.execute("CREATE TEMP TABLE hb(k INTEGER PRIMARY KEY, b BLOB)")
    con.executemany("INSERT INTO hb VALUES(?, ?)", enumerate(blobs))
    # result: one row per target per interval, time-ordered as a poller writes them
    steps = args.raw_hours * 3600 // args.interval
    t0 = (now - args.raw_hours * 3600) // args.interval * args.interval
    con.execute("DROP INDEX result_time")
    con.execute("DROP INDEX result_target_time")
    con.execute(
        "INSERT INTO result(target_id, checked_at, status, http_code, response_ms, dns_ms, connect_ms, tls_ms,"
        " ttfb_ms, reason, error, up)"
        " SELECT ti + 1, (? + si * ?) * 1000 + ti % 997, st, CASE st WHEN 0 THEN 200 WHEN 1 THEN 503 END,"
        "  CASE WHEN st = 2 THEN 0.3 ELSE 10 + ti % 70 + h % 1000 / 100.0 END, 0.02, 0.1, NULL,"
        "  CASE WHEN st = 2 THEN NULL ELSE 8 + ti % 60 END,"
        "  CASE st WHEN 0 THEN 'HTTP 200' WHEN 1 THEN 'HTTP 503' ELSE 'connection refused' END,"
        "  CASE WHEN st = 2 THEN 'Failed to connect' END, st = 0"
        " FROM (SELECT si, ti, h, CASE WHEN h % 1000 = 0 THEN 2 WHEN h % 400 = 1 THEN 1 ELSE 0 END st"
        "  FROM (SELECT s.i si, t.i ti, (s.i * 7919 + t.i * 104729) % 1000003 h"
        "   FROM (SELECT i FROM num WHERE i < ?) s, (SELECT i FROM num WHERE i < ?) t))"
        " ORDER BY si, ti", (t0, args.interval, steps, n))
    con.execute("CREATE INDEX result_target_time ON result(target_id, checked_at)")
    con.execute("CREATE INDEX result_time ON result(checked_at)")
    per_hour = 3600 // args.interval
    for table, secs, count in (("rollup_hour", 3600, args.hourly_days * 24), ("rollup_day", 86400, args.days)):
        per = per_hour * secs // 3600
        first = (now - count * secs) // secs * secs
        con.execute(f"DROP INDEX {table}_period")
        con.execute(
            f"INSERT INTO {table}(target_id, period, n_healthy, n_degraded, n_down, n_latency, sum_ms, min_ms,"
            " max_ms, hist, n_up)"
            f" SELECT t.i + 1, ? + p.i * ?, ? - t.i % 3, t.i % 3, 0, ?, ? * (10 + t.i % 70), 5 + t.i % 70,"
            f" 40 + t.i % 70, hb.b, ? - t.i % 3"
            f" FROM (SELECT i FROM num WHERE i < ?) t, (SELECT i FROM num WHERE i < ?) p"
            f" JOIN hb ON hb.k = t.i % 8 ORDER BY t.i, p.i",
            (first, secs, per, per, per, per, n, count))
        con.execute(f"CREATE INDEX {table}_period ON {table}(period)")
    con.execute("INSERT INTO meta VALUES('complete_since.result', ?)", (t0 * 1000,))
    con.execute("INSERT INTO meta VALUES('complete_since.rollup_hour', ?)",
                ((now - args.hourly_days * 86400) // 3600 * 3600 * 1000,))
    return steps * n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--targets", type=int, default=200)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--raw-days", type=int, default=14)
    ap.add_argument("--interval", type=int, default=60)
    ap.add_argument("--bulk", action="store_true", help="SQL-generated, for 100 000 targets")
    ap.add_argument("--raw-hours", type=int, default=2, help="--bulk: hours of raw results")
    ap.add_argument("--hourly-days", type=int, default=2, help="--bulk: days of hourly rollups")
    ap.add_argument("--url", default="http://127.0.0.1:9/health", help="--bulk: the targets' URL")
    args = ap.parse_args()
    binary = os.environ.get("HEALTHTOP", os.path.join(os.path.dirname(__file__), "..", "healthtop"))
    if os.path.exists(args.out):
        sys.exit(f"{args.out} exists")
    rnd = random.Random(7)
    con = schema(args.out, binary)
    con.execute("PRAGMA synchronous=OFF")
    now = int(time.time()) // 60 * 60
    start = now - args.days * 86400
    raw_from = now - args.raw_days * 86400
    t0 = time.monotonic()
    if args.bulk:
        raw_rows = bulk(con, args, now)
        finish(con, args, raw_rows, t0)
        return
    raw_rows = 0
    targets = []
    for t in range(args.targets):
        tid = con.execute("INSERT INTO target(name, project, url) VALUES(?, ?, ?) RETURNING id",
                          (f"svc-{t:03d}", f"team-{t % 20:02d}", f"http://127.0.0.1:8080/svc-{t:03d}/health")).fetchone()[0]
        hours, changes, base = old_hours(rnd, tid, start, raw_from, args.interval)
        con.executemany("INSERT INTO state_change VALUES(?,?,?,?)", changes)
        targets.append((tid, base, hours))
    raw_rows = raw_window(con, rnd, targets, raw_from, now, args.interval)
    print(f"  raw window: {raw_rows} rows, {time.monotonic() - t0:.0f} s", file=sys.stderr)
    for tid, _, hours in targets:
        days = {}
        for p, r in hours.items():
            d = days.setdefault(p // 86400 * 86400, [0, 0, 0, 0, 0.0, None, None, {}])
            merge(d, r)   # copies counts: the shared template dicts are never written
        for name, table in (("rollup_hour", hours), ("rollup_day", days)):
            con.executemany(f"INSERT INTO {name}(target_id, period, n_healthy, n_degraded, n_down, n_latency, sum_ms,"
                            " min_ms, max_ms, hist, n_up) VALUES(?,?,?,?,?,?,?,?,?,?,?)",
                            [(tid, p, r[0], r[1], r[2], r[3], r[4], r[5], r[6], blob(r[7]), r[0])
                             for p, r in table.items()])
    con.execute("INSERT INTO meta VALUES('complete_since.result', ?)", (raw_from * 1000,))
    finish(con, args, raw_rows, t0)


def finish(con, args, raw_rows, t0):
    con.commit()
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    size = os.path.getsize(args.out)
    raw = f"{args.raw_hours} h" if args.bulk else f"{args.raw_days} d"
    print(f"{args.out}: {args.targets} targets, {args.days} d of rollups, {raw} raw "
          f"({raw_rows} raw rows), {size / 2**20:.0f} MiB, written in {time.monotonic() - t0:.0f} s")


if __name__ == "__main__":
    main()
