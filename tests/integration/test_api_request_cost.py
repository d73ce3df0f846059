"""What every API request costs besides its own work (issue 14): no ping per database checkout, yet a connection the
server has closed is never handed out; rate-limit counters in process memory without a thread per request, still
refusing past the limit and forgetting stale windows."""

from __future__ import annotations

import hashlib
import os
import threading
import time
import uuid
from contextlib import contextmanager

import pytest
from sqlalchemy import event, func, select, text, update

from engine.persistence import db as dbmod
from tests.integration.api_harness import (  # noqa: F401
    api_app_fixture,
    api_fixture,
    make_app,
    online_registration,
    tokens_fixture,
)
from webui.limits import OneTripRedisStorage, SweptMemoryStorage


def _end_backends(engine, pids: set[int]) -> None:
    """What a database restart does to a client's connections: the server ends them (and says so on the socket)."""
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = ANY(:pids)"),
                     {"pids": list(pids)})
        conn.rollback()
        deadline = time.monotonic() + 10
        while conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:pids)"),
                           {"pids": list(pids)}).scalar_one():
            conn.rollback()  # pg_stat_activity is read once per transaction
            assert time.monotonic() < deadline, "the server did not end the connections"
            time.sleep(0.05)
        conn.rollback()


@pytest.mark.postgres
def test_pooled_connections_the_server_ended_are_replaced_without_a_ping_per_checkout(db_url):
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    engine = dbmod.make_engine(db_url, pool_size=3)
    admin = dbmod.make_engine(db_url)
    try:
        assert not engine.pool._pre_ping  # no round trip per checkout
        held = [engine.connect() for _ in range(3)]
        pids = {conn.execute(text("SELECT pg_backend_pid()")).scalar_one() for conn in held}
        for conn in held:
            conn.rollback()
            conn.close()  # back in the pool, idle
        _end_backends(admin, pids)
        again = [engine.connect() for _ in range(3)]  # each pooled connection is found closed and replaced
        new_pids = {conn.execute(text("SELECT pg_backend_pid()")).scalar_one() for conn in again}
        assert not new_pids & pids
        for conn in again:
            conn.close()
    finally:
        engine.dispose()
        admin.dispose()


@pytest.mark.postgres
def test_an_api_read_after_the_database_ended_every_connection_is_answered(db_url, agency, users, tokens):
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    engine = dbmod.make_engine(db_url, pool_size=4)
    app = make_app(db_url, DATABASE_ENGINE=engine)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {tokens['clerk']}"}
    admin = dbmod.make_engine(db_url)
    try:
        assert client.get("/api/v1/me", headers=headers).status_code == 200
        with admin.connect() as conn:
            pids = set(conn.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                                         "AND pid <> pg_backend_pid()")).scalars())
        assert pids  # the app's pooled connection
        _end_backends(admin, pids)
        answer = client.get("/api/v1/me", headers=headers)
        assert answer.status_code == 200, answer.get_data(as_text=True)
        assert answer.get_json()["user"]["username"] == users["clerk"].username
    finally:
        engine.dispose()
        admin.dispose()


@contextmanager
def _client_counting_statements(db_url):
    """A test client of the real app on its own engine, and the list of every statement that engine runs."""
    engine = dbmod.make_engine(db_url)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda _c, _cur, statement, *_a: statements.append(statement))
    try:
        yield make_app(db_url, DATABASE_ENGINE=engine).test_client(), statements
    finally:
        engine.dispose()


def test_an_api_request_does_not_carry_the_agency_seal_image(db_url, agency, users, tokens, session):
    """Every API request loads its token's user and agency; the seal image (up to 2 MB) is read only by what needs it
    (a letter's rendering, the seal check), not on every request."""
    from engine.persistence.models import Agency
    from engine.services.agency_admin import seal_problem, set_seal_image

    seal = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 400  # 100 KB
    set_seal_image(session, seal, actor=users["admin"])
    session.commit()
    with _client_counting_statements(db_url) as (client, statements):
        answer = client.get("/api/v1/me", headers={"Authorization": f"Bearer {tokens['clerk']}"})
        assert answer.status_code == 200
        assert any("agencies" in s for s in statements)
        assert not any("seal_image_data" in s for s in statements)
    loaded = session.get(Agency, agency.id)
    session.expire(loaded)
    assert loaded.code and "seal_image_data" not in loaded.__dict__  # the row again, without the image
    assert seal_problem(loaded) is None and loaded.seal_image_data == seal  # what needs the image still gets it


