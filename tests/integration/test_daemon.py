#!/usr/bin/env python3
"""healthtop daemon: checks on schedule headless, logs each target's first result and state
changes (after a restart too), SIGHUP reloads (a bad config keeps the old one and says why),
SIGTERM writes what is pending and exits 0; it stores the same rows as `check`."""
import json
import os
import re
import signal
import sqlite3
import subprocess
import time
import urllib.parse
import urllib.request

from htlib import BINARY, WRAPPER, TestServer, check, finish, run, tmpdir, write_config, wait_for


def server_stats(srv):
    with urllib.request.urlopen(srv.url() + "/stats", timeout=30) as r:
        return json.loads(r.read())


def stored_rows(db):
    """What a result is once stored, without what differs from one run to the next: times, and
    the durations curl puts in its messages ("after 0 ms")."""
    con = sqlite3.connect(db)
    try:
        rows = con.execute(
            "select t.name, t.project, t.url, r.status, r.http_code, r.reason, r.error,"
            " r.response_ms is null, r.dns_ms is null, r.connect_ms is null, r.tls_ms is null,"
            " r.ttfb_ms is null, r.cert_expiry is null"
            " from result r join target t on t.id = r.target_id").fetchall()
    finally:
        con.close()
    return sorted(tuple(re.sub(r"\d+ ms", "N ms", v) if isinstance(v, str) else v for v in row) for row in rows)


def start_daemon(cfg, db, log):
    with open(log, "w") as err:
        return subprocess.Popen(WRAPPER + [BINARY, "daemon", "-c", cfg, "--db", db], stderr=err)


def stop_daemon(p):
    p.send_signal(signal.SIGTERM)
    return p.wait(CEILING)


def same_rows_as_check(d, srv):
    """One recorded kind of answer per target, through `check` and through the daemon: the
    same class, reason and stored row (observe() is the one place both judge a result)."""
    h = srv.url()
    body = "/body?" + urllib.parse.urlencode({"code": 503, "json": json.dumps({"status": "warn"})})
    # No class may depend on the machine's speed: only a hanging server reaches a time limit.
    cfg = write_config(d, {"defaults": NO_TIMING, "targets": [
        {"name": "same-ok", "project": "p", "url": h, "path": "/ok", "interval_s": 3600},
        {"name": "same-503", "project": "p", "url": h, "path": body, "interval_s": 3600},
        {"name": "same-404", "url": h, "path": "/nowhere", "interval_s": 3600},
        {"name": "same-refused", "url": "http://127.0.0.1:9", "interval_s": 3600}]}, "same.json")
    by_check, by_daemon = os.path.join(d, "same-check.db"), os.path.join(d, "same-daemon.db")
    run(["check", "-c", cfg, "--db", by_check])
    p = start_daemon(cfg, by_daemon, os.path.join(d, "same.log"))
    try:
        wait_for(lambda: len(stored_rows(by_daemon)) >= 4)
    finally:
        rc = stop_daemon(p)
    a, b = stored_rows(by_check), stored_rows(by_daemon)
    differ = "" if a == b else f"\n  check:  {a}\n  daemon: {b}"
    check(rc == 0 and len(a) == 4 and a == b, f"check and daemon store the same rows for the same answers{differ}")


def counts(db):
    con = sqlite3.connect(db)
    try:
        return dict(con.execute("select t.name, count(r.id) from target t join result r on r.target_id = t.id group by 1"))
    finally:
        con.close()


# No class may depend on the machine's speed: no answer here reaches a time limit.
NO_TIMING = {"timeout_ms": 60000, "degraded_ms": 60000}
# Every wait polls for what it expects; the ceiling only matters when that never comes.
CEILING = 60


