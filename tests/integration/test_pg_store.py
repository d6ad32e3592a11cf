#!/usr/bin/env python3
"""The PostgreSQL store (--db postgresql://... or a key=value conninfo) against a real server
(pgserver.py): check, export (csv, jsonl, rollups), stats, mute and unmute say the same on
SQLite and on PostgreSQL for the same answers; the shared store suite (tests/test_store_both.c)
passes on PostgreSQL as it does on SQLite; a reader on a new database asks for a writer, as
on SQLite; a conninfo's password is never printed; a daemon whose database goes away keeps
checking, changes no class, and writes every result once the database is back. Skips (77)
where no PostgreSQL server can run."""
import os
import re
import signal
import subprocess
import sys

from htlib import BINARY, NO_TIMING, WRAPPER, TestServer, check, finish, run, tmpdir, wait_for, write_config
from pgserver import PgServer, PgUnavailable, skip

CEILING = 60


def normal(text, ports):
    """What may differ between two runs of the same checks: times, latencies, ports."""
    for p in ports:
        text = text.replace(f":{p}", ":PORT")
    text = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "TIME", text)
    text = re.sub(r" *\d+(\.\d+)? ?(ms|s)\b", " N", text)
    text = re.sub(r'("[a-z0-9_]*_ms"):([-0-9.e]+|null)', r"\1:N", text)
    text = re.sub(r",[0-9.]+(?=,|$)", ",N", text, flags=re.M)
    return text


def fleet(d, srv, name):
    h = srv.url()
    return write_config(d, {"defaults": NO_TIMING, "targets": [
        {"name": "ok", "project": "web", "url": h, "path": "/ok"},
        {"name": "missing", "project": "web", "url": h, "path": "/nowhere"},
        {"name": "flapping", "project": "api", "url": h, "path": "/flip?tag=" + name},
        {"name": "refused", "url": "http://127.0.0.1:9"}]}, name + ".json")


def cli_outputs(d, db, cfg):
    out = []
    for _ in range(3):
        rc, o, e, _ = run(["check", "-c", cfg, "--db", db])
        out.append(("check", rc, o, e))
    for args in (["export", "--format", "csv"], ["export", "--format", "jsonl"],
                 ["export", "--format", "csv", "--rollup", "hour"],
                 ["export", "--format", "jsonl", "--rollup", "day"],
                 ["export", "--format", "csv", "--project", "web"],
                 ["stats"], ["stats", "--project", "api"],
                 ["mute", "-c", cfg, "ok", "2h", "--reason", "deploy"],
                 ["check", "-c", cfg, "--notify"],
                 ["unmute", "-c", cfg, "ok"], ["unmute", "-c", cfg, "ok"]):
        rc, o, e, _ = run(args + ["--db", db])
        out.append((args[0], rc, o, e))
    return out


def same_outputs(pg, d):
    with TestServer() as a, TestServer() as b:
        ports = [a.ports["http"], b.ports["http"]]
        lite = cli_outputs(d, os.path.join(d, "h.db"), fleet(d, a, "lite"))
        post = cli_outputs(d, pg.url(), fleet(d, b, "post"))
    for (cmd, rc1, o1, e1), (_, rc2, o2, e2) in zip(lite, post):
        n1 = normal(o1 + e1, ports).replace("lite", "X").replace(os.path.join(d, "h.db"), "DB")
        n2 = normal(o2 + e2, ports).replace("post", "X").replace(pg.url(), "DB")
        if cmd == "export":   # in time order: targets checked at once may come either way round
            n1, n2 = sorted(n1.splitlines()), sorted(n2.splitlines())
        check(rc1 == rc2 and n1 == n2, f"{cmd}: the same on SQLite and PostgreSQL (exit {rc1} / {rc2})"
              + ("" if n1 == n2 else f"\n--- sqlite\n{n1}\n--- postgresql\n{n2}"))
    rows = pg.psql("select count(*) from result").strip()
    check(rows == "16", f"PostgreSQL holds every result ({rows} rows for 4 targets x 4 checks)")
    parts = pg.psql("select count(*) from pg_inherits where inhparent = 'result'::regclass").strip()
    check(int(parts) >= 2, f"raw results are partitioned by day, the next day's made ahead ({parts} partitions)")
    changes = pg.psql("select count(*) from state_change").strip()
    check(int(changes) >= 3, f"state changes are recorded ({changes})")


