#!/usr/bin/env python3
"""Storage never touches probing (issue 9): while another process holds the database's write
lock, every healthy target is still checked at its interval, no target changes class, and every
result is in the database once the lock is gone. Proved by counting requests and rows."""
import http.server
import os
import signal
import socket
import sqlite3
import subprocess
import threading
import time

from htlib import BINARY, WRAPPER, check, finish, tmpdir, write_config, wait_for

HEALTHY = 4
REFUSED = 300
# Checks each healthy target must get while the lock is held (the lock lasts until they have).
LOCK_CHECKS = 4
# Every wait polls for what it expects; the ceiling only matters when that never comes.
CEILING = 60

seen = {}
seen_lock = threading.Lock()


class Counter(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *a):
        pass

    def do_GET(self):
        with seen_lock:
            seen[self.path] = seen.get(self.path, 0) + 1
        body = b'{"status":"ok"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def snapshot():
    with seen_lock:
        return dict(seen)


def rows(db):
    con = sqlite3.connect(db, timeout=30)
    try:
        return con.execute("select t.name, r.status, count(*) from result r join target t on t.id = r.target_id"
                           " group by 1, 2").fetchall()
    finally:
        con.close()


def main():
    d = tmpdir()
    db = os.path.join(d, "h.db")
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Counter)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{srv.server_address[1]}"
    dead = f"http://127.0.0.1:{closed_port()}"
    targets = [{"name": f"ok{i}", "url": base, "path": f"/ok{i}", "interval_s": 1} for i in range(HEALTHY)]
    targets += [{"name": f"refused{i}", "url": dead, "interval_s": 1} for i in range(REFUSED)]
    # no class may depend on the machine's speed: no answer here reaches a time limit
    cfg = write_config(d, {"concurrency": 64, "defaults": {"timeout_ms": 60000, "degraded_ms": 60000},
                           "targets": targets})
    log = open(os.path.join(d, "daemon.log"), "w")
    p = subprocess.Popen(WRAPPER + [BINARY, "daemon", "-c", cfg, "--db", db], stderr=log)
    try:
        check(wait_for(lambda: len([r for r in rows(db) if r[0].startswith("ok")]) == HEALTHY),
              "every healthy target has results before the lock")
        locker = sqlite3.connect(db, timeout=30, isolation_level=None)
        locker.execute("BEGIN EXCLUSIVE")
        before = snapshot()
        log_path = os.path.join(d, "daemon.log")

        def checked_under_lock():
            now = snapshot()
            return {i: now.get(f"/ok{i}", 0) - before.get(f"/ok{i}", 0) for i in range(HEALTHY)}
        # Counted, not timed: the lock is held until the daemon has felt it (its storage error
        # is logged) and, after that, every healthy target has been checked LOCK_CHECKS times.
        wait_for(lambda: "storage error" in open(log_path).read())
        felt = snapshot()
        wait_for(lambda: all(snapshot().get(f"/ok{i}", 0) - felt.get(f"/ok{i}", 0) >= LOCK_CHECKS
                             for i in range(HEALTHY)))
        during = snapshot()
        felt_logged = "storage error" in open(log_path).read()
        locker.execute("COMMIT")
        locker.close()
        check(felt_logged, "the daemon logged the storage error while the lock was held")
        for i in range(HEALTHY):
            n = during.get(f"/ok{i}", 0) - felt.get(f"/ok{i}", 0)
            # a target starved by storage would not be checked again once the writer is stuck
            check(n >= LOCK_CHECKS, f"ok{i} was checked {n} times after the storage error, under the lock "
                  f"({checked_under_lock()[i]} in all while locked)")
        p.send_signal(signal.SIGTERM)
        rc = p.wait(CEILING)
        check(rc == 0, f"SIGTERM after the lock exits 0 (got {rc})")
        after = snapshot()
        stored = rows(db)
        for i in range(HEALTHY):
            name = f"ok{i}"
            classes = {s: n for (t, s, n) in stored if t == name}
            total = sum(classes.values())
            check(set(classes) == {0}, f"{name} stayed healthy in every stored result ({classes})")
            served = after.get(f"/ok{i}", 0)
            check(served - 1 <= total <= served,
                  f"{name}: every answered check is in the database ({total} rows, {served} requests)")
        bad = [(t, s, n) for (t, s, n) in stored if t.startswith("refused") and s != 2]
        check(not bad, f"no refused target was ever anything but down ({bad[:3]})")
        text = open(os.path.join(d, "daemon.log")).read()
        check("timeout" not in text, "no timeout was reported while the database was locked")
        sigterm_under_lock(d, db, base)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        srv.shutdown()
    finish()


def sigterm_under_lock(d, db, base):
    """SIGTERM while another process keeps the lock: the daemon waits a bounded time (10 s),
    then says exactly how many results it could not write and exits 4."""
    import re
    cfg = write_config(d, {"targets": [{"name": f"ok{i}", "url": base, "path": f"/late{i}", "interval_s": 1}
                                       for i in range(HEALTHY)]}, "late.json")
    log_path = os.path.join(d, "late.log")
    start_rows = rows_total(db)
    p = subprocess.Popen(WRAPPER + [BINARY, "daemon", "-c", cfg, "--db", db], stderr=open(log_path, "w"))
    try:
        wait_for(lambda: sum(snapshot().get(f"/late{i}", 0) for i in range(HEALTHY)) >= 2 * HEALTHY)
        locker = sqlite3.connect(db, timeout=30, isolation_level=None)
        locker.execute("BEGIN EXCLUSIVE")
        wait_for(lambda: "storage error" in open(log_path).read())
        p.send_signal(signal.SIGTERM)
        rc = p.wait(60)
        locker.execute("COMMIT")
        locker.close()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    text = open(log_path).read()

    m = re.search(r"stopped: (\d+) results could not be written", text)
    check(rc == 4, f"SIGTERM under a lock that outlasts the wait exits 4 (got {rc})")
    check(m is not None, "and says how many results it could not write")
    said = int(m.group(1)) if m else -1
    served = sum(snapshot().get(f"/late{i}", 0) for i in range(HEALTHY))
    stored = rows_total(db) - start_rows
    accounted = stored + said
    # every answered check is either stored or counted as lost (one per target may be cut by SIGTERM)
    check(served - HEALTHY <= accounted <= served,
          f"stored {stored} + said lost {said} account for the {served} checks answered")


def rows_total(db):
    con = sqlite3.connect(db, timeout=30)
    try:
        return con.execute("select count(*) from result r join target t on t.id = r.target_id"
                           " where t.name like 'ok%'").fetchone()[0]
    finally:
        con.close()


if __name__ == "__main__":
    main()
