#!/usr/bin/env python3
"""healthtop_check_start_lag_seconds: every check the daemon's scheduler starts (the first
sweep, each timer's tick, answered or not) is observed exactly once, so the histogram's count
equals the checks the page counts by class, and the server saw that many requests at least.
Counted, never timed: how late a check started is the benchmark's business (bench/steady.py)."""
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
import json

from htlib import BINARY, WRAPPER, TestServer, check, finish, tmpdir, wait_for, write_config

LAG = "healthtop_check_start_lag_seconds"


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def page(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as r:
        return r.read().decode()


def lag(text):
    """{le: count}, sum and count of the lag histogram."""
    buckets = {le: float(v) for le, v in re.findall(LAG + r'_bucket\{le="([^"]+)"\} (\S+)', text)}
    total = re.search("^" + LAG + r"_count (\S+)$", text, re.M)
    s = re.search("^" + LAG + r"_sum (\S+)$", text, re.M)
    return buckets, float(s.group(1)) if s else None, float(total.group(1)) if total else None


def checks_made(text, name=r"[^\"]*"):
    return sum(float(v) for v in re.findall(r'^healthtop_checks_total\{name="' + name + r'"[^}]*\} (\S+)$', text, re.M))


def seen(srv, key):
    with urllib.request.urlopen(srv.url() + "/stats", timeout=10) as r:
        return json.loads(r.read()).get(key, {}).get("seen", 0)


def main():
    d = tmpdir()
    with TestServer() as srv:
        targets = [{"name": f"t{i}", "url": srv.url(), "path": "/ok?tag=lag", "interval_s": 1} for i in range(12)]
        targets.append({"name": "gone", "url": f"http://127.0.0.1:{closed_port()}", "interval_s": 1})
        cfg = write_config(d, {"targets": targets})
        log = os.path.join(d, "daemon.log")
        with open(log, "w") as err:
            p = subprocess.Popen(WRAPPER + [BINARY, "daemon", "-c", cfg, "--db", os.path.join(d, "h.db"),
                                            "--metrics-listen", "127.0.0.1:0"], stderr=err)
        port = None
        for _ in range(300):
            with open(log) as f:
                m = re.search(r"serving /metrics on \S+ \(port (\d+)\)", f.read())
            if m or p.poll() is not None:
                port = int(m.group(1)) if m else None
                break
            time.sleep(0.1)
        check(port is not None, "the daemon serves /metrics")
        # the first sweep and then each target's own timer, several times over
        check(wait_for(lambda: seen(srv, "ok?lag") >= 12 * 4), "the targets were checked on their timers")
        text = page(port)
        buckets, total_s, count = lag(text)
        made = checks_made(text)
        check(count is not None and count == made and made > 13,
              f"the lag histogram counts each check the page counts, once, timers' ticks included ({count} and {made})")
        check(buckets.get("+Inf") == count, f"+Inf holds every check ({buckets.get('+Inf')} of {count})")
        ordered = [buckets[k] for k in sorted(buckets, key=lambda k: float(k))]
        check(len(ordered) == 15 and ordered == sorted(ordered), f"the buckets are cumulative ({ordered})")
        check(total_s is not None and total_s >= 0, f"the lag sum is a duration ({total_s})")
        answered, made_ok = seen(srv, "ok?lag"), checks_made(text, r"t\d+")
        check(answered >= made_ok > 0, f"the server saw every answered check ({answered} for {made_ok})")
        p.send_signal(signal.SIGTERM)
        check(p.wait(20) == 0, "the daemon stops cleanly")
    finish()


if __name__ == "__main__":
    main()
