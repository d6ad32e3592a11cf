#!/usr/bin/env python3
"""Insert rate into the PostgreSQL store (issue 13: goal >= 50 000 results/s on this machine).

A throwaway server (tests/integration/pgserver.py, fsync off as in the tests: the figure is
healthtop's work and the server's CPU, not this disk's), then bench/pg_insert writes N results for
1000 targets through store_append_batch in the writer's batches of 512 (binary COPY of the raw
rows and of one fresh rollup delta per target-hour, state changes with COMMIT; one transaction
per batch). References measured in the same run: psql \\copy of the same raw rows into the same
table (no rollups), and the same N through the SQLite store.

    python3 bench/pg_insert.py [--rows N] [--quick]      (full: 500 000 rows, about 40 s)"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
from benchlib import record  # noqa: E402
from pgserver import PgServer, PgUnavailable  # noqa: E402

GOAL = 50000
TARGETS = 1000


def pg_insert(args):
    exe = os.environ.get("PG_INSERT") or os.path.join(os.path.dirname(os.environ.get("HEALTHTOP", "")) or
                                                      os.path.join(HERE, ".."), "bench", "pg_insert")
    p = subprocess.run([exe, *args], capture_output=True, text=True, timeout=3600)
    if p.returncode != 0:
        raise SystemExit(f"pg_insert failed: {p.stderr.strip()}")
    return p.stdout.split()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=500000)
    ap.add_argument("--quick", action="store_true", help="20 000 rows: seconds, for CI")
    a = ap.parse_args()
    rows = 20000 if a.quick else a.rows
    try:
        pg = PgServer()
    except PgUnavailable as e:
        print(f"pg_insert: skipped: {e}")
        return 0
    with pg, tempfile.TemporaryDirectory() as d:
        n, secs = pg_insert(["--db", pg.url(), "--rows", str(rows), "--targets", str(TARGETS)])
        rate = int(n) / float(secs)

        # psql \copy of the same raw rows into a fresh healthtop schema (made by a small run)
        pg.psql("CREATE DATABASE ref")
        pg_insert(["--db", pg.url("ref"), "--rows", "512", "--targets", str(TARGETS)])
        dump = os.path.join(d, "rows.tsv")
        pg_insert(["--dump", dump, "--rows", str(rows), "--targets", str(TARGETS)])
        cols = ("target_id, checked_at, status, http_code, response_ms, dns_ms, connect_ms, tls_ms, ttfb_ms,"
                " cert_expiry, reason, error, url_id, up, bucket")
        t0 = time.monotonic()
        pg.psql(f"\\copy result({cols}) from '{dump}'", db="ref")
        ref = rows / (time.monotonic() - t0)

        _, lite_secs = pg_insert(["--db", os.path.join(d, "h.db"), "--rows", str(rows), "--targets", str(TARGETS)])
        lite = rows / float(lite_secs)
    cmd = f"python3 bench/pg_insert.py --rows {rows}"
    record(f"PostgreSQL store insert rate ({rows} results, {TARGETS} targets, batches of 512)",
           f"{rate:,.0f}/s", f">= {GOAL:,}/s", f"psql \\copy raw rows only {ref:,.0f}/s",
           f"{rate / ref:.2f}", rate >= GOAL, cmd)
    record(f"SQLite store insert rate (same rows)", f"{lite:,.0f}/s", "n/a",
           f"PostgreSQL store {rate:,.0f}/s", f"{lite / rate:.2f}", None, cmd)
    return 0


if __name__ == "__main__":
    sys.exit(main())
