#!/usr/bin/env python3
"""kill -9 never costs a committed result nor the database: after each of several kill -9s the
database passes integrity_check, keeps every row a reader saw before the kill, and a restarted
daemon goes on writing. Proved by counting rows, not by timing."""
import os
import signal
import sqlite3
import subprocess
import time

from htlib import BINARY, WRAPPER, TestServer, check, finish, tmpdir, write_config

KILLS = 5


def count(db):
    con = sqlite3.connect(db, timeout=30)
    try:
        return con.execute("select count(*) from result").fetchone()[0]
    finally:
        con.close()


def wait_rows(db, at_least, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if os.path.exists(db) and count(db) >= at_least:
                return True
        except sqlite3.Error:
            pass
        time.sleep(0.1)
    return False


def main():
    d = tmpdir()
    db = os.path.join(d, "h.db")
    with TestServer() as srv:
        targets = [{"name": f"t{i}", "url": srv.url(), "path": "/ok", "interval_s": 1} for i in range(20)]
        cfg = write_config(d, {"targets": targets})
        seen = 0
        for k in range(KILLS):
            p = subprocess.Popen(WRAPPER + [BINARY, "daemon", "-c", cfg, "--db", db], stderr=subprocess.DEVNULL)
            grew = wait_rows(db, seen + 20, 60)
            check(grew, f"run {k + 1}: the daemon writes results ({count(db) if os.path.exists(db) else 0} rows)")
            seen = count(db)
            p.send_signal(signal.SIGKILL)
            p.wait()
            after = count(db)
            check(after >= seen, f"kill -9 #{k + 1}: every row seen before the kill is still there ({seen} -> {after})")
            con = sqlite3.connect(db)
            ok = con.execute("pragma integrity_check").fetchone()[0]
            con.close()
            check(ok == "ok", f"kill -9 #{k + 1}: integrity_check says {ok}")
            seen = after
    finish()


if __name__ == "__main__":
    main()
