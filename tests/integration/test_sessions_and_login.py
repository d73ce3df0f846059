"""Sessions that end and a login that tells nothing: logout, password reset, deactivation and role changes end
every session and API token at once; unknown names and wrong passwords look the same; failures are throttled
per account and address with back-off, counted atomically; passwords are long and not common."""

from __future__ import annotations

import statistics
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from engine.errors import InvalidInput, PermissionDenied
from engine.persistence import db as dbmod
from engine.persistence.login_throttle import ACCOUNT_POLICY, DatabaseThrottleStore, ThrottlePolicy
from engine.persistence.models import User
from engine.services import accounts
from tests.conftest import PASSWORD
from tests.integration import test_web_support as support
from tests.integration.test_web_support import logged_in, login

web_app = support.web_app


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("how", ["logout", "reset_password", "deactivate", "roles"])
def test_a_copied_session_cookie_and_every_token_stop_working(web_app, session, users, how):
    token = accounts.create_token(session, users["clerk"])
    session.commit()
    clerk = logged_in(web_app, "clerk")
    stolen = web_app.test_client()
    stolen.set_cookie("gongkai_session", clerk.get_cookie("gongkai_session").value)
    assert stolen.get("/cases").status_code == 200
    api = web_app.test_client()
    assert api.get("/api/v1/me", headers=_bearer(token)).status_code == 200
    if how == "logout":
        assert clerk.post("/logout").status_code == 302
    else:
        admin = logged_in(web_app, "admin")
        data = {"password": "a-new-long-passphrase"} if how == "reset_password" else {"roles": ["clerk", "handler"]}
        assert admin.post(f"/admin/users/{users['clerk'].id}/{how}", data=data).status_code in (302, 303)
    assert stolen.get("/cases").status_code == 302  # back to the login page
    assert api.get("/api/v1/me", headers=_bearer(token)).status_code == 401


def test_an_admin_cannot_grant_roles_to_themselves(session, users):
    with pytest.raises(PermissionDenied, match="不能给自己增加角色"):
        accounts.update_user(session, users["admin"].id, "roles", actor=users["admin"], roles=["admin", "legal_reviewer"])


def test_an_unknown_name_and_a_wrong_password_get_the_same_answer_in_the_same_time(web_app, users):
    client = web_app.test_client()

    def timed(name):
        start = time.perf_counter()
        response = login(client, name, "wrong-password-x")
        return time.perf_counter() - start, response

    samples = {"clerk": [], "nobody-at-all": []}
    for _ in range(3):
        for name in samples:
            elapsed, response = timed(name)
            assert response.status_code == 401
            page = response.get_data(as_text=True)
            assert "用户名或密码错误" in page and "再错" not in page
            samples[name].append(elapsed)
    known, unknown = statistics.median(samples["clerk"]), statistics.median(samples["nobody-at-all"])
    assert unknown > known / 5 and known > unknown / 5  # both pay for an argon2 check


