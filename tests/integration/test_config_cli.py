#!/usr/bin/env python3
"""Bad configs and bad command lines exit 3 with FILE:LINE and the field, and create nothing."""
import os
import re
import signal
import subprocess
import time

from htlib import BINARY, WRAPPER, check, finish, run, tmpdir, write_config

GOOD_TARGET = '{"name": "a", "url": "http://127.0.0.1:9"}'

CASES = [
    ("negative timeout", '{\n  "targets": [\n    {"name": "a", "url": "http://127.0.0.1:9",\n     "timeout_ms": -5}\n  ]\n}\n',
     "fleet.json:4: targets[0].timeout_ms: -5 is not an integer 1..600000"),
    ("file scheme", '{"targets": [\n' + GOOD_TARGET + ',\n{"name": "b", "url": "file:///etc/passwd"}]}',
     'fleet.json:3: targets[1].url: scheme "file" is not one of http, https, grpc, grpcs, tcp, tls'),
    ("duplicate name", '{"targets": [\n' + GOOD_TARGET + ',\n' + GOOD_TARGET + ']}',
     'fleet.json:3: targets[1].name: "a" is already the name of targets[0]'),
    ("missing url", '{"targets": [\n{"name": "a"}]}', 'fleet.json:2: targets[0]: missing "url"'),
    ("unknown key", '{"targets": [\n{"name": "a", "url": "http://h", "timeout": 5}]}',
     'fleet.json:2: targets[0].timeout: unknown key "timeout" (did you mean "timeout_ms"?)'),
    ("syntax", '{"targets": [\n  {"name": "a" "url": "http://h"}]}', "fleet.json:2:16: JSON syntax error"),
    ("unreadable ca_file", '{"targets": [\n{"name": "a", "url": "https://h",\n "ca_file": "/nonexistent/ca.pem"}]}',
     'fleet.json:3: targets[0].ca_file: "/nonexistent/ca.pem" is not readable: No such file or directory'),
    # cJSON takes a form feed for a space; the line finder used to spin on it at 100 % CPU.
    ("control byte", '{"targets":[\f{"name":"a","url":"http://127.0.0.1:1"}],"bogus":1}\n',
     "fleet.json:1:13: control character 0x0C outside a string"),
]


def main():
    d = tmpdir()
    for what, text, msg in CASES:
        path = write_config(d, text)
        db = os.path.join(d, "state", what.replace(" ", "_"), "history.db")
        rc, out, err, _ = run(["check", "-c", path, "--db", db])
        check(rc == 3 and msg in err, f"{what}: exit 3 and '{msg}' (got {rc}, {err.strip()!r})")
        check(err.count(d) == 1 or msg.split(":")[0] in err, f"{what}: message names the file")
        check(not os.path.exists(os.path.dirname(db)), f"{what}: nothing created")

    rc, _, err, _ = run(["check", "-c", os.path.join(d, "missing.json"), "--db", os.path.join(d, "x.db")])
    check(rc == 3 and "missing.json: cannot open: No such file or directory" in err, f"missing file: exit 3 ({err.strip()!r})")
    check(not os.path.exists(os.path.join(d, "x.db")), "missing file: nothing created")

    env = {"XDG_CONFIG_HOME": os.path.join(d, "xdg"), "XDG_STATE_HOME": os.path.join(d, "xdgstate")}
    rc, _, err, _ = run(["check"], env=env)
    check(rc == 3 and os.path.join(d, "xdg", "healthtop", "config.json") in err,
          f"default config path is $XDG_CONFIG_HOME/healthtop/config.json ({err.strip()!r})")
    os.makedirs(os.path.join(d, "xdg", "healthtop"))
    write_config(os.path.join(d, "xdg", "healthtop"), '{"targets": [' + GOOD_TARGET + ']}', "config.json")
    rc, out, err, _ = run(["check"], env=env)
    check(rc == 2 and os.path.exists(os.path.join(d, "xdgstate", "healthtop", "history.db")),
          f"default database is $XDG_STATE_HOME/healthtop/history.db (exit {rc})")

    bad_theme = write_config(d, "# mine\ndown = reddish bold\n", "bad.theme")
    rc, _, err, _ = run(["--theme", bad_theme, "--demo"])
    check(rc == 3 and "bad.theme:2: down: \"reddish\" is not a colour" in err, f"bad theme file: exit 3 with file:line ({err.strip()!r})")
    rc, _, err, _ = run(["--theme", "no-such-theme", "--demo"])
    check(rc == 3 and 'theme "no-such-theme" not found' in err, "unknown theme name: exit 3")
    home = os.path.join(d, "home")
    rc, _, err, _ = run(["--demo"], env={"HOME": home, "XDG_STATE_HOME": ""})
    check(rc == 3 and "needs a terminal" in err, f"the dashboard without a terminal says so ({err.strip()!r})")
    check(not os.path.exists(home), "and creates nothing")

    rc, _, err, _ = run(["check", "--format", "xml"])
    check(rc == 3 and '--format: "xml" is not table or json' in err, "bad --format: exit 3")
    rc, _, err, _ = run(["check", "--concurrency", "0"])
    check(rc == 3 and "--concurrency" in err, "bad --concurrency: exit 3")
    rc, _, err, _ = run(["check", "--bogus"])
    check(rc == 3 and "unknown option --bogus" in err, "unknown option: exit 3")
    rc, _, err, _ = run(["frobnicate"])
    check(rc == 3 and 'unknown command "frobnicate"' in err, "unknown command: exit 3")
    rc, out, _, _ = run(["--version"])
    check(rc == 0 and out.startswith("healthtop "), f"--version ({out.strip()})")
    rc, out, _, _ = run(["--help"])
    check(rc == 0 and "usage:" in out and "check" in out, "--help")
    help_lists_every_option(out)
    daemon_survives_reload_of_control_bytes()
    finish()


