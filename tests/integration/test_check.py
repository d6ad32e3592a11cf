#!/usr/bin/env python3
"""healthtop check against real HTTP(S) servers on 127.0.0.1: every row of the classification
table, one concurrent sweep, exit codes, one stored row per target, secrets kept out of the DB."""
import json
import os
import sqlite3
import subprocess
import urllib.parse
import urllib.request

from htlib import BINARY, TIMED, WRAPPER, TestServer, check, finish, make_certs, run, tmpdir, write_config


def body(code, obj):
    return "/body?" + urllib.parse.urlencode({"code": code, "json": json.dumps(obj)})


# name: (server, path, extra target keys, expected status, reason substring)
def fleet(srv, ca):
    h = srv.url()
    return {
        "ok": (h, "/ok", {}, "healthy", "HTTP 200"),
        "redirect-followed": (h, "/redirect", {}, "healthy", "HTTP 200"),
        "refused": ("http://127.0.0.1:9", "/health", {}, "down", "connection refused"),
        "dns": ("http://no-such-host.invalid", "/health", {}, "down", "DNS"),
        "redirect-loop": (h, "/loop", {}, "down", "redirect loop"),
        "left-over-3xx": (h, "/left-over", {}, "down", "HTTP 301"),
        "timeout": (h, "/hang", {"timeout_ms": 1500}, "degraded", "timeout after 1500 ms"),
        "http-503": (h, body(503, {}), {}, "degraded", "HTTP 503"),
        "http-429": (h, body(429, {}), {}, "degraded", "HTTP 429"),
        "http-404": (h, "/nowhere", {}, "down", "HTTP 404"),
        "http-401": (h, body(401, {}), {}, "down", "HTTP 401"),
        "slow": (h, "/slow?ms=1300", {"degraded_ms": 1000}, "degraded", "ms > 1000 ms"),
        "status-up": (h, body(200, {"status": "UP"}), {}, "healthy", "HTTP 200"),
        "status-warn": (h, body(200, {"status": "warn"}), {}, "degraded", "status: warn"),
        "status-unknown": (h, body(200, {"status": "UNKNOWN"}), {}, "degraded", "UNKNOWN"),
        "status-critical": (h, body(200, {"status": "critical"}), {}, "down", "status: critical"),
        "spring-component": (h, body(200, {"status": "UP", "components": {"db": {"status": "DOWN"}}}), {},
                             "degraded", "db: DOWN"),
        "ietf-check": (h, body(200, {"status": "pass", "checks": {"db:ping": [{"status": "warn"}]}}), {},
                       "degraded", "db:ping: warn"),
        "hivesync-redis": (h, body(200, {"status": "ok", "postgres": "ok", "redis": "error"}), {},
                           "degraded", "redis: error"),
        "stale-worker": (h, "/workers", {}, "degraded", "worker repo_sync: heartbeat"),
        "invalid-json-200": (h, body(200, "{not json"), {}, "healthy", "HTTP 200"),
        "invalid-json-503": (h, body(503, "<html>"), {}, "degraded", "HTTP 503"),
        "big-body": (h, "/big?mb=20", {}, "down", "status: down"),
        "gzip-down": (h, "/gzip", {}, "down", "status: down"),
        "empty-reply": (h, "/reset", {}, "down", ""),
        "escape-in-body": (h, "/escape", {}, "degraded", "not recognised"),
        "auth-header": (h, "/auth", {"headers": {"Authorization": "Bearer ${HT_TEST_TOKEN}"}}, "healthy", "HTTP 200"),
        "user-agent": (h, "/ua", {}, "healthy", "HTTP 200"),
        "trickle": (h, "/trickle", {"timeout_ms": 1500}, "degraded", "timeout after 1500 ms"),
        "gzip-bomb": (h, "/gzip-bomb", {}, "down", "status: down"),
        "bad-chunked": (h, "/bad-chunked", {}, "down", ""),
        "huge-header": (h, "/huge-header", {}, "down", "header over 100 KB"),
        # Healthy only if all three are in flight at the same moment: the sweep runs at once.
        **{f"together-{i}": (h, "/together?n=3", {"timeout_ms": 60000}, "healthy", "HTTP 200") for i in range(3)},
        "tls-good": (srv.url("tls_good"), "/ok", {"ca_file": ca}, "healthy", "HTTP 200"),
        "tls-expiring": (srv.url("tls_expiring"), "/ok", {"ca_file": ca}, "degraded", "cert expires in 2 d"),
        "tls-expired": (srv.url("tls_expired"), "/ok", {"ca_file": ca}, "down", "TLS: "),
        "tls-wrong-host": (srv.url("tls_wronghost"), "/ok", {"ca_file": ca}, "down", "TLS: "),
        "tls-self-signed": (srv.url("tls_self"), "/ok", {}, "down", "TLS: "),
        "tls-insecure-ok": (srv.url("tls_self"), "/ok", {"insecure": True}, "healthy", "HTTP 200"),
    }


