"""Compose Lab, phase 3 (starter): a small Flask API in front of PostgreSQL.

The routes are done. What is missing is configuration: the connection settings below are
written into the code, so the image only works on the machine they were written for.
Read them from the environment instead (see the TODOs), then pass them in from compose.yaml.
"""

import os

import psycopg2
import psycopg2.extras
from flask import Flask, jsonify

app = Flask(__name__)

def db_settings():
    """The connection settings for psycopg2.connect()."""
    return {
        # TODO (healthz-ok): read the host from the DB_HOST environment variable. Think about what
        # "localhost" means inside the web container.
        "host": "localhost",
        # TODO: read the port from DB_PORT, defaulting to 5432.
        "port": 5432,
        # TODO: read the database, user and password from POSTGRES_DB, POSTGRES_USER and
        # POSTGRES_PASSWORD: the same variables the postgres image uses, so one .env serves both.
        # Report a missing variable clearly (raise RuntimeError naming it), don't guess.
        "dbname": "appdb",
        "user": "appuser",
        "password": "apppass",
        # Fail fast: a health endpoint that hangs is worse than one that says no.
        "connect_timeout": 3,
    }


def connect():
    return psycopg2.connect(**db_settings())


def error_body(exc):
    # The first line of a psycopg2 error says what went wrong (no such host, refused,
    # password authentication failed...). Never include the password itself.
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return {
        "status": "error",
        "db_host": db_settings()["host"],
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
    return jsonify({"status": "ok", "database": "reachable", "db_host": db_settings()["host"]})


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