def help_usage_of(help_text, sub):
    """The usage lines --help gives for one command (None: the dashboard), continuations too."""
    lines, block = help_text.splitlines(), []
    for l in lines:
        words = l.replace("usage:", "").split()
        if words[:1] == ["healthtop"]:
            if block:
                break
            if (words[1] == sub) if sub else words[1].startswith("["):
                block.append(l)
        elif block and l.startswith("     "):
            block.append(l)
        elif block:
            break
    return "\n".join(block)


def help_lists_every_option(help_text):
    """--help is where a new operator looks first: every option a command's own usage names must
    be on that command's lines there (--metrics-listen and mute --demo once were not)."""
    for sub in ["check", "daemon", "export", "stats", "mute", "unmute", None]:
        _, out, err, _ = run([sub, "--help"] if sub else ["--bogus"])
        usage = (out + err)[(out + err).index("usage:"):]
        opts = set(re.findall(r"(?:\[|\| )(--?[a-z-]+)", usage))
        cmd = sub or "the dashboard"
        listed = help_usage_of(help_text, sub)
        missing = sorted(o for o in opts if o not in re.findall(r"--?[a-z-]+", listed))
        check(opts and listed and not missing,
              f"healthtop --help lists every option of {cmd} (missing {missing})")


def wait_for_text(path, text, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with open(path, errors="replace") as f:
            if text in f.read():
                return True
        time.sleep(0.1)
    return False


def daemon_survives_reload_of_control_bytes():
    """SIGHUP with a config holding a stray control byte used to wedge the daemon for good."""
    d = tmpdir()
    cfg = write_config(d, '{"targets": [' + GOOD_TARGET + ']}')
    log = os.path.join(d, "daemon.log")
    with open(log, "w") as err:
        p = subprocess.Popen(WRAPPER + [BINARY, "daemon", "-c", cfg, "--db", os.path.join(d, "h.db")], stderr=err)
    try:
        check(wait_for_text(log, "started", 60), "daemon starts")
        write_config(d, '{"targets":[\f{"name":"a","url":"http://127.0.0.1:1"}],"bogus":1}\n')
        p.send_signal(signal.SIGHUP)
        check(wait_for_text(log, "keeping the old config", 60), "reload of a control byte is refused")
        check(wait_for_text(log, "control character 0x0C outside a string", 60), "and says why")
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            rc = p.wait(60)
        except subprocess.TimeoutExpired:
            p.kill()
            rc = p.wait()
    check(rc == 0, f"SIGTERM still stops it after the refused reload (exit {rc})")


if __name__ == "__main__":
    main()
