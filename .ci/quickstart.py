#!/usr/bin/env python3
"""Runs a README command that ends in the dashboard, on a real pseudo-terminal as a user would:
waits until the demo fleet shows every class, presses q, and fails unless the command exits 0."""
import fcntl
import os
import pty
import re
import select
import struct
import sys
import termios
import time

ANSI = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>78]|\x1b\][^\x07]*\x07")


def main():
    cmd, timeout = sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 3000
    pid, fd = pty.fork()
    if pid == 0:
        os.environ.update(TERM="xterm-256color", LANG="C.UTF-8", LC_ALL="C.UTF-8")
        os.execvp("bash", ["bash", "-c", cmd])
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    seen, tail, dashboard_at, sent = b"", b"", None, False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                data = os.read(fd, 65536)
            except OSError:
                break   # the child closed the terminal
            if not data:
                break
            if dashboard_at is None:
                sys.stdout.buffer.write(data.replace(b"\r\n", b"\n"))
                sys.stdout.flush()
            seen = (seen + ANSI.sub(b"", data))[-200000:]
        if dashboard_at is None and b"last result" in seen:
            dashboard_at = time.monotonic()
            print("\n[quickstart] the dashboard is on screen", flush=True)
        if dashboard_at and not sent and time.monotonic() - dashboard_at > 4:
            classes = [w for w in (b"healthy", b"degraded", b"down") if w in seen[-60000:]]
            print(f"[quickstart] classes on screen: {[c.decode() for c in classes]}; pressing q", flush=True)
            if len(classes) != 3:
                os.kill(pid, 9)
                sys.exit("the demo dashboard did not show every class")
            os.write(fd, b"q")
            sent = True
    else:
        os.kill(pid, 9)
        sys.exit(f"timed out after {timeout:.0f} s")
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    print(f"[quickstart] exit status {code}")
    sys.exit(0 if code == 0 and sent else 1)


if __name__ == "__main__":
    main()
