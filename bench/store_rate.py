#!/usr/bin/env python3
"""Results per second into SQLite through healthtop's write path, and bytes per stored result
(issue 12, goal 5).

bench/store_rate (C, built by `make bench`, linked with libhealthtop.a) writes a daemon's stream
of results: --targets targets checked in turn, one sweep every 60 s of simulated time. It times
--rows results through the writer thread (store_writer_push: batches, target ids, the result
row, the hourly and daily rollups, state changes), as the daemon does; a second run times
store_append_batch alone. Goal: >= 100 000 results/s.

Reference, in the same run: the sqlite3 CLI inserting the same rows into the same schema (a copy
of healthtop's, same PRAGMAs) in one transaction, as one INSERT ... SELECT from a staging table
(the cheapest bulk insert SQLite has: one prepared statement stepped per row, executemany-like).
It writes the result rows only, without the rollups healthtop keeps beside them.

Bytes per stored result: the result table and its two indexes (dbstat) over its rows, after
VACUUM; and a second, hour-long stream (1 000 targets x 60 checks) for the bytes of an hourly
rollup row. From these, the daily growth and the size after retention of a 100 000-target
daemon at interval 60 s (retention defaults: 14 days raw, 400 days hourly, daily forever).

--quick: 100 000 rows over 10 000 targets (a few seconds).
Full: 1 000 000 rows over 100 000 targets (about a minute).
"""
import argparse
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

COLUMNS = ("target_id, checked_at, status, http_code, response_ms, dns_ms, connect_ms, tls_ms, ttfb_ms,"
           " cert_expiry, reason, error, url_id, up")
# CSV has no NULL: the staging table's empty cells become NULL where the column allows it
SELECT = ("SELECT target_id, checked_at, status, nullif(http_code, ''), nullif(response_ms, ''),"
          " nullif(dns_ms, ''), nullif(connect_ms, ''), nullif(tls_ms, ''), nullif(ttfb_ms, ''),"
          " nullif(cert_expiry, ''), reason, nullif(error, ''), url_id, up FROM staging")