@pytest.mark.parametrize("confirmed", [True, False], ids=["receipt-issued", "awaiting-confirmation"])
def test_the_registration_answer_is_the_case_as_read_afterwards_without_reading_it_again(db_url, agency, users, tokens,
                                                                                        session, confirmed):
    """POST /cases answers with the new case from what the action made (its receipt, or no letter while an online
    request awaits manual confirmation): no statement after the action's last write, and the same JSON a GET gives."""
    from engine.persistence.models import Agency

    if not confirmed:
        session.get(Agency, agency.id).online_manual_confirmation = True
        session.commit()
    with _client_counting_statements(db_url) as (client, statements):
        headers = {"Authorization": f"Bearer {tokens['clerk']}"}
        answer = client.post("/api/v1/cases", json=online_registration(), headers=headers)
        assert answer.status_code == 201, answer.get_data(as_text=True)
        last_write = max(i for i, s in enumerate(statements) if not s.lstrip().upper().startswith("SELECT"))
        assert statements[last_write + 1:] == []
        registered = answer.get_json()["case"]
        assert [letter["letter_type"] for letter in registered["letters"]] == (["receipt"] if confirmed else [])
        again = client.get(f"/api/v1/cases/{registered['id']}", headers=headers).get_json()
        assert registered == again


def test_a_personal_data_tokens_registration_answers_in_full_and_chains_the_reveal_after_it(db_url, agency, users,
                                                                                            session):
    """The answer is made before the number is taken; a personal-data token's answer is an audited reveal, kept
    with the registration's events and chained after them, and the answer names the real number."""
    from engine.persistence.audit_verify import verify_audit
    from engine.persistence.models import AuditEvent, Case
    from engine.services.accounts import create_token

    token = create_token(session, users["clerk"], "窗口系统", personal_data=True)
    session.commit()
    answer = make_app(db_url).test_client().post("/api/v1/cases", json=online_registration(),
                                                 headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 201, answer.get_data(as_text=True)
    registered = answer.get_json()["case"]
    assert registered["applicant"]["phone"] == "13800000000"
    session.expire_all()
    case = session.get(Case, registered["id"])
    assert registered["reg_no"] == case.reg_no and case.reg_seq >= 1
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.case_id == case.id)
                              .order_by(AuditEvent.seq)).all()
    assert actions == ["register_request", "confirm_receipt", "issue_letter", "reveal_personal_data"]
    assert verify_audit(session).intact


def test_the_in_process_limit_refuses_past_the_limit_and_counts_again_in_the_next_window(db_url, agency, users, tokens):
    app = make_app(db_url, API_RATE_LIMIT_PER_TOKEN=3, RATELIMIT_STORAGE_URI="memory://")
    client = app.test_client()
    clerk = {"Authorization": f"Bearer {tokens['clerk']}"}
    handler = {"Authorization": f"Bearer {tokens['handler']}"}
    answers = [client.get("/api/v1/me", headers=clerk) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["RateLimit-Remaining"] for a in answers[:3]] == ["2", "1", "0"]
    assert "Retry-After" in answers[3].headers
    assert client.get("/api/v1/me", headers=handler).status_code == 200  # per token
    storage = app.extensions["gongkai_limiter"].storage
    assert isinstance(storage, SweptMemoryStorage)
    for key in list(storage.expirations):  # the minute has passed
        storage.expirations[key] = time.time() - 1
    assert client.get("/api/v1/me", headers=clerk).status_code == 200


def test_memory_counters_start_no_thread_per_hit_and_stale_windows_are_swept():
    storage = SweptMemoryStorage("gongkai-memory://")
    storage.incr("warm-up", 60)
    time.sleep(0.05)  # MemoryStorage's own first timer has run
    threads = threading.active_count()
    for n in range(200):
        assert storage.incr("token-a", 60) == n + 1
        time.sleep(0.0001 if n % 50 else 0.02)  # longer than MemoryStorage's 10 ms timer, now and then
    assert threading.active_count() <= threads
    assert storage.get("token-a") == 200

    storage.incr("short", 1)
    storage.expirations["short"] = time.time() - 1  # its window has passed; nobody reads the key again
    storage._next_sweep = 0.0
    storage.incr("token-b", 60)
    assert "short" not in storage.storage and "short" not in storage.expirations
    assert storage.get("token-a") == 200  # a live window is kept


REDIS_URL = os.environ.get("GONGKAI_TEST_REDIS_URL", "redis://127.0.0.1:6379/11")


