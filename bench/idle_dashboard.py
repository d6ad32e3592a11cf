#!/usr/bin/env python3
"""Cost of an idle dashboard: N targets (default 1000) at a 60 s interval on a loopback server;
the dashboard runs in a 200x50 tmux pane with nobody touching it. Measures, over the same window
and side by side, the CPU share of the dashboard and of `healthtop daemon` (same fleet, same
checks, no screen) and the bytes the dashboard sends to its terminal (what an SSH link would
carry), as util-linux `script -q -f` records them between the dashboard and tmux.

    python3 bench/idle_dashboard.py [--targets 1000] [--seconds 60] [--warmup 95] [--quick]

The warm-up lasts past the first sweep and every target's first timer (at 0.5 to 1.5 intervals):
from then on the checks are spread over the minute, as they stay (steady state).
"""
import argparse
import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
from htlib import BINARY, TestServer  # noqa: E402
sys.path.insert(0, HERE)
from benchlib import cpu_seconds, record, rss_kib  # noqa: E402

COLS, ROWS = 200, 50


def child_pid(pid, name):
    """The dashboard under `script` (the pane runs script, script runs healthtop)."""
    for _ in range(100):
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                for kid in f.read().split():
                    with open(f"/proc/{kid}/comm") as c:
                        if c.read().strip() == name:
                            return int(kid)
        time.sleep(0.1)
    raise SystemExit(f"bench: no {name} under pid {pid}")


def stop(pid):
    os.kill(pid, signal.SIGTERM)
    for _ in range(100):
        if not os.path.exists(f"/proc/{pid}"):
            return
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--targets", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--warmup", type=float, default=95)
    ap.add_argument("--quick", action="store_true", help="100 targets, 10 s")
    args = ap.parse_args()
    if args.quick:
        args.targets, args.seconds, args.warmup = 100, 10, 5
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
        ui = f"{shlex.quote(BINARY)} -c {shlex.quote(path)} --db {shlex.quote(os.path.join(d, 'ui.db'))}"
        cmd = f"env LANG=C.UTF-8 script -q -f -c {shlex.quote(ui)} {shlex.quote(out)}"
        subprocess.run(["tmux", "-L", sock, "-u", "new-session", "-d", "-s", "b", "-x", str(COLS), "-y", str(ROWS), cmd],
                       check=True)
        daemon = subprocess.Popen([BINARY, "daemon", "-c", path, "--db", os.path.join(d, "daemon.db")],
                                  stderr=subprocess.DEVNULL)
        time.sleep(args.warmup)
        pane = int(subprocess.run(["tmux", "-L", sock, "list-panes", "-t", "b", "-F", "#{pane_pid}"],
                                  capture_output=True, text=True, check=True).stdout.split()[0])
        ui_pid = child_pid(pane, os.path.basename(BINARY)[:15])
        ui0, dm0, t0, b0 = cpu_seconds(ui_pid), cpu_seconds(daemon.pid), time.monotonic(), os.path.getsize(out)
        time.sleep(args.seconds)
        ui1, dm1, t1, b1 = cpu_seconds(ui_pid), cpu_seconds(daemon.pid), time.monotonic(), os.path.getsize(out)
        ui_rss, dm_rss = rss_kib(ui_pid), rss_kib(daemon.pid)
        stop(ui_pid)   # while its terminal is there: script and the dashboard outlive kill-server
        subprocess.run(["tmux", "-L", sock, "kill-server"], stderr=subprocess.DEVNULL)   # gone with its pane
        daemon.terminate()
        daemon.wait(10)
    wall = t1 - t0
    tty = b1 - b0
    ui_pct, dm_pct = 100 * (ui1 - ui0) / wall, 100 * (dm1 - dm0) / wall
    per_min = tty * 60 / wall / 1000
    print(f"idle dashboard, {args.targets} targets at 60 s, {COLS}x{ROWS}, measured over {wall:.0f} s after "
          f"{args.warmup:.0f} s warm-up")
    print(f"  dashboard CPU  {ui_pct:6.2f} % of a core   RSS {ui_rss / 1024:6.1f} MiB")
    print(f"  daemon CPU     {dm_pct:6.2f} % of a core   RSS {dm_rss / 1024:6.1f} MiB   (reference: same checks, no screen)")
    print(f"  bytes to the terminal {tty} ({tty / wall:.0f} B/s, {per_min:.1f} KB/min)")
    command = "python3 bench/idle_dashboard.py" + (" --quick" if args.quick else
                                                   f" --targets {args.targets} --seconds {args.seconds:.0f}")
    what = f"idle dashboard, {args.targets} targets, {COLS}x{ROWS}"
    ratio = f"{ui_pct / dm_pct:.2f}" if dm_pct > 0 else "n/a"
    record(f"{what}: CPU", f"{ui_pct:.2f} %", "< 2 %", f"{dm_pct:.2f} % (daemon, same fleet)", ratio,
           ui_pct < 2, command)
    record(f"{what}: bytes to the terminal", f"{per_min:.1f} KB/min", "<= 20 KB/min", "", "", per_min <= 20, command)


if __name__ == "__main__":
    main()
