"""The production server: gunicorn with two workers over PostgreSQL carries one request from registration to a
delivered reply over real HTTP (sessions and CSRF work across workers)."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from engine.persistence.models import Case, Department
from tests.conftest import PASSWORD
from tests.gunicorn_server import gunicorn_server

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def gunicorn(db_url, agency, users, tmp_path):
    if not db_url.startswith("postgresql"):
        pytest.skip("needs GONGKAI_TEST_DATABASE_URL (PostgreSQL)")
    with gunicorn_server(db_url, tmp_path, options=("-w", "2", "--timeout", "60")) as server:
        yield server.base


class Browser:
    """A cookie-keeping HTTP client that posts forms with the CSRF token of the page it last read."""

    def __init__(self, base: str):
        import requests

        self.base = base
        self.http = requests.Session()
        self.token = ""

    def get(self, path: str):
        response = self.http.get(self.base + path, timeout=30)
        found = CSRF.search(response.text)
        if found:
            self.token = found.group(1)
        return response

    def post(self, path: str, data: dict, files=None):
        return self.http.post(self.base + path, data={**data, "csrf_token": self.token}, files=files,
                              allow_redirects=False, timeout=60)

    def login(self, username: str) -> None:
        self.get("/login")
        response = self.post("/login", {"username": username, "password": PASSWORD})
        assert response.status_code == 302, re.findall(r"flash-error[^>]*>([^<]*)", response.text)


def _case(session, case_id) -> Case:
    session.expire_all()
    return session.get(Case, case_id)


def test_gunicorn_serves_a_request_from_registration_to_a_delivered_reply(gunicorn, session, users):
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    clerk = Browser(gunicorn)
    clerk.login("clerk")
    clerk.get("/register")
    response = clerk.post("/register", {
        "applicant_kind": "NATURAL", "name": "张三", "id_type": "居民身份证", "phone": "13800000000",
        "channel": "in_person", "submitted_on": today, "item_description": "2025年度城区道路维修计划",
        "requested_form": "纸质", "requested_delivery": "邮寄"})
    assert response.status_code == 302, response.text[-1500:]
    case_id = int(re.search(r"/cases/(\d+)/registered", response.headers["Location"]).group(1))
    assert "查询码" in clerk.get(f"/cases/{case_id}/registered").text
    case = _case(session, case_id)
    department = session.scalar(select(Department))
    clerk.get(f"/cases/{case_id}/do/accept")
    assert clerk.post(f"/cases/{case_id}/do/accept", {"version": case.version, "department_id": department.id,
                                                      "handler_id": users["handler"].id}).status_code == 303

    handler = Browser(gunicorn)
    handler.login("handler")
    case = _case(session, case_id)
    item = case.items[0]
    handler.get(f"/cases/{case_id}/decide")
    assert handler.post(f"/cases/{case_id}/decide", {
        "version": case.version, f"outcome_{item.id}": "DISCLOSED",
        f"how_to_obtain_{item.id}": "随本答复书邮寄文件复印件"}).status_code == 303
    case = _case(session, case_id)
    assert handler.post(f"/cases/{case_id}/items/{item.id}/confidentiality", {
        "version": case.version, "conclusion": "NOT_SECRET", "reviewed_on": today}).status_code == 303
    case = _case(session, case_id)
    assert handler.post(f"/cases/{case_id}/submit", {"version": case.version}).status_code == 303

    reviewer = Browser(gunicorn)
    reviewer.login("legal_reviewer")
    reviewer.get(f"/cases/{case_id}/review")
    case = _case(session, case_id)
    response = reviewer.post(f"/cases/{case_id}/sign", {"version": case.version, "confirmed": "1"})
    assert response.status_code == 303, response.text[-1500:]

    case = _case(session, case_id)
    clerk.get(f"/cases/{case_id}/do/record_delivery")
    assert clerk.post(f"/cases/{case_id}/do/record_delivery", {
        "version": case.version, "method": "POST", "delivered_on": today, "tracking_no": "EMS99"}).status_code == 303
    page = clerk.get(f"/cases/{case_id}").text
    assert "已答复" in page and "答复书" in page and "EMS99" in page
    assert _case(session, case_id).stage == "replied"
