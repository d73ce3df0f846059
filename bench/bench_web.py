"""Benchmark of the web pages over 10,000 cases (issue 5): dashboard, filtered list and case page ≤ 100 ms at p95.

Server time is measured in process with Flask's test client (no network), per request, after a warm-up.
SQLite always; PostgreSQL too when GONGKAI_BENCH_DATABASE_URL (or GONGKAI_TEST_DATABASE_URL) names one
(its tables are emptied first). The query count per page is printed to show there is no query per row.

Run: `.venv/bin/python bench/bench_web.py [--count 10000] [--requests 60] [--strict]`.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from sqlalchemy import event, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.generate_cases import PASSWORD, after_bulk_insert, generate  # noqa: E402
from engine.persistence.db import make_engine, session_factory, upgrade  # noqa: E402
from engine.persistence.models import Base, Case  # noqa: E402

TARGET_MS = 100.0
TODAY = date(2026, 3, 2)


def _prepare(url: str, count: int) -> None:
    upgrade(url)
    engine = make_engine(url)
    if url.startswith("postgresql"):
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    started = time.perf_counter()
    with session_factory(engine)() as session:
        generate(session, count=count, today=TODAY)
        after_bulk_insert(session)
    print(f"  generated {count} cases in {time.perf_counter() - started:.1f} s")
    engine.dispose()


def _measure(client, url: str, n: int) -> list[float]:
    timings = []
    for _ in range(n):
        started = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return timings


def run(url: str, count: int, requests: int) -> bool:
    from webui.app import create_app

    print(f"== {url.split('://')[0]}: {count} cases")
    _prepare(url, count)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False, "GONGKAI_TODAY": TODAY})
    from webui.db import get_engine

    with app.app_context():
        engine = get_engine()
        with session_factory(engine)() as session:
            ids = list(session.scalars(select(Case.id)))
    queries = {"n": 0}
    event.listen(engine, "before_cursor_execute", lambda *a, **k: queries.__setitem__("n", queries["n"] + 1))
    rng = random.Random(1)
    pages = {
        "dashboard (clerk)": ("bench_clerk", lambda: "/"),
        "dashboard (handler)": ("bench_handler", lambda: "/"),
        "list: in_handling, due soon, by due": ("bench_clerk", lambda: "/cases?stage=in_handling&due=due_soon&sort=due_asc"),
        "list: 自然人, received range, page 3": ("bench_clerk", lambda: "/cases?applicant_kind=NATURAL&received_from=2025-06-01&received_to=2026-03-02&page=3"),
        "list: full-text 征收补偿": ("bench_clerk", lambda: "/cases?q=征收补偿"),
        "case page": ("bench_clerk", lambda: f"/cases/{rng.choice(ids)}"),
    }
    ok = True
    clients = {}
    for label, (username, make_url) in pages.items():
        client = clients.get(username)
        if client is None:
            client = clients[username] = app.test_client()
            assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302
        for _ in range(5):
            client.get(make_url())
        queries["n"] = 0
        timings = []
        for _ in range(requests):
            timings += _measure(client, make_url(), 1)
        per_page = queries["n"] / requests
        p50 = statistics.median(timings)
        p95 = statistics.quantiles(timings, n=20)[18]
        passed = p95 <= TARGET_MS
        ok &= passed
        print(f"  {label:40s} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  {per_page:4.1f} queries/page  "
              f"{'OK' if passed else 'SLOW'}")
    with app.app_context():
        get_engine().dispose()
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--strict", action="store_true", help="exit 1 when a page misses the target")
    args = parser.parse_args()
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        ok &= run(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", args.count, args.requests)
    pg = os.environ.get("GONGKAI_BENCH_DATABASE_URL") or os.environ.get("GONGKAI_TEST_DATABASE_URL")
    if pg:
        ok &= run(pg, args.count, args.requests)
    else:
        print("== postgresql: skipped (set GONGKAI_BENCH_DATABASE_URL)")
    print("all pages within 100 ms at p95" if ok else "some pages missed 100 ms at p95")
    return 0 if ok or not args.strict else 1


if __name__ == "__main__":
    sys.exit(main())
