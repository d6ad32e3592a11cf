"""Shared pieces of the benchmarks: a real nginx on loopback as the fleet's server, fleet
configs of any size, /proc readings, and the one results table that `make bench` prints.

Every figure is recorded with record(): what was measured, its goal, the reference measured in
the same run, their ratio, whether the goal holds, and the command that reproduces it. The rows go
to $BENCH_TABLE (a TSV file; `make bench` sets it) and bench/report.py prints them as one table.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TICK = os.sysconf("SC_CLK_TCK")
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024

FIELDS = ("figure", "value", "goal", "reference", "ratio", "holds", "command")


def record(figure, value, goal, reference="", ratio="", holds=None, command=""):
    """Appends one row to the results table and echoes it. holds: True, False or None (n/a)."""
    verdict = "n/a" if holds is None else ("yes" if holds else "NO")
    row = [str(x).replace("\t", " ").replace("\n", " ")
           for x in (figure, value, goal, reference, ratio, verdict, command)]
    print("BENCH " + " | ".join(row), flush=True)
    path = os.environ.get("BENCH_TABLE")
    if path:
        with open(path, "a") as f:
            f.write("\t".join(row) + "\n")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))


def peak_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmHWM:"))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def nginx_binary():
    for p in (shutil.which("nginx"), "/usr/sbin/nginx"):
        if p and os.access(p, os.X_OK):
            return p
    return None


NGINX_CONF = """worker_processes 1;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log;
worker_rlimit_nofile 200000;
events {{ worker_connections 100000; }}
http {{
  access_log off;
  client_body_temp_path {d}; proxy_temp_path {d}; fastcgi_temp_path {d};
  uwsgi_temp_path {d}; scgi_temp_path {d};
  keepalive_requests 1000000;
  keepalive_timeout 120s;
  server {{
    listen 127.0.0.1:{port} backlog=65535 reuseport;
    location /health {{ default_type application/json; return 200 '{{"status":"ok"}}'; }}
    location / {{ default_type text/plain; return 200 'ok'; }}
  }}
}}
"""


class Nginx:
    """A real nginx (Debian's nginx-light) on 127.0.0.1 and an ephemeral port, in a temp dir."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="healthtop-nginx-")
        self.port = free_port()
        self.proc = None

    def __enter__(self):
        binary = nginx_binary()
        if not binary:
            raise SystemExit("bench: nginx is missing (make bench installs nginx-light)")
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF.format(d=self.dir, port=self.port))
        self.proc = subprocess.Popen([binary, "-c", conf, "-p", self.dir], stderr=subprocess.DEVNULL)
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise SystemExit("bench: nginx did not start")

    def __exit__(self, *exc):
        if self.proc:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, path="/health"):
        return f"http://127.0.0.1:{self.port}{path}"


def write_fleet(path, n, url, interval_s=60, concurrency=64, extra_defaults=None):
    """A config of n targets on one server; each gets its own query string so that no two
    targets share a URL (as a real fleet would not)."""
    defaults = {"interval_s": interval_s}
    defaults.update(extra_defaults or {})
    sep = "&" if "?" in url else "?"
    cfg = {"concurrency": concurrency, "defaults": defaults,
           "targets": [{"name": f"svc-{i:06d}", "project": f"team-{i % 50:02d}", "url": f"{url}{sep}i={i}"}
                       for i in range(n)]}
    with open(path, "w") as f:
        json.dump(cfg, f)
    return path
