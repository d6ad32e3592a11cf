#!/usr/bin/env python3
"""healthtop export against `sqlite3 -csv` running the same query on the same database, side by
side (alternating runs, median of each).

    python3 bench/export_vs_sqlite3.py DB [--since-days 7] [--runs 3]
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BINARY = os.environ.get("HEALTHTOP") or os.path.join(HERE, "..", "healthtop")

SQL = ("SELECT r.checked_at, t.project, t.name, coalesce(u.url, t.url_at_upgrade, t.url), r.status, r.http_code,"
       " r.response_ms, r.dns_ms, r.connect_ms, r.tls_ms, r.ttfb_ms, r.reason FROM result r"
       " JOIN target t ON t.id = r.target_id LEFT JOIN checked_url u ON u.id = r.url_id"
       " WHERE r.checked_at >= {since} AND r.checked_at < 9223372036854775807"
       " ORDER BY r.checked_at, t.name")


def timed(cmd):
    t0 = time.monotonic()
    with open(os.devnull, "wb") as null:
        subprocess.run(cmd, stdout=null, check=True)
    return time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("db")
    ap.add_argument("--since-days", type=float, default=7)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    since_ms = int((time.time() - args.since_days * 86400) * 1000)
    since_iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(since_ms / 1000)) + f".{since_ms % 1000:03d}Z"
    ours = [BINARY, "export", "--db", args.db, "--since", since_iso, "-o", "/dev/null"]
    ref = ["sqlite3", "-readonly", "-csv", "-header", args.db, SQL.format(since=since_ms)]
    rows = int(subprocess.run(["sqlite3", args.db, f"select count(*) from result where checked_at >= {since_ms}"],
                              capture_output=True, text=True, check=True).stdout)
    a, b = [], []
    for _ in range(args.runs):
        a.append(timed(ours))
        b.append(timed(ref))
    ma, mb = statistics.median(a), statistics.median(b)
    print(f"export of {rows} rows (last {args.since_days:g} d), median of {args.runs}:")
    print(f"  healthtop export -o /dev/null   {ma:6.2f} s  ({rows / ma / 1e6:.2f} M rows/s)")
    print(f"  sqlite3 -csv, same query        {mb:6.2f} s  ({rows / mb / 1e6:.2f} M rows/s)")
    print(f"  ratio healthtop/sqlite3 {ma / mb:.2f}: goal <= 1.00 {'met' if ma <= mb else 'NOT met'}")


if __name__ == "__main__":
    main()
