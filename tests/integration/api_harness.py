"""Fixtures for the JSON API tests (import the `*_fixture` names; pytest knows them as api_app, tokens, api): the app
from the real factory, one token per role, and a small client that sends the token."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.conftest import TODAY


def make_app(db_url: str, **config) -> Flask:
    """The real app on the test database; NullPool so no connection outlives its request (tests make many apps)."""
    from sqlalchemy.pool import NullPool

    from engine.persistence.db import make_engine
    from webui.app import create_app

    settings = {"DATABASE_URL": db_url, "DATABASE_ENGINE": make_engine(db_url, poolclass=NullPool), "TESTING": True,
                "SECRET_KEY": "test", "GONGKAI_TODAY": TODAY, "API_RATE_LIMIT_PER_TOKEN": 100_000, **config}
    return create_app(settings)


class ApiClient:
    """Sends JSON with a bearer token; returns (status, json or bytes, response)."""

    def __init__(self, client, token: str | None):
        self.client = client
        self.token = token

    def _headers(self, extra=None):
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        headers.update(extra or {})
        return headers

    def get(self, path: str, **kw):
        response = self.client.get("/api/v1" + path, headers=self._headers(kw.pop("headers", None)), **kw)
        return response.status_code, (response.get_json(silent=True) if response.is_json else response.data)

    def post(self, path: str, body=None, **kw):
        response = self.client.post("/api/v1" + path, json=body, headers=self._headers(kw.pop("headers", None)), **kw)
        return response.status_code, response.get_json(silent=True)

    def act(self, case_id: int, action: str, body: dict):
        return self.post(f"/cases/{case_id}/actions/{action}", body)


@pytest.fixture(name="api_app")
def api_app_fixture(db_url, agency, users):
    return make_app(db_url)


@pytest.fixture(name="tokens")
def tokens_fixture(session, users):
    from engine.services.accounts import create_token

    made = {role: create_token(session, user, f"{role} 测试令牌") for role, user in users.items()}
    session.commit()
    return made


@pytest.fixture(name="api")
def api_fixture(api_app, tokens):
    """api["clerk"].post(...) etc.: one client per role; api[None] sends no token."""
    client = api_app.test_client()
    clients = {role: ApiClient(client, token) for role, token in tokens.items()}
    clients[None] = ApiClient(client, None)
    return clients


def online_registration(**overrides) -> dict:
    body = {
        "applicant": {"kind": "NATURAL", "name": "张三", "id_type": "居民身份证", "id_number": "11010519491231002X",
                      "phone": "13800000000", "address": "测试市解放路2号"},
        "channel": "online",
        "submitted_on": TODAY.isoformat(),
        "items": [{"description": "2025年度城区老旧小区改造项目的批复文件", "topic": "城乡规划"}],
        "requested_form": "纸质",
        "requested_delivery": "邮寄",
    }
    body.update(overrides)
    return body
