#!/usr/bin/env python3
"""Time of a /metrics scrape at 10 000 targets (goal < 50 ms): a daemon checks every target once
(a closed loopback port: refused at once) and serves /metrics; the scrape is timed 20 times once
every target has a result, and the page's size printed.

    python3 bench/metrics_scrape.py [--targets 10000] [--scrapes 20]
"""
import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
from htlib import BINARY  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--targets", type=int, default=10000)
    ap.add_argument("--scrapes", type=int, default=20)
    a = ap.parse_args()
    d = tempfile.mkdtemp(prefix="healthtop-bench-metrics-")
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    cfg = {"concurrency": 256, "targets": [{"name": f"svc-{i:05d}", "project": f"team-{i % 50:02d}",
                                             "url": f"http://127.0.0.1:{port}", "interval_s": 3600}
                                            for i in range(a.targets)]}
    path = os.path.join(d, "fleet.json")
    with open(path, "w") as f:
        json.dump(cfg, f)
    log = os.path.join(d, "daemon.log")
    with open(log, "w") as err:
        p = subprocess.Popen([BINARY, "daemon", "-c", path, "--db", os.path.join(d, "h.db"),
                              "--metrics-listen", "127.0.0.1:0"], stderr=err)
    try:
        mport = None
        while mport is None:
            time.sleep(0.2)
            m = re.search(r"\(port (\d+)\)", open(log).read())
            mport = m and int(m.group(1))
        url = f"http://127.0.0.1:{mport}/metrics"
        while True:
            body = urllib.request.urlopen(url, timeout=60).read()
            if body.count(b"\nhealthtop_up{") >= a.targets:
                break
            time.sleep(0.5)
        times = []
        for _ in range(a.scrapes):
            t0 = time.perf_counter()
            body = urllib.request.urlopen(url, timeout=60).read()
            times.append(1000 * (time.perf_counter() - t0))
    finally:
        p.terminate()
        p.wait(60)
    print(f"/metrics at {a.targets} targets: {len(body) / 1e6:.1f} MB, scrape median {statistics.median(times):.1f} ms,"
          f" max {max(times):.1f} ms over {a.scrapes} (goal < 50 ms)")


if __name__ == "__main__":
    main()
