#!/usr/bin/env python3
"""Notifications from a polling daemon on 127.0.0.1: an exec hook and a JSON webhook each get
the documented payload once per change of displayed state, recovery included; a receiver that
is down gets every message afterwards, once, in order, also across a restart of the daemon."""
import os
import re
import signal
import sqlite3

from htlib import NO_TIMING, check, finish, run, tmpdir, write_config
from notifylib import Daemon, Receiver, Target, hook_runs, hook_script, log_text, results, wait_for

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
JSON_KEYS = {"name", "project", "url", "old", "new", "reason", "since", "at", "duration_s", "recovered", "message"}


def changes_logged(log, n):
    return lambda: len(re.findall(r"api: \w+ -> \w+", log_text(log))) >= n


def exec_and_webhook(d):
    tgt, rcv = Target(), Receiver()
    hook, out = hook_script(d)
    cfg = write_config(d, {"defaults": NO_TIMING, "targets": [{"name": "api", "project": "shop", "url": tgt.url, "interval_s": 1}],
                           "notify": [{"exec": [hook]}, {"webhook": rcv.url + "/hook", "format": "json",
                                                         "headers": {"Authorization": "Bearer ${HT_HOOK_TOKEN}"}}]},
                       "a.json")
    os.environ["HT_HOOK_TOKEN"] = "t0k"   # the daemon inherits it
    db, log = os.path.join(d, "a.db"), os.path.join(d, "a.log")
    dm = Daemon(cfg, db, log)
    try:
        check(wait_for(lambda: results(db, "api") >= 1), "the daemon checks the target")
        tgt.code = 500
        check(wait_for(changes_logged(log, 1)), "healthy -> degraded is seen")
        tgt.code = 200
        check(wait_for(changes_logged(log, 2)), "degraded -> healthy is seen")
        check(wait_for(lambda: len(hook_runs(out)) >= 2 and len(rcv.got) >= 2), "hook and webhook ran twice")
        before = results(db, "api")
        wait_for(lambda: results(db, "api") >= before + 3)   # more checks, no more changes
    finally:
        check(dm.stop() == 0, "daemon exits 0 on SIGTERM")
    runs, bodies = hook_runs(out), rcv.bodies()
    check(len(runs) == 2, f"the hook ran once per change ({len(runs)})")
    check(len(bodies) == 2, f"the webhook got one POST per change ({len(bodies)})")
    if len(runs) == 2:
        down, up = runs
        check(set(down) == {"HEALTHTOP_NAME", "HEALTHTOP_PROJECT", "HEALTHTOP_URL", "HEALTHTOP_OLD", "HEALTHTOP_NEW",
                            "HEALTHTOP_REASON", "HEALTHTOP_SINCE", "HEALTHTOP_DURATION_S"}, "the documented env, all of it")
        check((down["HEALTHTOP_NAME"], down["HEALTHTOP_PROJECT"], down["HEALTHTOP_OLD"], down["HEALTHTOP_NEW"])
              == ("api", "shop", "healthy", "degraded"), f"first run: the change ({down})")
        check(down["HEALTHTOP_URL"] == tgt.url + "/health", "HEALTHTOP_URL is the checked URL")
        check("500" in down["HEALTHTOP_REASON"], f"HEALTHTOP_REASON says why ({down['HEALTHTOP_REASON']})")
        check(ISO.match(down["HEALTHTOP_SINCE"]) is not None and down["HEALTHTOP_DURATION_S"].isdigit(),
              "HEALTHTOP_SINCE is an ISO time, HEALTHTOP_DURATION_S whole seconds")
        check((up["HEALTHTOP_OLD"], up["HEALTHTOP_NEW"]) == ("degraded", "healthy"), "second run: the recovery")
    if len(bodies) == 2:
        down, up = bodies
        check(set(down) == JSON_KEYS, f"the documented JSON fields ({sorted(down)})")
        check((down["name"], down["project"], down["old"], down["new"], down["recovered"])
              == ("api", "shop", "healthy", "degraded", False), "JSON: the change")
        check(ISO.match(down["at"]) is not None and ISO.match(down["since"]) is not None, "JSON: ISO times")
        check(up["recovered"] is True and "resolved after" in up["message"], f"JSON: recovery ({up['message']})")
        check(isinstance(up["duration_s"], int), "JSON: duration_s is whole seconds")
        path, headers, _ = rcv.got[0]
        check(path == "/hook" and headers.get("Content-Type") == "application/json", "POST /hook as JSON")
        check(headers.get("Authorization") == "Bearer t0k", "headers with ${VAR} expanded")
    tgt.stop()
    rcv.stop()