def test_parallel_wrong_attempts_get_exactly_the_budget_of_password_checks(db_url, users, monkeypatch):
    checks = []
    real = accounts.verify_password

    def counting(stored, password):
        checks.append(1)
        return real(stored, password)

    monkeypatch.setattr(accounts, "verify_password", counting)
    engine = dbmod.make_engine(db_url)
    factory = dbmod.session_factory(engine)
    throttle = DatabaseThrottleStore(engine)
    now = datetime.now(UTC)
    outcomes = []
    barrier = threading.Barrier(25)

    def attempt():
        s = factory()
        barrier.wait()
        try:
            accounts.authenticate(s, "clerk", "wrong-password-x", now, throttle=throttle)
        except PermissionDenied as refusal:
            outcomes.append(refusal.message)
        finally:
            s.close()

    threads = [threading.Thread(target=attempt) for _ in range(25)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    engine.dispose()
    assert len(checks) == ACCOUNT_POLICY.limit
    assert sum("过于频繁" in m for m in outcomes) == 25 - ACCOUNT_POLICY.limit


def test_the_back_off_grows_and_a_success_clears_it(db_url, users):
    engine = dbmod.make_engine(db_url)
    store = DatabaseThrottleStore(engine)
    policy = ThrottlePolicy(2, timedelta(minutes=1), timedelta(minutes=10))
    now = datetime(2026, 3, 2, 9, tzinfo=UTC)
    assert store.reserve("account:x", policy, now) is None
    assert store.reserve("account:x", policy, now) is None
    assert store.reserve("account:x", policy, now) == timedelta(minutes=1)
    later = now + timedelta(minutes=1)
    assert store.reserve("account:x", policy, later) is None          # one more try after the wait …
    assert store.reserve("account:x", policy, later) == timedelta(minutes=2)  # … and the next wait is longer
    store.clear("account:x")
    assert store.reserve("account:x", policy, later) is None
    engine.dispose()


def test_one_address_guessing_many_accounts_is_throttled_by_address(db_url, users):
    engine = dbmod.make_engine(db_url)
    factory = dbmod.session_factory(engine)
    throttle = DatabaseThrottleStore(engine)
    now = datetime.now(UTC)
    messages = []
    for n in range(32):
        s = factory()
        try:
            accounts.authenticate(s, f"guess{n}", "wrong", now, address="203.0.113.9", throttle=throttle)
        except PermissionDenied as refusal:
            messages.append(refusal.message)
        finally:
            s.close()
    assert "过于频繁" in messages[-1] and "过于频繁" not in messages[0]
    # Someone else, from another address, still logs in.
    s = factory()
    assert accounts.authenticate(s, "clerk", PASSWORD, now, address="198.51.100.1", throttle=throttle)
    s.close()
    engine.dispose()


@pytest.mark.parametrize("password", ["short-pw", "password123", "qwertyuiop", "1234567890"])
def test_short_and_common_passwords_are_refused(session, agency, password):
    with pytest.raises(InvalidInput):
        accounts.add_user(session, agency, "newuser", password, ["clerk"])


def test_an_outdated_hash_is_upgraded_at_login(session, agency, users):
    from argon2 import PasswordHasher

    weak = PasswordHasher(time_cost=1, memory_cost=8192).hash(PASSWORD)
    users["clerk"].password_hash = weak
    session.commit()
    accounts.authenticate(session, "clerk", PASSWORD)
    session.commit()
    stored = session.scalar(select(User.password_hash).where(User.username == "clerk"))
    assert stored != weak and accounts.verify_password(stored, PASSWORD)


def test_production_pages_carry_hsts(db_url, agency, users):
    from webui.app import create_app

    app = create_app({"DATABASE_URL": db_url, "SECRET_KEY": "s", "PRODUCTION": True, "TESTING": True})
    assert "max-age=" in app.test_client().get("/login").headers["Strict-Transport-Security"]
    support.dispose(app)


def test_the_query_code_is_not_readable_in_the_cookie(web_app, session, users):
    import base64
    import zlib

    from tests.integration.test_web_support import registration_form

    clerk = logged_in(web_app, "clerk")
    response = clerk.post("/register", data=registration_form())
    cookie = clerk.get_cookie("gongkai_session").value
    payload = cookie.split(".")[1] if not cookie.startswith(".") else cookie.split(".")[1]
    padded = payload + "=" * (-len(payload) % 4)
    raw = base64.urlsafe_b64decode(padded)
    text = (zlib.decompress(raw) if cookie.startswith(".") else raw).decode("utf-8", "replace")
    page = clerk.get(response.headers["Location"]).get_data(as_text=True)
    code = page.split('id="query-code">')[1].split("<")[0]
    assert len(code) == 8 and code not in text
    assert code not in clerk.get(response.headers["Location"]).get_data(as_text=True)  # shown once


def _ready_to_sign(session, users, decider):
    from engine import services
    from engine.services import ItemDecision
    from tests.conftest import TODAY
    from tests.integration import helpers_cases as h

    case, _ = h.register(session, users, TODAY)
    h.accept(session, users, case, TODAY)
    item = case.items[0]
    services.record_decision(session, case.id, decisions=[ItemDecision(
        item_id=item.id, outcome="DISCLOSED", how_to_obtain="随本答复书邮寄文件复印件")], actor=decider, today=TODAY)
    services.record_confidentiality_review(session, case.id, item_id=item.id, conclusion="NOT_SECRET",
                                           reviewed_on=TODAY, actor=users["handler"], today=TODAY)
    services.submit_for_review(session, case.id, actor=users["handler"], today=TODAY)
    session.commit()
    return case


@pytest.mark.parametrize("one_person_office", [False, True])
def test_whoever_decided_the_case_cannot_sign_its_reply_unless_the_agency_is_a_one_person_office(
        session, agency, users, password_hash, monkeypatch, one_person_office):
    from engine import services
    from engine.persistence.models import Agency, AuditEvent
    from tests.conftest import TODAY
    from tests.integration.helpers_cases import render

    monkeypatch.setattr(accounts, "hash_password", lambda _pw: password_hash)
    both = accounts.add_user(session, session.get(Agency, agency.id), "both", PASSWORD, ["handler", "legal_reviewer"])
    row = session.get(Agency, agency.id)
    row.settings = {**(row.settings or {}), "one_person_office": one_person_office}
    session.commit()
    case = _ready_to_sign(session, users, both)
    if not one_person_office:
        with pytest.raises(PermissionDenied, match="职责分离"):
            services.sign_reply(session, case.id, renderer=render, actor=both, today=TODAY)
        session.rollback()
        services.sign_reply(session, case.id, renderer=render, actor=users["legal_reviewer"], today=TODAY)
    else:
        services.sign_reply(session, case.id, renderer=render, actor=both, today=TODAY)
        event = session.scalar(select(AuditEvent).where(AuditEvent.case_id == case.id, AuditEvent.action == "sign"))
        assert event.changes["separation_of_duties_waived"] is True
