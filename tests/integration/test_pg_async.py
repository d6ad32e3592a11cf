#!/usr/bin/env python3
"""The loop's reads on PostgreSQL are asynchronous (src/store/store_pg_async.c), and a viewer
never misses a row that commits late. Against a real server (pgserver.py), on 127.0.0.1 only:

- a black hole: the daemon reaches the database through a forwarder that turns into a listener
  that accepts and never answers (what a database that vanishes from the network looks like:
  nothing refused, nothing reset). The daemon keeps checking at the rate it had before (the
  requests the target server answered per second during the black hole, as a ratio of the same
  run's rate before it: no absolute time), and says the store does not answer;
- late commits: a dashboard viewing a daemon's database reads new rows by id; a transaction held
  open (psql) takes an id while the daemon commits higher ones; once it commits, the viewer
  draws its row (its detail view's sparkline: last 1 checks, then last 2 checks). The viewer
  names its database by host name (localhost), which its loop looks up without blocking.

Skips (77) where no PostgreSQL server can run; the viewer part needs tmux."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

from htlib import BINARY, NO_TIMING, WRAPPER, TestServer, check, finish, tmpdir, wait_for, write_config
from pgserver import PgServer, PgUnavailable, skip

CEILING = 60
LEASE_MS = 1000
# The rate during the black hole, as a share of the rate before it, at least: a loop that waited
# for one read (15 s of tcp_user_timeout, or for ever with the data acknowledged) falls far below.
RATE_SHARE = 0.8


class Hole:
    """A forwarder to the database on 127.0.0.1 that can become a black hole: it goes on
    accepting connections and reading what they send, and never sends anything back."""

    def __init__(self, port):
        self.upstream = port
        self.hole = False
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self):
        return f"postgresql://healthtop@127.0.0.1:{self.port}/healthtop"

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            up = None
            if not self.hole:
                try:
                    up = socket.create_connection(("127.0.0.1", self.upstream))
                except OSError:
                    c.close()
                    continue
            threading.Thread(target=self._pump, args=(c, up), daemon=True).start()
            if up:
                threading.Thread(target=self._pump, args=(up, c), daemon=True).start()

    def _pump(self, a, b):
        while True:
            try:
                data = a.recv(65536)
            except OSError:
                return
            if not data:
                return
            if b is not None and not self.hole:   # in the hole: swallowed, no answer, no error
                try:
                    b.sendall(data)
                except OSError:
                    return

    def close(self):
        self.sock.close()


def seen(srv, tag):
    import json
    import urllib.request
    with urllib.request.urlopen(srv.url() + "/stats", timeout=30) as r:
        return json.loads(r.read()).get(f"ok?{tag}", {}).get("seen", 0)


def rows_of(pg, name_like):
    try:
        return int(pg.psql(f"SELECT count(*) FROM result r JOIN target t ON t.id = r.target_id"
                           f" WHERE t.name LIKE '{name_like}'").strip() or 0)
    except RuntimeError:   # no schema yet: the daemon creates it
        return -1


def rate(srv, tag, until):
    """Requests the server answered per second until until() holds (or the ceiling)."""
    t0, n0 = time.monotonic(), seen(srv, tag)
    wait_for(until, CEILING)
    return (seen(srv, tag) - n0) / max(time.monotonic() - t0, 1e-3)


def black_hole(pg, d):
    hole = Hole(pg.port)
    log = os.path.join(d, "hole.log")
    with TestServer() as srv:
        targets = [{"name": f"bh{i}", "url": srv.url(), "path": "/ok?tag=bh", "interval_s": 1} for i in range(5)]
        cfg = write_config(d, {"defaults": NO_TIMING, "targets": targets}, "hole.json")
        env = dict(os.environ, HEALTHTOP_SHARD_LEASE_MS=str(LEASE_MS))
        with open(log, "w") as err:
            p = subprocess.Popen(WRAPPER + [BINARY, "daemon", "-c", cfg, "--db", hole.url()], stderr=err, env=env)
        try:
            check(wait_for(lambda: rows_of(pg, "bh%") >= 10, CEILING), "the daemon writes through the forwarder")
            start = time.monotonic()
            before = rate(srv, "bh", lambda: time.monotonic() - start >= 8)
            hole.hole = True
            start = time.monotonic()
            # as long as a read waits for its deadline and then some: the loop's reads are
            # re-asked every second, each connect and each query answered by nothing
            during = rate(srv, "bh", lambda: "no answer within" in open(log).read()
                          and time.monotonic() - start >= 20)
            text = open(log).read()
            check("no answer within" in text and "storage error" in text,
                  "with the database a black hole, the daemon says it does not answer")
            check(before > 0 and during >= RATE_SHARE * before,
                  f"checks go on at the rate they had: {during:.2f}/s in the black hole, {before:.2f}/s before"
                  f" (at least {RATE_SHARE:.0%})")
        finally:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(CEILING)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            hole.close()


def export_in_hole(pg, d):
    """The dashboard's export (e) on a database that stopped answering: its reads wait in the
    export's own thread, and the dashboard, polling alone, goes on checking at its rate. (Before,
    the export opened its connection on the loop: each e held every check for connect_timeout.)"""
    if not shutil.which("tmux"):
        print("SKIP the export check: no tmux")
        return
    hole = Hole(pg.port)
    sock = f"healthtop-hole-e-{os.getpid()}"
    tmux = lambda *a: subprocess.run(["tmux", "-L", sock, *a], capture_output=True, text=True).stdout  # noqa: E731
    screen = lambda: tmux("capture-pane", "-p", "-t", "v")  # noqa: E731
    with TestServer() as srv:
        targets = [{"name": f"ex{i}", "url": srv.url(), "path": "/ok?tag=ex", "interval_s": 1} for i in range(5)]
        cfg = write_config(d, {"defaults": NO_TIMING, "targets": targets}, "hole-e.json")
        cmd = " ".join(WRAPPER + [BINARY, "-c", cfg, "--db", f"'{hole.url()}'"])
        try:
            tmux("new-session", "-d", "-s", "v", "-x", "160", "-y", "30", "-c", d,
                 f"TERM=xterm-256color HEALTHTOP_SHARD_LEASE_MS={LEASE_MS} {cmd}")
            check(wait_for(lambda: rows_of(pg, "ex%") >= 10, CEILING), "the dashboard polls alone through the forwarder")
            start = time.monotonic()
            before = rate(srv, "ex", lambda: time.monotonic() - start >= 8)
            hole.hole = True
            start = time.monotonic()
            presses = []

            def pressing():   # e every second: a new export whenever the last one has given up
                tmux("send-keys", "-t", "v", "e")
                presses.append(screen().splitlines()[-1:])
                return time.monotonic() - start >= 20
            during = rate(srv, "ex", lambda: pressing() or time.sleep(1))
            check(before > 0 and during >= RATE_SHARE * before,
                  f"exporting from a database that does not answer, checks go on: {during:.2f}/s, {before:.2f}/s"
                  f" before (at least {RATE_SHARE:.0%})")
            said = " ".join(" ".join(p) for p in presses)
            check("export" in said, f"the status line speaks of the export ({said[-300:]})")
            tmux("send-keys", "-t", "v", "q")
            time.sleep(0.5)
        finally:
            tmux("kill-server")
            hole.close()


def late_commit(pg, d):
    if not shutil.which("tmux"):
        print("SKIP the late commit check: no tmux")
        return
    sock = f"healthtop-late-{os.getpid()}"
    tmux = lambda *a: subprocess.run(["tmux", "-L", sock, *a], capture_output=True, text=True).stdout  # noqa: E731
    screen = lambda: tmux("capture-pane", "-p", "-t", "v")  # noqa: E731
    with TestServer() as srv:
        # slow first: a new fleet's first checks are spread by place in the config, over up to a
        # minute for an hourly target (monitor_shard.c)
        cfg = write_config(d, {"defaults": NO_TIMING, "targets": [
            {"name": "slow", "url": srv.url(), "path": "/ok?tag=late", "interval_s": 3600},
            {"name": "fast", "url": srv.url(), "path": "/ok?tag=late", "interval_s": 1}]}, "late.json")
        env = dict(os.environ, HEALTHTOP_SHARD_LEASE_MS=str(LEASE_MS))
        daemon = subprocess.Popen(WRAPPER + [BINARY, "daemon", "-c", cfg, "--db", pg.url()],
                                  stderr=open(os.path.join(d, "late.log"), "w"), env=env)
        psql = None
        try:
            check(wait_for(lambda: rows_of(pg, "slow") == 1 and rows_of(pg, "fast") >= 2, CEILING),
                  "the daemon checks both targets")
            # a host name, not an address: the loop's connection looks it up off the loop
            conninfo = f"host=localhost port={pg.port} user=healthtop dbname=healthtop"
            cmd = " ".join(WRAPPER + [BINARY, "-c", cfg, "--db", f"'{conninfo}'"])
            tmux("new-session", "-d", "-s", "v", "-x", "160", "-y", "30",
                 f"TERM=xterm-256color HEALTHTOP_SHARD_LEASE_MS={LEASE_MS} {cmd}")
            ok = wait_for(lambda: "viewer of 1 poller" in screen(), CEILING)
            check(ok, "the dashboard views the daemon" + ("" if ok else "\n" + screen()))
            tmux("send-keys", "-t", "v", "/", "slow", "Enter")
            time.sleep(0.3)
            tmux("send-keys", "-t", "v", "Enter")
            ok = wait_for(lambda: "last 1 checks" in screen(), CEILING)
            check(ok, "its detail view shows the one check of 'slow'" + ("" if ok else "\n" + screen()))
            # A writer's transaction takes an id and stays open while the daemon commits higher ones.
            psql = subprocess.Popen([shutil.which("psql"), "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-d", pg.url()],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            psql.stdin.write("BEGIN;\nINSERT INTO result(target_id, checked_at, status, http_code, response_ms, reason, up)"
                             " SELECT id, (extract(epoch FROM now()) * 1000)::bigint, 0, 200, 5, 'late', true"
                             " FROM target WHERE name = 'slow';\nSELECT 'held', currval('result_id');\n")
            psql.stdin.flush()
            held = int(psql.stdout.readline().strip().split("|")[1])
            check(wait_for(lambda: int(pg.psql(f"SELECT count(*) FROM result WHERE id > {held}").strip()) >= 3,
                           CEILING), f"the daemon commits ids above the one held open ({held})")
            time.sleep(3)   # the viewer reads every second: it has read past the id held
            check("last 1 checks" in screen(), "the row not committed yet is not shown")
            psql.stdin.write("COMMIT;\n")
            psql.stdin.close()
            psql.wait(CEILING)
            # drawn as a new result (the sparkline's checks), not only counted by the window's
            # next full read (which a minute's refresh may make)
            ok = wait_for(lambda: "last 2 checks" in screen(), CEILING)
            check(ok, "once it commits, the running viewer shows the late row" + ("" if ok else "\n" + screen()))
            tmux("send-keys", "-t", "v", "Escape")
            tmux("send-keys", "-t", "v", "q")
        finally:
            if psql and psql.poll() is None:
                psql.kill()
            tmux("kill-server")
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(CEILING)


def main():
    try:
        pg = PgServer()
    except PgUnavailable as e:
        skip(str(e))
    d = tmpdir()
    with pg:
        late_commit(pg, d)
        export_in_hole(pg, d)
        if not os.environ.get("HT_ONLY_LATE"):
            black_hole(pg, d)
    finish()


if __name__ == "__main__":
    sys.exit(main())
