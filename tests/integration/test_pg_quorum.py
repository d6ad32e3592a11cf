#!/usr/bin/env python3
"""The quorum across locations (issue 13): three `healthtop daemon`s in locations a, b and c
on one PostgreSQL database, quorum 2, and a loopback server that fails the checks of some
locations only (each check names its location in its User-Agent). Proved by counting, never
by timing:

- every check says where it comes from: the server sees "(location a|b|c)" in the User-Agent;
- X fails from a alone: one location's trouble is no outage. X never shows down (in daemon
  a's own /metrics, whose location does see it down, nor in a dashboard viewing the database),
  and no down notification goes out for it;
- Y fails from a and b: two of three locations is the quorum. Y goes down, and exactly one
  notification says so, however many daemons see it; when it heals, exactly one says it
  recovered. Every notification for a target continues the one before (old = previous new): no
  change is announced twice or skipped;
- a dashboard on the database shows a line per location in the detail view, and the reason;
  one that starts shows the combined class from the history it reads back (W, failing from a
  and checked once an hour, is degraded from the first frame: not a's down, nor b's healthy);
- when b and c stop while X fails from a, a alone still reports the outage: X goes down with
  exactly one notification, whose reason says the quorum fell to the locations left.

Notifications are counted at a webhook receiver. Skips (77) where no PostgreSQL server can run."""
import http.server
import json
import os
import shutil
import signal
import socketserver
import subprocess
import sys
import threading
import time
import urllib.request

from htlib import BINARY, NO_TIMING, WRAPPER, check, finish, tmpdir, wait_for, write_config
from notifylib import Receiver
from pgserver import PgServer, PgUnavailable, skip

CEILING = 120
LEASE_MS = 1500
LOCS = ("a", "b", "c")
CLS = {"healthy": 0, "degraded": 1, "down": 2}


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class LocServer:
    """GET /t?name=N answers 503 when the User-Agent's location is in self.fail[N], else 200;
    counts the checks by (name, location)."""

    def __init__(self):
        self.fail = {}
        self.seen = {}
        self.lock = threading.Lock()
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                name = self.path.split("name=", 1)[-1]
                ua = self.headers.get("User-Agent", "")
                loc = ua.split("(location ", 1)[1].rstrip(")") if "(location " in ua else ""
                with outer.lock:
                    outer.seen[(name, loc)] = outer.seen.get((name, loc), 0) + 1
                    code = 503 if loc in outer.fail.get(name, ()) else 200
                body = b'{"status":"ok"}'
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.srv = _Server(("127.0.0.1", 0), H)
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.srv.server_address[1]}"

    def counts(self):
        with self.lock:
            return dict(self.seen)

    def set_fail(self, fail):
        with self.lock:
            self.fail = fail

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()


def loc_states(pg):
    """{(target, location): class} as each location last published it."""
    out = {}
    for line in pg.psql("select target, location, cls from location_state where target <> 'W'").split():
        t, loc, c = line.split("|")
        out[(t, loc)] = int(c)
    return out


def notified(pg):
    out = {}
    for line in pg.psql("select target, coalesce(cls, -1) from quorum_notified where target <> 'W'").split():
        t, c = line.split("|")
        out[t] = int(c)
    return out


def metrics_up(port):
    """{target: healthtop_up} from a /metrics page (2 healthy, 1 degraded, 0 down)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        if line.startswith("healthtop_up{"):
            name = line.split('name="', 1)[1].split('"', 1)[0]
            out[name] = int(line.rsplit(" ", 1)[1])
    return out


def chain(events, name):
    """The (old, new) of name's notifications, in order."""
    return [(e["old"], e["new"]) for e in events if e.get("name") == name]


def continues(pairs):
    return all(pairs[i][0] == pairs[i - 1][1] for i in range(1, len(pairs))) and all(o != n for o, n in pairs)


def metrics_port(log):
    def port():
        if not os.path.exists(log):
            return None
        for line in open(log):
            if "serving /metrics on" in line and "(port " in line:
                return int(line.split("(port ", 1)[1].split(")", 1)[0])
        return None
    wait_for(lambda: port() is not None, CEILING)
    return port()