def conninfo_forms(pg, d):
    rc, out, err, _ = run(["stats", "--db", pg.conninfo()])
    check(rc == 0 and "ok" in out, f"a key=value conninfo selects PostgreSQL too (exit {rc}: {err.strip()})")
    rc, out, err, _ = run(["stats", "--db", "postgresql://healthtop:s3cret@127.0.0.1:9/nowhere"])
    check(rc != 0 and "s3cret" not in out + err and "***" in err,
          f"a URI's password is never printed ({err.strip()})")
    rc, out, err, _ = run(["stats", "--db", "host=127.0.0.1 port=9 password='top s3cret' dbname=x"])
    check(rc != 0 and "s3cret" not in out + err and "password=***" in err,
          f"a conninfo's password is never printed ({err.strip()})")
    rel = os.path.join(d, "a=b.db")
    rc, out, err, _ = run(["check", "-c", fleet(d, TestServerStub(), "stub"), "--db", rel])
    check(os.path.exists(rel), "a path with '=' in it stays a SQLite file")


def fresh_database(pg):
    """A reader on a database no writer has created the schema in yet says so, as on a SQLite
    file without one, instead of failing on the table that is not there."""
    pg.psql("CREATE DATABASE fresh")
    rc, out, err, _ = run(["stats", "--db", pg.url("fresh")])
    check(rc == 4 and "schema version 0" in err and "does not exist" not in err,
          f"stats on a new database: schema version 0, run a writer once (exit {rc}: {err.strip()})")


class TestServerStub:
    """A fleet with nothing listening: enough for a check that only has to store something."""
    def url(self):
        return "http://127.0.0.1:9"


def rows_of(pg, tag):
    try:
        return int(pg.psql("select count(*) from result r join target t on t.id = r.target_id"
                           f" where t.name like '{tag}%'").strip() or 0)
    except RuntimeError:
        return -1


def seen(srv, tag):
    import json
    import urllib.request
    with urllib.request.urlopen(srv.url() + "/stats", timeout=30) as r:
        return json.loads(r.read()).get("ok?" + tag, {}).get("seen", 0)


def outage(pg, d):
    """The database stops under a running daemon: checks go on (counted by the server), no
    class changes, results wait; it comes back: every result the server answered is stored."""
    log = os.path.join(d, "outage.log")
    with TestServer() as srv:
        targets = [{"name": f"out{i}", "url": srv.url(), "path": "/ok?tag=out", "interval_s": 1} for i in range(5)]
        cfg = write_config(d, {"defaults": NO_TIMING, "targets": targets}, "outage.json")
        with open(log, "w") as err:
            # trust authentication ignores the password: it is there to be kept out of the log
            url = pg.url().replace("healthtop@", "healthtop:s3cret@")
            # A 1 s shard lease: the outage below outlasts it many times over, as the 20 s
            # outage outlasts the default 10 s lease. 105 checks of 5 targets at 1 s cannot be
            # made in less than 20 s, however fast the machine: the outage lasts at least that.
            env = dict(os.environ, HEALTHTOP_SHARD_LEASE_MS="1000")
            p = subprocess.Popen(WRAPPER + [BINARY, "daemon", "-c", cfg, "--db", url], stderr=err, env=env)
        try:
            check(wait_for(lambda: rows_of(pg, "out") >= 10, CEILING), "the daemon writes into PostgreSQL")
            pg.stop()
            stopped_at = seen(srv, "out")
            check(wait_for(lambda: seen(srv, "out") >= stopped_at + 105 and "storage error" in open(log).read(),
                           CEILING), "with the database stopped for many leases, checks go on and the storage error is logged")
            pg.start()
            back_at = seen(srv, "out")
            check(wait_for(lambda: rows_of(pg, "out") >= back_at, CEILING),
                  f"every result checked while it was away is written once it is back "
                  f"({rows_of(pg, 'out')} rows, {back_at} requests answered before it returned)")
            check(wait_for(lambda: "storage recovered" in open(log).read(), CEILING), "and the recovery is logged")
            # Between two rounds of checks every answered request is a stored row: counted, at a
            # moment when none is in flight (a check cut short by SIGTERM would be one too many).
            counts = []
            check(wait_for(lambda: counts.append((rows_of(pg, "out"), seen(srv, "out"))) or
                           counts[-1][0] == counts[-1][1], CEILING),
                  f"rows stored = requests the server answered ({counts[-1][0]} / {counts[-1][1]})")
        finally:
            p.send_signal(signal.SIGTERM)
            rc = p.wait(CEILING)
        text = open(log).read()
        check(rc == 0, f"the daemon exits 0 on SIGTERM ({rc})")
        changes = [line for line in text.splitlines() if " -> " in line]
        check(not changes, f"no target changed class for the outage ({changes[:3]})")
        check("dropped" not in text, "no result was dropped")
        check("s3cret" not in text and ":***@" in text, "the daemon's log never shows the password")