def down_receiver_and_restart(d):
    """Three changes while the receiver fails, a daemon restart in the middle of them: every
    message arrives afterwards, once, in order."""
    tgt, rcv = Target(), Receiver()
    rcv.failing = True
    cfg = write_config(d, {"defaults": NO_TIMING, "targets": [{"name": "api", "project": "shop", "url": tgt.url, "interval_s": 1}],
                           "notify": [{"webhook": rcv.url + "/hook"}]}, "b.json")
    db, log = os.path.join(d, "b.db"), os.path.join(d, "b.log")
    dm = Daemon(cfg, db, log)
    try:
        check(wait_for(lambda: results(db, "api") >= 1), "first result")
        tgt.code = 500
        check(wait_for(changes_logged(log, 1)), "change 1 (degraded)")
        tgt.code = 200
        check(wait_for(changes_logged(log, 2)), "change 2 (healthy)")
        check(wait_for(lambda: rcv.refused >= 2), "the receiver refused attempts")
    finally:
        check(dm.stop() == 0, "first daemon stops")
    con = sqlite3.connect(db)
    waiting = con.execute("select count(*) from notify_queue").fetchone()[0]
    con.close()
    check(waiting == 2, f"both messages wait in the database across the restart ({waiting})")
    dm = Daemon(cfg, db, log)
    try:
        n0 = results(db, "api")
        wait_for(lambda: results(db, "api") >= n0 + 1)
        tgt.code = 500
        check(wait_for(changes_logged(log, 3)), "change 3 (degraded) after the restart")
        check(wait_for(lambda: rcv.refused >= 3), "still refused after the restart")
        rcv.failing = False
        check(wait_for(lambda: len(rcv.got) >= 3), "every message arrives once the receiver is back")
        n1 = results(db, "api")
        wait_for(lambda: results(db, "api") >= n1 + 3)
    finally:
        check(dm.stop() == 0, "second daemon stops")
    seq = [(b["old"], b["new"]) for b in rcv.bodies()]
    check(seq == [("healthy", "degraded"), ("degraded", "healthy"), ("healthy", "degraded")],
          f"each message once, in order ({seq})")
    con = sqlite3.connect(db)
    left = con.execute("select count(*) from notify_queue").fetchone()[0]
    con.close()
    check(left == 0, "nothing left waiting once delivered")
    check("retrying in" in log_text(log), "failures are logged with the retry")
    tgt.stop()
    rcv.stop()


def reload_keeps_waiting(d):
    """A message waiting at a SIGHUP reload is delivered by the new config's destination, once."""
    tgt, rcv = Target(), Receiver()
    rcv.failing = True
    spec = {"defaults": NO_TIMING, "targets": [{"name": "api", "project": "shop", "url": tgt.url, "interval_s": 1}],
            "notify": [{"webhook": rcv.url + "/hook"}]}
    cfg = write_config(d, spec, "r.json")
    db, log = os.path.join(d, "r.db"), os.path.join(d, "r.log")
    dm = Daemon(cfg, db, log)
    try:
        check(wait_for(lambda: results(db, "api") >= 1), "reload: first result")
        tgt.code = 500
        check(wait_for(changes_logged(log, 1)) and wait_for(lambda: rcv.refused >= 1), "reload: change refused")
        spec["targets"].append({"name": "web", "project": "site", "url": tgt.url, "interval_s": 1})
        write_config(d, spec, "r.json")
        dm.p.send_signal(signal.SIGHUP)
        check(wait_for(lambda: "SIGHUP: reloaded, 2 targets" in log_text(log)), "reloaded")
        rcv.failing = False
        check(wait_for(lambda: len(rcv.got) >= 1), "the waiting message is delivered after the reload")
        n = results(db, "api")
        wait_for(lambda: results(db, "api") >= n + 3)
    finally:
        check(dm.stop() == 0, "reload: daemon stops")
    names = [(b["name"], b["new"]) for b in rcv.bodies()]
    check(names == [("api", "degraded")], f"delivered once, nothing for the new target's first result ({names})")
    tgt.stop()
    rcv.stop()


