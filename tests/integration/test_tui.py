#!/usr/bin/env python3
"""The real dashboard driven in tmux (new-session -x -y, send-keys, capture-pane) against
loopback servers: classes appear, results accumulate on schedule, r and R add results, the
screen survives 40x10 and back and keeps its clock and q:quit at 80x24, e exports (0600, never
half a file), q in the help closes it, the selected row wears the theme's selected colours,
a wide screen shows each target's REASON and FOR, /down and /!healthy filter by class, H hides
the healthy, m mutes the selected target for the time typed,
TERM=dumb is refused like an unknown TERM, q exits 0 and restores the terminal.
Without tmux the test is skipped (exit 77), saying so."""
import glob
import re
import os
import stat
import sys
import shlex
import shutil
import sqlite3
import subprocess
import time
import urllib.parse

from htlib import BINARY, TIMED, WRAPPER, TestServer, check, finish, tmpdir, write_config

# One tmux server per run: a server still shutting down must not meet the next run.
SOCKET = [f"healthtop-test-{os.getpid()}-0"]


def tmux(*args, check_rc=True):
    return subprocess.run(["tmux", "-L", SOCKET[0], *args], capture_output=True, text=True, check=check_rc).stdout


def screen():
    return tmux("capture-pane", "-p", "-t", "ht")


def rows_per_target(db):
    if not os.path.exists(db):
        return {}
    con = sqlite3.connect(db)
    try:
        return dict(con.execute("select t.name, count(r.id) from target t left join result r on r.target_id = t.id group by t.name"))
    except sqlite3.OperationalError:
        return {}
    finally:
        con.close()


# Every wait polls for the state it expects; the ceiling only matters when that state never
# comes (a failure), so a loaded machine makes the test slower, never red.
CEILING = 60


def wait_for(pred, timeout=CEILING):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.2)
    return pred()


def screen_until(pred, timeout=CEILING, escapes=False):
    """The screen once pred(screen) holds (or the last one seen when it never does): the
    dashboard repaints when it gets to it, so the test waits for the picture, not a time."""
    args = ("capture-pane", "-e", "-p", "-t", "ht") if escapes else ("capture-pane", "-p", "-t", "ht")
    text = [tmux(*args)]

    def holds():
        text[0] = tmux(*args)
        return pred(text[0])
    wait_for(holds, timeout)
    return text[0]


def exited(exit_file):
    return os.path.exists(exit_file) and open(exit_file).read().strip() != ""


def start(d, cfg_path, db, cols=100, lines=30, env="", args=()):
    SOCKET[0] = f"healthtop-test-{os.getpid()}-{d[-8:]}"
    exit_file = os.path.join(d, "exit")
    cmd = " ".join(shlex.quote(a) for a in WRAPPER + [BINARY, "-c", cfg_path, "--db", db, *args])
    # umask 022: the export must be 0600 whatever the umask
    shell = (f"cd {shlex.quote(d)} && umask 022 && env LANG=C.UTF-8 LC_ALL=C.UTF-8 {env} {cmd} 2>{shlex.quote(d)}/stderr; "
             f"echo $? > {shlex.quote(exit_file)}; sleep 600")
    tmux("-u", "new-session", "-d", "-s", "ht", "-x", str(cols), "-y", str(lines), shell)
    return exit_file


def quit_and_check(exit_file, label):
    tmux("send-keys", "-t", "ht", "q")
    ok = wait_for(lambda: exited(exit_file))
    code = open(exit_file).read().strip() if ok else "none"
    check(code == "0", f"{label}: q exits 0 (got {code})")
    after = screen_until(lambda t: "healthtop" not in t and "STATUS" not in t)
    check("healthtop" not in after and "STATUS" not in after,
          f"{label}: the terminal is restored after q (no dashboard left on screen)")
    tmux("kill-server", check_rc=False)