def store_suite(pg):
    """tests/test_store_both (the store suite through the public interface) on PostgreSQL."""
    suite = os.path.join(os.path.dirname(os.path.abspath(BINARY)), "tests", "test_store_both")
    if not os.path.exists(suite):
        print(f"SKIP the shared store suite: {suite} not built (cmocka missing)")
        return
    pg.psql("CREATE DATABASE suite")
    p = subprocess.run(WRAPPER + [suite], env=dict(os.environ, HT_TEST_DB=pg.url("suite")),
                       capture_output=True, text=True, timeout=600)
    out = p.stdout + p.stderr
    check(p.returncode == 0 and "PASSED" in out, "the shared store suite passes on PostgreSQL"
          + ("" if p.returncode == 0 else "\n" + out[-3000:]))


def viewer(pg, d):
    """The dashboard on the same PostgreSQL database as a polling daemon is its viewer: it says
    so and shows the daemon's targets and classes. Needs tmux (skipped without)."""
    import shutil
    import time
    if not shutil.which("tmux"):
        print("SKIP the dashboard viewer check: no tmux")
        return
    sock = f"healthtop-pg-{os.getpid()}"
    tmux = lambda *a: subprocess.run(["tmux", "-L", sock, *a], capture_output=True, text=True).stdout  # noqa: E731
    with TestServer() as srv:
        cfg = write_config(d, {"defaults": NO_TIMING, "targets": [
            {"name": "seen-ok", "url": srv.url(), "path": "/ok", "interval_s": 1},
            {"name": "seen-refused", "url": "http://127.0.0.1:9", "interval_s": 1}]}, "viewer.json")
        with open(os.path.join(d, "viewer.log"), "w") as err:
            p = subprocess.Popen(WRAPPER + [BINARY, "daemon", "-c", cfg, "--db", pg.url()], stderr=err)
        try:
            wait_for(lambda: rows_of(pg, "seen") >= 2, CEILING)
            cmd = " ".join(WRAPPER + [BINARY, "-c", cfg, "--db", f"'{pg.url()}'"])
            tmux("new-session", "-d", "-s", "v", "-x", "160", "-y", "20", f"TERM=xterm-256color {cmd}")
            screen = lambda: tmux("capture-pane", "-p", "-t", "v")  # noqa: E731
            # daemons on PostgreSQL poll by shards: the dashboard views them all, polls nothing
            ok = wait_for(lambda: "viewer of 1 poller" in screen() and "seen-ok" in screen()
                          and "connection refused" in screen(), CEILING)
            check(ok, "a dashboard on the same PostgreSQL database is the daemon's viewer and shows its targets"
                  + ("" if ok else "\n" + screen()))
            tmux("send-keys", "-t", "v", "q")
            time.sleep(0.5)
        finally:
            tmux("kill-server")
            p.send_signal(signal.SIGTERM)
            p.wait(CEILING)