def flapping(d):
    """Under anti-flap 3/2, blips notify nobody; each displayed change notifies once."""
    tgt = Target()
    hook, out = hook_script(os.path.join(d, "f"))
    cfg = write_config(d, {"defaults": NO_TIMING, "targets": [{"name": "api", "project": "shop", "url": tgt.url, "interval_s": 1,
                                        "retry_interval_s": 1, "failures_before_down": 3,
                                        "successes_before_healthy": 2}],
                           "notify": [{"exec": [hook]}]}, "f.json")
    db, log = os.path.join(d, "f.db"), os.path.join(d, "f.log")
    with tgt.lock:   # after the first (healthy) answer: blips, an outage, a blip, the recovery
        tgt.script = [200, 500, 200, 500, 200, 500, 500, 500, 500, 200, 500, 200, 200]
        tgt.code = 200
    dm = Daemon(cfg, db, log)
    try:
        check(wait_for(lambda: tgt.served >= 17), "the scripted answers were all served")
        check(wait_for(lambda: len(hook_runs(out)) >= 2), "the outage and the recovery notify")
        n = tgt.served
        wait_for(lambda: tgt.served >= n + 3)
    finally:
        check(dm.stop() == 0, "flapping: daemon stops")
    seq = [(r["HEALTHTOP_OLD"], r["HEALTHTOP_NEW"]) for r in hook_runs(out)]
    check(seq == [("healthy", "degraded"), ("degraded", "healthy")], f"one run per displayed change, none for blips ({seq})")
    tgt.stop()


def bad_configs(d):
    cfg = write_config(d, '{"targets": [{"name": "api", "url": "http://127.0.0.1:9"}],\n'
                          ' "notify": [{"webhook": "http://127.0.0.1:9/", "format": "xml"}]}', "bad.json")
    rc, _, err, _ = run(["check", "-c", cfg, "--db", os.path.join(d, "bad.db")])
    check(rc == 3 and "bad.json:2: notify[0].format" in err, f"a bad notify key: exit 3 with FILE:LINE ({err.strip()})")


def check_notify(d):
    """check notifies only with --notify, of changes since the last stored result."""
    tgt = Target()
    hook, out = hook_script(os.path.join(d, "c"))
    cfg = write_config(d, {"defaults": NO_TIMING, "targets": [{"name": "api", "project": "shop", "url": tgt.url}],
                           "notify": [{"exec": [hook]}]}, "c.json")
    base = ["check", "-c", cfg, "--db", os.path.join(d, "c.db")]
    rc, _, err, _ = run(base + ["--notify"])
    check(rc == 0 and hook_runs(out) == [], f"a first result announces nothing ({err.strip()})")
    tgt.code = 500
    run(base)
    check(hook_runs(out) == [], "check without --notify notifies nobody")
    tgt.code = 200
    run(base + ["--notify"])
    tgt.code = 500
    run(base + ["--notify"])
    run(base + ["--notify"])
    seq = [(r["HEALTHTOP_OLD"], r["HEALTHTOP_NEW"]) for r in hook_runs(out)]
    check(seq == [("degraded", "healthy"), ("healthy", "degraded")], f"check --notify: each change once ({seq})")
    tgt.stop()


def main():
    d = tmpdir()
    os.mkdir(os.path.join(d, "c"))
    os.mkdir(os.path.join(d, "f"))
    bad_configs(d)
    check_notify(d)
    exec_and_webhook(d)
    down_receiver_and_restart(d)
    reload_keeps_waiting(d)
    flapping(d)
    finish()


main()
