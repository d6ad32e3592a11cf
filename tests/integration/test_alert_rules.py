#!/usr/bin/env python3
"""Issue 10, honest uptime and anti-flap, against real servers on 127.0.0.1: expect_status,
on_timeout, on_5xx and expect_json each change the class as docs/config.md says; a target that
never answers has 0 % uptime; under failures_before_down 3 / successes_before_healthy 2 a flapping
target never changes its displayed state, a real outage is confirmed after 3 failures, re-checked
after retry_interval_s instead of the interval (counted in requests the server saw)."""
import json
import os
import re
import signal
import sqlite3
import subprocess
import time
import urllib.parse
import urllib.request

from htlib import BINARY, WRAPPER, TestServer, check, finish, run, tmpdir, write_config


def server_stats(srv):
    with urllib.request.urlopen(srv.url() + "/stats", timeout=30) as r:
        return json.loads(r.read())


def seen(srv, key):
    return server_stats(srv).get(key, {}).get("seen", 0)


def wait_for(pred, timeout):
    """A bound on waiting for something that must happen, not a measurement."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.1)
    return False


def body(code, doc):
    return "/body?" + urllib.parse.urlencode({"code": code, "json": json.dumps(doc)})


def rules_change_the_class(d, srv):
    h = srv.url()
    ok = {"status": "ok", "version": "1.9"}
    targets = [
        # name, keys, path, class, reason
        ("status-default-204", {}, body(204, ok), "healthy", "HTTP 204"),
        ("status-only-200", {"expect_status": [200]}, body(204, ok), "degraded",
         "HTTP 204 not accepted (expect_status)"),
        ("status-401-accepted", {"expect_status": ["2xx", 401]}, "/auth", "healthy", "HTTP 401"),
        ("status-418-not-accepted", {"expect_status": ["200-299"]}, body(418, ok), "down",
         "HTTP 418 not accepted (expect_status)"),
        ("5xx-default", {}, body(503, ok), "degraded", "HTTP 503"),
        ("5xx-down", {"on_5xx": "down"}, body(503, ok), "down", "HTTP 503"),
        ("timeout-default", {"timeout_ms": 300}, "/hang?s=5", "degraded", "timeout after 300 ms"),
        ("timeout-down", {"timeout_ms": 300, "on_timeout": "down"}, "/hang?s=5", "down", "timeout after 300 ms"),
        ("json-holds", {"expect_json": {"/version": "1.9"}}, body(200, ok), "healthy", "HTTP 200"),
        ("json-fails", {"expect_json": {"/version": "2.0"}}, body(200, ok), "degraded",
         '/version is "1.9", expected "2.0"'),
    ]
    # No class may depend on the machine's speed: only the hanging targets reach a time limit.
    cfg = write_config(d, {"defaults": {"timeout_ms": 60000, "degraded_ms": 60000},
                           "targets": [dict({"name": n, "url": h, "path": p, "interval_s": 3600}, **k)
                                       for n, k, p, _, _ in targets]}, "rules.json")
    db = os.path.join(d, "rules.db")
    rc, out, err, _ = run(["check", "-c", cfg, "--db", db, "--format", "json"])
    got = {r["name"]: r for r in json.loads(out)["results"]} if out else {}
    for name, _, _, cls, reason in targets:
        r = got.get(name, {})
        check(r.get("status") == cls and r.get("reason") == reason,
              f"{name}: {cls} \"{reason}\" (got {r.get('status')} \"{r.get('reason')}\")")
    # Uptime follows the answer, not the class: a degraded timeout or 503 is downtime, a
    # degraded answer with an accepted status (expect_json failing) is not.
    rc, out, err, _ = run(["stats", "--db", db, "--format", "json"])
    up = {t["name"]: t["uptime_pct"] for t in json.loads(out)["targets"]} if rc == 0 else {}
    want = {"status-default-204": 100, "status-only-200": 0, "5xx-default": 0, "timeout-default": 0,
            "json-fails": 100, "status-401-accepted": 100}
    for name, pct in want.items():
        check(up.get(name) == pct, f"{name}: uptime {pct} % (got {up.get(name)})")


def demo_reports_uptime_is_zero(d):
    """The demo's `reports` times out on every check: degraded, and never up."""
    env = {"HOME": d, "XDG_STATE_HOME": os.path.join(d, "state")}
    rc, out, err, _ = run(["check", "--demo"], env=env)
    check(rc in (0, 1, 2, 3) and "reports" in out, f"check --demo ran (exit {rc}: {err.strip()[:200]})")
    rc, out, err, _ = run(["stats", "--demo", "--format", "json"], env=env)
    st = {t["name"]: t for t in json.loads(out)["targets"]} if rc == 0 else {}
    rep = st.get("reports", {})
    check(rep.get("checks") == 1 and rep.get("degraded") == 1 and rep.get("uptime_pct") == 0,
          f"demo: reports, timing out, shows uptime 0 % ({rep})")
    rc, out, err, _ = run(["stats", "--demo"], env=env)
    line = next((l for l in out.splitlines() if l.startswith("reports")), "")
    check("0.00%" in line.split(), f"stats table: reports at 0.00% ({line!r})")


