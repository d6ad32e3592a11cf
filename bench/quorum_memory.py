#!/usr/bin/env python3
"""Memory of the quorum across locations in a viewer (issue 13: memory at 100 000 targets
matters). A dashboard viewing a PostgreSQL database draws N targets' results from three
locations (a, b, c: one row each per target, a tenth of them down from a), and, in the same run
as the reference, the same number of rows without a location. The viewer's RSS growth while it
draws them, divided by N, is what each target costs; the difference between the two runs is the
quorum's own cost (each target's locations' newest: class, time, poller). No daemon runs: the
rows are written with SQL and the pollers' liveness rows are kept fresh by this script.

    python3 bench/quorum_memory.py [--targets N] [--quick]   (full: 20 000 targets, about 1 min;
                                                               --quick: 5 000, seconds)"""
import argparse
import os
import shlex
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
sys.path.insert(0, HERE)
from benchlib import record, rss_kib, write_fleet  # noqa: E402
from htlib import BINARY  # noqa: E402
from pgserver import PgServer, PgUnavailable  # noqa: E402

GOAL_B = 100   # bytes per target for three locations' newest: a few words, not a page
NOW = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint"


def pending(sock):
    """The targets the viewer's header counts as pending (no result drawn yet), -1 unknown."""
    top = subprocess.run(["tmux", "-L", sock, "capture-pane", "-p", "-t", "v"], capture_output=True,
                         text=True).stdout.splitlines()[:1]
    words = top[0].split() if top else []
    if "pending" in words:
        return int(words[words.index("pending") - 1])
    return 0 if "healthy" in words else -1   # the header leaves "0 pending" out


def pane_pid(sock):
    out = subprocess.run(["tmux", "-L", sock, "list-panes", "-t", "v", "-F", "#{pane_pid}"],
                         capture_output=True, text=True).stdout.split()
    return int(out[0]) if out else None


def settle(pid, limit=600):
    """Waits until the viewer's RSS holds still for 3 s (its start-up reads are done)."""
    end, last = time.monotonic() + limit, -1
    while time.monotonic() < end:
        time.sleep(3)
        now = rss_kib(pid)
        if abs(now - last) <= max(64, last // 200):
            return now
        last = now
    return last


def one_run(pg, cfg, n, located, d):
    """The viewer's RSS growth (KiB) while it draws 3 rows per target, and the time it took."""
    pg.psql("DROP SCHEMA public CASCADE; CREATE SCHEMA public; GRANT ALL ON SCHEMA public TO public")
    subprocess.run([BINARY, "import", "--db", pg.url()], stdin=subprocess.DEVNULL, check=True,
                   capture_output=True)   # creates the schema
    pg.psql(f"INSERT INTO target(name, project, url) SELECT 'svc-' || lpad(i::text, 6, '0'),"
            f" 'team-' || lpad((i % 50)::text, 2, '0'), 'http://127.0.0.1:9/x?i=' || i FROM generate_series(0, {n - 1}) i;"
            "CREATE TABLE result_bench PARTITION OF result FOR VALUES FROM (0) TO (9000000000000000);"
            f"INSERT INTO poller(id, heartbeat, location) VALUES ('pa', {NOW}, 'a'), ('pb', {NOW}, 'b'), ('pc', {NOW}, 'c')")
    stop = threading.Event()

    def beat():
        while not stop.wait(1.0):
            pg.psql(f"UPDATE poller SET heartbeat = {NOW}")
    threading.Thread(target=beat, daemon=True).start()
    sock = f"quorum-mem-{os.getpid()}"
    cmd = (f"exec env LANG=C.UTF-8 TERM=xterm-256color {shlex.quote(BINARY)} -c {shlex.quote(cfg)}"
           f" --db {shlex.quote(pg.url())}")
    try:
        subprocess.run(["tmux", "-L", sock, "-u", "new-session", "-d", "-s", "v", "-x", "160", "-y", "50", cmd],
                       check=True)
        pid = pane_pid(sock)
        before = settle(pid)
        print(f"viewer {pid} settled at {before} KiB, {pending(sock)} pending", flush=True)
        loc = "l" if located else "NULL"
        pg.psql("INSERT INTO result(target_id, checked_at, status, reason, up, poller, location)"
                f" SELECT t.id, {NOW}, CASE WHEN l = 'a' AND t.id % 10 = 0 THEN 2 ELSE 0 END, '', true, 'p' || l, {loc}"
                " FROM target t CROSS JOIN (VALUES ('a'), ('b'), ('c')) v(l)")
        t0 = time.monotonic()
        while pending(sock) != 0 and time.monotonic() - t0 < 300:
            time.sleep(0.5)
        drawn = time.monotonic() - t0
        # every target has a row now; the viewer draws 20 000 rows a second: the rest follow
        time.sleep(3 * n / 20000 + 2)
        after = settle(pid)
        print(f"all drawn: {after} KiB", flush=True)
    finally:
        stop.set()
        subprocess.run(["tmux", "-L", sock, "kill-server"], capture_output=True)
    return after - before, drawn


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--targets", type=int, default=20000)
    ap.add_argument("--quick", action="store_true", help="5 000 targets: seconds, for CI")
    a = ap.parse_args()
    n = 5000 if a.quick else a.targets
    try:
        pg = PgServer()
    except PgUnavailable as e:
        print(f"quorum_memory: skipped: {e}")
        return 0
    with pg, tempfile.TemporaryDirectory() as d:
        cfg = write_fleet(os.path.join(d, "fleet.json"), n, "http://127.0.0.1:9/x", extra_defaults={"path": ""})
        plain, t_plain = one_run(pg, cfg, n, False, d)
        located, t_loc = one_run(pg, cfg, n, True, d)
    per = (located - plain) * 1024 / n
    print(f"{n} targets, 3 rows each: viewer RSS growth without locations {plain} KiB ({t_plain:.1f} s),"
          f" with three locations {located} KiB ({t_loc:.1f} s)")
    record(f"quorum: a viewer's memory per target, 3 locations ({n} targets)", f"{per:.0f} B", f"<= {GOAL_B} B",
           f"{plain} KiB growth without locations", f"{located / plain:.2f}" if plain > 0 else "",
           per <= GOAL_B, f"python3 bench/quorum_memory.py{' --quick' if a.quick else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
