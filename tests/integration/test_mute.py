#!/usr/bin/env python3
"""Mutes: `healthtop mute`/`unmute` write the database (exit 0, 3 for usage, 4 for a name the
config lacks); a muted target is still checked and stored, shows as muted, and notifies nobody;
a mute set from the CLI reaches a running daemon."""
import os
import re
import sqlite3

from htlib import NO_TIMING, check, finish, run, tmpdir, write_config
from notifylib import Daemon, Target, hook_runs, hook_script, log_text, results, wait_for


def mutes(db):
    con = sqlite3.connect(db)
    try:
        return con.execute("select scope, until_ms, reason from mute").fetchall()
    finally:
        con.close()


def cli(d, cfg, db):
    base = ["-c", cfg, "--db", db]
    rc, out, err, _ = run(["mute", *base, "api", "2h", "--reason", "deploy"])
    check(rc == 0 and "api muted until" in out, f"mute NAME 2h: exit 0 ({rc} {out.strip()} {err.strip()})")
    rows = mutes(db)
    check(len(rows) == 1 and rows[0][0] == "api" and rows[0][2] == "deploy", f"the mute is in the database ({rows})")
    rc, _, err, _ = run(["mute", *base, "project:shop", "2026-01-01T00:00Z"])
    check(rc == 3, f"an end time already past: exit 3 ({rc} {err.strip()})")
    rc, _, err, _ = run(["mute", *base, "api", "soon"])
    check(rc == 3 and "not a duration" in err, "a duration that is not one: exit 3")
    rc, _, err, _ = run(["mute", *base, "api"])
    check(rc == 3, "no duration: exit 3")
    rc, _, err, _ = run(["mute", *base, "apx", "1h"])
    check(rc == 4 and "no target \"apx\"" in err, f"an unknown target: exit 4 ({err.strip()})")
    rc, _, err, _ = run(["mute", *base, "project:nope", "1h"])
    check(rc == 4 and "no project \"nope\"" in err, f"an unknown project: exit 4 ({err.strip()})")
    rc, out, _, _ = run(["unmute", *base, "api"])
    check(rc == 0 and "api unmuted" in out and mutes(db) == [], f"unmute: exit 0, gone ({out.strip()})")
    rc, out, _, _ = run(["unmute", *base, "api"])
    check(rc == 0 and "was not muted" in out, "unmuting again says so")
    rc, _, err, _ = run(["unmute", *base, "--reason", "x", "api"])
    check(rc == 3 and "--reason is for healthtop mute" in err, f"unmute --reason: exit 3, says why ({err.strip()})")
    rc, _, _, _ = run(["mute", "-c", os.path.join(d, "missing.json"), "--db", db, "api", "1h"])
    check(rc == 3, "no config: exit 3")


def muted_daemon(d):
    tgt = Target()
    hook, out = hook_script(d)
    cfg = write_config(d, {"defaults": NO_TIMING, "targets": [{"name": "api", "project": "shop", "url": tgt.url, "interval_s": 1},
                                       {"name": "web", "project": "site", "url": tgt.url, "interval_s": 1}],
                           "notify": [{"exec": [hook]}]}, "m.json")
    db, log = os.path.join(d, "m.db"), os.path.join(d, "m.log")
    dm = Daemon(cfg, db, log)
    try:
        check(wait_for(lambda: results(db, "api") >= 1 and results(db, "web") >= 1), "both checked")
        rc, _, _, _ = run(["mute", "-c", cfg, "--db", db, "project:shop", "1h"])
        check(rc == 0, "mute project:shop while the daemon runs")
        check(wait_for(lambda: "api: muted until" in log_text(log)), "the running daemon picks the mute up")
        check("web: muted" not in log_text(log), "only the project's targets are muted")
        tgt.code = 500   # both go degraded; only web may notify
        check(wait_for(lambda: len(re.findall(r"(api|web): healthy -> degraded", log_text(log))) >= 2),
              "both changes are seen")
        check(wait_for(lambda: len(hook_runs(out)) >= 1), "the unmuted target notifies")
        n = results(db, "api")
        check(wait_for(lambda: results(db, "api") >= n + 3), f"the muted target is still checked and stored ({n}, {results(db, 'api')})")
    finally:
        check(dm.stop() == 0, "daemon stops")
    names = [r["HEALTHTOP_NAME"] for r in hook_runs(out)]
    check(names == ["web"], f"the muted target notified nobody ({names})")
    check("api: healthy -> degraded while muted: nobody notified" in log_text(log), "the log says it was muted")
    # After a restart the mute still holds (it lives in the database).
    dm = Daemon(cfg, db, log)
    try:
        check(wait_for(lambda: log_text(log).count("api: muted until") >= 2), "a restarted daemon keeps the mute")
        rc, _, _, _ = run(["unmute", "-c", cfg, "--db", db, "project:shop"])
        check(rc == 0 and wait_for(lambda: "api: unmuted" in log_text(log)), "unmute reaches the running daemon")
    finally:
        dm.stop()
    tgt.stop()


def main():
    d = tmpdir()
    tgt = Target()
    cfg = write_config(d, {"defaults": NO_TIMING, "targets": [{"name": "api", "project": "shop", "url": tgt.url}]}, "c.json")
    cli(d, cfg, os.path.join(d, "c.db"))
    tgt.stop()
    muted_daemon(d)
    finish()


main()
