#!/usr/bin/env python3
"""Several pollers, one fleet (issue 13): three `healthtop daemon`s on one PostgreSQL database
share 300 loopback targets by leased shards. Proved by counting, never by timing:

- once all three hold their shards, every target is checked, each by exactly one poller (the
  poller stored with each row), and never more often than once per interval (rows counted in a
  window measured on the database's clock: a slow machine makes fewer checks, never more);
- kill -9 one poller: every one of its targets is checked again by the others, the number of
  intervals missed per target is at most two lease periods' worth, and once the two survivors
  share the shards each target is again checked by one poller only;
- `export --format jsonl` says which poller checked each result (CSV keeps its columns), and a
  dashboard on the database is a viewer of the pollers whose detail view names the poller;
- the survivors stop cleanly (SIGTERM) and give their shards back at once;
- with `--location`, a poller in each of two locations checks every target (each location once
  per interval), and the results and the JSONL export say where from.

The lease is shortened with the test knob HEALTHTOP_SHARD_LEASE_MS. Skips (77) where no
PostgreSQL server can run."""
import json
import os
import shutil
import time
import signal
import subprocess
import sys
import urllib.request

from htlib import BINARY, NO_TIMING, WRAPPER, TestServer, check, finish, run, tmpdir, wait_for, write_config
from pgserver import PgServer, PgUnavailable, skip

CEILING = 120
N = 300
INTERVAL_S = 2
LEASE_MS = 4000
SHARDS = 64


def db_now(pg):
    return int(pg.psql("select (extract(epoch from clock_timestamp()) * 1000)::bigint").strip())


def holders(pg):
    """{poller: shards it holds with a lease not yet expired}."""
    out = {}
    for line in pg.psql("select holder, count(*) from shard_lease where holder is not null and expires >"
                        " (extract(epoch from clock_timestamp()) * 1000)::bigint group by holder").split():
        h, n = line.rsplit("|", 1)
        out[h] = int(n)
    return out


