"""Compose Lab, phase 3: a small Flask API in front of PostgreSQL.

Every setting comes from the environment, so the same image runs on a laptop, in Compose and
in CI. Compose passes them in: POSTGRES_DB, POSTGRES_USER and POSTGRES_PASSWORD from .env,
DB_HOST from compose.yaml (the name of the database service, never localhost). Without DB_HOST
the app looks for `db`, the service name the lab uses.
"""

import os

import psycopg2
import psycopg2.extras
from flask import Flask, jsonify

app = Flask(__name__)

REQUIRED = ("POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD")
DEFAULT_DB_HOST = "db"


def db_host():
    return os.environ.get("DB_HOST") or DEFAULT_DB_HOST


def db_settings():
    """The connection settings, read from the environment on every request."""
    missing = [name for name in REQUIRED if not os.environ.get(name)]
    if missing:
        raise RuntimeError("missing environment variable(s): " + ", ".join(missing))
    return {
        "host": db_host(),
        "port": int(os.environ.get("DB_PORT", "5432")),
        "dbname": os.environ["POSTGRES_DB"],
        "user": os.environ["POSTGRES_USER"],
        "password": os.environ["POSTGRES_PASSWORD"],
        # Fail fast: a health endpoint that hangs is worse than one that says no.
        "connect_timeout": int(os.environ.get("DB_CONNECT_TIMEOUT", "3")),
    }


def connect():
    return psycopg2.connect(**db_settings())


def error_body(exc):
    # The first line of a psycopg2 error says what went wrong (no such host, refused,
    # password authentication failed...). Never include the password itself.
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return {
        "status": "error",
        "db_host": db_host(),
        "error": message,
    }


@app.get("/")
def index():
    return (
        "Compose Lab phase 3: Flask and PostgreSQL.\n"
        "GET /healthz says whether the database is reachable; GET /users lists the users table.\n",
        200,
        {"Content-Type": "text/plain; charset=utf-8"},
    )


@app.get("/healthz")
def healthz():
    try:
        conn = connect()
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT 1")
                cur.fetchone()
        finally:
            conn.close()
    except (psycopg2.Error, RuntimeError) as exc:
        return jsonify(error_body(exc)), 503
    return jsonify({"status": "ok", "database": "reachable", "db_host": db_host()})


@app.get("/users")
def users():
    try:
        conn = connect()
        try:
            with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
                cur.execute("SELECT id, name, email FROM users ORDER BY id")
                rows = cur.fetchall()
        finally:
            conn.close()
    except (psycopg2.Error, RuntimeError) as exc:
        return jsonify(error_body(exc)), 503
    return jsonify([dict(row) for row in rows])


if __name__ == "__main__":
    # For a quick run without gunicorn: python app.py
    app.run(host="0.0.0.0", port=int(os.environ.get("PORT", "5000")))