def test_the_redis_limit_is_one_round_trip_per_request_and_holds_across_apps(db_url, agency, users, tokens):
    prefix = f"test-limits-{uuid.uuid4().hex}"
    settings = {"API_RATE_LIMIT_PER_TOKEN": 3, "RATELIMIT_STORAGE_URI": REDIS_URL, "RATELIMIT_KEY_PREFIX": prefix}
    app = make_app(db_url, **settings)
    storage = app.extensions["gongkai_limiter"].storage
    assert isinstance(storage, OneTripRedisStorage)
    connection = storage.get_connection()
    storage.incr("warm-up", 60)  # loads the script once (EVALSHA answers NOSCRIPT the first time)
    sent = []
    execute = connection.execute_command

    def counting(*args, **kwargs):
        sent.append(args[0])
        return execute(*args, **kwargs)

    connection.execute_command = counting
    try:
        client = app.test_client()
        clerk = {"Authorization": f"Bearer {tokens['clerk']}"}
        answers = [client.get("/api/v1/me", headers=clerk) for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert [a.headers["RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
        assert all(a.headers["RateLimit-Limit"] == "3" for a in answers)
        assert 0 < int(answers[3].headers["Retry-After"]) <= 60
        reset = int(answers[0].headers["RateLimit-Reset"])
        assert time.time() < reset <= time.time() + 62  # the window's end (whole seconds, rounded up)
        assert sent == ["EVALSHA"] * 4  # the stock storage sends EVALSHA, GET and TTL for each
    finally:
        connection.execute_command = execute

    # Another worker (another app, same store) sees the same counter: the token is refused there too.
    other = make_app(db_url, **settings).test_client()
    assert other.get("/api/v1/me", headers={"Authorization": f"Bearer {tokens['clerk']}"}).status_code == 429
    assert other.get("/api/v1/me", headers={"Authorization": f"Bearer {tokens['handler']}"}).status_code == 200
    # Outside a request the counters are read from Redis, as the stock storage does.
    key = next(k.decode().removeprefix(f"{storage.key_prefix}:") for k in connection.keys(f"*{prefix}*")
               if b"warm-up" not in k and hashlib.sha256(tokens["clerk"].encode()).hexdigest().encode() in k)
    assert storage.get(key) == 5
    assert time.time() < storage.get_expiry(key) <= time.time() + 61
    connection.delete(*connection.keys(f"*{prefix}*"), f"{storage.key_prefix}:warm-up")


@pytest.mark.postgres
def test_an_api_read_runs_outside_a_transaction_and_writes_run_in_one(db_url, agency, users, tokens, session):
    """A GET's statements run in autocommit on PostgreSQL (no BEGIN, no ROLLBACK: two of a short read's five round
    trips); a POST's in one transaction; a personal-data token's GET too, since each of its answers is an audited
    reveal that must be kept with it."""
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    from engine.persistence.models import AuditEvent
    from engine.services.accounts import create_token

    revealing = create_token(session, users["clerk"], "personal data", scope="read", personal_data=True)
    session.commit()
    engine = dbmod.make_engine(db_url)
    seen: list[tuple[str, bool]] = []
    event.listen(engine, "before_cursor_execute",
                 lambda _c, cursor, statement, *_a: seen.append((statement, cursor.connection.autocommit)))
    client = make_app(db_url, DATABASE_ENGINE=engine).test_client()
    try:
        plain = {"Authorization": f"Bearer {tokens['clerk']}"}
        answer = client.post("/api/v1/cases", json=online_registration(), headers=plain)
        assert answer.status_code == 201, answer.get_data(as_text=True)
        case_id = answer.get_json()["case"]["id"]
        assert seen and not any(autocommit for _s, autocommit in seen)
        for path in (f"/api/v1/cases/{case_id}", "/api/v1/me", "/api/v1/cases?q=张三",
                     f"/api/v1/cases/{case_id}/letters/999999.pdf"):
            seen.clear()
            answer = client.get(path, headers=plain)
            assert answer.status_code in (200, 404), (path, answer.get_data(as_text=True))
            assert seen and all(autocommit for _s, autocommit in seen), path
        seen.clear()
        shown = client.get(f"/api/v1/cases/{case_id}", headers={"Authorization": f"Bearer {revealing}"})
        assert shown.status_code == 200 and shown.get_json()["applicant"]["phone"] == "13800000000"
        after_token = [autocommit for statement, autocommit in seen][1:]  # the first reads the token, then it switches
        assert after_token and not any(after_token)
        session.expire_all()
        assert session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.case_id == case_id, AuditEvent.action == "reveal_personal_data")) == 1
    finally:
        engine.dispose()


def test_a_read_only_request_refuses_every_write_and_can_become_writable(db_url, agency, users, session):
    """The read-only session refuses a flush and an UPDATE (without a transaction neither could be undone);
    `writable` hands out a transactional session instead."""
    from engine.persistence.models import Department
    from webui import db

    app = make_app(db_url)
    with app.test_request_context("/api/v1/me", method="GET"):
        db.read_only()
        reader = db.get_session()
        assert db.is_read_only() and reader.get(Department, -1) is None  # reads work
        reader.add(Department(agency_id=agency.id, name="不应写入的科室"))
        with pytest.raises(db.ReadOnlyViolation):
            reader.flush()
        reader.rollback()
        with pytest.raises(db.ReadOnlyViolation):
            reader.execute(update(Department).where(Department.agency_id == agency.id).values(name="改名"))
        db.writable()
        writer = db.get_session()
        assert writer is not reader and not db.is_read_only()
        db.read_only()  # too late: the request's session exists, it stays transactional
        assert db.get_session() is writer and not db.is_read_only()
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Department).where(
        Department.name.in_(["不应写入的科室", "改名"]))) == 0