def fleet(srv, interval):
    body503 = "/body?" + urllib.parse.urlencode({"code": 503, "json": "{}"})
    # No class may depend on the machine's speed: only a hanging server reaches a time limit.
    return {"defaults": {"interval_s": interval, "timeout_ms": 60000, "degraded_ms": 60000},
            "targets": [
                {"name": "alpha-ok", "project": "shop", "url": srv.url(), "path": "/ok"},
                {"name": "beta-ok", "project": "shop", "url": srv.url(), "path": "/ok"},
                {"name": "gamma-503", "project": "shop", "url": srv.url(), "path": body503},
                {"name": "delta-refused", "project": "ledger", "url": "http://127.0.0.1:9"},
                {"name": "epsilon-404", "project": "ledger", "url": srv.url(), "path": "/nowhere"},
            ]}


def line_of(text, name):
    return next((l for l in text.splitlines() if f" {name}" in l), "")


def scheduled_run(srv):
    d = tmpdir()
    cfg = write_config(d, fleet(srv, 2))
    db = os.path.join(d, "h.db")
    exit_file = start(d, cfg, db)
    # Counted, not timed: the schedule goes on until every target has three results.
    wait_for(lambda: len(rows_per_target(db)) == 5 and all(n >= 3 for n in rows_per_target(db).values()))
    counts = rows_per_target(db)
    check(len(counts) == 5 and all(n >= 3 for n in counts.values()),
          f"interval 2 s: every target accumulates >= 3 stored results ({counts})")
    want = {"alpha-ok": "healthy", "beta-ok": "healthy", "gamma-503": "degraded",
            "delta-refused": "down", "epsilon-404": "down"}

    def classes_shown(t):
        head = t.splitlines()[0] if t.splitlines() else ""
        return (all(w in line_of(t, n) for n, w in want.items()) and "shop (3)" in t and "ledger (2)" in t
                and "2 healthy" in head and "1 degraded" in head and "2 down" in head)
    text = screen_until(classes_shown)
    for name, word in want.items():
        check(word in line_of(text, name), f"screen shows {name} as {word}: {line_of(text, name).strip()!r}")
    check("shop (3)" in text and "ledger (2)" in text, "panels grouped by project with counts")
    head = text.splitlines()[0]
    check("2 healthy" in head and "1 degraded" in head and "2 down" in head, f"header counts: {head.strip()!r}")

    tmux("resize-window", "-t", "ht", "-x", "40", "-y", "10")
    small = screen_until(lambda t: len(t.splitlines()) == 10 and all(len(l) <= 40 for l in t.splitlines())
                         and "healthtop" in t.splitlines()[0] and "down" in t).splitlines()
    check(len(small) == 10 and all(len(l) <= 40 for l in small) and "healthtop" in small[0],
          f"40x10: the screen fits and keeps its header ({small[:2]})")
    check(any("down" in l for l in small), "40x10: status words are still shown")
    tmux("resize-window", "-t", "ht", "-x", "80", "-y", "24")
    std = screen_until(lambda t: len(t.splitlines()) == 24 and re.search(r" \d\d:\d\d\s*$", t.splitlines()[0])
                       and t.splitlines()[-1].rstrip().endswith("q:quit")).splitlines()
    check(re.search(r" \d\d:\d\d\s*$", std[0]) is not None and "healthtop" in std[0],
          f"80x24: the header keeps its clock ({std[0]!r})")
    check(std[-1].rstrip().endswith("q:quit"), f"80x24: the hint line keeps q:quit ({std[-1]!r})")
    tmux("resize-window", "-t", "ht", "-x", "100", "-y", "30")
    big = screen_until(lambda t: len(t.splitlines()) == 30 and "UPTIME" in t.splitlines()[1]
                       and all(n in t for n in want))
    check("UPTIME" in big.splitlines()[1] and all(n in big for n in want),
          "back to 100x30: every column and every target is back")

    tmux("send-keys", "-t", "ht", "/", "ledger", "Enter")
    filtered = screen_until(lambda t: "delta-refused" in t and "alpha-ok" not in t)
    check("delta-refused" in filtered and "alpha-ok" not in filtered, "/ filters by project")
    tmux("send-keys", "-t", "ht", "e")
    ok = wait_for(lambda: glob.glob(os.path.join(d, "healthtop-*.csv")))
    files = glob.glob(os.path.join(d, "healthtop-*.csv"))
    content = open(files[0]).read() if files else ""
    check(ok and content.startswith("checked_at,project,name,url,status") and "delta-refused" in content
          and "alpha-ok" not in content, f"e exports the filtered view to {files[0] if files else '(none)'}")
    check("exported" in screen_until(lambda t: "exported" in t.splitlines()[-1]).splitlines()[-1],
          "the status line shows the export path")
    mode = stat.S_IMODE(os.stat(files[0]).st_mode) if files else None
    check(mode == 0o600, f"the export is created 0600 under umask 022 (got {oct(mode) if mode else None})")
    check(not glob.glob(os.path.join(d, ".healthtop-*")), "no temporary file is left beside the export")
    quit_and_check(exit_file, "interval 2 s")