def log_lines(path, name):
    return [l.split(" ", 1)[1] for l in open(path).read().splitlines() if f" {name}: " in l]


def anti_flap(d, srv):
    h = srv.url()
    soft = {"failures_before_down": 3, "successes_before_healthy": 2, "retry_interval_s": 1,
            "timeout_ms": 60000, "degraded_ms": 60000}
    cfg = write_config(d, {"defaults": soft, "targets": [
        {"name": "flapper", "url": h, "path": "/flip?tag=flapper", "interval_s": 1},
        # An hour between regular checks: every check after the reload's is a retry.
        {"name": "outage", "url": h, "path": "/fail-after?tag=outage&ok=1", "interval_s": 3600,
         "on_5xx": "down"}]}, "flap.json")
    db, log = os.path.join(d, "flap.db"), os.path.join(d, "flap.log")
    with open(log, "w") as err:
        p = subprocess.Popen(WRAPPER + [BINARY, "daemon", "-c", cfg, "--db", db], stderr=err)
    try:
        check(wait_for(lambda: log_lines(log, "outage"), 60), "outage: first result logged")
        check(seen(srv, "fail_after?outage") == 1, "outage: one check at start")
        p.send_signal(signal.SIGHUP)   # a reload checks every target now: the first failure
        confirmed = wait_for(lambda: len(log_lines(log, "outage")) >= 2, 60)
        outage_seen = seen(srv, "fail_after?outage")
        check(confirmed and outage_seen == 4,
              f"outage: confirmed down by the third failure, each re-checked after retry_interval_s, not "
              f"interval_s (server saw {outage_seen} checks, want 1 + 3)")
        base = seen(srv, "flip?flapper")
        check(wait_for(lambda: seen(srv, "flip?flapper") >= max(base, 8) + 2, 60), "flapper: checked 10 times")
        check(seen(srv, "fail_after?outage") == 4, "outage: no more retries once confirmed")
    finally:
        p.send_signal(signal.SIGTERM)
        rc = p.wait(60)
    check(rc == 0, f"daemon exits 0 (got {rc})")
    flap = log_lines(log, "flapper")
    check(flap == ["flapper: healthy (HTTP 200)"],
          f"flapper: only its first displayed state is logged, no blip is a change ({flap})")
    out = log_lines(log, "outage")
    check(len(out) == 2 and out[0] == "outage: healthy (HTTP 200)" and out[1] == "outage: healthy -> down (HTTP 500)",
          f"outage: one displayed change, healthy -> down ({out})")
    con = sqlite3.connect(db)
    try:
        raw = dict(con.execute("select r.status, count(*) from result r join target t on t.id = r.target_id"
                               " where t.name = 'flapper' group by 1").fetchall())
        out_rows = con.execute("select r.status from result r join target t on t.id = r.target_id"
                               " where t.name = 'outage' order by r.checked_at").fetchall()
    finally:
        con.close()
    check(raw.get(0, 0) >= 4 and raw.get(1, 0) >= 4, f"flapper: the raw class of every check is stored ({raw})")
    check([s for (s,) in out_rows] == [0, 2, 2, 2], f"outage: every raw result stored ({out_rows})")


def main():
    d = tmpdir()
    with TestServer() as srv:
        rules_change_the_class(d, srv)
        anti_flap(d, srv)
    demo_reports_uptime_is_zero(d)
    finish()


if __name__ == "__main__":
    main()