def detail_lines(pg, cfg):
    """A dashboard on the database: X's detail view has a line per location and the reason."""
    if not shutil.which("tmux"):
        print("SKIP the detail view check: no tmux")
        return
    sock = f"healthtop-quorum-{os.getpid()}"
    tmux = lambda *a: subprocess.run(["tmux", "-L", sock, *a], capture_output=True, text=True).stdout  # noqa: E731
    screen = lambda: tmux("capture-pane", "-p", "-t", "v")  # noqa: E731
    cmd = " ".join(WRAPPER + [BINARY, "-c", cfg, "--db", f"'{pg.url()}'"])
    try:
        tmux("new-session", "-d", "-s", "v", "-x", "160", "-y", "45",
             f"TERM=xterm-256color HEALTHTOP_SHARD_LEASE_MS={LEASE_MS} {cmd}")
        ok = wait_for(lambda: "viewer of 3 pollers" in screen(), CEILING)
        check(ok, "the dashboard is a viewer of the three pollers" + ("" if ok else "\n" + screen()))
        # W was checked once from each location at start (a failed it) and not since (hourly):
        # what the viewer shows of it comes from the history it read back
        w = lambda: [line for line in screen().splitlines() if "W" in line.split()]  # noqa: E731
        ok = wait_for(lambda: w() and any(c in w()[0] for c in ("healthy", "degraded", "down")), CEILING)
        check(ok and "degraded" in w()[0],
              f"a viewer that starts shows the locations' combined class from history alone: W degraded ({w()})")
        tmux("send-keys", "-t", "v", "/", "X", "Enter")
        time.sleep(0.3)
        tmux("send-keys", "-t", "v", "Enter")

        def located():
            lines = screen().splitlines()
            per = {loc: any(line.split()[1:2] == [loc] or (line.startswith("            ") and line.split()[:1] == [loc])
                            for line in lines if "Locations" in line or line.startswith("            "))
                   for loc in LOCS}
            return all(per.values()) and any("Quorum" in line and "1 of 3 locations, quorum 2" in line for line in lines)
        ok = wait_for(located, CEILING)
        check(ok, "the detail view has a line per location and the quorum's reason" + ("" if ok else "\n" + screen()))
        lines = screen().splitlines()
        title = [line for line in lines if "   X   (" in line]
        a_line = [line for line in lines if line.split()[1:2] == ["a"] or line.split()[:1] == ["a"]]
        check(title and "degraded" in title[0] and a_line and "down" in a_line[0],
              f"the viewer shows X degraded, a's line down ({title}, {a_line})")
        tmux("send-keys", "-t", "v", "q")
    finally:
        tmux("kill-server")


