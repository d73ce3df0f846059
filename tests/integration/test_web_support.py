"""Shared fixtures and helpers of the web tests (imported by the other test_web_* modules)."""

from __future__ import annotations

import re

import pytest

from tests.conftest import PASSWORD, TODAY

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def web_app(db_url, agency, users):
    from webui.app import create_app

    app = create_app({"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "test-secret",
                      "WTF_CSRF_ENABLED": False, "GONGKAI_TODAY": TODAY})
    yield app
    dispose(app)


def dispose(app) -> None:
    """Close the app's pooled connections (an open PostgreSQL connection left behind is a ResourceWarning)."""
    from webui.db import get_engine

    with app.app_context():
        get_engine().dispose()


@pytest.fixture
def client(web_app):
    return web_app.test_client()


def login(client, username: str, password: str = PASSWORD):
    return client.post("/login", data={"username": username, "password": password})


def logged_in(web_app, username: str):
    c = web_app.test_client()
    response = login(c, username)
    assert response.status_code == 302, response.get_data(as_text=True)
    return c


def registration_form(**overrides) -> dict:
    form = {
        "applicant_kind": "NATURAL", "name": "张三", "id_type": "居民身份证", "id_number": "11010519491231002X",
        "phone": "13800000000", "address": "测试市解放路2号", "channel": "in_person",
        "submitted_on": TODAY.isoformat(), "item_description": ["2025年度城区老旧小区改造项目的批复文件"],
        "item_topic": ["城乡规划"], "requested_form": "纸质", "requested_delivery": "邮寄",
    }
    form.update(overrides)
    return form


def register_via_web(client, **overrides) -> int:
    response = client.post("/register", data=registration_form(**overrides))
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(re.search(r"/cases/(\d+)/registered", response.headers["Location"]).group(1))


def test_the_login_page_is_served_without_a_user(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert "用户登录" in response.get_data(as_text=True)
