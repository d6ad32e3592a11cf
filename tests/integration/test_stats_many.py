#!/usr/bin/env python3
"""healthtop stats over many targets whose stored ids follow neither the config nor the name
order: each row shows that target's own checks, classes and uptime, as the database holds
them (stats finds a target's totals by its id, no longer by walking every row)."""
import json
import os
import sqlite3

from htlib import TestServer, check, finish, run, tmpdir, write_config

N = 300


def fleet(d, srv, names, name):
    # every third target down (nothing listens on port 9), the rest answer
    targets = [{"name": n, "project": f"p{i % 7}", "url": srv.url() if i % 3 else "http://127.0.0.1:9",
                "path": "/ok", "timeout_ms": 2000} for i, n in names]
    return write_config(d, {"concurrency": 64, "targets": targets}, name)


def main():
    d = tmpdir()
    db = os.path.join(d, "many.db")
    names = [(i, f"t{(i * 7919) % N:03d}") for i in range(N)]   # names out of config order
    with TestServer() as srv:
        for cfg in (fleet(d, srv, names, "all.json"), fleet(d, srv, names[::2], "half.json"),
                    fleet(d, srv, names[::5], "fifth.json")):
            rc, _, err, _ = run(["check", "-c", cfg, "--db", db])
            check(rc in (0, 1, 2), f"check {os.path.basename(cfg)} wrote its results (exit {rc}, {err.strip()[:200]!r})")
    con = sqlite3.connect(db)
    want = {name: (n, h, down, up) for name, n, h, down, up in con.execute(
        "SELECT t.name, count(*), sum(r.status = 0), sum(r.status = 2), sum(r.up)"
        " FROM result r JOIN target t ON t.id = r.target_id GROUP BY t.id")}
    con.close()
    check(len(want) == N and len({v[0] for v in want.values()}) == 3,
          f"the database holds {N} targets with 1, 2 or 3 checks each ({len(want)})")
    rc, out, err, _ = run(["stats", "--db", db, "--format", "json"])
    rows = json.loads(out)["targets"] if rc == 0 else []
    got = {r["name"]: (r["checks"], r["healthy"], r["down"], round(r["uptime_pct"] * r["checks"] / 100))
           for r in rows}
    wrong = [n for n in want if got.get(n) != want[n]]
    check(rc == 0 and len(rows) == N and not wrong,
          f"stats: every target's checks, healthy, down and uptime are its own ({len(wrong)} wrong: "
          f"{[(n, got.get(n), want[n]) for n in wrong[:3]]})")
    finish()


if __name__ == "__main__":
    main()
