#!/usr/bin/env python3
"""Time from starting the dashboard to its first frame on screen, on a large history database,
side by side with the same fleet on an empty database; then the time each history window takes
to appear after pressing t.

    python3 bench/first_frame.py DB [--runs 5]     (DB from bench/gen_history.py)
"""
import argparse
import fcntl
import json
import os
import pty
import re
import select
import shutil
import sqlite3
import statistics
import struct
import sys
import tempfile
import termios
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
from htlib import BINARY, TestServer  # noqa: E402

ANSI = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>78]")


class Dashboard:
    def __init__(self, cfg, db, cols=160, rows=50):
        size = struct.pack("HHHH", rows, cols, 0, 0)
        self.t0 = time.monotonic()
        self.pid, self.fd = pty.fork()
        if self.pid == 0:   # the size is set before exec: curses reads it once at start
            fcntl.ioctl(0, termios.TIOCSWINSZ, size)
            os.environ.update(TERM="xterm-256color", LANG="C.UTF-8", LC_ALL="C.UTF-8")
            os.execv(BINARY, [BINARY, "-c", cfg, "--db", db])
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, size)
        self.seen = b""
        self.last_byte = None

    def read(self, timeout):
        """One read of what the dashboard sent, waiting up to timeout s; its size (0: nothing)."""
        if not select.select([self.fd], [], [], timeout)[0]:
            return 0
        data = os.read(self.fd, 1 << 16)
        self.last_byte = time.monotonic()
        self.seen += ANSI.sub(b"", data)
        return len(data)

    def wait_for(self, text, timeout=30):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.read(0.05) and text in self.seen:
                return self.last_byte
        raise TimeoutError(text)

    def key(self, k):
        self.seen = b""
        os.write(self.fd, k)
        return time.monotonic()

    def close(self):
        """q, then keep reading: a terminal nobody reads fills up and blocks the dashboard."""
        os.write(self.fd, b"q")
        end = time.monotonic() + 30
        while time.monotonic() < end:
            pid, _ = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                break
            if select.select([self.fd], [], [], 0.05)[0]:
                try:
                    os.read(self.fd, 1 << 16)
                except OSError:
                    pass
        else:
            os.kill(self.pid, 9)
            os.waitpid(self.pid, 0)
        os.close(self.fd)


def first_frame_ms(cfg, db):
    d = Dashboard(cfg, db)
    t = d.wait_for(b"last result")
    d.close()
    return (t - d.t0) * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("db")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    con = sqlite3.connect(args.db)
    names = [r[0] for r in con.execute("select name from target order by id")]
    rows = con.execute("select count(*) from result").fetchone()[0]
    con.close()
    d = tempfile.mkdtemp(prefix="healthtop-ff-")
    big = os.path.join(d, "big.db")
    shutil.copy(args.db, big)   # the dashboard writes; keep the generated file as it was
    empty = os.path.join(d, "empty.db")
    with TestServer(lifetime=600) as srv:
        cfg = os.path.join(d, "fleet.json")
        with open(cfg, "w") as f:
            json.dump({"retention": {"raw_days": 60},
                       "targets": [{"name": n, "url": srv.url(), "path": "/ok"} for n in names]}, f)
        ref, got = [], []
        for _ in range(args.runs):   # interleaved, so both see the same machine
            ref.append(first_frame_ms(cfg, empty))
            got.append(first_frame_ms(cfg, big))
        dash = Dashboard(cfg, big)
        dash.wait_for(b"last result")
        windows = {}
        for label in (b"24h", b"7d", b"30d", b"1h"):
            t = dash.key(b"t")
            windows[label.decode()] = (dash.wait_for(label) - t) * 1000   # curses sends only what changed
        dash.close()
    med, med_ref = statistics.median(got), statistics.median(ref)
    print(f"first frame, {len(names)} targets, {rows} raw rows ({os.path.getsize(args.db) / 2**20:.0f} MiB), "
          f"median of {args.runs}: {med:.0f} ms (runs {', '.join(f'{x:.0f}' for x in got)})")
    print(f"  reference, same fleet, empty database: {med_ref:.0f} ms; ratio {med / med_ref:.2f}")
    print("  window switch (t) to screen: " + ", ".join(f"{k} {v:.0f} ms" for k, v in windows.items()))
    print(f"  goal: first frame < 300 ms: {'met' if med < 300 else 'NOT met'}")


if __name__ == "__main__":
    main()
