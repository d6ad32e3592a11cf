#!/usr/bin/env python3
"""healthtop import (issue 13): a SQLite history exported as JSONL and imported into PostgreSQL
says the same in `stats` (table and JSON) and in `export` as the SQLite original; importing the
same file again stores nothing twice; a line that is not an export's fails with its number.
The PostgreSQL part skips (77) where no PostgreSQL server can run; the SQLite-to-SQLite round
trip runs everywhere."""
import json
import os
import subprocess
import sys
import time

from htlib import BINARY, NO_TIMING, WRAPPER, TestServer, check, finish, run, tmpdir, write_config
from pgserver import PgServer, PgUnavailable


def importing(db, text):
    p = subprocess.run(WRAPPER + [BINARY, "import", "--db", db], input=text, capture_output=True, text=True,
                       timeout=300)
    return p.returncode, p.stderr


def history(d, srv):
    cfg = write_config(d, {"defaults": NO_TIMING, "targets": [
        {"name": "ok", "project": "web", "url": srv.url(), "path": "/ok"},
        {"name": "missing", "project": "web", "url": srv.url(), "path": "/nowhere"},
        {"name": "flapping", "project": "api", "url": srv.url(), "path": "/flip?tag=imp"},
        {"name": "refused", "url": "http://127.0.0.1:9"}]}, "import.json")
    db = os.path.join(d, "source.db")
    for _ in range(6):
        run(["check", "-c", cfg, "--db", db])
    return db


UNTIL = []   # a fixed end after the last check: an outage still on is measured to it, not to now


def views(db):
    out = []
    for args in (["stats"], ["stats", "--format", "json"], ["export", "--format", "csv"],
                 ["export", "--format", "csv", "--rollup", "hour"]):
        rc, o, e, _ = run(args + ["--db", db] + (["--until", UNTIL[0]] if args[0] == "stats" else []))
        out.append((" ".join(args), rc, sorted(o.splitlines()) if args[0] == "export" else o))
    return out


def round_trip(src, dst, what):
    rc, o, e, _ = run(["export", "--format", "jsonl", "--db", src])
    if not UNTIL:
        import datetime
        last = max(json.loads(line)["checked_at"] for line in o.splitlines())
        end = datetime.datetime.fromisoformat(last.replace("Z", "+00:00")) + datetime.timedelta(seconds=1)
        end = end.replace(microsecond=0)
        UNTIL.append(end.strftime("%Y-%m-%dT%H:%M:%SZ"))
        # An end still ahead is cut to "now" by stats, which differs between two runs (a slow
        # machine put a second between them): compare only once it has passed.
        while datetime.datetime.now(datetime.timezone.utc) <= end:
            time.sleep(0.1)
    check(rc == 0 and o.count("\n") == 24, f"the SQLite history exports as JSONL ({o.count(chr(10))} lines)")
    rc, err = importing(dst, o)
    check(rc == 0 and "24 results stored" in err, f"import into {what} stores every line ({rc}: {err.strip()})")
    for (cmd, rc1, o1), (_, rc2, o2) in zip(views(src), views(dst)):
        check(rc1 == rc2 == 0 and o1 == o2, f"{cmd}: the same from {what} as from the SQLite original"
              + ("" if o1 == o2 else f"\n--- sqlite\n{o1}\n--- {what}\n{o2}"))
    rc, err = importing(dst, o)
    check(rc == 0 and "0 results stored" in err and "24 already there skipped" in err,
          f"importing the same file again into {what} stores nothing twice ({err.strip()})")
    rc, o2, e, _ = run(["stats", "--db", dst, "--until", UNTIL[0]])
    check(o2 == views(src)[0][2], f"and {what}'s stats are unchanged by it")


def hostile(d):
    """A file is untrusted: control characters (a terminal escape, a BEL)
    and over-long text in a line's name, project, URL and reason never reach the database as
    they are."""
    import sqlite3
    db = os.path.join(d, "hostile.db")
    line = json.dumps({"checked_at": "2026-11-24T10:00:00Z", "name": "evil\u001b]0;pwned\u0007", "project":
                       "p\u001b[31m", "url": "http://127.0.0.1/\u001b[2J", "status": "down",
                       "reason": "x\u001b[31mred" + "y" * 100000})
    rc, err = importing(db, line + "\n")
    check(rc == 0, f"a line with control characters imports ({rc}: {err.strip()})")
    con = sqlite3.connect(db)
    texts = [v for row in con.execute("select name, project, url from target") for v in row]
    texts += [r for (r,) in con.execute("select reason from result")]
    texts += [u for (u,) in con.execute("select url from checked_url")]
    con.close()
    bad = [t[:40] for t in texts if any(ord(c) < 0x20 or ord(c) == 0x7f for c in t)]
    check(texts and not bad, f"no control character reaches the database ({bad})")
    check(all(len(t) <= 2048 for t in texts), f"and nothing unbounded ({[len(t) for t in texts]})")


def main():
    d = tmpdir()
    with TestServer() as srv:
        src = history(d, srv)
    round_trip(src, os.path.join(d, "copy.db"), "SQLite")
    hostile(d)
    rc, err = importing(os.path.join(d, "bad.db"), '{"checked_at":"2026-11-24T10:00:00Z"}\nnot json\n')
    check(rc == 4 and "line 1" in err, f"a line that is not an export's fails with its number ({rc}: {err.strip()})")
    try:
        pg = PgServer()
    except PgUnavailable as e:
        print(f"SKIP the PostgreSQL round trip: {e}")
        finish()
        return
    with pg:
        round_trip(src, pg.url(), "PostgreSQL")
    finish()


if __name__ == "__main__":
    sys.exit(main())
