"""Concurrent registrations get unique, gap-free numbers; two writers on one case: one StaleCase."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import select

from engine import services
from engine.errors import StaleCase
from engine.persistence import db as dbmod
from engine.persistence.models import Case, User

from ..conftest import PG_URL
from .helpers_cases import registration, render

MON = date(2026, 3, 2)


def _run_parallel(n, target):
    errors: list[BaseException] = []
    barrier = threading.Barrier(n)

    def wrapped(i):
        try:
            barrier.wait()
            target(i)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=wrapped, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="needs GONGKAI_TEST_DATABASE_URL (PostgreSQL)")
def test_twenty_parallel_registrations_get_unique_gap_free_numbers(db_engine, agency, users):
    clerk_id = users["clerk"].id

    def register(i):
        with dbmod.transaction(db_engine) as s:
            clerk = s.get(User, clerk_id)
            services.register_request(s, registration(submitted_on=MON, name=f"申请人{i}", id_number=""),
                                      renderer=render, actor=clerk, today=MON)

    assert _run_parallel(20, register) == []
    with dbmod.transaction(db_engine) as s:
        seqs = sorted(s.scalars(select(Case.reg_seq)))
        numbers = set(s.scalars(select(Case.reg_no)))
    assert seqs == list(range(1, 21))
    assert len(numbers) == 20


def test_two_writers_on_one_case_one_gets_stale_case_and_nothing_is_lost(db_engine, agency, users):
    with dbmod.transaction(db_engine) as s:
        registered = services.register_request(s, registration(submitted_on=MON), renderer=render, actor=s.get(User, users["clerk"].id),
                                            today=MON)
        case = registered.case
        case_id, version = case.id, case.version
    s1 = dbmod.session_factory(db_engine)()
    s2 = dbmod.session_factory(db_engine)()
    try:
        services.withdraw(s1, case_id, reason="申请人撤回", renderer=render, actor=s1.get(User, users["clerk"].id), today=MON,
                          version=version)
        from engine.persistence.models import Department

        dept = s2.scalar(select(Department))
        c2 = services.load_case(s2, case_id, s2.get(User, users["clerk"].id), version=version)
        assert c2.stage == "registered"
        s1.commit()
        with pytest.raises(StaleCase):
            services.accept(s2, case_id, department_id=dept.id, actor=s2.get(User, users["clerk"].id), today=MON)
        s2.rollback()
    finally:
        s1.close()
        s2.close()
    with dbmod.transaction(db_engine) as s:
        final = s.get(Case, case_id)
        assert final.stage == "closed" and final.report_outcome == "OTHER"


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="needs GONGKAI_TEST_DATABASE_URL (PostgreSQL)")
def test_fifty_parallel_registrations_in_two_agencies_number_each_agency_gap_free_and_keep_both_chains(
        db_url, session, agency, users, password_hash, monkeypatch):
    import engine.services.accounts
    from engine.persistence.audit import verify_chain
    from engine.persistence.models import Agency
    from engine.services.accounts import add_agency, add_department

    other = add_agency(session, "OTHERCITY", "另一市人民政府办公室", letter_no_prefix="另政办公开",
                       review_body="另一市人民政府", court="另一市中级人民法院", contact="另一市人民路1号",
                       settings={"seal_placeholder": True})
    add_department(session, other, "综合科")
    monkeypatch.setattr(engine.services.accounts, "hash_password", lambda _pw: password_hash)
    other_clerk = engine.services.accounts.add_user(session, other, "other-clerk", "other-password-1", ["clerk"])
    session.commit()
    clerks = (users["clerk"].id, other_clerk.id)
    engine = dbmod.make_engine(db_url, pool_size=50, max_overflow=0, pool_timeout=600)

    def register(i):
        with dbmod.transaction(engine) as s:
            clerk = s.get(User, clerks[i % 2])
            services.register_request(s, registration(submitted_on=MON, name=f"申请人{i}", id_number=""),
                                      renderer=render, actor=clerk, today=MON)

    try:
        assert _run_parallel(50, register) == []
        with dbmod.transaction(engine) as s:
            for agency_id in (agency.id, other.id):
                seqs = sorted(s.scalars(select(Case.reg_seq).where(Case.agency_id == agency_id)))
                numbers = set(s.scalars(select(Case.reg_no).where(Case.agency_id == agency_id)))
                assert seqs == list(range(1, 26)) and len(numbers) == 25
                assert verify_chain(s, s.get(Agency, agency_id)) is None
    finally:
        engine.dispose()
