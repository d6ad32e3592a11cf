#!/usr/bin/env python3
"""healthtop daemon: checks on schedule headless, logs state changes, SIGHUP reloads (a bad
config keeps the old one and says why), SIGTERM writes what is pending and exits 0."""
import os
import signal
import sqlite3
import subprocess
import time

from htlib import BINARY, WRAPPER, TestServer, check, finish, tmpdir, write_config


def counts(db):
    con = sqlite3.connect(db)
    try:
        return dict(con.execute("select t.name, count(r.id) from target t join result r on r.target_id = t.id group by 1"))
    finally:
        con.close()


def wait_for(pred, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if pred():
                return True
        except sqlite3.Error:
            pass
        time.sleep(0.2)
    return False


def main():
    d = tmpdir()
    db = os.path.join(d, "h.db")
    log = os.path.join(d, "daemon.log")
    with TestServer() as srv:
        flap = {"name": "flappy", "url": srv.url(), "path": "/flap", "interval_s": 1}
        cfg = write_config(d, {"targets": [flap, {"name": "steady", "url": srv.url(), "path": "/ok", "interval_s": 1}]})
        with open(log, "w") as err:
            p = subprocess.Popen(WRAPPER + [BINARY, "daemon", "-c", cfg, "--db", db], stderr=err)
        try:
            check(wait_for(lambda: all(n >= 3 for n in counts(db).values()) and len(counts(db)) == 2, 15),
                  f"checks every target on its interval ({counts(db) if os.path.exists(db) else {}})")
            text = open(log).read()
            check("started: 2 targets" in text and "steady: healthy" in text, "logs its start and each first result")
            check("flappy: healthy -> down" in text or "flappy: down -> healthy" in text,
                  "logs state changes with from -> to")

            write_config(d, '{"targets": [ {"name": "x", "url": "file:///etc/passwd"} ]}', "fleet.json")
            p.send_signal(signal.SIGHUP)
            check(wait_for(lambda: "keeping the old config" in open(log).read(), 5), "SIGHUP with a bad config keeps the old one")
            check("fleet.json:1: targets[0].url: scheme \"file\"" in open(log).read(), "and says why, with FILE:LINE")
            before = counts(db)
            check(wait_for(lambda: counts(db)["steady"] > before["steady"], 5), "still checking after the failed reload")

            write_config(d, {"targets": [flap, {"name": "newcomer", "url": srv.url(), "path": "/ok", "interval_s": 1}]})
            p.send_signal(signal.SIGHUP)
            check(wait_for(lambda: "reloaded, 2 targets" in open(log).read(), 5), "SIGHUP with a good config reloads")
            check(wait_for(lambda: counts(db).get("newcomer", 0) >= 2, 8), f"the new target is checked ({counts(db)})")
            gone = counts(db)["steady"]
            time.sleep(2.5)
            check(counts(db)["steady"] == gone, "the removed target is no longer checked")

            # Another process holds the write lock: checks go on, nobody turns degraded for it,
            # the results wait in memory and land once the lock is gone.
            lock = sqlite3.connect(db, timeout=10)
            lock.execute("BEGIN IMMEDIATE")
            held_from = time.time() * 1000
            time.sleep(6)
            lock.rollback()
            lock.close()
            check(wait_for(lambda: "storage recovered" in open(log).read(), 8), "storage error logged, then its recovery")
            con = sqlite3.connect(db)
            during = con.execute("select count(*), sum(status) from result r join target t on t.id = r.target_id"
                                 " where t.name = 'newcomer' and checked_at between ? and ?",
                                 (held_from + 1500, held_from + 5500)).fetchone()
            con.close()
            check(during[0] >= 3 and during[1] == 0,
                  f"checks made while the database was locked were kept and all healthy ({during[0]} rows, "
                  f"{during[1]} not healthy)")
        finally:
            p.send_signal(signal.SIGTERM)
            rc = p.wait(20)
        check(rc == 0, f"SIGTERM: exit 0 (got {rc})")
        text = open(log).read()
        check("SIGTERM: stopping" in text and text.rstrip().endswith("stopped"), "logs its stop")
        total = sum(counts(db).values())
        check(total > 0 and os.path.getsize(db) > 0, f"results written before exit ({total})")
    finish()


if __name__ == "__main__":
    main()
