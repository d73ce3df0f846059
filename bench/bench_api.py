"""Benchmark of the JSON API (issue 6): registration throughput and latency percentiles over HTTP.

Starts gunicorn (2 workers × 8 threads) on the database named by `--database-url` (default: a fresh SQLite file
in a temporary directory; give a PostgreSQL URL for the production set-up), creates an agency, a clerk and
its token, then `--clients` concurrent clients register `--requests` online applications through
`POST /api/v1/cases` and the same clients read them back with `GET /api/v1/cases/{id}`.

Run: `.venv/bin/python bench/bench_api.py [--requests 400] [--clients 8] [--database-url URL]`
(`--strict` exits 1 when registration p99 is above 1 s or throughput below 20/s).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import date
from pathlib import Path

import requests
from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.persistence import db as dbmod  # noqa: E402
from engine.services.accounts import add_agency, add_department, add_user, create_token  # noqa: E402
from tests.gunicorn_server import gunicorn_server  # noqa: E402

TODAY = date(2026, 3, 2)
TARGET_P99_SECONDS = 1.0
TARGET_PER_SECOND = 20.0


def _prepare(url: str) -> str:
    if url.startswith("postgresql"):
        engine = dbmod.make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
    dbmod.upgrade(url)
    engine = dbmod.make_engine(url)
    session = dbmod.session_factory(engine)()
    agency = add_agency(session, "BENCH", "基准测试市人民政府办公室", letter_no_prefix="基政办公开",
                        review_body="基准测试市人民政府", court="基准测试市中级人民法院")
    add_department(session, agency, "综合科")
    clerk = add_user(session, agency, "bench-clerk", "bench-password-1", ["clerk"])
    token = create_token(session, clerk, "bench")
    session.commit()
    session.close()
    engine.dispose()
    return token


def _body(n: int) -> dict:
    return {
        "applicant": {"kind": "NATURAL", "name": f"申请人{n}", "phone": "13800000000", "address": "基准市人民路1号"},
        "channel": "online", "submitted_on": TODAY.isoformat(),
        "items": [{"description": f"2025年度第{n}号项目的立项批复文件及附件"}],
        "requested_form": "电子", "requested_delivery": "电子邮件",
    }


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _timed(fn, n):
    start = time.perf_counter()
    result = fn(n)
    return time.perf_counter() - start, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--strict", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench_api.sqlite3'}"
        token = _prepare(url)
        settings = {"GONGKAI_TODAY": TODAY.isoformat(), "API_RATE_LIMIT_PER_TOKEN": 10_000_000}
        try:
            server = stack.enter_context(gunicorn_server(
                url, Path(tmp), app=f"webui.app:create_app({settings!r})", ready_path="/api/v1/openapi.json",
                secret="bench", options=("--workers", "2", "--threads", "8", "--log-level", "warning")))
        except RuntimeError as error:
            print(error)
            return 2
        base = server.base + "/api/v1"
        http_by_thread: dict[int, requests.Session] = {}

        def http() -> requests.Session:
            import threading

            key = threading.get_ident()
            if key not in http_by_thread:
                http_by_thread[key] = requests.Session()
                http_by_thread[key].headers["Authorization"] = f"Bearer {token}"
            return http_by_thread[key]

        def register(n: int) -> int:
            response = http().post(base + "/cases", json=_body(n), timeout=60)
            assert response.status_code == 201, response.text
            return response.json()["case"]["id"]

        def read(case_id: int) -> int:
            response = http().get(f"{base}/cases/{case_id}", timeout=60)
            assert response.status_code == 200, response.text
            return case_id

        with ThreadPoolExecutor(args.clients) as pool:
            list(pool.map(lambda n: _timed(register, n), range(-args.clients, 0)))  # warm-up, not counted
            started = time.perf_counter()
            timed = list(pool.map(lambda n: _timed(register, n), range(args.requests)))
            wall = time.perf_counter() - started
            reads_started = time.perf_counter()
            read_timed = list(pool.map(lambda t: _timed(read, t[1]), timed))
            read_wall = time.perf_counter() - reads_started

    latencies = [t for t, _ in timed]
    read_latencies = [t for t, _ in read_timed]
    per_second = args.requests / wall
    p99 = _percentile(latencies, 0.99)
    database = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    print(f"API registration over HTTP — gunicorn 2 workers × 8 threads, {database}, {args.clients} clients")
    print(f"  POST /cases: {args.requests} in {wall:.2f} s = {per_second:.1f}/s; "
          f"p50 {statistics.median(latencies) * 1000:.0f} ms, p95 {_percentile(latencies, 0.95) * 1000:.0f} ms, "
          f"p99 {p99 * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms")
    print(f"  GET /cases/{{id}}: {len(read_latencies)} in {read_wall:.2f} s = {len(read_latencies) / read_wall:.1f}/s; "
          f"p50 {statistics.median(read_latencies) * 1000:.0f} ms, p99 {_percentile(read_latencies, 0.99) * 1000:.0f} ms")
    met = p99 <= TARGET_P99_SECONDS and per_second >= TARGET_PER_SECOND
    print(f"  targets (p99 ≤ {TARGET_P99_SECONDS:.0f} s, ≥ {TARGET_PER_SECOND:.0f}/s): {'met' if met else 'MISSED'}")
    return 1 if args.strict and not met else 0


if __name__ == "__main__":
    sys.exit(main())
