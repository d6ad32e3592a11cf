#!/usr/bin/env python3
"""Misbehaving health endpoints for healthtop's integration tests.

Listens on 127.0.0.1 only: one plain HTTP port and one HTTPS port per certificate given on the
command line (name=cert.pem:key.pem). Prints {"http": port, "<name>": port, ...} as one JSON line,
then serves until stdin closes or --lifetime seconds pass, whichever comes first.
"""
import argparse
import gzip
import select
import http.server
import json
import socket
import socketserver
import ssl
import sys
import threading
import time
import urllib.parse


BOMB = []   # built at start when --gzip-bomb asks for it (half a second of work)
FLAP = [0]
FLAP_LOCK = threading.Lock()
KEYS_SEEN = []   # X-Api-Key values that reached /key, for the redirect tests
# Counting instead of timing: per route (and ?tag=), requests seen, open now, most open at once,
# and how many hang requests were open when the first one was given up by its client.
STATS = {}
STATS_LOCK = threading.Lock()


def stats_for(key):
    return STATS.setdefault(key, {"seen": 0, "open": 0, "peak": 0, "open_at_first_drop": None})


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "htserver/1"
    protocol_version = "HTTP/1.0"

    def log_message(self, fmt, *args):
        pass

    def release(self):
        """The request stops counting as open before its answer leaves: a client that got the
        answer and starts its next request can never meet this one still counted."""
        if getattr(self, "key", None) is not None and not getattr(self, "released", False):
            self.released = True
            with STATS_LOCK:
                stats_for(self.key)["open"] -= 1

    def send(self, code, body, ctype="application/json", extra=None):
        data = body.encode() if isinstance(body, str) else body
        self.release()
        try:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        name = url.path.strip("/").replace("-", "_")
        route = getattr(self, "r_" + name, None)
        if route is None:
            self.send(404, '{"error":"no such endpoint"}')
            return
        self.key = name + ("?" + q["tag"] if "tag" in q else "")
        self.released = False
        with STATS_LOCK:
            st = stats_for(self.key)
            st["seen"] += 1
            st["open"] += 1
            st["peak"] = max(st["peak"], st["open"])
        try:
            route(q)
        finally:
            self.release()

    def r_stats(self, q):
        """The counters as JSON; ?reset=1 clears them."""
        with STATS_LOCK:
            data = json.dumps({k: v for k, v in STATS.items() if k != "stats"})
            if q.get("reset"):
                STATS.clear()
        self.send(200, data)

    def client_gone(self, wait_s):
        """Waits up to wait_s for the client to close; True if it did."""
        try:
            ready, _, _ = select.select([self.connection], [], [], wait_s)
            return bool(ready) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    def r_together(self, q):
        """Answers 200 once n requests of this route (and tag) are open at the same time, 503
        if that never happens within 50 s: healthy means the checks really ran at once."""
        n = int(q.get("n", "2"))
        for _ in range(500):
            with STATS_LOCK:
                met = stats_for(self.key)["peak"] >= n
            if met:
                self.send(200, '{"status":"ok"}')
                return
            time.sleep(0.1)
        self.send(503, '{"status":"down","why":"the others never came"}')

    def r_ok(self, q):
        self.send(200, '{"status":"ok"}')

    def r_body(self, q):
        self.send(int(q.get("code", "200")), q.get("json", "{}"))

    def r_slow(self, q):
        time.sleep(int(q.get("ms", "1500")) / 1000.0)
        self.send(200, '{"status":"ok"}')

    def r_hang(self, q):
        """Answers after s seconds, unless the client gives up first; the first to give up
        records how many hang requests were open at that moment."""
        if not self.client_gone(float(q.get("s", "20"))):
            self.send(200, '{"status":"ok"}')
            return
        with STATS_LOCK:
            st = stats_for(self.key)
            if st["open_at_first_drop"] is None:
                st["open_at_first_drop"] = st["open"]

    def r_loop(self, q):
        self.send(302, "", extra={"Location": "/loop"})

    def r_redirect(self, q):
        self.send(302, "", extra={"Location": "/ok"})

    def r_left_over(self, q):
        self.send(301, "moved, but nowhere", ctype="text/plain")

    def r_big(self, q):
        size = int(q.get("mb", "20")) * 1024 * 1024
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(size))
            self.end_headers()
            self.wfile.write(b'{"status":"down","pad":"')
            chunk = b"x" * 65536
            sent = 24
            while sent < size:
                self.wfile.write(chunk)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass

    def r_gzip(self, q):
        self.send(200, gzip.compress(b'{"status":"down"}'), extra={"Content-Encoding": "gzip"})

    def r_auth(self, q):
        ok = self.headers.get("Authorization") == "Bearer s3cret-token"
        self.send(200 if ok else 401, '{"status":"ok"}' if ok else '{"error":"unauthorized"}')

    def r_ua(self, q):
        ua = self.headers.get("User-Agent", "")
        accept = self.headers.get("Accept", "")
        ok = ua.startswith("healthtop/") and accept == "application/json"
        self.send(200 if ok else 400, json.dumps({"status": "ok" if ok else "fail", "ua": ua, "accept": accept}))

    def r_reset(self, q):
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        self.connection.close()

    def r_trickle(self, q):
        """Headers at once, then one body byte every 200 ms for 10 s."""
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "50")
            self.end_headers()
            for _ in range(50):
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(0.2)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass

    def r_gzip_bomb(self, q):
        """64 MiB of JSON-ish text that compresses to about 64 KiB."""
        if not BOMB:
            self.send(404, '{"error":"start the server with --gzip-bomb"}')
            return
        self.send(200, BOMB[0], extra={"Content-Encoding": "gzip"})

    def r_bad_chunked(self, q):
        try:
            self.wfile.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass

    def r_huge_header(self, q):
        self.send(200, '{"status":"ok"}', extra={"X-Huge": "a" * 200000})

    def r_escape(self, q):
        self.send(200, '{"status":"\\u001b]0;pwned\\u0007\\u009b31m"}')

    def r_flap(self, q):
        # healthy, down, healthy, down...: a state change every check
        with FLAP_LOCK:
            FLAP[0] += 1
            n = FLAP[0]
        self.send(200 if n % 2 else 500, '{"status":"ok"}' if n % 2 else '{"status":"down"}')

    def seen(self):
        with STATS_LOCK:
            return stats_for(self.key)["seen"]

    def r_flip(self, q):
        """200, 500, 200, 500... counted per ?tag=, so each flapping target has its own."""
        n = self.seen()
        self.send(200 if n % 2 else 500, '{"status":"ok"}' if n % 2 else '{}')

    def r_fail_after(self, q):
        """200 for the first ?ok= requests (per ?tag=), then 500 for good."""
        ok = self.seen() <= int(q.get("ok", "1"))
        self.send(200 if ok else 500, '{"status":"ok"}' if ok else '{}')

    def r_workers(self, q):
        now = int(time.time())
        self.send(200, json.dumps({"status": "ok", "workers": [
            {"type": "ai", "last_heartbeat": now - 3, "status": "ok"},
            {"type": "repo_sync", "last_heartbeat": now - 120, "status": "ok"}]}))

    def r_to(self, q):
        """302 to wherever ?u= says (another host, another scheme)."""
        self.send(302, "", extra={"Location": q.get("u", "/ok")})

    def r_to_raw(self, q):
        """302 to a Location holding a raw 0xEE byte."""
        try:
            port = q.get("port", "1").encode()
            self.wfile.write(b"HTTP/1.0 302 Found\r\nLocation: http://localhost:" + port + b"/\xee\r\n"
                             b"Content-Length: 0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass

    def r_key(self, q):
        with FLAP_LOCK:
            KEYS_SEEN.append(self.headers.get("X-Api-Key"))
        self.send(200, '{"status":"ok"}')

    def r_keys_seen(self, q):
        with FLAP_LOCK:
            self.send(200, json.dumps(KEYS_SEEN))

    def r_big_fail(self, q):
        """A 100 KB body whose top-level status, in its first bytes, says fail."""
        self.send(200, '{"status":"fail","pad":"' + "x" * 100000 + '"}')

    def r_big_nostatus(self, q):
        """A 100 KB body whose status comes after the first 64 KiB."""
        self.send(200, '{"pad":"' + "x" * 100000 + '","status":"ok"}')


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256


def serve(tls=None):
    srv = Server(("127.0.0.1", 0), Handler)
    if tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*tls)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv.server_address[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lifetime", type=float, default=300)
    ap.add_argument("--gzip-bomb", action="store_true", help="serve /gzip-bomb (built before the ports are printed)")
    ap.add_argument("tls", nargs="*", help="name=cert.pem:key.pem")
    args = ap.parse_args()
    if args.gzip_bomb:
        BOMB.append(gzip.compress(b'{"status":"down","pad":"' + b"0" * (64 << 20) + b'"}', 9))
    ports = {"http": serve()}
    for spec in args.tls:
        name, files = spec.split("=", 1)
        ports[name] = serve(tuple(files.split(":", 1)))
    print(json.dumps(ports), flush=True)
    watcher = threading.Thread(target=sys.stdin.read, daemon=True)
    watcher.start()
    watcher.join(args.lifetime)


if __name__ == "__main__":
    main()
