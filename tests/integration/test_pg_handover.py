#!/usr/bin/env python3
"""A dashboard that polled a PostgreSQL fleet alone gives way to a daemon (issue 13): once a
`healthtop daemon` holds the shards, the dashboard stops checking and becomes its viewer, and no
target is checked by both in the same interval. Proved by counting rows on the database's
clock, never by timing:

- before the daemon comes, every target's rows are the dashboard's (the poller stored with each);
- across the handover window (from before the daemon starts until it has checked every target
  three times) no target has more rows than one per interval plus the one at the window's start,
  which a second poller checking it in the same interval would exceed;
- after the handover every new row is the daemon's, and the dashboard says it views 1 poller.

Needs tmux (the dashboard is a terminal program); skips (77) without it or without PostgreSQL."""
import os
import shutil
import signal
import subprocess
import sys
import time

from htlib import BINARY, NO_TIMING, WRAPPER, TestServer, check, finish, tmpdir, wait_for, write_config
from pgserver import PgServer, PgUnavailable, skip

CEILING = 120
N = 100
INTERVAL_S = 2
LEASE_MS = 3000


def db_now(pg):
    return int(pg.psql("select (extract(epoch from clock_timestamp()) * 1000)::bigint").strip())


def rows(pg, since, until=None):
    """{target: {poller: rows}} checked in [since, until)."""
    cond = f"r.checked_at >= {since}" + (f" and r.checked_at < {until}" if until else "")
    out = {}
    for line in pg.psql("select t.name, coalesce(r.poller, '-'), count(*) from result r join target t"
                        f" on t.id = r.target_id where {cond} group by 1, 2").split():
        name, poller, n = line.split("|")
        out.setdefault(name, {})[poller] = int(n)
    return out


def checked(pg, since, times, by=None):
    seen = rows(pg, since)
    return len(seen) == N and all((p.get(by, 0) if by else sum(p.values())) >= times for p in seen.values())


def main():
    if not shutil.which("tmux"):
        skip("no tmux")
    try:
        pg = PgServer()
    except PgUnavailable as e:
        skip(str(e))
    d = tmpdir()
    sock = f"healthtop-handover-{os.getpid()}"
    tmux = lambda *a: subprocess.run(["tmux", "-L", sock, *a], capture_output=True, text=True).stdout  # noqa: E731
    screen = lambda: tmux("capture-pane", "-p", "-t", "v")  # noqa: E731
    env = dict(os.environ, HEALTHTOP_SHARD_LEASE_MS=str(LEASE_MS))
    daemon = None
    with pg, TestServer() as srv:
        targets = [{"name": f"h{i:03d}", "url": srv.url(), "path": f"/ok?tag=h{i:03d}", "interval_s": INTERVAL_S}
                   for i in range(N)]
        cfg = write_config(d, {"defaults": NO_TIMING, "targets": targets}, "handover.json")
        cmd = " ".join(WRAPPER + [BINARY, "-c", cfg, "--db", f"'{pg.url()}'"])
        try:
            tmux("new-session", "-d", "-s", "v", "-x", "160", "-y", "40",
                 f"TERM=xterm-256color HEALTHTOP_SHARD_LEASE_MS={LEASE_MS} {cmd}")
            t0 = db_now(pg)
            # the dashboard creates the schema: until then there is nothing to count
            check(wait_for(lambda: pg.psql("select to_regclass('result') is not null").strip() == "t", CEILING),
                  "the dashboard prepares the database")
            ok = wait_for(lambda: checked(pg, t0, 2), CEILING)
            check(ok, "the dashboard alone polls the fleet" + ("" if ok else "\n" + screen()))
            dash = {p for ps in rows(pg, t0).values() for p in ps}
            check(len(dash) == 1 and "-" not in dash, f"its rows carry one poller, the dashboard ({dash})")
            dash = next(iter(dash))

            t1 = db_now(pg)
            with open(os.path.join(d, "daemon.log"), "w") as err:
                daemon = subprocess.Popen(WRAPPER + [BINARY, "daemon", "-c", cfg, "--db", pg.url()],
                                          stderr=err, env=env)
            ok = wait_for(lambda: "viewer of 1 poller" in screen(), CEILING)
            check(ok, "the dashboard gives way and views the daemon" + ("" if ok else "\n" + screen()))
            pollers = lambda: {p for ps in rows(pg, t1).values() for p in ps} - {dash}  # noqa: E731
            check(wait_for(lambda: len(pollers()) == 1, CEILING), f"the daemon checks ({pollers()})")
            me = next(iter(pollers()))
            check(wait_for(lambda: checked(pg, t1, 3, me), CEILING), "the daemon has checked every target 3 times")
            t2 = db_now(pg)

            seen = rows(pg, t1, t2)
            most = (t2 - t1) // (INTERVAL_S * 1000) + 1
            over = {t: p for t, p in seen.items() if sum(p.values()) > most}
            check(len(seen) == N and not over,
                  f"no target checked twice in one interval across the handover (at most {most} rows each in"
                  f" the window; over: {list(over.items())[:3]})")
            both = sum(1 for p in seen.values() if dash in p and me in p)
            print(f"     ({both} of {N} targets were checked by both in turn)")

            t3 = db_now(pg)
            check(wait_for(lambda: checked(pg, t3, 2), CEILING), "checks go on after the handover")
            late = {t: p for t, p in rows(pg, t3).items() if set(p) != {me}}
            check(not late, f"after the handover only the daemon checks ({list(late.items())[:3]})")
            tmux("send-keys", "-t", "v", "q")
            time.sleep(0.5)
        finally:
            tmux("kill-server")
            if daemon:
                daemon.send_signal(signal.SIGTERM)
                rc = daemon.wait(CEILING)
                check(rc == 0, f"the daemon exits 0 on SIGTERM ({rc})")
    finish()


if __name__ == "__main__":
    sys.exit(main())
