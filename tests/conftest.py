"""Shared fixtures: a migrated database per test (SQLite always, PostgreSQL when
GONGKAI_TEST_DATABASE_URL is set), an agency with one user per role, and a fixed `today`."""

from __future__ import annotations

import os
import shutil
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import make_url, text

from engine.persistence import db as dbmod
from engine.persistence.models import Base

PG_URL = os.environ.get("GONGKAI_TEST_DATABASE_URL")
# Agency signing keys are encrypted with this in tests (and in the subprocesses they start), not with a secret
# generated under the checkout's var/.
os.environ.setdefault("GONGKAI_SIGNING_KEY_SECRET", "test-signing-key-secret")
# The workers the tests start keep the tests' CPU priority: the tests wait for them while both cores run tests, and
# at the default nice 10 they would get a small share (tests/e2e/test_worker_priority.py checks the default).
os.environ.setdefault("GONGKAI_WORKER_NICE", "0")
PASSWORD = "demo-password-1"
TODAY = date(2026, 3, 2)


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "gw0")


@pytest.fixture(scope="session")
def database_template(tmp_path_factory):
    """Migrate once per worker: a SQLite file to copy, or a PostgreSQL database to truncate."""
    if PG_URL:
        # One database per worker process, named by its pid too, so that simultaneous runs never share one.
        name = f"{make_url(PG_URL).database}_{_worker()}_{os.getpid()}"
        worker_url = dbmod.create_database(PG_URL, name)
        dbmod.upgrade(worker_url)
        yield ("postgresql", worker_url)
        dbmod.drop_database(worker_url)
        return
    path = tmp_path_factory.mktemp("db") / "template.sqlite3"
    dbmod.upgrade(f"sqlite:///{path}")
    yield ("sqlite", path)


@pytest.fixture
def db_url(database_template, tmp_path):
    kind, where = database_template
    if kind == "sqlite":
        target = tmp_path / "gongkai.sqlite3"
        shutil.copy(where, target)
        yield f"sqlite:///{target}"
        return
    engine = dbmod.make_engine(where)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    yield where


@pytest.fixture
def db_engine(db_url):
    engine = dbmod.make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(db_engine):
    s = dbmod.session_factory(db_engine)()
    yield s
    s.rollback()
    s.close()


@pytest.fixture
def today() -> date:
    return TODAY


@pytest.fixture
def agency(session):
    from engine.persistence.audit import utcnow
    from engine.services.accounts import add_agency, add_department
    from engine.services.signing_keys import create_signing_key

    a = add_agency(
        session, "TESTCITY", "测试市人民政府办公室",
        letter_no_prefix="测政办公开", review_body="测试市人民政府", court="测试市中级人民法院",
        contact="测试市人民路1号 0571-12345678", online_review_channel="https://fy.example.gov.cn",
        topics=["城乡规划", "房屋征收", "保障性住房", "其他"],
        settings={"seal_placeholder": True},  # seals by hand: replies print “（印章）” and may be signed
    )
    add_department(session, a, "规划科")
    create_signing_key(session, a, now=utcnow())
    session.commit()
    return a


@pytest.fixture(scope="session")
def password_hash() -> str:
    from engine.services.accounts import hash_password

    return hash_password(PASSWORD)


@pytest.fixture
def users(session, agency, password_hash, monkeypatch):
    """One user per role, named after the role (`clerk`, `handler`, …), password PASSWORD.

    argon2 is deliberately slow; the hash of PASSWORD is computed once per test session."""
    import engine.services.accounts
    from engine.rules.vocabulary import ROLES

    with monkeypatch.context() as patch:
        patch.setattr(engine.services.accounts, "hash_password", lambda _pw: password_hash)
        made = {role: engine.services.accounts.add_user(session, agency, role, PASSWORD, [role], display_name=f"{role}用户")
                for role in ROLES}
    session.commit()
    return made


@pytest.fixture
def project_root() -> Path:
    return Path(__file__).resolve().parent.parent
