"""A real, throwaway PostgreSQL server for the tests and benchmarks: initdb into a temporary
directory as an unprivileged user (initdb refuses root), listening on 127.0.0.1 on an ephemeral
port with its socket in that directory, stopped and removed after.

    with PgServer() as pg:          # raises PgUnavailable (with the reason) when it cannot run
        pg.url()                    # postgresql://healthtop@127.0.0.1:PORT/healthtop
        pg.stop(); pg.start()       # the database going away and coming back

Debian's server binaries live in /usr/lib/postgresql/<major>/bin (package postgresql, which
scripts/install-deps.sh installs); PG_BIN overrides where to find them."""
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time


class PgUnavailable(Exception):
    pass


def pg_bin():
    dirs = [os.environ["PG_BIN"]] if os.environ.get("PG_BIN") else \
        sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]), reverse=True)
    for d in dirs:
        if os.access(os.path.join(d, "initdb"), os.X_OK) and os.access(os.path.join(d, "pg_ctl"), os.X_OK):
            return d
    return None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    def __init__(self, user="nobody"):
        self.bin = pg_bin()
        if not self.bin:
            raise PgUnavailable("no PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb): "
                                "install the 'postgresql' package (scripts/install-deps.sh does)")
        self.dir = tempfile.mkdtemp(prefix="healthtop-pg-")
        self.data = os.path.join(self.dir, "data")
        self.port = free_port()
        # As root, the server runs as an unprivileged user; otherwise as ourselves.
        self.prefix = []
        if os.geteuid() == 0:
            if not shutil.which("runuser"):
                raise PgUnavailable("running as root without runuser: cannot start PostgreSQL unprivileged")
            pw = pwd.getpwnam(user)
            os.chmod(self.dir, 0o755)
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
            self.prefix = ["runuser", "-u", user, "--"]
        self._sh([os.path.join(self.bin, "initdb"), "-D", self.data, "-U", "healthtop", "--auth=trust",
                  "-E", "UTF8", "--no-sync", "--locale=C"])
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            f.write(f"\nlisten_addresses = '127.0.0.1'\nport = {self.port}\n"
                    f"unix_socket_directories = '{self.dir}'\nfsync = off\n"
                    "max_connections = 50\nlog_min_messages = warning\n")
        self.start()
        self._sh([os.path.join(self.bin, "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
                  "-U", "healthtop", "healthtop"])

    def _sh(self, args):
        p = subprocess.run(self.prefix + args, capture_output=True, text=True)
        if p.returncode != 0:
            raise PgUnavailable(f"{os.path.basename(args[0])} failed: {p.stderr.strip()[-500:]}")
        return p.stdout

    def url(self, db="healthtop"):
        return f"postgresql://healthtop@127.0.0.1:{self.port}/{db}"

    def conninfo(self, db="healthtop"):
        return f"host=127.0.0.1 port={self.port} user=healthtop dbname={db}"

    def start(self):
        self._sh([os.path.join(self.bin, "pg_ctl"), "-D", self.data, "-l", os.path.join(self.dir, "log"),
                  "-w", "-t", "120", "start"])

    def stop(self, mode="fast"):
        self._sh([os.path.join(self.bin, "pg_ctl"), "-D", self.data, "-m", mode, "-w", "-t", "120", "stop"])

    def psql(self, sql, db="healthtop"):
        """Runs sql with psql (tuples only, unaligned, '|' between columns); its output."""
        psql = shutil.which("psql") or os.path.join(self.bin, "psql")
        p = subprocess.run([psql, "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-d", self.url(db), "-c", sql],
                           capture_output=True, text=True, timeout=300)
        if p.returncode != 0:
            raise RuntimeError(f"psql: {p.stderr.strip()}")
        return p.stdout

    def close(self):
        try:
            self.stop("immediate")
        except PgUnavailable:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def skip(reason):
    """The test's one line when no server can run here, and exit 0 (automake: 77 is SKIP)."""
    print(f"SKIP: {reason}", flush=True)
    raise SystemExit(77)


if __name__ == "__main__":
    with PgServer() as pg:
        print(pg.url(), pg.psql("select version()").strip())
        time.sleep(0)
