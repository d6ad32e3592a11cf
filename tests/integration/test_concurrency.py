#!/usr/bin/env python3
"""One sweep runs targets at once; --concurrency caps transfers in flight; time spent waiting in
the admission queue never counts against a target's timeout."""
import json
import os
import resource
import subprocess

from htlib import BINARY, TIMED, WRAPPER, TestServer, check, finish, run, tmpdir, write_config


def main():
    d = tmpdir()
    with TestServer() as srv:
        # 40 hanging targets, 2.5 s timeout: one sweep, not 40 in a row (that would be 100 s).
        cfg = {"targets": [{"name": f"hang-{i:02d}", "url": srv.url(), "path": "/hang?s=10",
                            "timeout_ms": 2500} for i in range(40)]}
        rc, out, err, elapsed = run(["check", "-c", write_config(d, cfg, "hang.json"),
                                     "--db", os.path.join(d, "a.db"), "--format", "json"])
        res = json.loads(out)["results"]
        check(len(res) == 40 and all(r["status"] == "degraded" and r["reason"] == "timeout after 2500 ms"
                                     for r in res), "40 hanging targets: each degraded, timeout after 2500 ms")
        check(rc == 1, f"exit 1 when the worst is degraded (got {rc})")
        check(not TIMED or elapsed < 6.0, f"40 targets with a 2.5 s timeout finish in {elapsed:.2f} s (< 6 s)")
        print(f"measured: 40 x 2.5 s timeouts in {elapsed:.2f} s")

        # 6 targets of 0.7 s with room for 2 at a time: three waves, and nobody times out
        # although the last wave waits 1.4 s > timeout_ms in the queue.
        cfg = {"defaults": {"timeout_ms": 1000, "degraded_ms": 5000},
               "targets": [{"name": f"slow-{i}", "url": srv.url(), "path": "/slow?ms=700"} for i in range(6)]}
        rc, out, err, elapsed = run(["check", "-c", write_config(d, cfg, "slow.json"), "--concurrency", "2",
                                     "--db", os.path.join(d, "b.db"), "--format", "json"])
        res = json.loads(out)["results"]
        check(all(r["status"] == "healthy" for r in res),
              "queue time is not counted against timeout_ms: " + ", ".join(f"{r['name']}={r['status']}" for r in res))
        check(elapsed >= 2.0, f"--concurrency 2 runs 6 x 0.7 s in three waves ({elapsed:.2f} s >= 2.0 s)")
        check(rc == 0, f"exit 0 when all are healthy (got {rc})")
    # More transfers than the process may open files: capped with a warning, and no target is
    # reported down because of a socket we could not open.
    cfg = {"concurrency": 2000, "defaults": {"timeout_ms": 3000},
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
