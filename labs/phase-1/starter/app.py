"""A small web service for the phase-1 lab: one image, one container, one port."""
import os
import platform
import socket

from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/")
def index():
    return jsonify(
        lab="phase-1",
        message="Hello from a container you built yourself",
        hostname=socket.gethostname(),
        uid=os.getuid(),
        python=platform.python_version(),
        # Say whether the secret arrived at run time, never print it.
        secret_configured=bool(os.environ.get("APP_SECRET")),
    )


@app.get("/healthz")
def healthz():
    return jsonify(status="ok")


if __name__ == "__main__":
    # Only for running outside a container: python app.py
    app.run(host="127.0.0.1", port=8000)
