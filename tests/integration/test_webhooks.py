"""Webhooks against a real HTTP server on loopback: every stage change, letter issued and delivery recorded
arrives signed (HMAC-SHA256 over timestamp + "." + body); an outage is retried with backoff and delivered when
the receiver returns; 再次发送 sends the same event again; a rolled-back dry run sends nothing; only http(s)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import func, select

from engine import services
from engine.errors import InvalidInput
from engine.persistence.models import AuditEvent, Job, WebhookDelivery
from engine.services import jobs, webhooks
from tests.conftest import PASSWORD
from webui.background.runner import sweep_once, work_pending

from .helpers_cases import accept, decide_disclosed, deliver, register, registration, render, review_and_sign


class Receiver:
    """An HTTP server on 127.0.0.1 that records every POST and answers with `status` (or hangs `delay` s)."""

    def __init__(self, port: int = 0):
        self.received: list[dict] = []
        self.status = 200
        self.delay = 0.0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server API
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if outer.delay:
                    time.sleep(outer.delay)
                outer.received.append({"headers": dict(self.headers), "body": body, "path": self.path})
                self.send_response(outer.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/gongkai?src=test"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def events(self) -> list[dict]:
        return [json.loads(r["body"]) for r in self.received]


@pytest.fixture
def receiver():
    found = Receiver()
    yield found
    found.stop()


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch):
    monkeypatch.setenv("GONGKAI_WEBHOOK_RETRY_SECONDS", "0")
    monkeypatch.setenv("GONGKAI_WEBHOOK_TIMEOUT_SECONDS", "2")


def add(session, agency, users, url, events=tuple(webhooks.EVENT_TYPES)):
    endpoint = webhooks.add_endpoint(session, agency, url=url, events=list(events), description="测试门户",
                                     actor=users["admin"])
    session.commit()
    return endpoint


def walk_whole_case(session, users, today):
    case, _code = register(session, users, today)
    accept(session, users, case, today)
    decide_disclosed(session, users, case, today)
    letter = review_and_sign(session, users, case, today)
    deliver(session, users, case, letter, today + timedelta(days=3))
    session.commit()
    return case, letter


def test_a_receiver_on_loopback_gets_every_stage_change_letter_and_delivery_with_a_valid_signature(
        session, db_engine, agency, users, today, receiver):
    endpoint = add(session, agency, users, receiver.url)
    case, letter = walk_whole_case(session, users, today)
    assert work_pending(db_engine) > 0

    events = receiver.events()
    for request in receiver.received:
        assert request["path"] == "/hooks/gongkai?src=test"
        assert request["headers"]["Content-Type"] == "application/json; charset=utf-8"
        assert webhooks.verify_signature(request["headers"]["Gongkai-Signature"], request["body"], endpoint.secret)
        assert not webhooks.verify_signature(request["headers"]["Gongkai-Signature"], request["body"], "whsec_other")
        assert request["headers"]["Gongkai-Event-Id"] == json.loads(request["body"])["id"]
    # Every audited stage change of the case is one case.stage_changed event, in order.
    stage_changes = session.execute(select(AuditEvent.stage_before, AuditEvent.stage_after)
                                    .where(AuditEvent.case_id == case.id, AuditEvent.stage_before.is_distinct_from(
                                        AuditEvent.stage_after)).order_by(AuditEvent.seq)).all()
    received_changes = [(e["case"]["stage"]["before"], e["case"]["stage"]["after"]) for e in events
                        if e["type"] == "case.stage_changed"]
    assert received_changes == [tuple(row) for row in stage_changes]
    assert received_changes[-1] == ("signed", "replied")
    issued = [e["letter"] for e in events if e["type"] == "letter.issued"]
    assert {"id": letter.id, "type": "reply", "doc_number": letter.doc_number, "issued_on": today.isoformat(),
            "sha256": letter.sha256} in issued
    assert len(issued) == session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.case_id == case.id, AuditEvent.action == "issue_letter"))
    [delivered] = [e for e in events if e["type"] == "delivery.recorded"]
    assert delivered["delivery"] == {"letter_id": letter.id, "method": "POST",
                                     "delivered_on": (today + timedelta(days=3)).isoformat(), "returned": False}
    assert all(e["case"] == {**e["case"], "id": case.id, "reg_no": case.reg_no} for e in events)
    assert all(e["agency"] == {"code": "TESTCITY", "name": "测试市人民政府办公室"} for e in events)
    assert len({e["id"] for e in events}) == len(events)
    # No personal data: neither the applicant's name nor the ID number nor the phone travel.
    everything = b"".join(r["body"] for r in receiver.received).decode()
    for personal in ("张三", "11010519491231002X", "13800000000", "解放路"):
        assert personal not in everything
    rows = session.scalars(select(WebhookDelivery).execution_options(populate_existing=True)).all()
    assert len(rows) == len(events)
    assert {(r.status, r.attempts, r.response_code, r.last_error) for r in rows} == {("delivered", 1, 200, "")}
    assert all(r.delivered_at is not None for r in rows)


def test_an_endpoint_gets_only_its_chosen_events_and_a_disabled_one_gets_none(session, db_engine, agency, users,
                                                                              today, receiver):
    letters_only = add(session, agency, users, receiver.url, events=["letter.issued"])
    other = Receiver()
    try:
        disabled = add(session, agency, users, other.url)
        webhooks.set_active(session, agency.id, disabled.id, False, actor=users["admin"])
        session.commit()
        walk_whole_case(session, users, today)
        work_pending(db_engine)
        assert {e["type"] for e in receiver.events()} == {"letter.issued"}
        assert other.received == []
        assert session.scalar(select(func.count()).select_from(WebhookDelivery)
                              .where(WebhookDelivery.endpoint_id == disabled.id)) == 0
        assert letters_only.active
    finally:
        other.stop()


def test_endpoints_read_once_per_transaction_still_see_one_added_or_disabled_in_it(session, agency, users, today):
    """The active endpoints are read once per transaction (a registration announces two stage changes while the chain
    head is locked): an endpoint added or switched off later in the same transaction counts at once, whichever way
    it was added, and in the next transaction too."""
    from engine.persistence.audit import utcnow
    from engine.persistence.models import WebhookEndpoint

    def registered(name: str) -> None:  # in the open transaction, not committed
        services.register_request(session, registration(submitted_on=today, name=name), renderer=render,
                                  actor=users["clerk"], today=today)

    def deliveries_to(endpoint) -> int:
        return session.scalar(select(func.count()).select_from(WebhookDelivery)
                              .where(WebhookDelivery.endpoint_id == endpoint.id))

    registered("张三")  # no endpoint yet: this transaction has read that the agency has none
    first = webhooks.add_endpoint(session, agency, url="http://127.0.0.1:9/first", events=list(webhooks.EVENT_TYPES),
                                  actor=users["admin"])
    registered("李四")
    announced = deliveries_to(first)  # the stage changes (received, registered) and the receipt
    assert announced == 3
    direct = WebhookEndpoint(agency_id=agency.id, url="http://127.0.0.1:9/direct", secret=webhooks.new_secret(),
                             events=list(webhooks.EVENT_TYPES), description="", active=True, created_at=utcnow())
    session.add(direct)  # not through add_endpoint, not yet flushed
    registered("王五")
    assert (deliveries_to(first), deliveries_to(direct)) == (2 * announced, announced)
    webhooks.set_active(session, agency.id, first.id, False, actor=users["admin"])
    registered("孙七")
    assert (deliveries_to(first), deliveries_to(direct)) == (2 * announced, 2 * announced)
    session.commit()
    registered("赵六")
    assert (deliveries_to(first), deliveries_to(direct)) == (2 * announced, 3 * announced)
    session.commit()


def test_endpoints_read_in_a_savepoint_rolled_back_are_read_again(session, agency, users, today):
    """An endpoint added in a savepoint and read there is gone after the savepoint's rollback: the next event of the
    same transaction does not deliver to it."""
    savepoint = session.begin_nested()
    webhooks.add_endpoint(session, agency, url="http://127.0.0.1:9/undone", events=list(webhooks.EVENT_TYPES),
                          actor=users["admin"])
    services.register_request(session, registration(submitted_on=today, name="张三"), renderer=render,
                              actor=users["clerk"], today=today)
    savepoint.rollback()
    services.register_request(session, registration(submitted_on=today, name="李四"), renderer=render,
                              actor=users["clerk"], today=today)
    session.commit()
    assert session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0


def test_an_action_rolled_back_like_a_confirmation_dry_run_sends_nothing(session, db_engine, agency, users, today,
                                                                        receiver):
    add(session, agency, users, receiver.url)
    jobs_before = session.scalar(select(func.count()).select_from(Job))
    case, _ = register(session, users, today)
    deliveries = session.scalar(select(func.count()).select_from(WebhookDelivery))
    services.register_request(session, registration(submitted_on=today, name="李四"), renderer=render,
                              actor=users["clerk"], today=today)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(WebhookDelivery)) == deliveries
    work_pending(db_engine)
    assert {e["case"]["reg_no"] for e in receiver.events()} == {case.reg_no}
    assert session.scalar(select(func.count()).select_from(Job)) == jobs_before + deliveries


def test_an_outage_is_retried_with_backoff_and_delivered_when_the_receiver_is_back(
        session, db_engine, agency, users, today, monkeypatch):
    monkeypatch.setenv("GONGKAI_WEBHOOK_RETRY_SECONDS", "0.6")
    receiver = Receiver()
    port = receiver.port
    receiver.stop()  # the integrator's server is down: connections are refused
    endpoint = add(session, agency, users, f"http://127.0.0.1:{port}/hook", events=["letter.issued"])
    case, _ = register(session, users, today)
    assert work_pending(db_engine) == 1  # one attempt; the retry waits for its backoff
    delivery = session.scalars(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)).one()
    job = session.get(Job, delivery.job_id)
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("retrying", 1, None)
    assert delivery.last_error.startswith("连接失败")
    assert job.state == "queued" and job.run_after is not None and "连接失败" in job.error
    assert work_pending(db_engine) == 0  # not before its time
    assert jobs.claim(db_engine, job.id) is None

    time.sleep(0.7)
    assert work_pending(db_engine) == 1  # second attempt, still down: the wait doubles
    session.expire_all()
    assert session.get(WebhookDelivery, delivery.id).attempts == 2
    waited = session.get(Job, job.id).run_after - session.get(WebhookDelivery, delivery.id).last_attempt_at
    assert timedelta(seconds=1.1) < waited < timedelta(seconds=1.5)

    back = Receiver(port)
    try:
        time.sleep(1.3)
        assert work_pending(db_engine) == 1
        session.expire_all()
        delivery = session.get(WebhookDelivery, delivery.id)
        assert (delivery.status, delivery.attempts, delivery.response_code, delivery.last_error) == \
            ("delivered", 3, 200, "")
        [event] = back.events()
        assert event["id"] == delivery.event_id and event["case"]["reg_no"] == case.reg_no
        assert session.get(Job, job.id).state == "done"
    finally:
        back.stop()


def test_a_receiver_that_keeps_failing_leaves_the_delivery_failed_with_its_last_answer(
        session, db_engine, agency, users, today, receiver):
    receiver.status = 500
    add(session, agency, users, receiver.url, events=["letter.issued"])
    register(session, users, today)
    work_pending(db_engine)
    delivery = session.scalars(select(WebhookDelivery)).one()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("failed", webhooks.MAX_ATTEMPTS, 500)
    assert delivery.last_error == "接收方应答 HTTP 500"
    assert len(receiver.received) == webhooks.MAX_ATTEMPTS
    assert len({r["body"] for r in receiver.received}) == 1  # the same bytes every time
    assert session.get(Job, delivery.job_id).state == "failed"


def test_a_receiver_slower_than_the_timeout_counts_as_a_failed_attempt(session, db_engine, agency, users, today,
                                                                      receiver, monkeypatch):
    monkeypatch.setenv("GONGKAI_WEBHOOK_TIMEOUT_SECONDS", "0.3")
    monkeypatch.setenv("GONGKAI_WEBHOOK_RETRY_SECONDS", "60")
    receiver.delay = 1.0
    add(session, agency, users, receiver.url, events=["letter.issued"])
    register(session, users, today)
    work_pending(db_engine)
    delivery = session.scalars(select(WebhookDelivery)).one()
    assert (delivery.status, delivery.attempts) == ("retrying", 1)
    assert delivery.last_error == "超时：0.3 秒内没有应答"


def test_the_backoff_doubles_up_to_an_hour(monkeypatch):
    monkeypatch.setenv("GONGKAI_WEBHOOK_RETRY_SECONDS", "30")
    assert [webhooks.backoff_seconds(n) for n in (1, 2, 3, 4, 8, 20)] == [30, 60, 120, 240, 3600, 3600]


def test_a_waiting_retry_is_handed_to_the_queue_by_the_sweeper_only_once_due(session, db_engine, agency, users,
                                                                            today, monkeypatch):
    monkeypatch.setenv("GONGKAI_WEBHOOK_RETRY_SECONDS", "0.5")
    sent: list[list[int]] = []
    receiver = Receiver()
    port = receiver.port
    receiver.stop()
    add(session, agency, users, f"http://127.0.0.1:{port}/", events=["letter.issued"])
    register(session, users, today)
    delivery = session.scalars(select(WebhookDelivery)).one()
    jobs.set_dispatcher(lambda engine, ids: sent.append(list(ids)))
    try:
        assert jobs.perform(db_engine, delivery.job_id) == "queued"
        assert sent == []  # a failure with a backoff is not dispatched at once
        assert delivery.job_id not in sweep_once(db_engine, dispatch=True)
        time.sleep(0.6)
        assert delivery.job_id in sweep_once(db_engine, dispatch=True)
        assert [delivery.job_id] in sent
    finally:
        jobs.set_dispatcher(None)


@pytest.mark.parametrize("url", [
    "file:///etc/passwd", "gopher://127.0.0.1:6379/_FLUSHALL", "ftp://example.org/x", "javascript:alert(1)",
    "dict://127.0.0.1:11211/", "http://user:pass@example.org/hook", "http:///no-host", "example.org/hook",
    "http://example.org/a b", "http://example.org/\x00", "https://example.org:99999/", "",
])
def test_only_http_and_https_urls_with_a_host_and_no_credentials_are_accepted(session, agency, users, url):
    with pytest.raises(InvalidInput):
        webhooks.add_endpoint(session, agency, url=url, events=["letter.issued"], actor=users["admin"])


def test_an_unknown_or_empty_event_choice_is_refused(session, agency, users):
    with pytest.raises(InvalidInput, match="未知的事件类型"):
        webhooks.add_endpoint(session, agency, url="https://example.org/", events=["case.deleted"])
    with pytest.raises(InvalidInput, match="至少选择"):
        webhooks.add_endpoint(session, agency, url="https://example.org/", events=[])


def test_the_signature_example_in_the_readme_is_what_the_scheme_computes(project_root):
    expected = "t=1772413323,v1=ab3b510ee2a5d3d65b580d4438ea2d18e08e4e3dd1bf77178ed9c3eb4bed6800"
    assert webhooks.sign("whsec_test", 1772413323, b'{"id":"evt_1"}') == expected
    assert expected.endswith(hmac.new(b"whsec_test", b'1772413323.{"id":"evt_1"}', hashlib.sha256).hexdigest())
    assert f"Gongkai-Signature: {expected}" in (project_root / "README.md").read_text(encoding="utf-8")


def test_a_signature_is_refused_when_stale_or_for_other_bytes():
    body = b'{"id":"evt_1"}'
    header = webhooks.sign("whsec_abc", 1_800_000_000, body)
    assert header.startswith("t=1800000000,v1=")
    assert webhooks.verify_signature(header, body, "whsec_abc", now=1_800_000_100)
    assert not webhooks.verify_signature(header, body, "whsec_abc", now=1_800_000_400)
    assert not webhooks.verify_signature(header, body + b" ", "whsec_abc", now=1_800_000_000)
    assert not webhooks.verify_signature("t=x,v1=00", body, "whsec_abc")


# ---------------------------------------------------------------- the admin page

@pytest.fixture
def admin_client(db_url, users):
    from webui.app import create_app
    from webui.db import get_engine

    app = create_app({"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "t", "WTF_CSRF_ENABLED": False,
                      "GONGKAI_TODAY": date(2026, 12, 28)})

    def signed_in(username: str):
        client = app.test_client()
        assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302
        return client

    yield signed_in
    with app.app_context():
        get_engine().dispose()


def test_an_admin_adds_an_endpoint_sees_its_secret_once_and_then_masked(session, admin_client, receiver):
    client = admin_client("admin")
    page = client.post("/admin/webhooks", data={"url": receiver.url, "description": "政务服务网",
                                                "events": ["letter.issued", "delivery.recorded"]})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    endpoint = webhooks.endpoints(session, users_agency(session))[0]
    assert endpoint.secret in html and "只显示这一次" in html
    assert endpoint.events == ["delivery.recorded", "letter.issued"]
    listing = client.get("/admin/webhooks").get_data(as_text=True)
    assert endpoint.secret not in listing and webhooks.mask_secret(endpoint.secret) in listing
    refused = client.post("/admin/webhooks", data={"url": "file:///etc/passwd", "events": ["letter.issued"]})
    assert refused.status_code == 400 and "只能是 http:// 或 https://" in refused.get_data(as_text=True)
    assert "file:///etc/passwd" in refused.get_data(as_text=True)  # the input is kept
    assert admin_client("clerk").get("/admin/webhooks").status_code == 403


def users_agency(session) -> int:
    from engine.persistence.models import Agency

    return session.scalar(select(Agency.id).where(Agency.code == "TESTCITY"))


def test_the_send_again_button_sends_the_same_event_once_more(session, db_engine, agency, users, today, receiver,
                                                              admin_client):
    endpoint = add(session, agency, users, receiver.url, events=["letter.issued"])
    register(session, users, today)
    work_pending(db_engine)
    [first] = receiver.events()
    delivery = session.scalars(select(WebhookDelivery)).one()
    client = admin_client("admin")
    log_page = client.get(f"/admin/webhooks/{endpoint.id}").get_data(as_text=True)
    assert "再次发送" in log_page and delivery.event_id in log_page and "已送达" in log_page
    response = client.post(f"/admin/webhooks/deliveries/{delivery.id}/resend")
    assert response.status_code == 303
    assert work_pending(db_engine) == 1
    second = receiver.events()[1]
    assert second == first
    assert webhooks.verify_signature(receiver.received[1]["headers"]["Gongkai-Signature"],
                                     receiver.received[1]["body"], endpoint.secret)
    session.expire_all()
    delivery = session.get(WebhookDelivery, delivery.id)
    assert (delivery.status, delivery.attempts) == ("delivered", 2)
    assert session.scalar(select(AuditEvent.changes).where(AuditEvent.action == "resend_webhook")) == {
        "endpoint_id": endpoint.id, "delivery_id": delivery.id, "event_id": delivery.event_id,
        "event_type": "letter.issued"}
    assert admin_client("clerk").post(f"/admin/webhooks/deliveries/{delivery.id}/resend").status_code == 403


def test_send_again_replaces_a_retry_still_waiting_for_its_backoff(session, db_engine, agency, users, today,
                                                                  receiver, monkeypatch):
    monkeypatch.setenv("GONGKAI_WEBHOOK_RETRY_SECONDS", "3600")
    receiver.status = 503
    add(session, agency, users, receiver.url, events=["letter.issued"])
    register(session, users, today)
    work_pending(db_engine)
    delivery = session.scalars(select(WebhookDelivery)).one()
    waiting = delivery.job_id
    receiver.status = 200
    webhooks.resend(session, agency.id, delivery.id, actor=users["admin"])
    session.commit()
    assert session.get(Job, waiting).state == "failed"
    assert work_pending(db_engine) == 1
    session.expire_all()
    assert session.get(WebhookDelivery, delivery.id).status == "delivered"
    assert len(receiver.received) == 2
