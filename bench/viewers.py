#!/usr/bin/env python3
"""Cost of viewers: one `healthtop daemon` polls N targets (default 1000, every 10 s) on a
loopback server; then V dashboards (default 10) are opened in tmux on the same database. Over
two windows of the same length, without and with the viewers, prints the requests the targets'
server saw (the viewers must add none) and each viewer's CPU share (the goal: < 1 % of a core).

    python3 bench/viewers.py [--targets 1000] [--viewers 10] [--interval 10] [--seconds 60] [--warmup 15]
"""
import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
from htlib import BINARY, TestServer  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def seen(srv):
    with urllib.request.urlopen(srv.url() + "/stats", timeout=30) as r:
        return json.loads(r.read()).get("ok?fleet", {}).get("seen", 0)


def healthtop_pid(sock, session):
    """The dashboard itself: the pane runs `exec healthtop`, so the pane's pid is it."""
    out = subprocess.run(["tmux", "-L", sock, "list-panes", "-t", session, "-F", "#{pane_pid}"],
                         capture_output=True, text=True, check=True).stdout
    return int(out.split()[0])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--targets", type=int, default=1000)
    ap.add_argument("--viewers", type=int, default=10)
    ap.add_argument("--interval", type=int, default=10)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--warmup", type=float, default=15)
    a = ap.parse_args()
    d = tempfile.mkdtemp(prefix="healthtop-bench-viewers-")
    db = os.path.join(d, "shared.db")
    sock = f"healthtop-bench-viewers-{os.getpid()}"
    with TestServer(lifetime=2 * (a.warmup + a.seconds) + 120) as srv:
        cfg = {"concurrency": 64, "defaults": {"interval_s": a.interval},
               "targets": [{"name": f"svc-{i:04d}", "project": f"team-{i % 20:02d}", "url": srv.url(),
                            "path": "/ok?tag=fleet"} for i in range(a.targets)]}
        path = os.path.join(d, "fleet.json")
        with open(path, "w") as f:
            json.dump(cfg, f)
        poller = subprocess.Popen([BINARY, "daemon", "-c", path, "--db", db], stderr=subprocess.DEVNULL)
        try:
            time.sleep(a.warmup)
            s0, p0, t0 = seen(srv), cpu_seconds(poller.pid), time.monotonic()
            time.sleep(a.seconds)
            alone, alone_cpu, alone_s = seen(srv) - s0, cpu_seconds(poller.pid) - p0, time.monotonic() - t0
            cmd = f"exec env LANG=C.UTF-8 {shlex.quote(BINARY)} -c {shlex.quote(path)} --db {shlex.quote(db)}"
            for v in range(a.viewers):
                subprocess.run(["tmux", "-L", sock, "-u", "new-session", "-d", "-s", f"v{v}", "-x", "160", "-y", "50",
                                cmd], check=True)
            time.sleep(a.warmup)
            pids = [healthtop_pid(sock, f"v{v}") for v in range(a.viewers)]
            s1, c1, p1, t1 = seen(srv), [cpu_seconds(p) for p in pids], cpu_seconds(poller.pid), time.monotonic()
            time.sleep(a.seconds)
            shared = seen(srv) - s1
            span = time.monotonic() - t1
            viewer_pct = [100 * (cpu_seconds(p) - c) / span for p, c in zip(pids, c1)]
            poller_pct = 100 * (cpu_seconds(poller.pid) - p1) / span
            header = subprocess.run(["tmux", "-L", sock, "capture-pane", "-p", "-t", "v0"],
                                    capture_output=True, text=True).stdout.splitlines()[:1]
        finally:
            subprocess.run(["tmux", "-L", sock, "kill-server"], capture_output=True)
            poller.terminate()
            poller.wait(30)
    print(f"{a.targets} targets every {a.interval} s, windows of {a.seconds:.0f} s")
    print(f"requests to the targets, poller alone:        {alone} ({alone / alone_s:.1f}/s), poller CPU {100 * alone_cpu / alone_s:.2f} %")
    print(f"requests to the targets, with {a.viewers} viewers:     {shared} ({shared / span:.1f}/s), poller CPU {poller_pct:.2f} %")
    print(f"viewer CPU per process: max {max(viewer_pct):.2f} %, mean {sum(viewer_pct) / len(viewer_pct):.2f} % of a core (goal < 1 %)")
    print(f"first viewer's header: {header[0].strip() if header else '?'}")


if __name__ == "__main__":
    main()
