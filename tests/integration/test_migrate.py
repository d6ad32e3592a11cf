#!/usr/bin/env python3
"""healthtop migrate (issue 13): a SQLite history whose older part survives only as rollups and
state changes (retention deleted its raw results) moves whole into PostgreSQL and into another
SQLite file: `stats` over 60 days and the hourly and daily rollup exports say the same as the
original. The export | import pipe, which carries raw results only, loses that older part (the
test shows it, so the difference is what migrate adds). The hour holding the oldest raw result
also counted deleted results: migrate carries the source's whole count for it. Running migrate
twice stores nothing twice, and the PostgreSQL copy migrates back into SQLite the same. The PostgreSQL part skips where no server can run."""
import datetime
import os
import sqlite3
import struct
import subprocess
import sys
import time

from htlib import BINARY, NO_TIMING, WRAPPER, TestServer, check, finish, run, tmpdir, write_config
from pgserver import PgServer, PgUnavailable

DAY = 86400
UNTIL = []   # [end, start]: fixed, so two runs of stats read the same span


def hist_blob(bucket, count):
    return struct.pack("<BI", bucket, count)


def old_history(db):
    """Days 40..21 ago for target "ok": hourly and daily rollups (one down hour on day 30) and
    the state changes of that outage; and 5 deleted results counted in the hour of the oldest
    raw result, as retention leaves it."""
    con = sqlite3.connect(db)
    tid = con.execute("select id from target where name = 'ok'").fetchone()[0]
    now = int(time.time())
    today = now - now % DAY
    for back in range(40, 20, -1):
        day = today - back * DAY
        tot = [0, 0, 0]
        for h in range(24):
            down = back == 30 and h == 5
            counts = (0, 0, 60) if down else (58, 2, 0)
            tot = [a + b for a, b in zip(tot, counts)]
            n_lat = 0 if down else 60
            con.execute("insert into rollup_hour(target_id, period, n_healthy, n_degraded, n_down, n_latency,"
                        " sum_ms, min_ms, max_ms, hist, n_up) values(?,?,?,?,?,?,?,?,?,?,?)",
                        (tid, day + h * 3600, *counts, n_lat, 12.5 * n_lat, 3.0 if n_lat else None,
                         40.0 if n_lat else None, hist_blob(40, n_lat) if n_lat else b"", 60 - counts[2]))
        con.execute("insert into rollup_day(target_id, period, n_healthy, n_degraded, n_down, n_latency,"
                    " sum_ms, min_ms, max_ms, hist, n_up) values(?,?,?,?,?,?,?,?,?,?,?)",
                    (tid, day, *tot, 1380, 12.5 * 1380, 3.0, 40.0, hist_blob(40, 1380), 1440 - tot[2]))
    down_at = (today - 30 * DAY + 5 * 3600) * 1000
    con.execute("insert into state_change values(?,?,?,?)", (tid, down_at, 0, 2))
    con.execute("insert into state_change values(?,?,?,?)", (tid, down_at + 3600 * 1000, 2, 0))
    first = con.execute("select min(checked_at) from result where target_id = ?", (tid,)).fetchone()[0]
    hour = first // 1000 // 3600 * 3600
    con.execute("update rollup_hour set n_healthy = n_healthy + 5, n_up = n_up + 5 where target_id = ? and"
                " period = ?", (tid, hour))
    con.execute("update rollup_day set n_healthy = n_healthy + 5, n_up = n_up + 5 where target_id = ? and"
                " period = ?", (tid, hour - hour % DAY))
    con.commit()
    con.close()


def source(d, srv):
    cfg = write_config(d, {"defaults": NO_TIMING, "targets": [
        {"name": "ok", "project": "web", "url": srv.url(), "path": "/ok"},
        {"name": "flapping", "project": "api", "url": srv.url(), "path": "/flip?tag=mig"},
        {"name": "refused", "url": "http://127.0.0.1:9"}]}, "migrate.json")
    db = os.path.join(d, "source.db")
    for _ in range(4):
        run(["check", "-c", cfg, "--db", db])
    old_history(db)
    end = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) + datetime.timedelta(seconds=2)
    UNTIL.append(end.strftime("%Y-%m-%dT%H:%M:%SZ"))
    UNTIL.append((end - datetime.timedelta(days=60)).strftime("%Y-%m-%dT%H:%M:%SZ"))   # a fixed start
    while datetime.datetime.now(datetime.timezone.utc) <= end:   # stats cuts an end ahead to "now"
        time.sleep(0.1)
    return db