def settled(pg, ids):
    """Every shard held, by exactly the pollers in ids, spread evenly: none above its fair share
    ceil(64 / pollers), so the last to come holds what is left (22, 22, 20 for three)."""
    h = holders(pg)
    fair = -(-SHARDS // len(ids))
    return set(h) == set(ids) and sum(h.values()) == SHARDS and all(n <= fair for n in h.values())


def per_target(pg, since, until=None):
    """{target: {poller: rows}} for results checked in [since, until)."""
    cond = f"r.checked_at >= {since}" + (f" and r.checked_at < {until}" if until else "")
    out = {}
    for line in pg.psql("select t.name, coalesce(r.poller, '-'), count(*) from result r join target t"
                        f" on t.id = r.target_id where {cond} and t.name like 's%' group by 1, 2").split():
        name, poller, n = line.split("|")
        out.setdefault(name, {})[poller] = int(n)
    return out


def all_checked(pg, since, times):
    seen = per_target(pg, since)
    return len(seen) == N and all(sum(p.values()) >= times for p in seen.values())


def one_poller_each(pg, since, until, what):
    seen = per_target(pg, since, until)
    twice = {t: p for t, p in seen.items() if len(p) != 1}
    check(len(seen) == N and not twice,
          f"{what}: every target checked, each by one poller only ({len(seen)} targets, "
          f"{len(twice)} by more than one: {list(twice.items())[:3]})")
    # At most one check per interval started in a window of (until - since) ms, plus the one at
    # its start: a count, against the database's clock, that a slow machine only lowers.
    most = (until - since) // (INTERVAL_S * 1000) + 1
    over = {t: sum(p.values()) for t, p in seen.items() if sum(p.values()) > most}
    check(not over, f"{what}: no target checked more than once per interval (at most {most} in the window; "
          f"over: {list(over.items())[:3]})")
    return seen


def server_counts(srv):
    with urllib.request.urlopen(srv.url() + "/stats", timeout=30) as r:
        stats = json.loads(r.read())
    return {k[3:]: v.get("seen", 0) for k, v in stats.items() if k.startswith("ok?s")}


def start(cfg, pg, log):
    env = dict(os.environ, HEALTHTOP_SHARD_LEASE_MS=str(LEASE_MS))
    with open(log, "w") as err:
        return subprocess.Popen(WRAPPER + [BINARY, "daemon", "-c", cfg, "--db", pg.url()], stderr=err, env=env)


def poller_ids(pg, n):
    ids = []
    wait_for(lambda: len(ids.__init__() or ids.extend(pg.psql("select id from poller").split()) or ids) == n,
             CEILING)
    return ids


def gaps_bounded(pg, dead, targets, killed_at):
    """For each of the dead poller's targets: intervals missed between its last stored check by
    the dead poller and the first by a survivor."""
    worst = 0
    bound = -(-2 * LEASE_MS // (INTERVAL_S * 1000)) + 1   # two lease periods' worth, rounded up, + a batch lost
    for line in pg.psql("select t.name, max(r.checked_at) filter (where r.poller = '" + dead + "'),"
                        " min(r.checked_at) filter (where r.poller <> '" + dead + f"' and r.checked_at > {killed_at})"
                        " from result r join target t on t.id = r.target_id group by 1").split():
        name, last, first = line.split("|")
        if name not in targets or not last or not first:
            continue
        missed = max(0, (int(first) - int(last)) // (INTERVAL_S * 1000) - 1)
        worst = max(worst, missed)
    check(worst <= bound, f"intervals missed per target after kill -9: at most {worst} (bound {bound}:"
          f" two leases of {LEASE_MS} ms at interval {INTERVAL_S} s)")


def export_names_poller(pg, ids):
    rc, out, err, _ = run(["export", "--format", "jsonl", "--db", pg.url(), "--target", "s007"])
    pollers = {json.loads(line).get("poller") for line in out.splitlines()}
    check(rc == 0 and pollers and pollers <= set(ids),
          f"export --format jsonl names the poller of each result ({pollers}; {err.strip()})")
    rc, out, err, _ = run(["export", "--format", "csv", "--db", pg.url(), "--target", "s007"])
    head = (out.splitlines() or [""])[0]
    check(rc == 0 and head and "poller" not in head, f"the CSV columns are unchanged ({head}; {err.strip()})")


def forced_seen(srv):
    with urllib.request.urlopen(srv.url() + "/stats", timeout=30) as r:
        return json.loads(r.read()).get("ok?zz", {}).get("seen", 0)


def detail_names_poller(pg, cfg, ids, srv):
    """A dashboard on the database views the pollers; its detail view says which one checked."""
    if not shutil.which("tmux"):
        print("SKIP the detail view check: no tmux")
        return
    sock = f"healthtop-shard-{os.getpid()}"
    tmux = lambda *a: subprocess.run(["tmux", "-L", sock, *a], capture_output=True, text=True).stdout  # noqa: E731
    screen = lambda: tmux("capture-pane", "-p", "-t", "v")  # noqa: E731
    cmd = " ".join(WRAPPER + [BINARY, "-c", cfg, "--db", f"'{pg.url()}'"])
    try:
        tmux("new-session", "-d", "-s", "v", "-x", "160", "-y", "40",
             f"TERM=xterm-256color HEALTHTOP_SHARD_LEASE_MS={LEASE_MS} {cmd}")
        ok = wait_for(lambda: "viewer of 2 pollers" in screen(), CEILING)
        check(ok, "the dashboard is a viewer of the two pollers" + ("" if ok else "\n" + screen()))
        tmux("send-keys", "-t", "v", "/", "zz-forced", "Enter")
        wait_for(lambda: forced_seen(srv) >= 1 and "zz-forced" in screen(), CEILING)
        # r on a target checked once an hour: the poller holding its shard checks it now
        before = forced_seen(srv)
        time.sleep(0.3)
        tmux("send-keys", "-t", "v", "r")
        ok = wait_for(lambda: forced_seen(srv) > before, CEILING)
        check(ok, f"r in the dashboard makes the shard's poller check the target ({before} -> {forced_seen(srv)})")
        tmux("send-keys", "-t", "v", "Enter")
        ok = wait_for(lambda: any("Poller" in line and any(i in line for i in ids)
                                  for line in screen().splitlines()), CEILING)
        check(ok, "its detail view names the poller that checked the target" + ("" if ok else "\n" + screen()))
        tmux("send-keys", "-t", "v", "q")
    finally:
        tmux("kill-server")


def locations(pg, d, srv):
    names = [f"l{i:02d}" for i in range(20)]
    cfg = write_config(d, {"defaults": NO_TIMING, "targets": [
        {"name": n, "url": srv.url(), "path": f"/ok?tag={n}", "interval_s": INTERVAL_S} for n in names]}, "loc.json")
    rc, out, err, _ = run(["daemon", "-c", cfg, "--db", os.path.join(d, "x.db"), "--location", "eu"])
    check(rc == 3 and "PostgreSQL" in err, f"--location on SQLite is a usage error ({rc}: {err.strip()})")
    env = dict(os.environ, HEALTHTOP_SHARD_LEASE_MS=str(LEASE_MS))
    procs = []
    for loc in ("eu", "us"):
        with open(os.path.join(d, f"loc-{loc}.log"), "w") as err:
            procs.append(subprocess.Popen(WRAPPER + [BINARY, "daemon", "-c", cfg, "--db", pg.url(), "--location", loc],
                                          stderr=err, env=env))
    held = lambda: pg.psql("select location || '=' || count(*) from shard_lease where holder is not null and expires"  # noqa: E731
                           " > (extract(epoch from clock_timestamp()) * 1000)::bigint group by location"
                           " order by location").split()
    try:
        check(wait_for(lambda: held() == ["eu=64", "us=64"], CEILING), f"each location holds all 64 shards ({held()})")
        t0 = db_now(pg)

        def rows():
            out = {}
            for line in pg.psql("select t.name, r.location, count(distinct r.poller), count(*) from result r join"
                                f" target t on t.id = r.target_id where r.checked_at >= {t0} and t.name like 'l%'"
                                " group by 1, 2").split():
                name, loc, pollers, n = line.split("|")
                out[(name, loc)] = (int(pollers), int(n))
            return out
        check(wait_for(lambda: len(rows()) == 40 and all(n >= 3 for _, n in rows().values()), CEILING),
              "every target is checked from both locations")
        t1 = db_now(pg)
        most = (t1 - t0) // (INTERVAL_S * 1000) + 1
        over = {k: v for k, v in rows().items() if v[0] != 1 or v[1] > most + 1}
        check(not over, f"each location checks each target from one poller, once per interval ({list(over.items())[:3]})")
        rc, out, err, _ = run(["export", "--format", "jsonl", "--db", pg.url(), "--target", "l01"])
        locs = {json.loads(line).get("location") for line in out.splitlines()}
        check(locs == {"eu", "us"}, f"export --format jsonl says where each result was checked from ({locs})")
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        rcs = [p.wait(CEILING) for p in procs]
    check(rcs == [0, 0], f"the located pollers exit 0 ({rcs})")


def main():
    try:
        pg = PgServer()
    except PgUnavailable as e:
        skip(str(e))
    d = tmpdir()
    with pg, TestServer() as srv:
        targets = [{"name": f"s{i:03d}", "url": srv.url(), "path": f"/ok?tag=s{i:03d}", "interval_s": INTERVAL_S}
                   for i in range(N)]
        # one more, checked once an hour: only a forced check (r in a dashboard) checks it again
        targets.append({"name": "zz-forced", "url": srv.url(), "path": "/ok?tag=zz", "interval_s": 3600})
        cfg = write_config(d, {"defaults": NO_TIMING, "targets": targets}, "shards.json")
        logs = [os.path.join(d, f"poller{i}.log") for i in range(3)]
        procs = [start(cfg, pg, logs[0])]
        # the first creates the schema; the others join a database that exists
        check(wait_for(lambda: pg.psql("select to_regclass('poller') is not null").strip() == "t", CEILING),
              "the first poller prepares the database")
        procs += [start(cfg, pg, logs[1]), start(cfg, pg, logs[2])]
        try:
            ids = poller_ids(pg, 3)
            check(len(ids) == 3, f"three pollers alive in the database ({ids})")
            check(wait_for(lambda: settled(pg, ids), CEILING),
                  f"the 64 shards spread over the three pollers ({holders(pg)})")
            t0 = db_now(pg)
            check(wait_for(lambda: all_checked(pg, t0, 3), CEILING), "every target checked after the spread")
            t1 = db_now(pg)
            seen = one_poller_each(pg, t0, t1, "three pollers")
            by = {}
            for t, p in seen.items():
                by.setdefault(next(iter(p)), set()).add(t)
            check(set(by) == set(ids) and all(len(v) >= N // 6 for v in by.values()),
                  f"each poller checks its share ({ {k: len(v) for k, v in by.items()} })")
            counted = server_counts(srv)
            check(len(counted) == N and all(counted.values()), f"the server answered every target ({len(counted)})")

            # kill -9 one poller: no clean leave, its leases run out
            victim = procs[0]
            dead = next(i for i in ids if i.endswith(f":{victim.pid}"))
            orphans = by.get(dead, set())
            victim.send_signal(signal.SIGKILL)
            victim.wait(CEILING)
            killed_at = db_now(pg)
            survivors = [i for i in ids if i != dead]

            def retaken():
                after = per_target(pg, killed_at)
                return all(any(p != dead for p in after.get(t, {})) for t in orphans)
            check(wait_for(retaken, CEILING),
                  f"every one of the dead poller's {len(orphans)} targets is checked again by the others")
            gaps_bounded(pg, dead, orphans, killed_at)
            check(wait_for(lambda: settled(pg, survivors), CEILING),
                  f"the two survivors share the 64 shards ({holders(pg)})")
            t2 = db_now(pg)
            check(wait_for(lambda: all_checked(pg, t2, 3), CEILING), "every target checked by the survivors")
            one_poller_each(pg, t2, db_now(pg), "two pollers after kill -9")
            export_names_poller(pg, ids)
            detail_names_poller(pg, cfg, survivors, srv)
        finally:
            rcs = []
            for p in procs[1:]:
                p.send_signal(signal.SIGTERM)
                rcs.append(p.wait(CEILING))
            if procs[0].poll() is None:
                procs[0].kill()
                procs[0].wait()
        check(rcs == [0, 0], f"the survivors exit 0 on SIGTERM ({rcs})")
        check(not holders(pg), "a poller that stops cleanly gives its shards back at once")
        text = "".join(open(f).read() for f in logs[1:])
        check("shards: " in text and " -> " not in text, "the pollers log their shards; no target changed class")
        locations(pg, d, srv)
    finish()


if __name__ == "__main__":
    sys.exit(main())