def forced_run(srv):
    d = tmpdir()
    cfg = write_config(d, fleet(srv, 600))
    db = os.path.join(d, "h.db")
    exit_file = start(d, cfg, db)
    # With 600 s between checks, every row after the first five comes from a key: the counts
    # are stable between key presses, so they are compared, never timed.
    first = wait_for(lambda: len(rows_per_target(db)) == 5 and all(n == 1 for n in rows_per_target(db).values()))
    check(first, f"interval 600 s: one first check each at start ({rows_per_target(db)})")
    before = rows_per_target(db)
    tmux("send-keys", "-t", "ht", "R")
    ok = wait_for(lambda: all(n >= before.get(k, 0) + 1 for k, n in rows_per_target(db).items()))
    check(ok, f"R adds a result for every target ({before} -> {rows_per_target(db)})")
    sel = next(l.split()[2] for l in screen().splitlines()[2:] if "down" in l or "healthy" in l or "degraded" in l)
    before = rows_per_target(db)
    tmux("send-keys", "-t", "ht", "r")
    ok = wait_for(lambda: rows_per_target(db).get(sel, 0) == before.get(sel, 0) + 1)
    after = rows_per_target(db)
    others_same = all(after[k] == before[k] for k in after if k != sel)
    check(ok and others_same, f"r checks only the selected target {sel} ({before} -> {after})")
    tmux("send-keys", "-t", "ht", "Enter")
    detail = screen_until(lambda t: "URL" in t and "Reason" in t and "Phases" in t)
    check("URL" in detail and "Reason" in detail and "Phases" in detail, "Enter opens the detail view")
    tmux("send-keys", "-t", "ht", "Escape")
    # The next key only once Escape has been read: both at once would read as Alt+key.
    screen_until(lambda t: "Phases" not in t and "STATUS" in t)
    tmux("send-keys", "-t", "ht", "?")
    check("any key closes this help" in screen_until(lambda t: "any key closes this help" in t), "? opens the help")
    tmux("send-keys", "-t", "ht", "q")
    # the help closes either way; then the list is back, or the program has gone
    after = screen_until(lambda t: "any key closes this help" not in t and ("STATUS" in t or exited(exit_file)))
    check(not os.path.exists(exit_file) and "any key closes this help" not in after and "STATUS" in after,
          "q in the help closes the help, as it says, and does not quit")
    quit_and_check(exit_file, "interval 600 s")


