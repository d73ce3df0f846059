"""DESIGN §7 (e-mail): with GONGKAI_SMTP_URL and GONGKAI_MAIL_FROM set, an applicant who gave an e-mail address gets
the message naming the 登记编号 within seconds — from the background process `gongkai serve` starts (no Redis), and
from `gongkai worker` on RQ (GONGKAI_REDIS_URL). Real processes, a real SMTP server on loopback."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

from engine.config import load_settings
from engine.services import jobs
from tests.gunicorn_server import free_port, stop_process
from tests.mail_servers import SmtpServer

from ..integration.test_notifications import MAIL_FROM, register

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("GONGKAI_TEST_REDIS_URL", "redis://127.0.0.1:6379/10")
WITHIN_SECONDS = 5


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


def _env(db_url: str, smtp: SmtpServer, tmp_path: Path, **extra) -> dict:
    return {**os.environ, "GONGKAI_DATABASE_URL": db_url, "GONGKAI_VAR_DIR": str(tmp_path),
            "GONGKAI_SECRET_KEY": "e2e-secret", "GONGKAI_SMTP_URL": smtp.url, "GONGKAI_MAIL_FROM": MAIL_FROM,
            **extra}


def _wait_for_mail(smtp: SmtpServer, since: float) -> float:
    while not smtp.received:
        elapsed = time.monotonic() - since
        assert elapsed < WITHIN_SECONDS, f"no e-mail within {WITHIN_SECONDS} s"
        time.sleep(0.05)
    return time.monotonic() - since


def test_gongkai_serve_without_redis_sends_the_registration_email_within_seconds(
        db_url, session, agency, users, today, smtp, tmp_path, monkeypatch):
    port = free_port()
    env = _env(db_url, smtp, tmp_path)
    env.pop("GONGKAI_REDIS_URL", None)
    # This process registers (as a web request would): it must see the same mail settings as the server.
    monkeypatch.setenv("GONGKAI_SMTP_URL", smtp.url)
    monkeypatch.setenv("GONGKAI_MAIL_FROM", MAIL_FROM)
    load_settings.cache_clear()
    started = time.monotonic()
    process = subprocess.Popen([str(Path(sys.executable).parent / "gongkai"), "serve", "--port", str(port)], cwd=ROOT,
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{port}/login", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert process.poll() is None and time.monotonic() - started < 30, "gongkai serve did not start"
            time.sleep(0.1)
        # Registered the moment the server answers: the runner's start-up may count in the seconds.
        case = register(session, users, today)
        committed = time.monotonic()
        elapsed = _wait_for_mail(smtp, committed)
        assert case.reg_no in smtp.messages()[0]["Subject"]
        print(f"gongkai serve: e-mail {elapsed:.2f} s after the commit")
    finally:
        stop_process(process)
        monkeypatch.undo()
        load_settings.cache_clear()


def test_an_rq_worker_sends_the_registration_email_within_seconds(
        db_url, session, agency, users, today, smtp, tmp_path, monkeypatch):
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError:
        pytest.skip(f"needs Redis at {REDIS_URL}")
    prefix = f"gktest-{uuid.uuid4().hex[:8]}"
    env = _env(db_url, smtp, tmp_path, GONGKAI_REDIS_URL=REDIS_URL, GONGKAI_REDIS_PREFIX=prefix)
    worker = subprocess.Popen([str(Path(sys.executable).parent / "gongkai"), "worker"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with monkeypatch.context() as patch:
        for name in ("GONGKAI_REDIS_URL", "GONGKAI_REDIS_PREFIX", "GONGKAI_SMTP_URL", "GONGKAI_MAIL_FROM"):
            patch.setenv(name, env[name])
        load_settings.cache_clear()
        from webui import background

        try:
            assert background.configure()  # this process hands committed jobs to RQ, like a web node
            time.sleep(2)  # the worker connects to Redis
            case = register(session, users, today)
            committed = time.monotonic()
            elapsed = _wait_for_mail(smtp, committed)
            assert case.reg_no in smtp.messages()[0]["Subject"]
            print(f"RQ worker: e-mail {elapsed:.2f} s after the commit")
        finally:
            jobs.set_dispatcher(None)
            stop_process(worker)
            redis.Redis.from_url(REDIS_URL).delete(*([f"rq:queue:{prefix}-jobs"]))
    load_settings.cache_clear()