def views(db):
    out = []
    for args in (["stats", "--since", UNTIL[1], "--until", UNTIL[0]],
                 ["stats", "--since", UNTIL[1], "--until", UNTIL[0], "--format", "json"],
                 ["export", "--format", "csv", "--since", UNTIL[1], "--rollup", "hour"],
                 ["export", "--format", "csv", "--since", UNTIL[1], "--rollup", "day"],
                 ["export", "--format", "csv"]):
        rc, o, e, _ = run(args + ["--db", db])
        out.append((" ".join(args[:5]), rc, sorted(o.splitlines()) if args[0] == "export" else o))
    return out


def migrate(src, dst):
    p = subprocess.run(WRAPPER + [BINARY, "migrate", "--from", src, "--db", dst], capture_output=True,
                       text=True, timeout=300)
    return p.returncode, p.stderr.strip()


def same(src, dst, what):
    for (cmd, rc1, o1), (_, rc2, o2) in zip(views(src), views(dst)):
        check(rc1 == rc2 == 0 and o1 == o2, f"{cmd}: the same from {what} as from the SQLite original"
              + ("" if o1 == o2 else f"\n--- sqlite\n{o1}\n--- {what}\n{o2}"))


def round_trip(src, dst, what):
    rc, err = migrate(src, dst)
    check(rc == 0 and "12 results stored" in err and "2 older state changes" in err,
          f"migrate into {what} stores the raw results and the older state changes ({rc}: {err})")
    same(src, dst, what)
    rc, err = migrate(src, dst)
    check(rc == 0 and "0 results stored (12 already there skipped)" in err and "0 older state changes" in err,
          f"migrating again into {what} stores no result twice ({rc}: {err})")
    same(src, dst, what + " after a second migrate")


def hostile_source(d, src):
    """The source is a file, untrusted like any: control characters in its names, URLs and
    reasons, and a state change that names no class, never reach the destination as they are."""
    import shutil as sh
    bad_src = os.path.join(d, "hostile.db")
    sh.copy(src, bad_src)
    con = sqlite3.connect(bad_src)
    con.execute("update target set name = name || char(27) || ']0;x' || char(7) where name = 'ok'")
    con.execute("update result set reason = reason || char(27) || '[31m'")
    con.execute("insert into checked_url(url) values('http://127.0.0.1/' || char(27) || '[2J')")
    con.execute("update rollup_hour set url_id = (select max(id) from checked_url)")
    con.execute("insert into state_change select target_id, 1000, 7, 0 from state_change limit 1")
    con.commit()
    con.close()
    dst = os.path.join(d, "from-hostile.db")
    rc, err = migrate(bad_src, dst)
    check(rc == 0, f"a source with control characters migrates ({rc}: {err})")
    con = sqlite3.connect(dst)
    texts = [v for row in con.execute("select name, project, url from target") for v in row]
    texts += [r for (r,) in con.execute("select reason from result")]
    texts += [u for (u,) in con.execute("select url from checked_url")]
    classes = [c for row in con.execute("select from_status, to_status from state_change") for c in row]
    con.close()
    bad = [t[:40] for t in texts if any(ord(c) < 0x20 or ord(c) == 0x7f for c in t)]
    check(texts and not bad, f"no control character reaches the destination ({bad})")
    check(classes and all(0 <= c <= 2 for c in classes), f"nor a state change that names no class ({classes})")


def main():
    d = tmpdir()
    with TestServer() as srv:
        src = source(d, srv)
    # what the pipe loses: the 40 days that are rollups only
    piped = os.path.join(d, "piped.db")
    rc, o, e, _ = run(["export", "--format", "jsonl", "--db", src])
    subprocess.run(WRAPPER + [BINARY, "import", "--db", piped], input=o, capture_output=True, text=True,
                   timeout=300)
    a, b = views(src)[3], views(piped)[3]
    check(len(a[2]) > len(b[2]) + 15, f"export | import leaves the rollup-only days behind ({len(a[2])} daily"
          f" rows in the original, {len(b[2])} after the pipe)")

    round_trip(src, os.path.join(d, "copy.db"), "SQLite")
    hostile_source(d, src)
    rc, err = migrate(src, src)
    check(rc == 3, f"migrate into its own source is a usage error ({rc}: {err})")
    rc, err = migrate(os.path.join(d, "absent", "none.db"), os.path.join(d, "x.db"))
    check(rc == 4 and "none.db" in err, f"a source that cannot be opened fails with exit 4 ({rc}: {err})")
    try:
        pg = PgServer()
    except PgUnavailable as e:
        print(f"SKIP the PostgreSQL migration: {e}")
        finish()
        return
    with pg:
        round_trip(src, pg.url(), "PostgreSQL")
        back = os.path.join(d, "back.db")
        rc, err = migrate(pg.url(), back)
        check(rc == 0 and "12 results stored" in err, f"and back from PostgreSQL into SQLite ({rc}: {err})")
        same(src, back, "SQLite migrated back from PostgreSQL")
    finish()


if __name__ == "__main__":
    sys.exit(main())
