#!/usr/bin/env python3
"""healthtop export and stats over real sweeps: exact row selection, spreadsheet-safe CSV that
round-trips through Python's csv module, JSONL, rollups, reading beside a running daemon."""
import csv
import io
import json
import os
import signal
import sqlite3
import subprocess
import time

from htlib import BINARY, TestServer, WRAPPER, check, finish, run, tmpdir, write_config

COLUMNS = ["checked_at", "project", "name", "url", "status", "http_code", "response_ms", "dns_ms",
           "connect_ms", "tls_ms", "ttfb_ms", "reason"]
EVIL_NAME = '=HYPERLINK("x")'
EVIL_PROJECT = '@sum,"quoted"'


def fleet(srv):
    # No class may depend on the machine's speed: only a hanging server reaches a time limit.
    h = srv.url()
    return {"defaults": {"timeout_ms": 60000, "degraded_ms": 60000}, "targets": [
        {"name": "a-ok", "project": "p1", "url": h, "path": "/ok"},
        {"name": "b-ok", "project": "p1", "url": h, "path": "/ok"},
        {"name": "c-404", "project": "p1", "url": h, "path": "/nowhere"},
        {"name": "d-refused", "project": "p2", "url": "http://127.0.0.1:9"},
        {"name": "e-flap", "project": "p2", "url": h, "path": "/flap"},
        {"name": EVIL_NAME, "project": EVIL_PROJECT, "url": h, "path": "/ok"},
        {"name": "g-503", "project": "p2", "url": h, "path": '/body?code=503&json={}'},
    ]}


def export(db, *args):
    rc, out, err, _ = run(["export", "--db", db, *args])
    return rc, out, err


def csv_rows(text):
    return list(csv.DictReader(io.StringIO(text, newline="")))


