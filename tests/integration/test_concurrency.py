#!/usr/bin/env python3
"""One sweep runs targets at once; --concurrency caps transfers in flight; time spent waiting in
the admission queue never counts against a target's timeout."""
import json
import os
import resource
import subprocess
import urllib.request

from htlib import BINARY, WRAPPER, TestServer, check, finish, run, tmpdir, write_config


def server_stats(srv, reset=False):
    """What the test server counted: {route[?tag]: {seen, open, peak, open_at_first_drop}}."""
    with urllib.request.urlopen(srv.url() + "/stats" + ("?reset=1" if reset else ""), timeout=30) as r:
        return json.loads(r.read())


def main():
    d = tmpdir()
    with TestServer() as srv:
        # 40 hanging targets, 2.5 s timeout: one sweep, not 40 in a row. Proved by counting, not
        # by a clock: the server saw all 40 open before the first was given up.
        cfg = {"targets": [{"name": f"hang-{i:02d}", "url": srv.url(), "path": "/hang?s=30",
                            "timeout_ms": 2500} for i in range(40)]}
        rc, out, err, _ = run(["check", "-c", write_config(d, cfg, "hang.json"),
                               "--db", os.path.join(d, "a.db"), "--format", "json"])
        res = json.loads(out)["results"]
        check(len(res) == 40 and all(r["status"] == "degraded" and r["reason"] == "timeout after 2500 ms"
                                     for r in res), "40 hanging targets: each degraded, timeout after 2500 ms")
        check(rc == 1, f"exit 1 when the worst is degraded (got {rc})")
        hang = server_stats(srv, reset=True).get("hang", {})
        check(hang.get("open_at_first_drop") == 40,
              f"all 40 hanging checks were open when the first timed out ({hang})")

        # 10 targets of 1.5 s with room for 2 at a time: never more than 2 open at once, and
        # nobody times out although the last wave waits 4 x 1.5 s = 6 s > timeout_ms in the
        # queue (the server's sleeps make that wait a lower bound, whatever the machine's speed),
        # while each check's own 1.5 s leaves 3.5 s of timeout_ms to spare on a loaded machine.
        cfg = {"defaults": {"timeout_ms": 5000, "degraded_ms": 60000},
               "targets": [{"name": f"slow-{i}", "url": srv.url(), "path": "/slow?ms=1500"} for i in range(10)]}
        rc, out, err, _ = run(["check", "-c", write_config(d, cfg, "slow.json"), "--concurrency", "2",
                               "--db", os.path.join(d, "b.db"), "--format", "json"])
        res = json.loads(out)["results"]
        check(all(r["status"] == "healthy" for r in res),
              "queue time is not counted against timeout_ms: " + ", ".join(f"{r['name']}={r['status']}" for r in res))
        slow = server_stats(srv, reset=True).get("slow", {})
        check(slow.get("seen") == 10 and slow.get("peak") == 2,
              f"--concurrency 2: the server saw 10 checks, at most 2 open at once ({slow})")
        check(rc == 0, f"exit 0 when all are healthy (got {rc})")
    # More transfers than the process may open files: capped with a warning, and no target is
    # reported down because of a socket we could not open.
    cfg = {"concurrency": 2000, "defaults": {"timeout_ms": 60000, "degraded_ms": 60000},
           "targets": [{"name": f"r{i}", "url": "http://127.0.0.1:9"} for i in range(600)]}
    path = write_config(d, cfg, "many.json")

    def low_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))

    p = subprocess.run(WRAPPER + [BINARY, "check", "-c", path, "--db", os.path.join(d, "c.db"), "--format", "json"],
                       capture_output=True, text=True, preexec_fn=low_limit, timeout=120)
    reasons = {r["reason"] for r in json.loads(p.stdout)["results"]}
    check("more than the open-file limit allows; using 192" in p.stderr, f"concurrency capped with a warning ({p.stderr.strip()!r})")
    check(reasons == {"connection refused"}, f"every target judged on its own answer, none on our limits ({reasons})")
    finish()


if __name__ == "__main__":
    main()
