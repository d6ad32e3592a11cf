"""Servers for the check kinds beyond HTTP, on 127.0.0.1: the standard gRPC health service
(Node's @grpc/grpc-js and grpc-health-check, installed from npm into tests/integration/grpc by the
first test that needs them) and a listener that accepts TCP connections, counts them and never
says a word (a tcp:// target that is up; for tls://, a port whose handshake never completes);
and a keep-alive HTTP/1.1 health endpoint that counts connections and requests (reuse_connections)."""
import http.server
import json
import os
import shutil
import socket
import socketserver
import ssl
import subprocess
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
GRPC_DIR = os.path.join(HERE, "grpc")


def grpc_setup():
    """None when the gRPC server can run, else why it cannot (no node/npm, install failed)."""
    if not shutil.which("node") or not shutil.which("npm"):
        return "node and npm are not installed"
    if os.path.isdir(os.path.join(GRPC_DIR, "node_modules", "grpc-health-check")):
        return None
    p = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--omit=dev", "--prefix", GRPC_DIR],
                       capture_output=True, text=True, timeout=600)
    return None if p.returncode == 0 else f"npm install failed: {p.stderr.strip()[-300:]}"


class GrpcHealthServer:
    """Services: "" and svc.ok SERVING, svc.down NOT_SERVING, svc.unknown UNKNOWN; any other
    name is an unknown service (NOT_FOUND). ports: {"plain": n, "tls": n}."""

    def __init__(self, cert=None, key=None):
        args = ["node", os.path.join(GRPC_DIR, "health_server.js")]
        if cert:
            args += [cert, key]
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.ports = json.loads(self.proc.stdout.readline())

    def url(self, service="", tls=False):
        scheme, port = ("grpcs", self.ports["tls"]) if tls else ("grpc", self.ports["plain"])
        return f"{scheme}://127.0.0.1:{port}" + (f"/{service}" if service else "")

    def set_status(self, service, status):
        self.proc.stdin.write(f"set {service or '-'} {status}\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().strip() == "ok"

    def stop(self):
        self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class SilentListener:
    """Accepts every connection, counts it, holds it open without reading or writing until
    stopped: a TCP port that is up, and a TLS port that never answers the ClientHello."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.held = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.accepted += 1
                self.held.append(conn)

    def count(self):
        with self.lock:
            return self.accepted

    def stop(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        with self.lock:
            for c in self.held:
                c.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class KeepAliveServer:
    """An HTTP/1.1 /health that keeps every connection open unless the request says
    "Connection: close" (as nginx does), and counts the TCP connections it accepted and the
    requests it answered; over TLS with tls=(cert, key)."""

    def __init__(self, tls=None):
        counts = self.counts = {"connections": 0, "requests": 0}
        lock = self.lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt, *args):
                pass

            def do_GET(self):
                # A connection counts once it carries a request: one accepted as a client
                # stops (a daemon's SIGTERM) is not a check.
                with lock:
                    counts["requests"] += 1
                    if not getattr(self, "counted", False):
                        self.counted = True
                        counts["connections"] += 1
                body = b'{"status":"ok"}'
                close = self.headers.get("Connection", "").lower() == "close"
                extra = "Connection: close\r\n" if close else ""
                head = (f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        f"Content-Length: {len(body)}\r\n{extra}\r\n").encode()
                try:   # one write: no Nagle wait between the head and the body
                    if close and not tls:
                        self.answer_and_close(head + body)
                    else:
                        self.wfile.write(head + body)
                except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                    pass

            def answer_and_close(self, data):
                """As nginx does when asked to close, but deterministic: the answer and the FIN
                leave in one segment (corked), so the client always sees the server close
                first and the TIME_WAIT is the server's."""
                self.close_connection = True
                sock = self.connection
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
                sock.sendall(data)
                sock.shutdown(socket.SHUT_WR)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 0)

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.srv = Server(("127.0.0.1", 0), Handler)
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*tls)
            self.srv.socket = ctx.wrap_socket(self.srv.socket, server_side=True)
        self.port = self.srv.server_address[1]
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def count(self):
        """(connections that carried a request, requests answered) so far."""
        with self.lock:
            return self.counts["connections"], self.counts["requests"]

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
