"""The minimal reference app of the registration benchmark (issue 14): Flask + SQLAlchemy, nothing else.

`POST /cases` takes the next gap-free number under the counter row's lock (UPDATE … RETURNING, as
`engine.persistence.numbering` does) and inserts one row, in one transaction; `GET /ping` runs one trivial query.
It runs under the same gunicorn settings and database as the engine in the same benchmark run, so that the
engine's figures can be reported as a ratio to it (absolute times on a shared machine vary from run to run).
Its tables (`bench_ref_counter`, `bench_ref_cases`) are created on start if missing.
"""

from __future__ import annotations

import os

from flask import Flask, jsonify, request
from sqlalchemy import create_engine, text

# The reference's work, shared with the API floor (`bench/api_floor.py`) so that both do exactly the same.
NEXT_NUMBER = text("UPDATE bench_ref_counter SET last = last + 1 WHERE id = 1 RETURNING last")
INSERT_CASE = text("INSERT INTO bench_ref_cases (n, body) VALUES (:n, :body)")


def ensure_tables(engine) -> None:
    """The counter and the cases table, created if missing (by every process that starts)."""
    with engine.begin() as conn:
        # Both gunicorn workers run this on start: CREATE TABLE IF NOT EXISTS at the same moment can fail in one of
        # them on PostgreSQL (a duplicate catalogue row), which stops that worker and, with it, the server.
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(7140001)"))
        conn.execute(text("CREATE TABLE IF NOT EXISTS bench_ref_counter (id INTEGER PRIMARY KEY, last INTEGER NOT NULL)"))
        conn.execute(text("CREATE TABLE IF NOT EXISTS bench_ref_cases (n INTEGER PRIMARY KEY, body TEXT NOT NULL)"))
        if conn.execute(text("SELECT 1 FROM bench_ref_counter WHERE id = 1")).first() is None:
            conn.execute(text("INSERT INTO bench_ref_counter (id, last) VALUES (1, 0)"))


def create_app() -> Flask:
    url = os.environ["GONGKAI_DATABASE_URL"]
    engine = create_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=False)
    ensure_tables(engine)
    app = Flask(__name__)

    @app.post("/cases")
    def register():
        body = request.get_data(as_text=True)
        with engine.begin() as conn:
            n = conn.execute(NEXT_NUMBER).scalar_one()
            conn.execute(INSERT_CASE, {"n": n, "body": body})
        return jsonify({"n": n}), 201

    @app.get("/ping")
    def ping():
        with engine.connect() as conn:
            return jsonify({"one": conn.execute(text("SELECT 1")).scalar_one()})

    return app
