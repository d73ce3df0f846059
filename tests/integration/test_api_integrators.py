"""What an integrating system relies on (issue 15, issue 17's personal data): token scopes, Idempotency-Key,
RFC 9457 problems with every problem at once, 405 with Allow, rate-limit headers, updated_since and cursor paging."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engine.persistence.audit import utcnow
from engine.persistence.models import AuditEvent, Case, IdempotencyKey
from tests.conftest import TODAY
from tests.integration import helpers_cases as walk
from tests.integration.api_harness import (  # noqa: F401 - fixtures
    ApiClient,
    api_app_fixture,
    api_fixture,
    make_app,
    online_registration,
    tokens_fixture,
)
from tests.integration.test_web_support import logged_in
from tests.integration.test_web_support import web_app as web_app_fixture

web_app = web_app_fixture


def _token(session, user, **kw) -> str:
    from engine.services.accounts import create_token

    token = create_token(session, user, "集成测试", **kw)
    session.commit()
    return token


def _cases(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Case))


# ---------------------------------------------------------------- scopes

def test_a_portal_token_registers_an_online_request_and_looks_up_its_status_and_nothing_else(api_app, session, users):
    portal = ApiClient(api_app.test_client(), _token(session, users["clerk"], scope="portal"))
    status, registered = portal.post("/cases", online_registration())
    assert status == 201, registered
    status, seen = portal.post("/public/status", {"reg_no": registered["case"]["reg_no"],
                                                  "query_code": registered["query_code"]})
    assert status == 200 and seen["stage_label"] == "已登记"
    case_id = registered["case"]["id"]
    refusals = [portal.get("/cases"), portal.get(f"/cases/{case_id}"), portal.get("/me"),
                portal.get("/exemptions"),
                portal.post(f"/cases/{case_id}/actions/withdraw", {"version": 1, "reason": "撤回"})]
    for status, problem in refusals:
        assert status == 403 and problem["code"] == "scope" and "门户令牌" in problem["detail"]
    status, problem = portal.post("/cases", online_registration(channel="mail", signed_for_on=TODAY.isoformat()))
    assert status == 403 and problem["code"] == "scope" and "online" in problem["detail"]
    assert _cases(session) == 1


def test_a_read_token_reads_but_cannot_write(api_app, session, users):
    walk.register(session, users, TODAY)
    reader = ApiClient(api_app.test_client(), _token(session, users["clerk"], scope="read"))
    assert reader.get("/cases")[0] == 200 and reader.get("/cases/1")[0] == 200 and reader.get("/me")[0] == 200
    status, problem = reader.post("/cases", online_registration())
    assert status == 403 and problem["code"] == "scope" and "只读" in problem["detail"]
    status, problem = reader.post("/cases/1/actions/withdraw", {"version": 1, "reason": "撤回"})
    assert status == 403 and problem["code"] == "scope"
    assert _cases(session) == 1


def test_an_admin_creates_a_portal_token_on_the_tokens_page_and_sees_its_scope(web_app, users, session):
    from engine.persistence.models import ApiToken

    admin = logged_in(web_app, "admin")
    page = admin.post("/admin/tokens", data={"user_id": users["clerk"].id, "name": "门户对接", "scope": "portal"})
    assert page.status_code == 200 and "网上申请门户" in page.get_data(as_text=True)
    session.expire_all()
    row = session.scalar(select(ApiToken).order_by(ApiToken.id.desc()))
    assert (row.scope, row.personal_data) == ("portal", False)


def test_a_token_scope_outside_the_list_is_refused(session, users):
    from engine.errors import InvalidInput
    from engine.services.accounts import create_token

    with pytest.raises(InvalidInput, match="令牌范围无效"):
        create_token(session, users["clerk"], scope="admin")


def test_phones_and_id_numbers_are_masked_unless_the_token_may_see_them_and_each_full_read_is_audited(
        api_app, session, users):
    case, _ = walk.register(session, users, TODAY)
    plain = ApiClient(api_app.test_client(), _token(session, users["clerk"]))
    _, masked = plain.get(f"/cases/{case.id}")
    assert "*" in masked["applicant"]["id_number"] and "*" in masked["applicant"]["phone"]
    full = ApiClient(api_app.test_client(), _token(session, users["clerk"], scope="read", personal_data=True))
    _, shown = full.get(f"/cases/{case.id}")
    assert shown["applicant"]["id_number"] == case.applicant.id_number
    assert shown["applicant"]["phone"] == case.applicant.phone
    full.get(f"/cases/{case.id}")
    session.expire_all()
    reveals = session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id,
                                                       AuditEvent.action == "reveal_personal_data")).all()
    assert len(reveals) == 2 and {r.actor_id for r in reveals} == {users["clerk"].id}


# ---------------------------------------------------------------- idempotency

def test_the_same_idempotency_key_and_body_return_the_first_answer_without_registering_twice(api, session):
    key = {"Idempotency-Key": "5f0c7a55-2d7b-4c43-9d0e-6a3c2b1e0f11"}
    first = api["clerk"].client.post("/api/v1/cases", json=online_registration(), headers={
        **key, "Authorization": f"Bearer {api['clerk'].token}"})
    again = api["clerk"].client.post("/api/v1/cases", json=online_registration(), headers={
        **key, "Authorization": f"Bearer {api['clerk'].token}"})
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json() and again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert _cases(session) == 1
    status, problem = api["clerk"].post("/cases", online_registration(purpose="另一个用途"), headers=key)
    assert status == 422 and problem["code"] == "idempotency_mismatch"
    assert _cases(session) == 1
    # The key belongs to the token: another token's same key is another request.
    assert api["office_head"].post("/cases", online_registration(), headers=key)[0] in (201, 403)


def test_an_action_repeated_with_its_key_runs_once(api, session):
    case = api["clerk"].post("/cases", online_registration(channel="plain_letter"))[1]["case"]
    key = {"Idempotency-Key": "withdraw-1"}
    body = {"version": case["version"], "reason": "申请人书面撤回"}
    first = api["clerk"].post(f"/cases/{case['id']}/actions/withdraw", body, headers=key)
    again = api["clerk"].post(f"/cases/{case['id']}/actions/withdraw", body, headers=key)
    assert first == again and first[0] == 200 and first[1]["case"]["stage"] == "closed"
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.case_id == case["id"], AuditEvent.action == "withdraw")) == 1


def test_a_refused_first_request_leaves_its_key_unused(api, session):
    key = {"Idempotency-Key": "retry-after-fixing"}
    assert api["clerk"].post("/cases", online_registration(submitted_on="2026-03-09"), headers=key)[0] == 400
    assert api["clerk"].post("/cases", online_registration(submitted_on="2026-03-09"), headers=key)[0] == 400
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(IdempotencyKey)) == 0


def test_a_malformed_idempotency_key_is_refused(api):
    status, problem = api["clerk"].post("/cases", online_registration(), headers={"Idempotency-Key": "has space"})
    assert status == 400 and problem["errors"][0]["pointer"] == "/headers/Idempotency-Key"


def test_concurrent_duplicates_with_one_key_register_once(api_app, tokens, session):
    clients = [ApiClient(api_app.test_client(), tokens["clerk"]) for _ in range(4)]
    start = threading.Barrier(len(clients))
    answers = []

    def send(client):
        start.wait()
        answers.append(client.post("/cases", online_registration(), headers={"Idempotency-Key": "same-moment"}))

    threads = [threading.Thread(target=send, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert _cases(session) == 1
    succeeded = [data for status, data in answers if status == 201]
    assert succeeded and all(data == succeeded[0] for data in succeeded)
    # PostgreSQL: the duplicates wait on the key's unique index and replay; SQLite may refuse a writer as busy.
    allowed = {201} if session.get_bind().dialect.name == "postgresql" else {201, 409}
    assert {status for status, _ in answers} <= allowed, answers


def test_answers_older_than_a_day_are_pruned(api_app, api, session):
    from webui.api.idempotency import prune_expired

    api["clerk"].post("/cases", online_registration(), headers={"Idempotency-Key": "old"})
    with api_app.app_context():
        assert prune_expired(utcnow() + timedelta(hours=23)) == 0
        assert prune_expired(utcnow() + timedelta(hours=25)) == 1
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(IdempotencyKey)) == 0


# ---------------------------------------------------------------- problems, 405, headers

def test_every_problem_of_a_registration_comes_at_once_as_problem_json(api_app, tokens):
    body = online_registration(submitted_on="2026-03-09", signed_for_on="2026-03-01")
    body["applicant"] = {"kind": "NATURAL", "name": "张三", "id_type": "居民身份证", "id_number": "110105194912310021"}
    response = api_app.test_client().post("/api/v1/cases", json=body, headers={
        "Authorization": f"Bearer {tokens['clerk']}", "X-Request-Id": "portal-4711"})
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["type"] == "https://gongkai.example/problems/invalid" and problem["status"] == 400
    assert problem["request_id"] == "portal-4711" == response.headers["X-Request-Id"]
    pointers = [e["pointer"] for e in problem["errors"]]
    assert {"/submitted_on", "/signed_for_on", "/applicant/phone", "/applicant/email", "/applicant/address",
            "/applicant/id_number"} <= set(pointers), pointers


def test_every_missing_part_of_a_decision_comes_at_once(api, session, users):
    case, _ = walk.register(session, users, TODAY)
    walk.accept(session, users, case, TODAY)
    session.refresh(case)
    decisions = [{"item_id": case.items[0].id, "outcome": "NOT_RESPONSIBLE"},
                 {"item_id": case.items[0].id, "outcome": "DISCLOSED"}]
    status, problem = api["handler"].act(case.id, "record_decision", {"version": case.version, "decisions": decisions})
    assert status == 400 and problem["code"] == "invalid"
    assert [e["pointer"] for e in problem["errors"]] == ["/decisions/0", "/decisions/0", "/decisions/1"]


def test_every_problem_code_the_server_gives_is_in_the_documented_enumeration():
    from typing import get_args

    from webui.api.errors import HTTP_CODES, PROBLEMS
    from webui.api.schemas import ProblemCode
    from webui.refusals import ERROR_STATUS

    documented = set(get_args(ProblemCode))
    assert set(PROBLEMS) == documented
    assert {code for code, _ in HTTP_CODES.values()} <= documented
    assert {kind.code for kind in ERROR_STATUS} <= documented


@pytest.mark.parametrize("method", ["TRACE", "PUT", "DELETE", "PATCH"])
def test_a_method_a_path_does_not_take_is_a_json_405_with_allow(api_app, tokens, method):
    for path, allowed in (("/api/v1/cases", {"GET", "POST"}), ("/api/v1/cases/1", {"GET"}),
                          ("/api/v1/public/status", {"POST"}), ("/api/v1/cases/1/actions/sign", {"POST"})):
        response = api_app.test_client().open(path, method=method, headers={"Authorization": f"Bearer {tokens['clerk']}"})
        assert response.status_code == 405 and response.mimetype == "application/problem+json", (path, method)
        assert allowed <= {m.strip() for m in response.headers["Allow"].split(",")}
        assert response.get_json()["code"] == "method_not_allowed"


def test_token_requests_carry_rate_limit_headers(db_url, agency, users, tokens):
    client = make_app(db_url, API_RATE_LIMIT_PER_TOKEN=50).test_client()
    response = client.get("/api/v1/cases", headers={"Authorization": f"Bearer {tokens['clerk']}"})
    assert response.headers["RateLimit-Limit"] == "50" and response.headers["RateLimit-Remaining"] == "49"
    assert int(response.headers["RateLimit-Reset"]) > 0 and response.headers["X-Request-Id"]


# ---------------------------------------------------------------- polling

def test_updated_since_and_the_cursor_walk_every_changed_case_once(api, session, users):
    cases = [walk.register(session, users, TODAY, name=f"申请人{n}")[0] for n in range(23)]
    seen, cursor, pages = [], None, 0
    params = "per_page=5&updated_since=2000-01-01T00:00:00Z"
    while True:
        status, page = api["clerk"].get(f"/cases?{params}" + (f"&cursor={cursor}" if cursor else ""))
        assert status == 200, page
        seen += [item["id"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 5 and seen == [c.id for c in cases] and page["total"] == 23
    # A change moves a case to the end; polling from the last seen moment finds it, and only it.
    last = max(item["updated_at"] for item in api["clerk"].get("/cases?per_page=100&updated_since=2000-01-01T00:00:00Z")[1]["items"])
    walk.accept(session, users, cases[3], TODAY)
    status, page = api["clerk"].get("/cases?updated_since=" + last.replace("+", "%2B"))
    assert [item["id"] for item in page["items"]][-1] == cases[3].id
    assert cases[3].id in [i["id"] for i in page["items"]] and len(page["items"]) <= 2
    # Page numbers still work, newest first.
    status, page = api["clerk"].get("/cases?page=2&per_page=10")
    assert [item["id"] for item in page["items"]] == [c.id for c in reversed(cases)][10:20]
    assert page["next_cursor"] is None


def test_a_forged_cursor_is_refused_with_a_pointer(api):
    status, problem = api["clerk"].get("/cases?cursor=bm90LWEtY3Vyc29y")
    assert status == 400 and problem["errors"] == [{"pointer": "/query/cursor", "detail": "不是本接口给出的游标"}]


def test_query_problems_point_into_the_query_string(api):
    status, problem = api["clerk"].get("/cases?per_page=0&stage=nowhere&updated_since=2026-03-02T08:00:00")
    assert status == 400
    assert {e["pointer"] for e in problem["errors"]} == {"/query/per_page", "/query/stage", "/query/updated_since"}
    status, problem = api["clerk"].get("/cases?page=1&page=2")
    assert status == 400 and problem["errors"] == [{"pointer": "/query/page", "detail": "只能给出一次"}]
