"""The phase-2 api: a tiny HTTP service that proves it can find and reach the database.

Standard library only, so the image builds without a package index.
"""
import json
import os
import signal
import socket
import struct
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DB_HOST = os.environ.get("DB_HOST", "db")
DB_PORT = int(os.environ.get("DB_PORT", "5432"))
PORT = int(os.environ.get("PORT", "8000"))

# PostgreSQL's SSLRequest: length 8, code 80877103. A PostgreSQL server answers with one byte,
# b"S" or b"N", before any login, so this proves a real server listens, with no credentials.
SSL_REQUEST = struct.pack("!II", 8, 80877103)


def probe_db():
    """Resolve DB_HOST through Docker's embedded DNS, connect, and ask the SSL question."""
    result = {"db_host": DB_HOST, "db_port": DB_PORT}
    try:
        address = socket.gethostbyname(DB_HOST)
    except OSError as err:
        result["error"] = f"cannot resolve {DB_HOST!r}: {err}"
        return 503, result
    result["address"] = address
    try:
        with socket.create_connection((address, DB_PORT), timeout=2) as conn:
            conn.settimeout(2)
            conn.sendall(SSL_REQUEST)
            answer = conn.recv(1)
    except OSError as err:
        result["error"] = f"cannot reach {address}:{DB_PORT}: {err}"
        return 503, result
    if answer not in (b"S", b"N"):
        result["error"] = f"{address}:{DB_PORT} answered {answer!r}, not like PostgreSQL"
        return 502, result
    result["postgres"] = True
    return 200, result


class Handler(BaseHTTPRequestHandler):
    def _send(self, status, body):
        data = (json.dumps(body) + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/healthz":
            self._send(200, {"status": "ok"})
        elif self.path == "/db":
            self._send(*probe_db())
        elif self.path == "/":
            self._send(200, {"service": "api", "hostname": socket.gethostname(),
                             "try": ["/healthz", "/db"]})
        else:
            self._send(404, {"error": f"no route {self.path}"})

    def log_message(self, fmt, *args):
        print(f"{self.address_string()} {fmt % args}", flush=True)


def stop(signum, frame):
    """`docker stop` sends SIGTERM to PID 1. Python installs no SIGTERM handler, and the kernel
    does not apply a signal's default action to PID 1, so without this the signal is ignored
    and Docker kills the process after its 10 s grace period."""
    print(f"api: signal {signum}, stopping", flush=True)
    sys.exit(0)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, stop)
    print(f"api listening on :{PORT}, database at {DB_HOST}:{DB_PORT}", flush=True)
    ThreadingHTTPServer(("0.0.0.0", PORT), Handler).serve_forever()
