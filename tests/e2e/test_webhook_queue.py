"""Webhooks through the real queue: RQ on a private redis-server. A receiver that is down when the event happens
gets it once it is back — the failed attempt waits for its backoff outside Redis, the scheduler's sweep hands it
to RQ once due, and a worker delivers it, signed."""

from __future__ import annotations

import time
from datetime import UTC

import pytest
from sqlalchemy import select

from engine.config import load_settings
from engine.persistence.models import Job, WebhookDelivery
from engine.services import jobs, webhooks
from tests.e2e.test_cluster import RedisServer
from tests.integration.helpers_cases import register
from tests.integration.test_webhooks import Receiver
from webui import background
from webui.background.queue import run_worker
from webui.background.runner import sweep_once

pytestmark = [pytest.mark.slow]


@pytest.fixture
def redis_queue(tmp_path, db_url, monkeypatch):
    server = RedisServer(tmp_path)
    server.start()
    monkeypatch.setenv("GONGKAI_REDIS_URL", server.url)
    monkeypatch.setenv("GONGKAI_DATABASE_URL", db_url)
    monkeypatch.setenv("GONGKAI_REDIS_PREFIX", "gk-webhook-test")
    monkeypatch.setenv("GONGKAI_WEBHOOK_RETRY_SECONDS", "3")
    load_settings.cache_clear()
    assert background.configure()
    yield server
    jobs.set_dispatcher(None)
    load_settings.cache_clear()
    server.stop()


def test_an_event_for_a_receiver_that_is_down_is_delivered_through_rq_once_it_is_back(
        redis_queue, session, db_engine, agency, users, today):
    receiver = Receiver()
    port = receiver.port
    receiver.stop()
    endpoint = webhooks.add_endpoint(session, agency, url=f"http://127.0.0.1:{port}/hook", events=["letter.issued"],
                                     actor=users["admin"])
    session.commit()
    case, _ = register(session, users, today)  # the commit hands the job to RQ
    delivery = session.scalars(select(WebhookDelivery)).one()
    assert session.get(Job, delivery.job_id).enqueued_at is not None

    run_worker(burst=True)
    session.expire_all()
    delivery = session.get(WebhookDelivery, delivery.id)
    job = session.get(Job, delivery.job_id)
    assert (delivery.status, delivery.attempts, job.state, job.enqueued_at) == ("retrying", 1, "queued", None)
    run_after = job.run_after if job.run_after.tzinfo else job.run_after.replace(tzinfo=UTC)  # SQLite: naive UTC
    if jobs._now() < run_after:  # (a slow fork may already have used up the wait; test_webhooks pins this)
        assert sweep_once(db_engine, dispatch=True) == []  # its backoff has not passed

    back = Receiver(port)
    try:
        time.sleep(max(0.0, (run_after - jobs._now()).total_seconds()) + 0.1)
        assert sweep_once(db_engine, dispatch=True) == [job.id]
        run_worker(burst=True)
        session.expire_all()
        delivery = session.get(WebhookDelivery, delivery.id)
        assert (delivery.status, delivery.attempts, delivery.response_code) == ("delivered", 2, 200)
        [request] = back.received
        assert webhooks.verify_signature(request["headers"]["Gongkai-Signature"], request["body"], endpoint.secret)
        assert back.events()[0]["case"]["reg_no"] == case.reg_no
        assert session.get(Job, job.id).state == "done"
    finally:
        back.stop()