def restart_keeps_history(pg, d):
    """A dashboard started on a database the outage's daemon filled reads its history back
    before its first check, as on SQLite: out0's sparkline has the daemon's checks, not just the
    one it makes itself (interval 1 h)."""
    import shutil
    if not shutil.which("tmux"):
        print("SKIP the restart check: no tmux")
        return
    sock = f"healthtop-pgr-{os.getpid()}"
    tmux = lambda *a: subprocess.run(["tmux", "-L", sock, *a], capture_output=True, text=True).stdout  # noqa: E731
    cfg = write_config(d, {"defaults": NO_TIMING, "targets": [
        {"name": "out0", "url": "http://127.0.0.1:9", "interval_s": 3600}]}, "restart.json")
    cmd = " ".join(WRAPPER + [BINARY, "-c", cfg, "--db", f"'{pg.url()}'"])
    bars = lambda: max([sum(line.count(c) for c in "▁▂▃▄▅▆▇█") for line in  # noqa: E731
                        tmux("capture-pane", "-p", "-t", "r").splitlines() if " out0 " in line] or [0])
    try:
        tmux("new-session", "-d", "-s", "r", "-x", "160", "-y", "10", f"TERM=xterm-256color {cmd}")
        check(wait_for(lambda: bars() >= 5, CEILING), f"a restart on PostgreSQL reads history back ({bars()} bars)")
        tmux("send-keys", "-t", "r", "q")
    finally:
        tmux("kill-server")


def dashboard_outage(pg, d):
    """The dashboard polling alone on PostgreSQL: with the database stopped its status line says
    "store unreachable since HH:MM, N results waiting"; once it is back, the line goes."""
    import re as _re
    import shutil
    if not shutil.which("tmux"):
        print("SKIP the dashboard outage check: no tmux")
        return
    sock = f"healthtop-pgo-{os.getpid()}"
    tmux = lambda *a: subprocess.run(["tmux", "-L", sock, *a], capture_output=True, text=True).stdout  # noqa: E731
    screen = lambda: tmux("capture-pane", "-p", "-t", "o")  # noqa: E731
    with TestServer() as srv:
        cfg = write_config(d, {"defaults": NO_TIMING, "targets": [
            {"name": f"dash{i}", "url": srv.url(), "path": "/ok?tag=dash", "interval_s": 1} for i in range(3)]},
            "dash.json")
        cmd = " ".join(WRAPPER + [BINARY, "-c", cfg, "--db", f"'{pg.url()}'"])
        line = _re.compile(r"store unreachable since \d\d:\d\d, [1-9][0-9 ]* results? waiting")
        try:
            tmux("new-session", "-d", "-s", "o", "-x", "200", "-y", "12", f"TERM=xterm-256color {cmd}")
            check(wait_for(lambda: rows_of(pg, "dash") >= 3, CEILING), "the dashboard polls and stores")
            pg.stop()
            ok = wait_for(lambda: line.search(screen()), CEILING)
            check(ok, "with the database stopped the status line says since when and how many results wait"
                  + ("" if ok else "\n" + screen()))
            pg.start()
            ok = wait_for(lambda: "store unreachable" not in screen() and rows_of(pg, "dash") >= 6, CEILING)
            check(ok, "once it is back the waiting results are written and the line goes"
                  + ("" if ok else "\n" + screen()))
            tmux("send-keys", "-t", "o", "q")
        finally:
            tmux("kill-server")


def main():
    try:
        pg = PgServer()
    except PgUnavailable as e:
        skip(str(e))
    d = tmpdir()
    with pg:
        store_suite(pg)
        same_outputs(pg, d)
        conninfo_forms(pg, d)
        fresh_database(pg)
        viewer(pg, d)
        outage(pg, d)
        restart_keeps_history(pg, d)
        dashboard_outage(pg, d)
    finish()


if __name__ == "__main__":
    sys.exit(main())
