#!/usr/bin/env python3
"""One poller, many viewers. A daemon polls a database; a dashboard opened on the same database
with another config says it is a viewer of the daemon's pid and host, shows the daemon's
targets and classes (not its own) and warns that its config differs; while it watches, the
targets' server sees no request from it; its R makes the poller check (the server sees the
extra request); its mute reaches the poller. The poller killed with -9 is replaced by the viewer within a few seconds, and
the history of a target checked every 3 s has no gap of two intervals (no check missed); q
gives the lease up. --metrics-listen serves only while the dashboard polls. Of three standbys, exactly one takes over. Only the poller notifies. A daemon whose database cannot be opened polls anyway. Without tmux the test is skipped (exit 77), saying so."""
import json
import os
import shlex
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request

from htlib import BINARY, WRAPPER, TestServer, check, finish, tmpdir, write_config

SOCKET = f"healthtop-viewers-{os.getpid()}"
INTERVAL = 3


def tmux(*args, check_rc=True):
    return subprocess.run(["tmux", "-L", SOCKET, *args], capture_output=True, text=True, check=check_rc).stdout


def screen():
    return tmux("capture-pane", "-p", "-t", "viewer", check_rc=False)


def wait_for(pred, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.2)
    return pred()


def seen(srv, tag):
    with urllib.request.urlopen(srv.url() + "/stats", timeout=30) as r:
        return json.loads(r.read()).get(tag, {}).get("seen", 0)


def query(db, sql):
    con = sqlite3.connect(db)
    try:
        return con.execute(sql).fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        con.close()


def lease_pid(db):
    rows = query(db, "select pid from poller_lease")
    return rows[0][0] if rows else None


