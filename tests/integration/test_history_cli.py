#!/usr/bin/env python3
"""healthtop export and stats as a new user and a script meet them: a target's old results keep
the URL they were checked at, names that select nothing fail, a first run says how to start,
write errors are reported (a reader that leaves early is not one), exported files are private,
and a database in a read-only directory can still be read."""
import csv
import io
import os
import re
import shutil
import tempfile
import signal
import sqlite3
import stat
import subprocess

from htlib import BINARY, TestServer, WRAPPER, check, finish, run, tmpdir, write_config


def csv_rows(text):
    return list(csv.DictReader(io.StringIO(text, newline="")))


def url_history(d, srv):
    db = os.path.join(d, "moved.db")
    old = write_config(d, {"targets": [{"name": "api", "url": srv.url(), "path": "/ok"}]}, "old.json")
    new = write_config(d, {"targets": [{"name": "api", "url": srv.url(), "path": "/ok?moved=1"}]}, "new.json")
    run(["check", "-c", old, "--db", db])
    run(["check", "-c", new, "--db", db])
    rc, out, err, _ = run(["export", "--db", db])
    urls = [r["url"] for r in csv_rows(out)]
    check(rc == 0 and urls == [srv.url() + "/ok", srv.url() + "/ok?moved=1"],
          f"export: each result keeps the URL it was checked at after the config moved the target ({urls})")
    rc, out, err, _ = run(["export", "--db", db, "--rollup", "hour"])
    check(rc == 0 and csv_rows(out) and csv_rows(out)[-1]["url"] == srv.url() + "/ok?moved=1",
          "export --rollup: a period shows the URL last checked in it")
    return db


def nothing_selected(db):
    for args in (["export", "--target", "nosuch"], ["export", "--project", "nosuch"],
                 ["stats", "--target", "nosuch"], ["export", "--target", "api", "--target", "nosuch"]):
        rc, out, err, _ = run([args[0], "--db", db, *args[1:]])
        check(rc == 4 and out == "" and 'named "nosuch"' in err,
              f"{' '.join(args)}: exit 4 with the name on stderr, nothing on stdout (exit {rc}, {err.strip()!r})")
    rc, out, _, _ = run(["stats", "--db", db, "--target", "api"])
    check(rc == 0 and "api" in out, "stats --target of a known target: exit 0")
    for cmd in ("stats", "export"):   # "--until 2h" read as "for two hours": say so, no zeros
        rc, out, err, _ = run([cmd, "--db", db, "--since", "1h", "--until", "2h"])
        check(rc == 3 and out == "" and '--until: "2h" is not after --since' in err,
              f"{cmd} --since 1h --until 2h: exit 3, says --until is not after --since (exit {rc}, {err.strip()!r})")


def first_run(d):
    env = {"HOME": d, "XDG_CONFIG_HOME": os.path.join(d, "cfg"), "XDG_STATE_HOME": os.path.join(d, "state")}
    rc, _, err, _ = run([], env=env)
    check(rc != 0 and "--demo" in err and "docs/config.md" in err and "example-config.json" in err,
          f"no config: the error says how to start ({err.strip()!r})")
    example = re.search(r"starting from (/\S+|docs/example-config.json)", err)
    where = example and os.path.join(os.path.dirname(__file__), "..", "..", example.group(1))
    check(where and os.path.exists(where), f"and the example it names is there ({example and example.group(1)})")
    for cmd in ("stats", "export"):
        rc, _, err, _ = run([cmd], env=env)
        want = os.path.join(d, "state", "healthtop", "history.db")
        check(rc == 4 and want in err and "--demo" in err and "unable to open" not in err,
              f"{cmd} before any history: names {want} and suggests --demo ({err.strip()!r})")


def write_errors(d, db, srv):
    cfg = write_config(d, {"targets": [{"name": "api", "url": srv.url(), "path": "/ok"}]}, "one.json")
    for args in (["stats", "--db", db], ["stats", "--db", db, "--format", "json"], ["export", "--db", db],
                 ["check", "-c", cfg, "--db", os.path.join(d, "full.db")],
                 ["check", "-c", cfg, "--db", os.path.join(d, "full.db"), "--format", "json"]):
        with open("/dev/full", "w") as full:
            p = subprocess.run(WRAPPER + [BINARY, *args], stdout=full, stderr=subprocess.PIPE, text=True, timeout=120)
        check(p.returncode == 4 and "No space left" in p.stderr,
              f"{' '.join(args[:1] + args[3:])} > /dev/full: exit 4 and says why (exit {p.returncode}, {p.stderr.strip()!r})")


