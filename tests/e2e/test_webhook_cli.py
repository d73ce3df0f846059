"""`gongkai webhook add|list`, run as an operator would: the secret printed once, refused URLs exit 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from engine.persistence.models import AuditEvent, WebhookEndpoint

GONGKAI = str(Path(sys.executable).with_name("gongkai"))


def run(db_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "GONGKAI_DATABASE_URL": db_url}
    return subprocess.run([GONGKAI, *args], capture_output=True, text=True, env=env, timeout=300)


def test_an_endpoint_added_on_the_command_line_prints_its_secret_once_and_lists_it_masked(db_url, session, agency):
    added = run(db_url, "webhook", "add", "https://portal.example.gov.cn/hook", "--agency", "TESTCITY",
                "--event", "letter.issued", "--description", "门户")
    assert added.returncode == 0, added.stderr
    secret = added.stdout.strip()
    assert secret.startswith("whsec_") and len(secret) > 40
    endpoint = session.scalars(select(WebhookEndpoint)).one()
    assert (endpoint.secret, endpoint.events, endpoint.active) == (secret, ["letter.issued"], True)
    assert session.scalar(select(AuditEvent.action).where(AuditEvent.action == "add_webhook")) == "add_webhook"
    listed = run(db_url, "webhook", "list", "--agency", "TESTCITY")
    assert listed.returncode == 0, listed.stderr
    assert "https://portal.example.gov.cn/hook" in listed.stdout and secret not in listed.stdout
    assert "无推送" in listed.stdout


def test_a_non_http_url_or_an_unknown_agency_is_refused_with_exit_2(db_url, agency):
    refused = run(db_url, "webhook", "add", "file:///etc/passwd", "--agency", "TESTCITY")
    assert refused.returncode == 2 and "只能是 http:// 或 https://" in refused.stderr
    unknown = run(db_url, "webhook", "list", "--agency", "NOPE")
    assert unknown.returncode == 2 and "没有代码为「NOPE」的机关" in unknown.stderr