def main():
    try:
        pg = PgServer()
    except PgUnavailable as e:
        skip(str(e))
    d = tmpdir()
    srv, rcv = LocServer(), Receiver()
    procs, rcs, healed, logs = [], [], 0, {}
    with pg:
        cfg = write_config(d, {"quorum": 2, "defaults": dict(NO_TIMING, on_5xx="down"),
                               "targets": [{"name": n, "url": srv.url, "path": f"/t?name={n}",
                                            "interval_s": 3600 if n == "W" else 1} for n in ("W", "X", "Y", "Z")],
                               "notify": [{"webhook": rcv.url + "/hook"}]}, "quorum.json")
        env = dict(os.environ, HEALTHTOP_SHARD_LEASE_MS=str(LEASE_MS))
        logs = {loc: os.path.join(d, f"{loc}.log") for loc in LOCS}
        srv.set_fail({"W": {"a"}})   # W, checked once an hour (first in the config: at start)
        try:
            for loc in LOCS:
                args = ["daemon", "-c", cfg, "--db", pg.url(), "--location", loc]
                if loc == "a":
                    args += ["--metrics-listen", "127.0.0.1:0"]
                with open(logs[loc], "w") as err:
                    procs.append(subprocess.Popen(WRAPPER + [BINARY] + args, stderr=err, env=env))
                if loc == "a":   # the first creates the schema; the others join a database that exists
                    check(wait_for(lambda: pg.psql("select to_regclass('location_state') is not null").strip() == "t",
                                   CEILING), "the first poller prepares the database")
            port = metrics_port(logs["a"])
            check(port is not None, "daemon a serves /metrics")
            all_healthy = lambda: len(loc_states(pg)) == 9 and not any(loc_states(pg).values())  # noqa: E731
            check(wait_for(lambda: all_healthy() and notified(pg) == {"X": 0, "Y": 0, "Z": 0}, CEILING),
                  f"every location publishes its class of every target ({loc_states(pg)}, {notified(pg)})")
            seen = srv.counts()
            check(all(seen.get((n, loc), 0) > 0 for n in "XYZ" for loc in LOCS),
                  f"each check names its location in the User-Agent ({sorted(seen)})")
            quiet = [e for e in rcv.bodies() if e.get("name") != "W"]
            check(quiet == [], f"nothing announced while all is well ({quiet})")

            srv.set_fail({"X": {"a"}, "Y": {"a", "b"}})
            check(wait_for(lambda: notified(pg).get("Y") == CLS["down"] and loc_states(pg).get(("X", "a")) == 2,
                           CEILING), f"Y is down by the quorum ({notified(pg)}, {loc_states(pg)})")
            # a's own location sees X down; let every location check X five more times
            base = srv.counts()
            samples = []

            def more_checks():
                samples.append(metrics_up(port))
                now = srv.counts()
                return all(now.get(("X", loc), 0) >= base.get(("X", loc), 0) + 5 for loc in LOCS)
            check(wait_for(more_checks, CEILING), "every location checks X five more times")
            check(wait_for(lambda: metrics_up(port).get("Y") == 0, CEILING),
                  f"daemon a's /metrics shows Y down ({metrics_up(port)})")
            xs = [s.get("X") for s in samples]
            check(all(x != 0 for x in xs) and xs[-1] == 1,
                  f"daemon a's /metrics never shows X down, though a sees it down: degraded ({xs})")
            check(notified(pg).get("X") == CLS["degraded"], f"X is degraded for the fleet ({notified(pg)})")
            detail_lines(pg, cfg)

            srv.set_fail({})
            check(wait_for(lambda: all_healthy() and notified(pg) == {"X": 0, "Y": 0, "Z": 0}, CEILING),
                  f"all heal ({loc_states(pg)}, {notified(pg)})")
            check(wait_for(lambda: len(chain(rcv.bodies(), "Y")) >= 2 and chain(rcv.bodies(), "Y")[-1][1] == "healthy",
                           CEILING), f"Y's recovery is announced ({chain(rcv.bodies(), 'Y')})")
            # the daemons keep checking: no late duplicate may come
            base = srv.counts()
            wait_for(lambda: all(srv.counts().get(("Y", loc), 0) >= base.get(("Y", loc), 0) + 3 for loc in LOCS),
                     CEILING)
            healed = len(rcv.bodies())

            # b and c stop while X fails from a: a alone still reports the outage
            srv.set_fail({"X": {"a"}})
            check(wait_for(lambda: notified(pg).get("X") == CLS["degraded"], CEILING),
                  f"X is degraded again, down from a alone ({notified(pg)})")
            for p in procs[1:]:
                p.send_signal(signal.SIGTERM)
            rcs = [p.wait(CEILING) for p in procs[1:]]
            check(wait_for(lambda: notified(pg).get("X") == CLS["down"], CEILING),
                  f"with b and c gone, a's down is the outage: the quorum falls to the locations left ({notified(pg)})")
            late = [e for e in rcv.bodies()[healed:] if e.get("name") == "X" and e.get("new") == "down"]
            check(wait_for(lambda: len([e for e in rcv.bodies()[healed:]
                                        if e.get("name") == "X" and e.get("new") == "down"]) == 1, CEILING),
                  f"exactly one notification says so ({late})")
            late = [e for e in rcv.bodies()[healed:] if e.get("name") == "X" and e.get("new") == "down"]
            check("lowered to 1" in late[0].get("reason", ""), f"its reason says the quorum fell ({late[0]})")
            procs = procs[:1]
        finally:
            for p in procs:
                p.send_signal(signal.SIGTERM)
            rcs = [p.wait(CEILING) for p in procs] + (rcs if len(procs) == 1 else [])
    events = rcv.bodies()[:healed]
    x, y, z = chain(events, "X"), chain(events, "Y"), chain(events, "Z")
    check(sum(1 for _, n in y if n == "down") == 1, f"exactly one notification says Y went down ({y})")
    check(sum(1 for _, n in y if n == "healthy") == 1, f"exactly one says Y recovered ({y})")
    downs = [e for e in events if e.get("name") == "Y" and e.get("old") == "down"]
    check(len(downs) == 1 and downs[0].get("duration_s", 0) >= 1,
          f"the end of Y's outage says how long it lasted ({downs})")
    check(continues(y) and y[0][0] == "healthy" and y[-1][1] == "healthy",
          f"Y's notifications each continue the one before: no change twice, none skipped ({y})")
    check(not any(n == "down" for _, n in x), f"no down notification for X, down from one location only ({x})")
    check(continues(x), f"X's notifications continue each other ({x})")
    check(z == [], f"nothing for Z, healthy everywhere ({z})")
    check(rcs == [0, 0, 0], f"the three located pollers exit 0 ({rcs})")
    said = [line for loc in LOCS for line in open(logs[loc]) if "Y: " in line and "-> down across locations" in line]
    check(len(said) == 1, f"one daemon's log says Y went down across locations, once ({said})")
    srv.stop()
    rcv.stop()
    finish()


if __name__ == "__main__":
    sys.exit(main())
