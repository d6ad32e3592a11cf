#!/usr/bin/env python3
"""healthtop daemon --metrics-listen: /metrics in the Prometheus text format, served on the
daemon's own loop. Healthy, degraded and down targets give healthtop_up 2, 1 and 0; the
counters agree with what the targets' server saw; promtool accepts the page (skipped, saying
so, where promtool is not installed); a bad address is refused at start."""
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

from htlib import HERE, BINARY, WRAPPER, TestServer, check, finish, run, tmpdir, write_config


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, "", e.read().decode()


def samples(text):
    """{(metric, frozenset(labels)): value} of every sample line."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^([a-z_]+)(?:\{(.*)\})? (\S+)$', line)
        if m:
            labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
            out[(m.group(1), labels)] = float(m.group(3))
    return out


def up(s, name):
    return s.get(("healthtop_up", frozenset({("name", name), ("project", "fleet")})))


def doc_rules():
    """The alerting rules block of docs/operations.md."""
    with open(os.path.join(HERE, "..", "..", "docs", "operations.md")) as f:
        text = f.read()
    blocks = re.findall(r"```yaml\n(.*?)```", text, re.S)
    return next(b for b in blocks if b.startswith("groups:"))


def start(cfg, db, log, listen="127.0.0.1:0"):
    with open(log, "w") as err:
        p = subprocess.Popen(WRAPPER + [BINARY, "daemon", "-c", cfg, "--db", db, "--metrics-listen", listen],
                             stderr=err)
    for _ in range(300):
        with open(log) as f:
            m = re.search(r"serving /metrics on \S+ \(port (\d+)\)", f.read())
        if m or p.poll() is not None:
            return p, int(m.group(1)) if m else None
        time.sleep(0.1)
    return p, None


def main():
    d = tmpdir()
    with TestServer() as srv:
        h = srv.url()
        cfg = write_config(d, {"targets": [
            {"name": "good", "project": "fleet", "url": h, "path": "/ok?tag=good", "interval_s": 3600},
            {"name": "slow5xx", "project": "fleet", "url": h, "path": "/body?code=503&tag=bad", "interval_s": 3600},
            {"name": "gone", "project": "fleet", "url": f"http://127.0.0.1:{closed_port()}", "interval_s": 3600}]})
        db = os.path.join(d, "h.db")
        p, port = start(cfg, db, os.path.join(d, "daemon.log"))
        check(port is not None, "the daemon says which port /metrics is served on")
        base = f"http://127.0.0.1:{port}"
        s = {}
        for _ in range(300):   # until all three have a first result
            code, ctype, text = get(base + "/metrics")
            s = samples(text)
            if all(up(s, n) is not None for n in ("good", "slow5xx", "gone")):
                break
            time.sleep(0.1)
        check(code == 200 and ctype.startswith("text/plain; version=0.0.4"), f"/metrics answers 200 text/plain 0.0.4 ({code} {ctype})")
        check(up(s, "good") == 2, f"a healthy target has healthtop_up 2 ({up(s, 'good')})")
        check(up(s, "slow5xx") == 1, f"a degraded (503) target has healthtop_up 1 ({up(s, 'slow5xx')})")
        check(up(s, "gone") == 0, f"a down (refused) target has healthtop_up 0 ({up(s, 'gone')})")
        lab = lambda n, **kw: frozenset({("name", n), ("project", "fleet"), *kw.items()})
        check(s.get(("healthtop_checks_total", lab("good", **{"class": "healthy"}))) == 1,
              "healthtop_checks_total counts the one healthy check")
        check(s.get(("healthtop_checks_total", lab("gone", **{"class": "down"}))) == 1,
              "healthtop_checks_total counts the one down check")
        check(s.get(("healthtop_check_duration_seconds_count", lab("good"))) == 1 and
              s.get(("healthtop_check_duration_seconds_bucket", lab("good", le="+Inf"))) == 1,
              "the duration histogram holds the healthy check")
        check(s.get(("healthtop_check_duration_seconds_count", lab("gone"))) == 0,
              "a check that got no answer adds no duration")
        check(("healthtop_phase_seconds", lab("good", phase="connect")) in s, "the last check's connect phase is there")
        check(s.get(("healthtop_muted", lab("good"))) == 0, "healthtop_muted is 0 for an unmuted target")
        check(s.get(("healthtop_dropped_results_total", frozenset())) == 0 and
              s.get(("healthtop_store_errors_total", frozenset())) == 0, "no store errors and nothing dropped")
        check(s.get(("healthtop_last_sweep_timestamp_seconds", frozenset()), 0) > 1e9, "the last sweep time is a unix time")
        rc, _, err, _ = run(["mute", "-c", cfg, "--db", db, "gone", "1h"], timeout=30)
        muted = None
        for _ in range(100):   # the daemon reads mutes from the database every second
            muted = samples(get(base + "/metrics")[2]).get(("healthtop_muted", lab("gone")))
            if muted == 1:
                break
            time.sleep(0.2)
        check(rc == 0 and muted == 1, f"a target muted with `healthtop mute` has healthtop_muted 1 ({rc} {err.strip()} {muted})")
        code, _, _ = get(base + "/nothing")
        check(code == 404, "any other path is 404")
        if shutil.which("promtool"):
            pt = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
            check(pt.returncode == 0, f"promtool check metrics accepts the page {pt.stdout}{pt.stderr}")
            rules = os.path.join(d, "rules.yml")
            with open(rules, "w") as f:
                f.write(doc_rules())
            pt = subprocess.run(["promtool", "check", "rules", rules], capture_output=True, text=True)
            check(pt.returncode == 0, f"the alerting rules in docs/operations.md pass promtool check rules {pt.stderr}")
        else:
            print("SKIP promtool check metrics/rules: promtool is not installed (scripts/install-deps.sh installs it)")
        p.send_signal(signal.SIGTERM)
        check(p.wait(20) == 0, "the daemon stops cleanly with /metrics open")

        rc, _, err, _ = run(["daemon", "-c", cfg, "--db", db, "--metrics-listen", "nonsense"], timeout=30)
        check(rc == 3 and "--metrics-listen" in err, f"a bad --metrics-listen is a usage error naming the flag ({rc} {err.strip()})")
        rc, _, err, _ = run(["daemon", "-c", cfg, "--db", db, "--metrics-listen", "127.0.0.1:99999"], timeout=30)
        check(rc == 3 and "0..65535" in err, f"a port over 65535 is a usage error, not a random port ({rc} {err.strip()})")
    finish()


if __name__ == "__main__":
    main()
