"""The administration commands of DESIGN §7, run as a user would, against a fresh database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from engine.persistence import db as dbmod

GONGKAI = str(Path(sys.executable).with_name("gongkai"))


def run(db_url: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "GONGKAI_DATABASE_URL": db_url}
    return subprocess.run([GONGKAI, *args], input=stdin, capture_output=True, text=True, env=env, timeout=300)


@pytest.fixture
def empty_db(db_url):
    """The per-test database, emptied back to base so `db upgrade` has real work to do."""
    dbmod.downgrade(db_url, "base")
    yield db_url
    dbmod.upgrade(db_url)  # leave the schema for the next test, whatever this one did


def test_upgrade_add_an_agency_and_a_user_with_the_password_on_stdin_then_verify_the_audit_chain(empty_db):
    assert run(empty_db, "db", "upgrade").returncode == 0
    result = run(empty_db, "agency", "add", "CITY", "某市人民政府办公室", "--review-body", "某市人民政府",
                 "--court", "某市中级人民法院")
    assert result.returncode == 0, result.stderr
    shown = run(empty_db, "agency", "show", "CITY")
    assert "某市人民政府办公室" in shown.stdout and "某市中级人民法院" in shown.stdout
    added = run(empty_db, "user", "add", "wang", "--role", "clerk", "--role", "handler", "--agency", "CITY",
                stdin="a-long-password\n")
    assert added.returncode == 0, added.stderr
    assert "a-long-password" not in added.stdout
    token = run(empty_db, "token", "create", "--user", "wang")
    assert token.returncode == 0 and token.stdout.strip().startswith("gk_")
    verified = run(empty_db, "audit", "verify")
    assert verified.returncode == 0, verified.stderr


def test_a_token_is_created_with_a_scope_and_the_personal_data_opt_in_stored_with_it(db_url, users):
    from sqlalchemy import select

    from engine.persistence.models import ApiToken

    portal = run(db_url, "token", "create", "--user", users["clerk"].username, "--scope", "portal")
    full = run(db_url, "token", "create", "--user", users["clerk"].username, "--scope", "read", "--personal-data")
    assert portal.returncode == 0 and full.returncode == 0, portal.stderr + full.stderr
    refused = run(db_url, "token", "create", "--user", users["clerk"].username, "--scope", "admin")
    assert refused.returncode == 2 and "admin" in refused.stderr
    engine = dbmod.make_engine(db_url)
    with dbmod.session_factory(engine)() as session:
        rows = session.scalars(select(ApiToken).order_by(ApiToken.id)).all()
        assert [(r.scope, r.personal_data) for r in rows] == [("portal", False), ("read", True)]
    engine.dispose()


def test_bad_input_gets_a_chinese_error_and_exit_2(empty_db):
    run(empty_db, "db", "upgrade")
    result = run(empty_db, "user", "add", "li", "--role", "clerk", "--agency", "NOPE", stdin="a-long-password\n")
    assert result.returncode == 2 and "NOPE" in result.stderr
    run(empty_db, "agency", "add", "CITY", "某市")
    result = run(empty_db, "user", "add", "li", "--role", "wizard", "--agency", "CITY", stdin="a-long-password\n")
    assert result.returncode == 2 and "角色无效" in result.stderr
    result = run(empty_db, "user", "add", "li", "--role", "clerk", "--agency", "CITY", stdin="short\n")
    assert result.returncode == 2 and "密码" in result.stderr


def test_audit_verify_names_the_first_broken_event_and_exits_1(empty_db):
    run(empty_db, "db", "upgrade")
    run(empty_db, "agency", "add", "CITY", "某市")
    run(empty_db, "user", "add", "wang", "--role", "clerk", "--agency", "CITY", stdin="a-long-password\n")
    engine = dbmod.make_engine(empty_db)
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET actor_name = '伪造' WHERE seq = 2"))
    engine.dispose()
    result = run(empty_db, "audit", "verify")
    assert result.returncode == 1
    assert "序号 2" in result.stderr


def test_the_migrations_go_up_to_head_and_back_down_to_an_empty_database(empty_db):
    engine = dbmod.make_engine(empty_db)
    assert "cases" not in inspect(engine).get_table_names()
    dbmod.upgrade(empty_db)
    assert {"cases", "audit_events", "letters", "exemption_records"} <= set(inspect(engine).get_table_names())
    dbmod.downgrade(empty_db, "base")
    assert "cases" not in inspect(engine).get_table_names()
    engine.dispose()
    dbmod.upgrade(empty_db)


def test_the_demo_creates_every_stage_and_outcome_and_a_second_run_with_if_empty_does_nothing(empty_db):
    run(empty_db, "db", "upgrade")
    first = run(empty_db, "demo")
    assert first.returncode == 0, first.stderr
    assert "clerk-demo-2026" in first.stdout
    engine = dbmod.make_engine(empty_db)
    with engine.connect() as conn:
        stages = {r[0] for r in conn.execute(text("SELECT DISTINCT stage FROM cases"))}
        outcomes = {r[0] for r in conn.execute(text("SELECT DISTINCT report_outcome FROM cases")) if r[0]}
        count = conn.execute(text("SELECT count(*) FROM cases")).scalar_one()
    engine.dispose()
    from engine.rules.outcomes import OUTCOMES
    from engine.rules.vocabulary import STAGES

    assert stages == set(STAGES)
    assert outcomes == set(OUTCOMES)
    assert count >= 45
    # Every signed reply of the demo carries a PAdES signature that verifies (DESIGN §7, Signatures).
    from letters.signing import verify_pdf

    engine = dbmod.make_engine(empty_db)
    with engine.connect() as conn:
        replies = conn.execute(text("SELECT id, pdf FROM letters WHERE signed_by_id IS NOT NULL")).all()
    engine.dispose()
    assert len(replies) >= 10 and all(verify_pdf(bytes(pdf)).ok for _id, pdf in replies)
    again = run(empty_db, "demo", "--if-empty")
    assert again.returncode == 0 and "已存在" in again.stdout
    assert run(empty_db, "audit", "verify").returncode == 0


def test_the_workflow_diagram_is_generated_from_the_chart(empty_db):
    result = run(empty_db, "workflow", "diagram")
    assert result.returncode == 0 and result.stdout.startswith("stateDiagram-v2")
