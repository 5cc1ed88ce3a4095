"""Task API for the phase-5 stack: PostgreSQL for data, Redis as a read-through cache.

Configuration comes from the environment, the password from a secret FILE:
  DB_HOST, DB_NAME, DB_USER, DB_PASSWORD_FILE, REDIS_URL, CACHE_TTL (seconds)
"""
import json
import os
import socket
from contextlib import contextmanager
from datetime import datetime, timezone

import psycopg2
import psycopg2.extras
import redis
from flask import Flask, jsonify, request

app = Flask(__name__)

CACHE_KEY = "tasks:all"
CACHE_TTL = int(os.environ.get("CACHE_TTL", "60"))


# ANCHOR: db-connect
def read_secret(path):
    with open(path, encoding="utf-8") as f:
        return f.read().strip()


def db_connect():
    return psycopg2.connect(
        host=os.environ.get("DB_HOST", "postgres"),
        dbname=os.environ["DB_NAME"],
        user=os.environ["DB_USER"],
        password=read_secret(os.environ["DB_PASSWORD_FILE"]),
        connect_timeout=3,
        cursor_factory=psycopg2.extras.RealDictCursor,
    )
# ANCHOR_END: db-connect


@contextmanager
def db_cursor():
    """A cursor in one transaction (committed on success); the connection is always closed."""
    conn = db_connect()
    try:
        with conn, conn.cursor() as cur:
            yield cur
    finally:
        conn.close()


cache = redis.Redis.from_url(
    os.environ.get("REDIS_URL", "redis://redis:6379/0"),
    socket_connect_timeout=1,
    socket_timeout=1,
)


def cache_get():
    """The cached JSON text, or None on a miss or when Redis is down (the API keeps working)."""
    try:
        return cache.get(CACHE_KEY)
    except redis.RedisError:
        return None


def cache_put(text):
    try:
        cache.setex(CACHE_KEY, CACHE_TTL, text)
    except redis.RedisError:
        pass


def cache_drop():
    try:
        cache.delete(CACHE_KEY)
    except redis.RedisError:
        pass


@app.get("/api/health")
def health():
    """200 when the database answers; the cache is reported but not required."""
    try:
        with db_cursor() as cur:
            cur.execute("SELECT 1")
        database = "up"
    except psycopg2.Error:
        database = "down"
    try:
        cache.ping()
        cache_state = "up"
    except redis.RedisError:
        cache_state = "down"
    body = {
        "status": "ok" if database == "up" else "failing",
        "database": database,
        "cache": cache_state,
        "instance": socket.gethostname(),
        "time": datetime.now(timezone.utc).isoformat(),
    }
    return jsonify(body), 200 if database == "up" else 503


@app.get("/api/tasks")
def list_tasks():
    cached = cache_get()
    if cached is not None:
        resp = app.response_class(
            '{"source":"cache","tasks":' + cached.decode() + "}", mimetype="application/json"
        )
        resp.headers["X-Cache"] = "HIT"
        return resp
    with db_cursor() as cur:
        cur.execute(
            "SELECT id, title, status, created_at FROM tasks ORDER BY created_at DESC, id DESC"
        )
        rows = cur.fetchall()
    text = json.dumps(rows, default=str, separators=(",", ":"))
    cache_put(text)
    resp = app.response_class(
        '{"source":"database","tasks":' + text + "}", mimetype="application/json"
    )
    resp.headers["X-Cache"] = "MISS"
    return resp


@app.post("/api/tasks")
def create_task():
    data = request.get_json(silent=True) or {}
    title = str(data.get("title", "")).strip()
    status = data.get("status", "todo")
    if not title or len(title) > 200:
        return jsonify({"error": "title is required (at most 200 characters)"}), 400
    if status not in ("todo", "doing", "done"):
        return jsonify({"error": "status must be todo, doing or done"}), 400
    with db_cursor() as cur:
        cur.execute(
            "INSERT INTO tasks (title, status) VALUES (%s, %s) "
            "RETURNING id, title, status, created_at",
            (title, status),
        )
        row = cur.fetchone()
    cache_drop()
    return app.response_class(
        json.dumps(row, default=str), status=201, mimetype="application/json"
    )


@app.patch("/api/tasks/<int:task_id>")
def update_task(task_id):
    data = request.get_json(silent=True) or {}
    status = data.get("status")
    if status not in ("todo", "doing", "done"):
        return jsonify({"error": "status must be todo, doing or done"}), 400
    with db_cursor() as cur:
        cur.execute(
            "UPDATE tasks SET status = %s WHERE id = %s RETURNING id, title, status, created_at",
            (status, task_id),
        )
        row = cur.fetchone()
    if row is None:
        return jsonify({"error": "no such task"}), 404
    cache_drop()
    return app.response_class(json.dumps(row, default=str), mimetype="application/json")


@app.delete("/api/tasks/<int:task_id>")
def delete_task(task_id):
    with db_cursor() as cur:
        cur.execute("DELETE FROM tasks WHERE id = %s RETURNING id", (task_id,))
        row = cur.fetchone()
    if row is None:
        return jsonify({"error": "no such task"}), 404
    cache_drop()
    return "", 204