def main():
    d = tmpdir()
    certs, ca = make_certs(d)
    with TestServer(certs, gzip_bomb=True) as srv:
        rows = fleet(srv, ca)
        # Generous limits, so that no row depends on the machine's speed: only the rows about
        # time set their own, and those are bounds the server's sleeps always cross.
        limits = {"timeout_ms": 60000, "degraded_ms": 60000}
        cfg = {"defaults": limits,
               "targets": [dict(name=n, project="it", url=u, path=p, **extra)
                           for n, (u, p, extra, _, _) in rows.items()]}
        path = write_config(d, cfg)
        db = os.path.join(d, "state", "history.db")
        env = {"HT_TEST_TOKEN": "s3cret-token"}
        rc, out, err, _ = run(["check", "-c", path, "--db", db, "--format", "json"], env=env)
        check(err == "", f"no stderr (got {err!r})")
        results = {r["name"]: r for r in json.loads(out)["results"]}
        for name, (_, _, _, want, reason) in rows.items():
            got = results.get(name, {})
            check(got.get("status") == want and reason in got.get("reason", ""),
                  f"{name}: {want} '{reason}' (got {got.get('status')} '{got.get('reason')}')")
        check(rc == 2, f"exit 2 when some target is down (got {rc})")
        check(all(results[f"together-{i}"]["status"] == "healthy" for i in range(3)),
              "one concurrent sweep: the server saw the three 'together' checks open at once")
        esc = results["escape-in-body"]["reason"]
        check(all(ord(c) >= 0x20 and not 0x7f <= ord(c) <= 0x9f for c in esc),
              f"control characters from the network are replaced: {esc!r}")
        good = results["tls-good"]
        check(good["cert_expiry"] is not None and good["phases"]["tls_ms"] is not None,
              f"https result has cert_expiry and tls phase ({good['cert_expiry']}, {good['phases']})")
        plain = results["ok"]
        check(plain["http_code"] == 200 and plain["phases"]["tls_ms"] is None and
              plain["phases"]["connect_ms"] is not None and plain["response_ms"] is not None,
              f"http result has code, phases and no tls phase ({plain})")
        check(results["refused"]["http_code"] is None, "no http_code when nothing answered")
        bomb = results["gzip-bomb"]
        check(bomb["response_ms"] is not None,
              f"a gzip bomb is cut at 64 KiB of decompressed body, its row above says how it is judged "
              f"({bomb['response_ms']} ms)")

        con = sqlite3.connect(db)
        n_rows = con.execute("select count(*) from result").fetchone()[0]
        n_targets = con.execute("select count(*) from target").fetchone()[0]
        check(n_rows == len(rows) and n_targets == len(rows),
              f"database holds one row per target ({n_rows} results, {n_targets} targets, want {len(rows)})")
        stored = dict(con.execute("select t.name, r.status from result r join target t on t.id = r.target_id"))
        want_code = {"healthy": 0, "degraded": 1, "down": 2}
        check(all(stored[n] == want_code[results[n]["status"]] for n in rows), "stored classes match the output")
        con.close()
        check(os.stat(db).st_mode & 0o777 == 0o600, "database file is 0600")
        blob = b"".join(open(os.path.join(os.path.dirname(db), f), "rb").read()
                        for f in os.listdir(os.path.dirname(db)))
        check(b"s3cret-token" not in blob, "header values never reach the database")

        # The table format, a second sweep appends and does not replace.
        rc2, out2, _, _ = run(["check", "-c", path, "--db", db], env=env)
        check(rc2 == 2 and "STATUS" in out2.splitlines()[0] and f"{len(rows)} targets:" in out2,
              "table output has a header and a summary line")
        con = sqlite3.connect(db)
        check(con.execute("select count(*) from result").fetchone()[0] == 2 * len(rows),
              "a second sweep appends one more row per target")
        con.close()
    redirects_keep_secrets(d, certs, ca)
    cut_bodies_and_reasons(d)
    finish()


# These tests are not about time: limits no machine (or valgrind) comes near.
NO_TIMING = {"timeout_ms": 60000, "degraded_ms": 60000}


def keys_seen(srv):
    with urllib.request.urlopen(srv.url() + "/keys-seen", timeout=10) as r:
        return json.loads(r.read())