def main():
    d = tmpdir()
    db = os.path.join(d, "h.db")
    log = os.path.join(d, "daemon.log")
    with TestServer() as srv:
        same_rows_as_check(d, srv)
        flap = {"name": "flappy", "url": srv.url(), "path": "/flap", "interval_s": 1}
        cfg = write_config(d, {"defaults": NO_TIMING, "targets": [flap, {"name": "steady", "url": srv.url(), "path": "/ok", "interval_s": 1}]})
        with open(log, "w") as err:
            p = subprocess.Popen(WRAPPER + [BINARY, "daemon", "-c", cfg, "--db", db], stderr=err)
        try:
            check(wait_for(lambda: all(n >= 3 for n in counts(db).values()) and len(counts(db)) == 2),
                  f"checks every target on its interval ({counts(db) if os.path.exists(db) else {}})")
            text = open(log).read()
            check("started: 2 targets" in text and "steady: healthy" in text, "logs its start and each first result")
            check("flappy: healthy -> down" in text or "flappy: down -> healthy" in text,
                  "logs state changes with from -> to")

            write_config(d, '{"targets": [ {"name": "x", "url": "file:///etc/passwd"} ]}', "fleet.json")
            p.send_signal(signal.SIGHUP)
            check(wait_for(lambda: "keeping the old config" in open(log).read()), "SIGHUP with a bad config keeps the old one")
            check("fleet.json:1: targets[0].url: scheme \"file\"" in open(log).read(), "and says why, with FILE:LINE")
            before = counts(db)
            check(wait_for(lambda: counts(db)["steady"] > before["steady"]), "still checking after the failed reload")

            newcomer = {"name": "newcomer", "url": srv.url(), "path": "/ok?tag=newcomer", "interval_s": 1}
            write_config(d, {"defaults": NO_TIMING, "targets": [flap, newcomer]})
            p.send_signal(signal.SIGHUP)
            check(wait_for(lambda: "reloaded, 2 targets" in open(log).read()), "SIGHUP with a good config reloads")
            check(wait_for(lambda: counts(db).get("newcomer", 0) >= 2), f"the new target is checked ({counts(db)})")
            # Measured in the kept target's own checks, not in seconds: while newcomer is checked
            # three more times (interval 1 s both), steady gains no row. The writer stores in
            # order, so a steady check from before the reload is in before newcomer's second.
            gone, kept = counts(db)["steady"], counts(db)["newcomer"]
            check(wait_for(lambda: counts(db).get("newcomer", 0) >= kept + 3), "the kept target goes on")
            check(counts(db)["steady"] == gone,
                  f"the removed target is no longer checked ({gone} -> {counts(db)['steady']} while newcomer "
                  f"went {kept} -> {counts(db)['newcomer']})")

            # Another process holds the write lock: checks go on, nobody turns degraded for it,
            # the results wait in memory and land once the lock is gone.
            # The lock is held until the daemon has felt it and newcomer was checked three more
            # times, counted by the server: a count, whatever the machine's speed.
            lock = sqlite3.connect(db, timeout=10)
            lock.execute("BEGIN IMMEDIATE")
            held_from = time.time() * 1000
            seen_from = server_stats(srv).get("ok?newcomer", {}).get("seen", 0)
            felt = wait_for(lambda: "storage error" in open(log).read()
                            and server_stats(srv).get("ok?newcomer", {}).get("seen", 0) >= seen_from + 3)
            held_to = time.time() * 1000
            lock.rollback()
            lock.close()
            check(felt, "the daemon logs the storage error and goes on checking under the lock")
            check(wait_for(lambda: "storage recovered" in open(log).read()), "storage error logged, then its recovery")
            def during_lock():
                con = sqlite3.connect(db)
                try:
                    return con.execute("select count(*), sum(status) from result r join target t on t.id = r.target_id"
                                       " where t.name = 'newcomer' and checked_at between ? and ?",
                                       (held_from, held_to)).fetchone()
                finally:
                    con.close()
            # the writer catches up batch by batch after the lock: wait for the rows, not a time
            wait_for(lambda: during_lock()[0] >= 1)
            during = during_lock()
            check(during[0] >= 1 and during[1] == 0,
                  f"checks made while the database was locked were kept and all healthy ({during[0]} rows, "
                  f"{during[1]} not healthy)")
        finally:
            p.send_signal(signal.SIGTERM)
            rc = p.wait(CEILING)
        check(rc == 0, f"SIGTERM: exit 0 (got {rc})")
        text = open(log).read()
        check("SIGTERM: stopping" in text and text.rstrip().endswith("stopped"), "logs its stop")
        total = sum(counts(db).values())
        check(total > 0 and os.path.getsize(db) > 0, f"results written before exit ({total})")
        # Counting, not timing: every check the server answered is in the database, lock or
        # not (one may have been cut short by SIGTERM itself).
        seen = server_stats(srv).get("ok?newcomer", {}).get("seen", 0)
        stored = counts(db).get("newcomer", 0)
        check(seen > 0 and seen - 1 <= stored <= seen,
              f"every check of newcomer the server saw was stored ({stored} stored, {seen} seen)")

        # Defect 9: restarted on its history, the daemon still logs each target's first result
        # (it used to stay silent until a state changed).
        log2 = os.path.join(d, "restart.log")
        p = start_daemon(cfg, db, log2)
        try:
            check(wait_for(lambda: "newcomer: healthy (HTTP 200)" in open(log2).read()),
                  "after a restart, each target's first result is logged")
        finally:
            rc = stop_daemon(p)
        check(rc == 0, f"restarted daemon: SIGTERM exits 0 (got {rc})")
    finish()


if __name__ == "__main__":
    main()
