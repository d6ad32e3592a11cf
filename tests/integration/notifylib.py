"""Loopback pieces for the notification tests: a target whose status the test sets, a webhook
receiver that records every POST (and can be told to fail), an exec hook that records its
environment, and a daemon to start and stop."""
import http.server
import json
import os
import signal
import socketserver
import sqlite3
import subprocess
import threading
import time

from htlib import BINARY, WRAPPER


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class Target:
    """GET /health answers with self.code, or with the next of self.script while it lasts."""

    def __init__(self):
        self.code = 200
        self.script = []
        self.served = 0
        self.lock = threading.Lock()
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                body = b'{"status":"ok"}'
                with outer.lock:
                    code = outer.script.pop(0) if outer.script else outer.code
                    outer.served += 1
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.srv = _Server(("127.0.0.1", 0), H)
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.srv.server_address[1]}"

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()


class Receiver:
    """Records each POST; while self.failing it answers 503 (and counts the attempt)."""

    def __init__(self):
        self.got = []
        self.refused = 0
        self.failing = False
        self.lock = threading.Lock()
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                with outer.lock:
                    if outer.failing:
                        outer.refused += 1
                        code = 503
                    else:
                        outer.got.append((self.path, dict(self.headers), body))
                        code = 200
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.srv = _Server(("127.0.0.1", 0), H)
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.srv.server_address[1]}"

    def bodies(self):
        with self.lock:
            return [json.loads(b) for _, _, b in self.got]

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()


def hook_script(d):
    """An exec destination that appends its HEALTHTOP_* environment, one JSON line per run."""
    path = os.path.join(d, "hook.py")
    out = os.path.join(d, "hook.jsonl")
    with open(path, "w") as f:
        f.write("#!/usr/bin/env python3\nimport json, os\n"
                f"with open({out!r}, 'a') as f:\n"
                "    f.write(json.dumps({k: v for k, v in os.environ.items() if k.startswith('HEALTHTOP_')}) + '\\n')\n")
    os.chmod(path, 0o755)
    return path, out


def hook_runs(out):
    if not os.path.exists(out):
        return []
    with open(out) as f:
        return [json.loads(line) for line in f if line.strip()]


def wait_for(cond, limit=90.0):
    """Polls until cond() holds; the limit only ends a test that has already failed."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.1)
    return cond()


def results(db, name):
    try:
        con = sqlite3.connect(db)
        try:
            return con.execute("select count(*) from result r join target t on t.id = r.target_id"
                               " where t.name = ?", (name,)).fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:   # not created yet
        return 0


def log_text(log):
    with open(log) as f:
        return f.read()


class Daemon:
    def __init__(self, cfg, db, log):
        self.log = log
        with open(log, "a") as err:
            self.p = subprocess.Popen(WRAPPER + [BINARY, "daemon", "-c", cfg, "--db", db], stderr=err)

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        return self.p.wait(60)