def redirects_keep_secrets(d, certs, ca):
    """Issue 9 §3: a configured header (an API key) never reaches another host through a
    redirect, and nothing follows https to http. Two loopback servers; "localhost" is another
    host name than "127.0.0.1" for curl, as it would be for any client."""
    with TestServer(certs) as a, TestServer() as b:
        port_b = b.ports["http"]
        key = {"headers": {"X-Api-Key": "${HT_TEST_TOKEN}"}}
        away = "/to?" + urllib.parse.urlencode({"u": f"http://localhost:{port_b}/key"})
        home = "/to?" + urllib.parse.urlencode({"u": "/key"})
        plain = "/to?" + urllib.parse.urlencode({"u": f"http://127.0.0.1:{port_b}/key"})
        rows = {
            "key-cross-host": (a.url(), away, key, "down", f"redirect to http://localhost:{port_b}/key not followed"),
            "key-same-host": (a.url(), home, key, "healthy", "HTTP 200"),
            "no-key-cross-host": (a.url(), away, {}, "healthy", "HTTP 200"),
            "https-to-http": (a.url("tls_good"), plain, {"ca_file": ca}, "down", "redirect from https to http://127.0.0.1"),
            "raw-location": (a.url(), f"/to-raw?port={port_b}", key, "down", "not followed"),
        }
        cfg = write_config(d, {"defaults": NO_TIMING,
                               "targets": [dict(name=n, url=u, path=p, **x) for n, (u, p, x, _, _) in rows.items()]},
                           "redirects.json")
        rc, out, err, _ = run(["check", "-c", cfg, "--db", os.path.join(d, "redir.db"), "--format", "json"],
                              env={"HT_TEST_TOKEN": "s3cret-token"})
        check(err == "", f"redirects: no stderr (got {err!r})")
        results = {r["name"]: r for r in json.loads(out)["results"]}
        for name, (_, _, _, want, reason) in rows.items():
            got = results.get(name, {})
            check(got.get("status") == want and reason in got.get("reason", ""),
                  f"{name}: {want} '{reason}' (got {got.get('status')} '{got.get('reason')}')")
        seen_a, seen_b = keys_seen(a), keys_seen(b)
        check(seen_a == ["s3cret-token"], f"the key reaches its own host after a same-host redirect ({seen_a})")
        check("s3cret-token" not in seen_b, f"the key never reaches the other host ({seen_b})")
        check(seen_b == [None], f"the other host sees only the target without headers ({seen_b})")
        raw = results["raw-location"]["reason"]
        check("%ee" in raw.lower() and "\x1b" not in raw and "\ufffd" not in raw,
              f"a raw byte in a Location is escaped, not passed on ({raw!r})")


def cut_bodies_and_reasons(d):
    """Issue 9 §4: a body over 64 KiB is judged by the status in its kept part or degraded, never
    healthy by default; reasons cut to fit never split a character (json.load must read them)."""
    with TestServer() as srv:
        h = srv.url()
        rows = {"big-fail": ("/big-fail", "down", "status: fail"),
                "big-no-status": ("/big-nostatus", "degraded", "body too large to judge (> 64 KiB)")}
        for i in range(3):   # three alignments of 2-byte characters against the cut
            comps = {"x" * i + "\u00e9" * 20 + str(n): "down" for n in range(6)}
            rows[f"utf8-cut-{i}"] = (body(200, dict(status="ok", **comps)), "degraded", "\u00e9")
        # a name longer than the table's 32-character column, 2-byte characters at odd offsets
        rows["x" + "\u00e9" * 40] = ("/ok", "healthy", "HTTP 200")
        cfg = write_config(d, {"defaults": NO_TIMING,
                               "targets": [dict(name=n, project="p\u00e9" * 20, url=h, path=p)
                                           for n, (p, _, _) in rows.items()]}, "cut.json")
        p = subprocess.run(WRAPPER + [BINARY, "check", "-c", cfg, "--db", os.path.join(d, "cut.db"), "--format", "json"],
                           capture_output=True, timeout=120)
        check(p.stderr == b"", f"cut bodies: no stderr (got {p.stderr!r})")
        try:
            results = {r["name"]: r for r in json.loads(p.stdout.decode("utf-8"))["results"]}
            check(True, "check --format json is valid UTF-8 JSON")
        except (UnicodeDecodeError, ValueError) as e:
            results = {}
            check(False, f"check --format json is valid UTF-8 JSON ({e})")
        for name, (_, want, reason) in rows.items():
            got = results.get(name, {})
            check(got.get("status") == want and reason in got.get("reason", ""),
                  f"{name}: {want} '{reason}' (got {got.get('status')} '{got.get('reason')}')")
        table = subprocess.run(WRAPPER + [BINARY, "check", "-c", cfg, "--db", os.path.join(d, "cut.db")],
                               capture_output=True, timeout=120).stdout
        try:
            lines = table.decode("utf-8").splitlines()
            check(True, "the table is valid UTF-8")
            row = next((ln for ln in lines if ln.split()[1:2] == ["x" + "\u00e9" * 31]), "")
            check(row.startswith("healthy    x" + "\u00e9" * 31 + "  " + "p\u00e9" * 16 + "  "),
                  f"long names and projects are cut to 32 characters, columns aligned ({row!r})")
        except UnicodeDecodeError as e:
            check(False, f"the table is valid UTF-8 ({e})")


if __name__ == "__main__":
    main()