def alert_screen_run(srv):
    """200 columns: REASON and FOR; status words in the filter; H; m + 30m + Enter mutes."""
    d = tmpdir()
    exit_file = start(d, write_config(d, fleet(srv, 600)), os.path.join(d, "h.db"), cols=200, lines=30)
    names = ("alpha-ok", "beta-ok", "gamma-503", "delta-refused", "epsilon-404")
    text = screen_until(lambda t: all(re.search(r"(healthy|degraded|down)", line_of(t, n)) for n in names)
                        and re.search(r"\bdown \d+[smh]\b", line_of(t, "delta-refused")) is not None)
    ok = all(re.search(r"(healthy|degraded|down)", line_of(text, n)) for n in names)
    titles = text.splitlines()[1]
    check(ok and "REASON" in titles and "FOR" in titles, f"200 columns: REASON and FOR columns ({titles.strip()!r})")
    delta = line_of(text, "delta-refused")
    check(re.search(r"refused", delta.split("delta-refused", 1)[1]) is not None,
          f"the reason column says why delta-refused is down ({delta.strip()!r})")
    check(re.search(r"\bdown \d+[smh]\b", delta) is not None, f"FOR says how long it has been down ({delta.strip()!r})")

    tmux("send-keys", "-t", "ht", "/")
    tmux("send-keys", "-t", "ht", "-l", "down")   # -l: the letters, not tmux's Down key
    tmux("send-keys", "-t", "ht", "Enter")

    def names_shown(t):
        return [n for n in names if n in t]

    def all_back(t):
        return names_shown(t) == list(names)
    text = screen_until(lambda t: names_shown(t) == ["delta-refused", "epsilon-404"])
    shown = names_shown(text)
    check(shown == ["delta-refused", "epsilon-404"], f"/down shows only the down targets ({shown})")
    tmux("send-keys", "-t", "ht", "Escape")
    # apart: Escape and the next key at once would read as Alt+key, so wait for its effect
    screen_until(all_back)
    tmux("send-keys", "-t", "ht", "/")
    tmux("send-keys", "-t", "ht", "-l", "!healthy")
    tmux("send-keys", "-t", "ht", "Enter")
    shown = names_shown(screen_until(lambda t: names_shown(t) == ["gamma-503", "delta-refused", "epsilon-404"]))
    check(shown == ["gamma-503", "delta-refused", "epsilon-404"], f"/!healthy leaves the healthy out ({shown})")
    tmux("send-keys", "-t", "ht", "Escape")
    screen_until(all_back)
    tmux("send-keys", "-t", "ht", "H")
    text = screen_until(lambda t: names_shown(t) == ["gamma-503", "delta-refused", "epsilon-404"]
                        and "H:healthy=hidden" in t.splitlines()[-1])
    shown = names_shown(text)
    check(shown == ["gamma-503", "delta-refused", "epsilon-404"] and "H:healthy=hidden" in text.splitlines()[-1],
          f"H hides the healthy targets and the hint line says so ({shown})")
    tmux("send-keys", "-t", "ht", "H")
    screen_until(lambda t: names_shown(t) == list(names))

    tmux("send-keys", "-t", "ht", "/", "alpha", "Enter")
    screen_until(lambda t: names_shown(t) == ["alpha-ok"])
    tmux("send-keys", "-t", "ht", "m")
    text = screen_until(lambda t: "mute alpha-ok for" in t.splitlines()[-1])
    check("mute alpha-ok for" in text.splitlines()[-1], "m asks how long to mute the selected target")
    tmux("send-keys", "-t", "ht", "-l", "30m")
    tmux("send-keys", "-t", "ht", "Enter")
    text = screen_until(lambda t: "muted alpha-ok for 30m" in t.splitlines()[-1])
    check("muted alpha-ok for 30m" in text.splitlines()[-1], f"the status line says it is muted ({text.splitlines()[-1].strip()!r})")
    tmux("send-keys", "-t", "ht", "Escape")
    text = screen_until(lambda t: names_shown(t) == list(names)
                        and re.search(r"muted (30|29)m", line_of(t, "alpha-ok")) is not None)
    check(re.search(r"muted (30|29)m", line_of(text, "alpha-ok")) is not None,
          f"alpha-ok shows as muted with the time left ({line_of(text, 'alpha-ok').strip()!r})")
    check(not any("muted" in line_of(text, n) for n in names[1:]), "and no other target does")
    quit_and_check(exit_file, "alert screen")


