"""Backend for the phase-6 gateway lab. Every answer names the instance (container) that
served it, so load balancing across `--scale backend=3` is visible from outside.

Chaos switch for the self-healing drill: while the file /run/chaos/unhealthy exists,
/api/health answers 503 (the process keeps running, as a hung or broken app would).
/run/chaos is a tmpfs, so a container restart clears the switch.
"""
import os
import socket
import time
from datetime import datetime, timezone

from flask import Flask, jsonify

app = Flask(__name__)

STARTED = time.time()
INSTANCE = socket.gethostname()
CHAOS_FILE = "/run/chaos/unhealthy"


@app.get("/api/health")
def health():
    if os.path.exists(CHAOS_FILE):
        return jsonify({"status": "failing", "instance": INSTANCE, "reason": CHAOS_FILE}), 503
    return jsonify({"status": "ok", "instance": INSTANCE})


@app.get("/api/whoami")
def whoami():
    return jsonify({
        "instance": INSTANCE,
        "pid": os.getpid(),
        "uptime_s": round(time.time() - STARTED, 1),
        "time": datetime.now(timezone.utc).isoformat(),
    })
