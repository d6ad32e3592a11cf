"""Shared scaffolding for healthtop's integration tests: certificates, the loopback test
server, configs, and running the real binary."""
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BINARY = os.environ.get("HEALTHTOP") or os.path.join(HERE, "..", "..", "healthtop")
# e.g. HT_WRAPPER="valgrind --error-exitcode=99 --leak-check=full -q"
WRAPPER = shlex.split(os.environ.get("HT_WRAPPER", ""))
# Under valgrind everything is many times slower: timing expectations do not apply.
TIMED = not WRAPPER
# Limits no answer from a loopback server reaches, however loaded the machine: a test that is
# not about time sets these, so that no class it asserts depends on the machine's speed.
NO_TIMING = {"timeout_ms": 60000, "degraded_ms": 60000}

_failures = []
_count = [0]


def check(cond, what):
    """Records a failed expectation and keeps going, so one run shows every broken row."""
    _count[0] += 1
    print(f"{'ok  ' if cond else 'FAIL'} {what}", flush=True)
    if not cond:
        _failures.append(what)


def finish():
    print(f"{_count[0] - len(_failures)} passed, {len(_failures)} failed")
    sys.exit(1 if _failures else 0)


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_certs(d):
    """A private CA and leaf certificates: good, expiring in 3 days, expired, for the wrong
    host, and self-signed. Returns {name: (cert, key)} and the CA file."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "30",
            "-subj", "/CN=healthtop-test-ca", cwd=d)
    with open(os.path.join(d, "ca.cnf"), "w") as f:
        f.write("[ca]\ndefault_ca=d\n[d]\ndir=.\ndatabase=index.txt\nnew_certs_dir=.\n"
                "serial=serial\ndefault_md=sha256\npolicy=p\nunique_subject=no\n"
                "[p]\ncommonName=supplied\n")
    open(os.path.join(d, "index.txt"), "w").close()
    with open(os.path.join(d, "serial"), "w") as f:
        f.write("01\n")
    with open(os.path.join(d, "ip.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    with open(os.path.join(d, "other.ext"), "w") as f:
        f.write("subjectAltName=DNS:other.example\n")
    now = time.time()

    def stamp(t):
        return time.strftime("%Y%m%d%H%M%SZ", time.gmtime(t))

    leaves = {"tls_good": (now - 3600, now + 200 * 86400, "ip.ext"),
              "tls_expiring": (now - 3600, now + 3 * 86400 - 3600, "ip.ext"),
              "tls_expired": (now - 10 * 86400, now - 2 * 86400, "ip.ext"),
              "tls_wronghost": (now - 3600, now + 200 * 86400, "other.ext")}
    out = {}
    for name, (start, end, ext) in leaves.items():
        openssl("req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", "/CN=127.0.0.1", cwd=d)
        openssl("ca", "-batch", "-config", "ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key",
                "-in", f"{name}.csr", "-out", f"{name}.pem", "-startdate", stamp(start),
                "-enddate", stamp(end), "-extfile", ext, "-notext", cwd=d)
        out[name] = (os.path.join(d, f"{name}.pem"), os.path.join(d, f"{name}.key"))
    openssl("req", "-x509", *ec, "-keyout", "self.key", "-out", "self.pem", "-days", "30",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", cwd=d)
    out["tls_self"] = (os.path.join(d, "self.pem"), os.path.join(d, "self.key"))
    return out, os.path.join(d, "ca.pem")


class TestServer:
    def __init__(self, certs=None, lifetime=300, gzip_bomb=False):
        args = [sys.executable, os.path.join(HERE, "htserver.py"), "--lifetime", str(lifetime)]
        if gzip_bomb:
            args.append("--gzip-bomb")
        for name, (cert, key) in (certs or {}).items():
            args.append(f"{name}={cert}:{key}")
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.ports = json.loads(self.proc.stdout.readline())

    def url(self, name="http"):
        scheme = "http" if name == "http" else "https"
        return f"{scheme}://127.0.0.1:{self.ports[name]}"

    def stop(self):
        self.proc.stdin.close()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def wait_for(pred, timeout=60):
    """Polls pred until it holds; the ceiling only matters when a test fails. A database busy
    or not yet created counts as "not yet"."""
    import sqlite3
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if pred():
                return True
        except sqlite3.Error:
            pass
        time.sleep(0.2)
    return False


def tmpdir():
    return tempfile.mkdtemp(prefix="healthtop-it-")


def write_config(d, cfg, name="fleet.json"):
    path = os.path.join(d, name)
    with open(path, "w") as f:
        if isinstance(cfg, str):
            f.write(cfg)
        else:
            json.dump(cfg, f, indent=2)
    return path


def run(args, env=None, timeout=120):
    full_env = dict(os.environ)
    full_env.update(env or {})
    t0 = time.monotonic()
    p = subprocess.run(WRAPPER + [BINARY, *args], capture_output=True, text=True,
                       env=full_env, timeout=timeout)
    return p.returncode, p.stdout, p.stderr, time.monotonic() - t0
