#!/usr/bin/env python3
"""reuse_connections (issue 12): off, every check opens its own connection; on, checks of the
same host share kept-alive connections, per target or from defaults. Proved by counting what a
keep-alive server saw (connections against requests), never by time. A check made on a kept
TLS connection reports a TLS phase of 0 and still the certificate's expiry; tcp:// never reuses."""
import os
import signal
import sqlite3
import ssl
import subprocess

from htlib import BINARY, NO_TIMING, WRAPPER, check, finish, make_certs, run, tmpdir, wait_for, write_config
from protoservers import KeepAliveServer, SilentListener

CEILING = 60


def sweep(d, name, targets, concurrency=1):
    """One `check` of targets, one at a time: each can only find the previous one's connection."""
    cfg = write_config(d, {"concurrency": concurrency, "defaults": NO_TIMING, "targets": targets},
                       f"{name}.json")
    return run(["check", "-c", cfg, "--db", os.path.join(d, f"{name}.db")])


def client_time_waits(port):
    """This host's sockets in TIME_WAIT whose peer is 127.0.0.1:port, by their own port: closed
    connections whose client (healthtop) closed first."""
    waits = set()
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            fields = line.split()
            if fields[3] == "06" and int(fields[2].split(":")[1], 16) == port:
                waits.add(int(fields[1].split(":")[1], 16))
    return waits


def one_check_process(d):
    with KeepAliveServer() as off, KeepAliveServer() as on, KeepAliveServer() as mixed:
        waits = client_time_waits(off.port)
        rc, _, err, _ = sweep(d, "off", [{"name": f"off-{i}", "url": off.url} for i in range(6)])
        check(rc == 0 and off.count() == (6, 6),
              f"reuse off (the default): 6 checks open 6 connections (saw {off.count()}) {err}")
        waits = len(client_time_waits(off.port) - waits)   # older ones may expire meanwhile
        check(waits == 0, f"reuse off: each check asks the server to close (Connection: close), so no "
                          f"closed connection waits out TIME_WAIT on the monitoring host ({waits} did)")
        rc, _, err, _ = sweep(d, "on", [{"name": f"on-{i}", "url": on.url, "reuse_connections": True}
                                        for i in range(6)])
        check(rc == 0 and on.count() == (1, 6),
              f"reuse on: 6 checks in turn share 1 connection (saw {on.count()}) {err}")
        targets = [{"name": f"mixed-{i}", "url": mixed.url} for i in range(6)]
        for t in targets[1::2]:
            t["reuse_connections"] = False
        cfg = write_config(d, {"concurrency": 1, "defaults": dict(NO_TIMING, reuse_connections=True),
                               "targets": targets}, "mixed.json")
        rc, _, err, _ = run(["check", "-c", cfg, "--db", os.path.join(d, "mixed.db")])
        check(rc == 0 and mixed.count() == (4, 6),
              f"reuse on in defaults, off for 3 targets: those 3 open their own, the others share 1 "
              f"(saw {mixed.count()}) {err}")
    with SilentListener() as tcp:
        rc, _, err, _ = sweep(d, "tcp", [{"name": f"tcp-{i}", "url": f"tcp://127.0.0.1:{tcp.port}",
                                          "reuse_connections": True} for i in range(3)])
        check(tcp.count() == 3, f"tcp:// with reuse on still connects once per check (saw {tcp.count()}) {err}")


def cert_not_after(pem):
    return int(ssl.cert_time_to_seconds(ssl._ssl._test_decode_cert(pem)["notAfter"]))


def stored(db, name):
    """(tls_ms, cert_expiry) of every stored result of a target."""
    con = sqlite3.connect(db)
    try:
        return con.execute("select r.tls_ms, r.cert_expiry from result r join target t on t.id = r.target_id"
                           " where t.name = ?", (name,)).fetchall()
    finally:
        con.close()


def daemon(d, certs, ca):
    """The daemon is where reuse matters: the same targets every interval_s, one process."""
    cert = certs["tls_good"]
    with KeepAliveServer() as on, KeepAliveServer() as off, KeepAliveServer(tls=cert) as tls:
        cfg = write_config(d, {"defaults": dict(NO_TIMING, interval_s=1), "targets": [
            {"name": "ka-on", "url": on.url, "reuse_connections": True},
            {"name": "ka-off", "url": off.url},
            {"name": "tls-on", "url": tls.url, "ca_file": ca, "reuse_connections": True}]}, "daemon.json")
        db = os.path.join(d, "daemon.db")
        with open(os.path.join(d, "daemon.log"), "w") as log:
            p = subprocess.Popen(WRAPPER + [BINARY, "daemon", "-c", cfg, "--db", db], stderr=log)
        try:
            wait_for(lambda: min(on.count()[1], off.count()[1], tls.count()[1]) >= 4)
        finally:
            p.send_signal(signal.SIGTERM)
            rc = p.wait(CEILING)
        check(rc == 0, f"daemon exits 0 on SIGTERM (got {rc})")
        conns, reqs = on.count()
        check(reqs >= 4 and conns < reqs, f"daemon, reuse on: fewer connections than checks ({conns} for {reqs})")
        conns, reqs = off.count()
        check(reqs >= 4 and conns == reqs, f"daemon, reuse off: a connection per check ({conns} for {reqs})")
        conns, reqs = tls.count()
        check(reqs >= 4 and conns < reqs, f"daemon, https with reuse on: fewer handshakes than checks ({conns} for {reqs})")
        rows = stored(db, "tls-on")
        expiry = cert_not_after(cert[0])
        reused = [r for r in rows if r[0] == 0]
        check(len(reused) >= 1, f"a check on a kept TLS connection reports tls_ms 0 ({len(reused)} of {len(rows)})")
        check(rows and all(r[1] == expiry for r in rows),
              f"every https check, kept connection or not, reports the certificate's expiry {expiry} ({rows})")


def main():
    d = tmpdir()
    one_check_process(d)
    certs, ca = make_certs(d)
    daemon(d, certs, ca)
    finish()


if __name__ == "__main__":
    main()