def checked_at(db, name):
    return [r[0] for r in query(db, "select r.checked_at from result r join target t on t.id = r.target_id"
                                    f" where t.name = '{name}' order by r.checked_at")]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def metrics(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as r:
            return r.read().decode()
    except OSError:
        return None


def line_of(text, name):
    return next((l for l in text.splitlines() if f" {name} " in l), "")


def main():
    if not shutil.which("tmux"):
        print("SKIP: tmux is not installed (scripts/install-deps.sh installs it); viewers were not tested")
        sys.exit(77)
    d = tmpdir()
    db = os.path.join(d, "shared.db")
    with TestServer() as srv:
        h = srv.url()
        poller_cfg = write_config(d, {"targets": [
            {"name": "steady", "project": "fleet", "url": h, "path": "/ok?tag=steady", "interval_s": INTERVAL},
            {"name": "grumpy", "project": "fleet", "url": h, "path": "/body?code=503&tag=grumpy", "interval_s": INTERVAL},
            {"name": "rare", "project": "fleet", "url": h, "path": "/ok?tag=rare", "interval_s": 3600}]}, "poller.json")
        viewer_cfg = write_config(d, {"targets": [
            {"name": "mine-only", "url": h, "path": "/ok?tag=mine", "interval_s": 1}]}, "viewer.json")
        with open(os.path.join(d, "daemon.log"), "w") as log:
            daemon = subprocess.Popen(WRAPPER + [BINARY, "daemon", "-c", poller_cfg, "--db", db], stderr=log)
        try:
            check(wait_for(lambda: lease_pid(db) == daemon.pid and seen(srv, "ok?rare") == 1, 20),
                  "the daemon takes the lease and checks its targets")
            exit_file = os.path.join(d, "exit")
            mport = free_port()
            cmd = " ".join(shlex.quote(a) for a in WRAPPER + [BINARY, "-c", viewer_cfg, "--db", db,
                                                              "--metrics-listen", f"127.0.0.1:{mport}"])
            tmux("-u", "new-session", "-d", "-s", "viewer", "-x", "160", "-y", "20",
                 f"env LANG=C.UTF-8 LC_ALL=C.UTF-8 {cmd} 2>{shlex.quote(d)}/stderr; echo $? > {shlex.quote(exit_file)}; sleep 600")
            host = socket.gethostname()
            want = f"viewer of pid {daemon.pid} on {host}"
            check(wait_for(lambda: want in screen(), 15), f"the second process says \"{want}\"")
            check(wait_for(lambda: "healthy" in line_of(screen(), "steady") and
                           "degraded" in line_of(screen(), "grumpy"), 15),
                  "the viewer shows the poller's targets with their classes")
            text = screen()
            check("mine-only" not in text, "the viewer shows the poller's targets, not its own config's")
            check("config differs" in text, "the viewer warns that its config differs from the poller's")
            time.sleep(2.5)   # the viewer has drawn for a while: still no request of its own
            check(seen(srv, "ok?mine") == 0, "the viewer never checks its own config's targets")
            check(seen(srv, "ok?rare") == 1, "the viewer sends the targets no request")
            tmux("send-keys", "-t", "viewer", "R")
            check(wait_for(lambda: seen(srv, "ok?rare") == 2, 15),
                  f"R in the viewer makes the poller check (the server saw {seen(srv, 'ok?rare')} requests)")
            check("viewer of" in screen(), "the viewer is still a viewer after R")
            tmux("send-keys", "-t", "viewer", "/", "rare", "Enter")
            time.sleep(0.4)
            tmux("send-keys", "-t", "viewer", "m")
            time.sleep(0.4)
            tmux("send-keys", "-t", "viewer", "-l", "30m")
            tmux("send-keys", "-t", "viewer", "Enter")
            check(wait_for(lambda: "rare: muted until" in open(os.path.join(d, "daemon.log")).read(), 10),
                  "a mute set in the viewer reaches the poller (its log says rare is muted)")
            tmux("send-keys", "-t", "viewer", "Escape")
            check(metrics(mport) is None, "a viewer dashboard does not serve /metrics")

            before_kill = len(checked_at(db, "steady"))
            daemon.send_signal(signal.SIGKILL)
            daemon.wait()
            check(wait_for(lambda: lease_pid(db) not in (None, daemon.pid), 10),
                  "with the poller killed (-9), the viewer takes the lease within a few seconds")
            check(wait_for(lambda: "viewer of" not in screen(), 5), "the header no longer says viewer")
            taken = seen(srv, "ok?steady")
            check(wait_for(lambda: seen(srv, "ok?steady") >= taken + 2, 20),
                  "the new poller checks the very URL the old one did (the server counts them)")
            check(wait_for(lambda: len(checked_at(db, "steady")) >= before_kill + 3, 20),
                  "the new poller checks the targets on schedule")
            at = checked_at(db, "steady")
            gaps = [(b - a) / 1000 for a, b in zip(at, at[1:])]
            check(gaps and max(gaps) < 2 * INTERVAL,
                  f"no check of an every-{INTERVAL}s target is missed across the takeover (largest gap {max(gaps or [0]):.1f} s)")
            check(seen(srv, "ok?mine") == 0, "the new poller polls the targets it showed, the old poller's")
            page = metrics(mport) or ""
            check('healthtop_up{name="steady",project="fleet"} 2' in page,
                  "the dashboard that took over serves /metrics with the targets it polls")
            tmux("send-keys", "-t", "viewer", "q")
            check(wait_for(lambda: os.path.exists(exit_file) and open(exit_file).read().strip() == "0", 10),
                  "q exits 0")
            check(lease_pid(db) is None, "a poller that quits gives the lease up")

            # Notifications: only the poller sends them, a standby daemon with the same config never.
            notified = os.path.join(d, "notified")
            hook = ["/bin/sh", "-c", f'echo "$HEALTHTOP_NAME $HEALTHTOP_NEW" >> {shlex.quote(notified)}']
            flap_cfg = write_config(d, {"notify": [{"exec": hook}], "targets": [
                {"name": "flappy", "url": h, "path": "/flip?tag=flappy", "interval_s": 1}]}, "flap.json")
            flap_db = os.path.join(d, "flap.db")
            procs = []
            for who in ("poller", "standby"):
                with open(os.path.join(d, f"flap-{who}.log"), "w") as log:
                    procs.append(subprocess.Popen(WRAPPER + [BINARY, "daemon", "-c", flap_cfg, "--db", flap_db],
                                                  stderr=log))
                if who == "poller":
                    wait_for(lambda: lease_pid(flap_db) == procs[0].pid, 20)
            wait_for(lambda: len(query(flap_db, "select 1 from state_change")) >= 4, 30)
            for p in procs:
                p.send_signal(signal.SIGTERM)
                p.wait(30)
            changes = len(query(flap_db, "select 1 from state_change"))
            lines = open(notified).read().splitlines() if os.path.exists(notified) else []
            standby_log = open(os.path.join(d, "flap-standby.log")).read()
            # a change still being delivered at SIGTERM waits in the database: at most one short
            check(changes >= 4 and changes - 1 <= len(lines) <= changes and
                  all(a != b for a, b in zip(lines, lines[1:])),
                  f"each of {changes} changes is notified once, never twice ({lines}): the standby sends none")
            check("viewer of pid" in standby_log, "the second daemon stood by as a viewer")

            # Three standby daemons and the poller killed: exactly one of them polls after it.
            race_db = os.path.join(d, "race.db")
            race_cfg = write_config(d, {"targets": [
                {"name": "racer", "url": h, "path": "/ok?tag=racer", "interval_s": 3600}]}, "race.json")
            racers = []
            for k in range(4):
                with open(os.path.join(d, f"race-{k}.log"), "w") as log:
                    racers.append(subprocess.Popen(WRAPPER + [BINARY, "daemon", "-c", race_cfg, "--db", race_db],
                                                   stderr=log))
                if k == 0:
                    wait_for(lambda: lease_pid(race_db) == racers[0].pid, 20)
            logs = lambda: [open(os.path.join(d, f"race-{k}.log")).read() for k in range(4)]
            wait_for(lambda: all("viewer of pid" in t for t in logs()[1:]), 20)
            racers[0].send_signal(signal.SIGKILL)
            racers[0].wait()
            check(wait_for(lambda: lease_pid(race_db) in [r.pid for r in racers[1:]], 10),
                  "one standby takes the lease from the killed poller")
            time.sleep(2.5)   # the others have looked at the lease a few times meanwhile
            polling = [k for k, t in enumerate(logs()) if k and "polling:" in t]
            check(len(polling) == 1 and racers[polling[0]].pid == lease_pid(race_db),
                  f"exactly one of three standbys polls ({polling})")
            check(seen(srv, "ok?racer") == 2, f"the target got one check per poller ({seen(srv, 'ok?racer')})")
            for r in racers[1:]:
                r.send_signal(signal.SIGTERM)
                r.wait(30)

            # No database to hold a lease in: it polls anyway (results kept in memory, retried).
            nodb_cfg = write_config(d, {"targets": [
                {"name": "nodb", "url": h, "path": "/ok?tag=nodb", "interval_s": 3600}]}, "nodb.json")
            with open(os.path.join(d, "nodb.log"), "w") as log:
                lone = subprocess.Popen(WRAPPER + [BINARY, "daemon", "-c", nodb_cfg, "--db",
                                                   os.path.join(nodb_cfg, "x.db")], stderr=log)
            check(wait_for(lambda: seen(srv, "ok?nodb") == 1, 20),
                  "a daemon whose database cannot be opened still checks its targets")
            lone.send_signal(signal.SIGTERM)
            lone.wait(30)
        finally:
            if daemon.poll() is None:
                daemon.kill()
                daemon.wait()
            tmux("kill-server", check_rc=False)
    finish()


if __name__ == "__main__":
    main()