def run_rate(binary, db, rows, targets, extra=()):
    out = subprocess.run([binary, db, "--rows", str(rows), "--targets", str(targets), *extra],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"store_rate failed: {out.stderr.strip()}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def table_bytes(db):
    """Bytes per table or index (dbstat), after VACUUM."""
    con = sqlite3.connect(db)
    con.execute("VACUUM")
    sizes = dict(con.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"))
    counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
              for t in ("result", "rollup_hour", "rollup_day")}
    page = con.execute("PRAGMA page_size").fetchone()[0] * con.execute("PRAGMA page_count").fetchone()[0]
    con.close()
    return sizes, counts, page


def reference(ours, csv, tmp):
    """The sqlite3 CLI: the same schema, targets and first sweep as ours, then the timed rows."""
    ref = os.path.join(tmp, "ref.db")
    schema = subprocess.run(["sqlite3", ours, ".schema"], capture_output=True, text=True, check=True).stdout
    script = "\n".join([
        "PRAGMA journal_mode=WAL;", "PRAGMA synchronous=NORMAL;", "PRAGMA foreign_keys=ON;",
        schema,
        f"ATTACH '{ours}' AS o;",
        "INSERT INTO target SELECT * FROM o.target;",
        "INSERT INTO checked_url SELECT * FROM o.checked_url;",
        # the untimed first sweep: the first row of each target
        "INSERT INTO result SELECT * FROM o.result WHERE id IN (SELECT min(id) FROM o.result GROUP BY target_id);",
        "DETACH o;",
        f".import --csv {csv} staging",
        ".timer on",
        "BEGIN;",
        f"INSERT INTO result({COLUMNS}) {SELECT};",
        "COMMIT;",
        ".timer off",
    ])
    out = subprocess.run(["sqlite3", ref], input=script, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"sqlite3 failed: {out.stderr.strip()}")
    times = [float(x) for x in re.findall(r"Run Time: real ([0-9.]+)", out.stdout)]
    return sum(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1000000)
    ap.add_argument("--targets", type=int, default=100000)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    if args.quick:
        args.rows, args.targets = 100000, 10000
    binary = os.environ.get("STORE_RATE", os.path.join(os.path.dirname(os.path.abspath(__file__)), "store_rate"))
    if not shutil.which("sqlite3"):
        raise SystemExit("store_rate: the sqlite3 CLI is missing (make bench installs it)")
    command = "make bench/store_rate && python3 bench/store_rate.py" + (" --quick" if args.quick else "")
    tmp = tempfile.mkdtemp(prefix="healthtop-store-")
    try:
        ours, csv = os.path.join(tmp, "ours.db"), os.path.join(tmp, "rows.csv")
        w = run_rate(binary, ours, args.rows, args.targets, ("--csv", csv))
        d = run_rate(binary, os.path.join(tmp, "direct.db"), args.rows, args.targets, ("--direct",))
        ref_s = reference(ours, csv, tmp)
        ref_rate = args.rows / ref_s
        sizes, counts, _ = table_bytes(ours)
        hour_db = os.path.join(tmp, "hour.db")
        run_rate(binary, hour_db, 60000, 1000)
        hsizes, hcounts, _ = table_bytes(hour_db)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    per = f"{args.rows} results, {args.targets} targets"
    benchlib.record(f"results stored per second, writer thread ({per})", f"{w['rate']:.0f}/s", ">= 100 000/s",
                    f"sqlite3 CLI {ref_rate:.0f}/s (result rows only, one INSERT ... SELECT)",
                    f"{w['rate'] / ref_rate:.2f}", w["rate"] >= 100000, command)
    benchlib.record(f"results stored per second, store_append_batch alone ({per})", f"{d['rate']:.0f}/s",
                    ">= 100 000/s", f"sqlite3 CLI {ref_rate:.0f}/s", f"{d['rate'] / ref_rate:.2f}",
                    d["rate"] >= 100000, command)
    raw = sum(sizes.get(k, 0) for k in ("result", "result_target_time", "result_time"))
    b_raw = raw / counts["result"]
    hour = sum(hsizes.get(k, 0) for k in ("rollup_hour", "rollup_hour_period"))
    day = sum(hsizes.get(k, 0) for k in ("rollup_day", "rollup_day_period"))
    b_hour, b_day = hour / hcounts["rollup_hour"], day / hcounts["rollup_day"]
    benchlib.record("bytes per stored result (result row + its 2 indexes, after VACUUM)", f"{b_raw:.1f} B",
                    "reported", f"{counts['result']} rows", "", None, command)
    benchlib.record("bytes per hourly rollup row (60 checks)", f"{b_hour:.1f} B", "reported",
                    f"{hcounts['rollup_hour']} rows; daily row {b_day:.1f} B", "", None, command)
    # 100 000 targets at interval 60 s
    per_day = 100000 * 1440 * b_raw + 100000 * 24 * b_hour + 100000 * b_day
    retained = 14 * 100000 * 1440 * b_raw + 400 * 100000 * 24 * b_hour
    benchlib.record("100 000 targets at 60 s: database growth per day", f"{per_day / 2**30:.2f} GiB/day",
                    "reported", f"raw {100000 * 1440 * b_raw / 2**30:.2f} GiB + hourly "
                    f"{100000 * 24 * b_hour / 2**20:.0f} MiB + daily {100000 * b_day / 2**20:.1f} MiB",
                    "", None, command)
    benchlib.record("100 000 targets at 60 s: size after retention (14 d raw, 400 d hourly)",
                    f"{retained / 2**30:.1f} GiB", "reported",
                    f"+ {100000 * 365 * b_day / 2**20:.0f} MiB a year of daily rollups (kept forever)",
                    "", None, command)


if __name__ == "__main__":
    main()