def main():
    d = tmpdir()
    db = os.path.join(d, "h.db")
    with TestServer() as srv:
        cfg = write_config(d, fleet(srv))
        run(["check", "-c", cfg, "--db", db])
        time.sleep(1.1)
        mark = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        time.sleep(1.1)
        run(["check", "-c", cfg, "--db", db])
        run(["check", "-c", cfg, "--db", db])

        rc, out, err = export(db)
        rows = csv_rows(out)
        check(rc == 0 and len(rows) == 21, f"three sweeps of 7 targets export 21 rows (got {len(rows)}, exit {rc}, {err.strip()})")
        check(out.splitlines()[0].split(",") == COLUMNS, f"CSV header is {','.join(COLUMNS)}")
        refused = [r for r in rows if r["name"] == "d-refused"]
        check(all(r["http_code"] == "" and r["tls_ms"] == "" for r in refused), "absent values are empty cells")

        rc, out, _ = export(db, "--since", mark)
        check(len(csv_rows(out)) == 14, f"--since {mark} selects exactly the last two sweeps ({len(csv_rows(out))} rows)")
        rc, out, _ = export(db, "--target", "a-ok", "--target", "e-flap")
        got = csv_rows(out)
        check(len(got) == 6 and {r["name"] for r in got} == {"a-ok", "e-flap"}, f"--target twice selects exactly those ({len(got)} rows)")
        rc, out, _ = export(db, "--target", "a-ok", "--since", mark)
        check(len(csv_rows(out)) == 2, "--target with --since: both apply")
        rc, out, _ = export(db, "--project", "p2")
        check(len(csv_rows(out)) == 9, f"--project selects its targets ({len(csv_rows(out))} rows)")
        rc, out, _ = export(db, "--until", mark)
        check(len(csv_rows(out)) == 7, "--until selects the first sweep only")

        rc, out, _ = export(db, "--target", EVIL_NAME)
        evil = csv_rows(out)
        check(len(evil) == 3, "a target named like a formula is exported")
        check(all(r["name"] == "'" + EVIL_NAME and r["project"] == "'" + EVIL_PROJECT for r in evil),
              f"formula cells round-trip through csv unchanged but for a leading ' ({evil[0]['name'] if evil else None!r}, "
              f"{evil[0]['project'] if evil else None!r})")
        check(all(not cell.startswith(("=", "+", "-", "@")) for r in csv_rows(export(db)[1]) for cell in r.values()
                  if cell and not cell[0].isdigit()), "no exported cell starts with = + - @")

        rc, out, _ = export(db, "--format", "jsonl")
        lines = [json.loads(l) for l in out.splitlines()]
        check(len(lines) == 21 and all(list(l.keys()) == COLUMNS for l in lines), "JSONL: 21 objects with the same keys")
        check(any(l["name"] == EVIL_NAME for l in lines), "JSONL keeps names as they are (no spreadsheet)")

        o = os.path.join(d, "out.csv")
        rc, out, _ = export(db, "-o", o)
        check(rc == 0 and out == "" and len(csv_rows(open(o, newline="").read())) == 21, "-o writes the file, not stdout")
        raw_bytes = open(o, "rb").read()
        check(raw_bytes.endswith(b"\r\n") and b"\n" not in raw_bytes.replace(b"\r\n", b""), "RFC 4180 line ends (CRLF)")

        rc, out, _ = export(db, "--rollup", "hour")
        roll = csv_rows(out)
        check(sum(int(r["healthy"]) + int(r["degraded"]) + int(r["down"]) for r in roll) == 21,
              f"--rollup hour accounts for every check ({len(roll)} rows)")
        flap = next((r for r in roll if r["name"] == "e-flap"), {})
        check(flap.get("healthy") == "2" and flap.get("down") == "1", f"rollup counts by class ({flap})")
        rc, out, _ = export(db, "--rollup", "day", "--format", "jsonl")
        check(len(out.splitlines()) == 7, "--rollup day: one row per target today")

        rc, out, err, _ = run(["stats", "--db", db, "--format", "json"])
        st = {t["name"]: t for t in json.loads(out)["targets"]}
        check(st["e-flap"]["state_changes"] == 2 and st["e-flap"]["checks"] == 3, f"stats: flapping target ({st['e-flap']})")
        check(abs(st["e-flap"]["uptime_pct"] - 66.67) < 0.01, "stats: uptime 2 of 3")
        check(st["d-refused"]["uptime_pct"] == 0 and st["d-refused"]["outage_ongoing"], "stats: always down, outage ongoing")
        check(st["a-ok"]["p95_ms"] is not None and st["d-refused"]["p95_ms"] is None, "stats: percentiles only where something answered")
        rc, out, _, _ = run(["stats", "--db", db, "--target", "a-ok"])
        check(rc == 0 and "a-ok" in out and "b-ok" not in out and "UPTIME" in out, "stats table for one target")

        # The database is a file: text planted in it must not reach a terminal or a spreadsheet.
        con = sqlite3.connect(db)
        tid = con.execute("insert into target(name, project, url) values(?, ?, ?) returning id",
                          ("evil\x1b]0;pwned\x07\x1b[2J", "p\x9b31m", "http://h/\x1b[5m")).fetchone()[0]
        con.execute("insert into result(target_id, checked_at, status, http_code, response_ms, reason)"
                    " values(?, ?, 0, 200, 1.5, ?)", (tid, int(time.time() * 1000), "ok\x1b[31m\r\nrow"))
        con.commit()
        con.close()
        for fmt in ("csv", "jsonl"):
            p = subprocess.run([BINARY, "export", "--db", db, "--format", fmt], capture_output=True)
            bad = [c for c in p.stdout if c < 0x20 and c not in (0x0d, 0x0a)] + [1 for i in range(len(p.stdout) - 1)
                                                                                if p.stdout[i:i + 2] == b"\xc2\x9b"]
            check(p.returncode == 0 and not bad and b"evil" in p.stdout,
                  f"export --format {fmt}: control characters planted in the database never come out")
        p = subprocess.run([BINARY, "stats", "--db", db], capture_output=True)
        check(p.returncode == 0 and b"\x1b" not in p.stdout and b"evil" in p.stdout, "stats: the same for the table")
        rows_all = csv_rows(export(db)[1])
        check(any(r["reason"].startswith("ok") and "\n" not in r["reason"] for r in rows_all), "a CR LF in a reason stays inside its cell")

        rc, _, err = export(db, "--since", "yesterday")
        check(rc == 3 and '--since: "yesterday" is not a time' in err, "bad --since: exit 3")
        rc, _, err = export(os.path.join(d, "missing.db"))
        check(rc == 4 and not os.path.exists(os.path.join(d, "missing.db")), "missing database: exit 4, nothing created")

        # Beside a running writer: the daemon checks every second while we export.
        cfg2 = dict(fleet(srv))
        cfg2["defaults"] = dict(cfg2["defaults"], interval_s=1)
        path2 = write_config(d, cfg2, "fast.json")
        daemon = subprocess.Popen(WRAPPER + [BINARY, "daemon", "-c", path2, "--db", db], stderr=subprocess.DEVNULL)
        try:
            # Export again and again until the daemon's rows have grown twice under our eyes
            # (more than the 21 before it, then more again): counted, not timed.
            counts = []

            def grown_twice():
                rc, out, err = export(db)
                counts.append((rc, len(csv_rows(out))))
                first = next((n for _, n in counts if n > 21), None)
                return rc != 0 or (first is not None and counts[-1][1] > first)
            end = time.monotonic() + 60
            while not grown_twice() and time.monotonic() < end:
                time.sleep(0.3)
            check(all(rc == 0 for rc, _ in counts) and counts[-1][1] > next((n for _, n in counts if n > 21), 1 << 30),
                  f"export reads while the daemon writes (rows {sorted(set(n for _, n in counts))})")
        finally:
            daemon.send_signal(signal.SIGTERM)
            check(daemon.wait(60) == 0, "daemon exits 0 on SIGTERM")
        con = sqlite3.connect(db)
        raw = con.execute("select count(*) from result").fetchone()[0]
        rolled = con.execute("select sum(n_healthy + n_degraded + n_down) from rollup_hour").fetchone()[0]
        con.close()
        # less the one row planted by hand above, which went around healthtop
        check(raw - 1 == rolled, f"every stored result is in the hourly rollups ({raw - 1} raw, {rolled} rolled up)")
    finish()


if __name__ == "__main__":
    main()