def every_class_shown(painted):
    """Every target's row carries its class (the hint line's "H:healthy" is not a row)."""
    plain = re.sub(r"\x1b\[[0-9;]*[A-Za-z]|\x1b\(B", "", painted)
    return all(re.search(r"(healthy|degraded|down)", line_of(plain, n)) for n in
               ("alpha-ok", "beta-ok", "gamma-503", "delta-refused", "epsilon-404"))


COLOUR = re.compile(r"\x1b\[[0-9;]*(?:3[0-7]|38;5;\d+|4[0-7]|48;5;\d+)[;m]")


def colour_runs(srv):
    """The default theme paints classes in colour; NO_COLOR leaves only attributes."""
    for env, want in (("TERM=xterm-256color", True), ("TERM=xterm-256color NO_COLOR=1", False)):
        d = tmpdir()
        exit_file = start(d, write_config(d, fleet(srv, 600)), os.path.join(d, "h.db"), env=env)
        # wait for the classes, then look at how they are painted
        painted = screen_until(every_class_shown, escapes=True)
        has = bool(COLOUR.search(painted))
        check(has == want, f"{env}: colour on screen is {has}, want {want}")
        check("down" in painted and "healthy" in painted, f"{env}: the words carry the status either way")
        quit_and_check(exit_file, env)


def selected_theme_run(srv):
    """The selected row wears the theme's selected colours (magenta background here), not
    reverse video."""
    d = tmpdir()
    theme = os.path.join(d, "sel.theme")
    with open(theme, "w") as f:
        f.write("selected = white magenta\n")
    exit_file = start(d, write_config(d, fleet(srv, 600)), os.path.join(d, "h.db"),
                      env="TERM=xterm-256color", args=("--theme", theme))
    rows = screen_until(every_class_shown, escapes=True).splitlines()
    sel = next((r for r in rows[2:] if re.search(r"(healthy|degraded|down)", r)), "")
    check(re.search(r"\x1b\[[0-9;]*4[05]m|\x1b\[[0-9;]*48;5;5m", sel) is not None,
          f"the selected row has the theme's magenta background ({sel!r})")
    check(re.search(r"\x1b\[[0-9;]*\b7m", sel) is None, "and no reverse video")
    quit_and_check(exit_file, "theme selected")


def refused_terminals():
    """TERM=dumb has an entry but cannot address the cursor: the same refusal and exit code as
    an unknown TERM, and nothing drawn."""
    got = {}
    for term in ("nosuch-terminal-xyz", "dumb"):
        d = tmpdir()
        cfg = write_config(d, {"targets": [{"name": "a", "url": "http://127.0.0.1:9"}]})
        db = os.path.join(d, "h.db")
        exit_file = start(d, cfg, db, env=f"TERM={term}")
        wait_for(lambda: exited(exit_file))
        code = open(exit_file).read().strip() if os.path.exists(exit_file) else "none"
        err = open(os.path.join(d, "stderr")).read()
        got[term] = code
        check(f"cannot use the terminal (TERM={term})" in err, f"TERM={term}: a clear refusal ({err.strip()!r})")
        check(not [l for l in screen().splitlines() if l.strip()], f"TERM={term}: nothing drawn on the screen")
        check(not os.path.exists(db), f"TERM={term}: refused before any database is created")
        tmux("kill-server", check_rc=False)
    check(got["dumb"] == got["nosuch-terminal-xyz"] and got["dumb"] not in ("0", "none"),
          f"TERM=dumb exits like an unknown TERM ({got})")


def main():
    if not shutil.which("tmux"):
        print("SKIP: tmux is not installed (scripts/install-deps.sh installs it); the dashboard was not tested")
        sys.exit(77)
    with TestServer() as srv:
        try:
            scheduled_run(srv)
            forced_run(srv)
            alert_screen_run(srv)
            colour_runs(srv)
            selected_theme_run(srv)
            refused_terminals()
        finally:
            tmux("kill-server", check_rc=False)
    finish()


if __name__ == "__main__":
    main()
