"""The registration benchmark's API floor (`bench/api_floor.py`) keeps what every API registration pays — the token,
the per-token limit, the body's validation and the request's transaction — and does only the reference app's work:
a gap-free number from the reference's counter and one row, committed with the request."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text
from sqlalchemy.pool import NullPool

from bench.api_floor import create_app
from engine.persistence.db import make_engine
from tests.conftest import TODAY

BODY = {"applicant": {"kind": "NATURAL", "name": "张三", "phone": "13900000001"}, "channel": "online",
        "submitted_on": TODAY.isoformat(), "items": [{"description": "2025年度立项批复文件"}]}


@pytest.fixture(autouse=True)
def _no_reference_tables(db_url):
    """The reference's tables are not the product's: none before (the PostgreSQL test database is reused and only
    the product's tables are emptied between tests) and none left after."""
    def drop():
        engine = make_engine(db_url, poolclass=NullPool)
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS bench_ref_cases"))
            conn.execute(text("DROP TABLE IF EXISTS bench_ref_counter"))
        engine.dispose()

    drop()
    yield
    drop()


def _floor(db_url, limit: int):
    return create_app({"DATABASE_URL": db_url, "DATABASE_ENGINE": make_engine(db_url, poolclass=NullPool),
                       "TESTING": True, "SECRET_KEY": "test", "GONGKAI_TODAY": TODAY,
                       "API_RATE_LIMIT_PER_TOKEN": limit})


def test_the_floor_numbers_and_stores_like_the_reference_app_behind_the_products_token_and_validation(
        db_url, session, users):
    from engine.services.accounts import create_token

    token = create_token(session, users["clerk"], "基准")
    session.commit()
    client = _floor(db_url, 100).test_client()
    auth = {"Authorization": f"Bearer {token}"}

    numbers = [client.post("/api/v1/cases", json=BODY, headers=auth) for _ in range(3)]
    assert [r.status_code for r in numbers] == [201, 201, 201]
    assert [r.get_json()["n"] for r in numbers] == [1, 2, 3]
    assert numbers[0].headers["RateLimit-Limit"] == "100"  # the product's per-token limit counted it

    assert client.post("/api/v1/cases", json=BODY).status_code == 401
    no_contact = {**BODY, "applicant": {"kind": "NATURAL", "name": "张三"}}
    refused = client.post("/api/v1/cases", json=no_contact, headers=auth)
    assert refused.status_code == 400 and "联系方式" in refused.get_json()["detail"]
    assert client.post("/api/v1/cases", json={**BODY, "extra": 1}, headers=auth).status_code == 400

    engine = make_engine(db_url, poolclass=NullPool)
    with engine.connect() as conn:  # committed by the request, and nothing for the refused ones
        stored = conn.execute(text("SELECT n, body FROM bench_ref_cases ORDER BY n")).all()
        assert [n for n, _ in stored] == [1, 2, 3]
        assert all(json.loads(body) == BODY for _, body in stored)  # the request's body, as the reference stores it
        assert conn.execute(text("SELECT count(*) FROM cases")).scalar_one() == 0
    engine.dispose()


def test_the_floor_keeps_the_per_token_limit(db_url, session, users):
    from engine.services.accounts import create_token

    token = create_token(session, users["clerk"], "基准")
    session.commit()
    client = _floor(db_url, 2).test_client()
    auth = {"Authorization": f"Bearer {token}"}
    statuses = [client.post("/api/v1/cases", json=BODY, headers=auth).status_code for _ in range(3)]
    assert statuses == [201, 201, 429]
