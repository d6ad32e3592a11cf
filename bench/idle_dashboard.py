#!/usr/bin/env python3
"""Cost of an idle dashboard: N targets (default 1000) at a 60 s interval on a loopback server;
the dashboard runs in tmux with nobody touching it. Measures, over the same window and side by
side, the CPU share of the dashboard and of `healthtop daemon` (same fleet, same checks, no
screen) and the bytes the dashboard sends to its terminal (what an SSH link would carry).

    python3 bench/idle_dashboard.py [--targets 1000] [--seconds 60] [--warmup 20]
"""
import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
from htlib import BINARY, TestServer  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--targets", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--warmup", type=float, default=20)
    args = ap.parse_args()
    d = tempfile.mkdtemp(prefix="healthtop-bench-")
    sock = f"healthtop-bench-{os.getpid()}"
    with TestServer(lifetime=args.warmup + args.seconds + 120) as srv:
        cfg = {"concurrency": 64, "defaults": {"interval_s": 60},
               "targets": [{"name": f"svc-{i:04d}", "project": f"team-{i % 20:02d}", "url": srv.url(), "path": "/ok"}
                           for i in range(args.targets)]}
        path = os.path.join(d, "fleet.json")
        with open(path, "w") as f:
            json.dump(cfg, f)
        out = os.path.join(d, "tty.bytes")
        cmd = f"env LANG=C.UTF-8 {shlex.quote(BINARY)} -c {shlex.quote(path)} --db {shlex.quote(os.path.join(d, 'ui.db'))}"
        subprocess.run(["tmux", "-L", sock, "-u", "new-session", "-d", "-s", "b", "-x", "160", "-y", "50", cmd], check=True)
        daemon = subprocess.Popen([BINARY, "daemon", "-c", path, "--db", os.path.join(d, "daemon.db")],
                                  stderr=subprocess.DEVNULL)
        time.sleep(args.warmup)
        ui_pid = int(subprocess.run(["tmux", "-L", sock, "list-panes", "-t", "b", "-F", "#{pane_pid}"],
                                    capture_output=True, text=True, check=True).stdout.split()[0])
        subprocess.run(["tmux", "-L", sock, "pipe-pane", "-t", "b", "-o", f"cat > {shlex.quote(out)}"], check=True)
        ui0, dm0, t0 = cpu_seconds(ui_pid), cpu_seconds(daemon.pid), time.monotonic()
        time.sleep(args.seconds)
        ui1, dm1, t1 = cpu_seconds(ui_pid), cpu_seconds(daemon.pid), time.monotonic()
        ui_rss, dm_rss = rss_kib(ui_pid), rss_kib(daemon.pid)
        subprocess.run(["tmux", "-L", sock, "pipe-pane", "-t", "b"], check=True)
        subprocess.run(["tmux", "-L", sock, "kill-server"])
        daemon.terminate()
        daemon.wait(10)
    wall = t1 - t0
    tty = os.path.getsize(out) if os.path.exists(out) else 0
    ui_pct, dm_pct = 100 * (ui1 - ui0) / wall, 100 * (dm1 - dm0) / wall
    print(f"idle dashboard, {args.targets} targets at 60 s, measured over {wall:.0f} s after {args.warmup:.0f} s warm-up")
    print(f"  dashboard CPU  {ui_pct:6.2f} % of a core   RSS {ui_rss / 1024:6.1f} MiB")
    print(f"  daemon CPU     {dm_pct:6.2f} % of a core   RSS {dm_rss / 1024:6.1f} MiB   (reference: same checks, no screen)")
    print(f"  ratio dashboard/daemon CPU {ui_pct / dm_pct:.2f}" if dm_pct > 0 else "  ratio: n/a (too short a window to see CPU ticks)")
    print(f"  bytes to the terminal {tty} ({tty / wall:.0f} B/s)")
    print(f"  goal: dashboard < 2 % of a core: {'met' if ui_pct < 2 else 'NOT met'}")


if __name__ == "__main__":
    main()