def early_reader(db):
    # Enough rows that the pipe fills long before export is done.
    con = sqlite3.connect(db)
    tid, uid = con.execute("select t.id, r.url_id from target t join result r on r.target_id = t.id").fetchone()
    con.executemany("insert into result(target_id, checked_at, status, http_code, response_ms, reason, url_id)"
                    " values(?, ?, 0, 200, 1.5, 'HTTP 200 with a reason long enough to fill pipes', ?)",
                    [(tid, 1700000000000 + i, uid) for i in range(30000)])
    con.commit()
    con.close()
    p = subprocess.run(f"'{BINARY}' export --db '{db}' | head -1", shell=True, capture_output=True, text=True, timeout=120)
    check(p.stdout.startswith("checked_at,") and p.stderr == "", f"export | head -1 ends quietly ({p.stderr.strip()!r})")
    # Where SIGPIPE is ignored (some supervisors do), the write fails with EPIPE instead.
    p = subprocess.Popen(WRAPPER + [BINARY, "export", "--db", db], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         preexec_fn=lambda: signal.signal(signal.SIGPIPE, signal.SIG_IGN))
    first = p.stdout.readline()
    p.stdout.close()
    err = p.stderr.read()
    rc = p.wait(120)
    check(first.startswith(b"checked_at,") and err == b"" and rc == 4,
          f"export to a reader that left, SIGPIPE ignored: no message, exit 4 (exit {rc}, {err!r})")


def private_files(d, db):
    for mask in (0o022, 0o000):
        out = os.path.join(d, f"export-{mask:o}.csv")
        p = subprocess.run(WRAPPER + [BINARY, "export", "--db", db, "--target", "api", "-o", out],
                           capture_output=True, preexec_fn=lambda m=mask: os.umask(m), timeout=120)
        mode = stat.S_IMODE(os.stat(out).st_mode) if os.path.exists(out) else None
        check(p.returncode == 0 and mode == 0o600, f"export -o under umask {mask:03o} creates the file 0600 (mode {mode and oct(mode)})")


def read_only_directory(d, db):
    ro = os.path.join(d, "ro")
    os.mkdir(ro)
    copy = os.path.join(ro, "h.db")
    with open(db, "rb") as src, open(copy, "wb") as dst:
        dst.write(src.read())
    os.chmod(copy, 0o644)
    os.chmod(ro, 0o555)
    os.chmod(d, 0o755)
    # root writes anywhere: read as nobody, who cannot create the -shm file beside the database
    user = 65534 if os.geteuid() == 0 else None
    binary = BINARY
    if user is not None:
        # the build tree may sit in a directory nobody cannot enter (a mktemp -d): run a copy
        bindir = tempfile.mkdtemp(prefix="healthtop-bin-")
        os.chmod(bindir, 0o755)
        binary = os.path.join(bindir, "healthtop")
        shutil.copy(BINARY, binary)
        os.chmod(binary, 0o755)
    for args in (["export", "--db", copy, "--target", "api"], ["stats", "--db", copy, "--target", "api"]):
        p = subprocess.run(WRAPPER + [binary, *args], capture_output=True, text=True, user=user, timeout=120)
        check(p.returncode == 0 and "api" in p.stdout and not os.path.exists(copy + "-shm"),
              f"{args[0]} reads a database in a read-only directory (exit {p.returncode}, {p.stderr.strip()!r})")
    os.chmod(ro, 0o755)


def main():
    d = tmpdir()
    with TestServer() as srv:
        db = url_history(d, srv)
        nothing_selected(db)
        first_run(d)
        write_errors(d, db, srv)
        read_only_directory(d, db)
        private_files(d, db)
        early_reader(db)
    finish()


if __name__ == "__main__":
    main()
