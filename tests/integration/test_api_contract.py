"""One contract test per endpoint and per refusal: status, error code, Chinese message, headers."""

from __future__ import annotations

import hashlib

import pytest

from engine.persistence.models import ApiToken
from engine.services.accounts import add_agency, add_user, create_token, revoke_token
from tests.conftest import PASSWORD
from tests.integration import helpers_cases as walk
from tests.integration.api_harness import (  # noqa: F401
    ApiClient,
    api_app_fixture,
    api_fixture,
    make_app,
    online_registration,
    tokens_fixture,
)


def _register(api, **overrides):
    status, data = api["clerk"].post("/cases", online_registration(**overrides))
    assert status == 201, data
    return data


def _error(result, status: int, code: str):
    got_status, body = result
    assert got_status == status, body
    assert body["code"] == code and body["status"] == status  # RFC 9457 problem details
    assert body["type"] == f"https://gongkai.example/problems/{code}" and body["title"]
    assert body["request_id"] and body["instance"].endswith(body["request_id"])
    assert body["detail"] and not body["detail"].isascii()  # a Chinese sentence for people
    return body


# ---------------------------------------------------------------- authentication

def test_a_request_without_a_token_is_refused_with_401_and_a_bearer_challenge(api_app):
    response = api_app.test_client().get("/api/v1/cases")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_json()["code"] == "unauthorized"


def test_an_unknown_token_is_refused(api):
    api["clerk"].token = "gk_not-a-real-token"
    _error(api["clerk"].get("/cases"), 401, "unauthorized")


def test_a_revoked_token_no_longer_authenticates(api, session, users, tokens):
    assert api["clerk"].get("/cases")[0] == 200
    token_id = session.query(ApiToken.id).filter(ApiToken.user_id == users["clerk"].id).scalar()
    revoke_token(session, token_id, actor=users["admin"])
    session.commit()
    _error(api["clerk"].get("/cases"), 401, "unauthorized")


def test_a_signed_in_browser_session_does_not_authenticate_the_api(db_url, agency, users):
    app = make_app(db_url, WTF_CSRF_ENABLED=False)
    if "auth.login" not in app.view_functions:
        pytest.skip("the web login is not part of this app")
    client = app.test_client()
    login = client.post("/login", data={"username": "clerk", "password": PASSWORD})
    assert login.status_code == 302
    assert client.get("/api/v1/cases").status_code == 401


def test_a_token_call_neither_reads_nor_writes_the_cookie_session_and_the_pages_still_do(db_url, agency, users,
                                                                                       tokens):
    app = make_app(db_url, WTF_CSRF_ENABLED=False)
    if "auth.login" not in app.view_functions:
        pytest.skip("the web login is not part of this app")
    client = app.test_client()
    login = client.post("/login", data={"username": "clerk", "password": PASSWORD})
    assert login.status_code == 302 and "gongkai_session=" in login.headers.get("Set-Cookie", "")
    headers = {"Authorization": f"Bearer {tokens['clerk']}"}
    read = client.get("/api/v1/me", headers=headers)
    assert read.status_code == 200 and "Set-Cookie" not in read.headers
    write = client.post("/api/v1/cases", json=online_registration(), headers=headers)
    assert write.status_code == 201 and "Set-Cookie" not in write.headers
    assert client.get("/").status_code == 200  # the page session was left as it was: still signed in
    cookie = {"Cookie": login.headers["Set-Cookie"].split(";")[0]}
    interface = app.session_interface
    with app.test_request_context("/api/v1/me", headers=cookie) as api_call:
        assert interface.is_null_session(interface.open_session(app, api_call.request))  # not even unsigned
    with app.test_request_context("/", headers=cookie) as page:
        assert interface.open_session(app, page.request).get("_user_id")


def test_a_write_with_a_token_needs_no_csrf_token_even_when_csrf_is_on(db_url, agency, users, tokens):
    app = make_app(db_url, WTF_CSRF_ENABLED=True)
    client = ApiClient(app.test_client(), tokens["clerk"])
    status, _ = client.post("/cases", online_registration())
    assert status == 201


# ---------------------------------------------------------------- registration

def test_registration_returns_the_case_its_location_and_a_query_code_once(api_app, tokens):
    client = api_app.test_client()
    response = client.post("/api/v1/cases", json=online_registration(),
                           headers={"Authorization": f"Bearer {tokens['clerk']}"})
    assert response.status_code == 201
    data = response.get_json()
    assert response.headers["Location"].endswith(f"/api/v1/cases/{data['case']['id']}")
    assert len(data["query_code"]) == 8
    assert data["case"]["reg_no"] == "依申请〔2026〕1号"
    assert data["possible_duplicates"] == []


def test_a_second_similar_request_of_the_same_applicant_is_flagged_as_a_possible_duplicate(api):
    first = _register(api)
    second = _register(api)
    assert [d["case_id"] for d in second["possible_duplicates"]] == [first["case"]["id"]]


def test_an_online_request_at_an_agency_that_confirms_by_hand_waits_for_confirmation(api, session, agency):
    agency.online_manual_confirmation = True
    session.commit()
    case = _register(api)["case"]
    assert case["stage"] == "received" and case["received_on"] is None


@pytest.mark.parametrize(("change", "field"), [
    ({"submitted_on": "2026-02-30"}, "submitted_on"),
    ({"submitted_on": "20260301"}, "submitted_on"),
    ({"submitted_on": "1999-01-01"}, "submitted_on"),
    ({"channel": "carrier_pigeon"}, "channel"),
    ({"items": []}, "items"),
    ({"surprise": 1}, "surprise"),
    ({"applicant": {"kind": "NATURAL", "name": "张" * 201, "phone": "1"}}, "applicant/name"),
    ({"applicant": {"kind": "ALIEN", "name": "张三", "phone": "1"}}, "applicant/kind"),
    ({"applicant": {"kind": "NATURAL", "name": "张\x00三", "phone": "1"}}, "applicant/name"),
    ({"items": [{"description": "不予\u202e公开"}]}, "items/0/description"),  # a right-to-left override
    ({"items": [{"description": 42}]}, "items/0/description"),
])
def test_every_field_of_a_registration_is_checked(api, change, field):
    body = _error(api["clerk"].post("/cases", online_registration(**change)), 400, "invalid")
    assert "/" + field in [e["pointer"] for e in body["errors"]]
    assert "/" + field in body["detail"]


def test_an_identity_card_number_with_a_wrong_check_digit_is_refused_by_the_engine(api):
    body = online_registration(applicant={"kind": "NATURAL", "name": "张三", "id_type": "居民身份证",
                                          "id_number": "110105194912310021", "phone": "13800000000"})
    assert "校验位" in _error(api["clerk"].post("/cases", body), 400, "invalid")["detail"]


def test_a_submission_date_in_the_future_is_refused(api):
    assert "不能晚于今天" in _error(api["clerk"].post("/cases", online_registration(submitted_on="2026-03-03")),
                                400, "invalid")["detail"]


def test_a_body_that_is_not_json_is_refused(api_app, tokens):
    client = api_app.test_client()
    headers = {"Authorization": f"Bearer {tokens['clerk']}"}
    response = client.post("/api/v1/cases", data="applicant=张三", headers=headers,
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415 and response.get_json()["code"] == "unsupported_media_type"
    response = client.post("/api/v1/cases", data="{not json", headers=headers, content_type="application/json")
    assert response.status_code == 400 and response.get_json()["code"] == "invalid"


def test_an_oversize_body_is_refused_with_413(db_url, agency, users, tokens):
    app = make_app(db_url, API_MAX_BODY_BYTES=4096)
    body = online_registration(purpose="很" * 5000)
    status, data = ApiClient(app.test_client(), tokens["clerk"]).post("/cases", body)
    assert status == 413 and data["code"] == "too_large"


def test_only_a_clerk_may_register(api):
    _error(api["handler"].post("/cases", online_registration()), 403, "forbidden")


# ---------------------------------------------------------------- reading and listing

def test_a_case_shows_its_clock_explanation_and_the_actions_of_the_tokens_user(api):
    case_id = _register(api)["case"]["id"]
    status, case = api["handler"].get(f"/cases/{case_id}")
    assert status == 200
    assert case["due_explanation"]["start"] == "2026-03-02" and case["due_explanation"]["due"] == case["due_on"]
    assert case["due_explanation"]["lines"][0].startswith("起算日")
    assert case["available_actions"] == []  # a registered case is the clerk's
    _, seen_by_clerk = api["clerk"].get(f"/cases/{case_id}")
    assert "accept" in {a["name"] for a in seen_by_clerk["available_actions"]}


def test_another_agencys_case_is_not_found(api, api_app, session):
    case_id = _register(api)["case"]["id"]
    other = add_agency(session, "OTHER", "另一市人民政府办公室")
    outsider = add_user(session, other, "outsider", PASSWORD, ["clerk", "handler", "archivist"])
    token = create_token(session, outsider)
    session.commit()
    stranger = ApiClient(api_app.test_client(), token)
    _error(stranger.get(f"/cases/{case_id}"), 404, "not_found")
    _error(stranger.act(case_id, "withdraw", {"version": 1, "reason": "撤回"}), 404, "not_found")
    assert stranger.get("/cases")[1]["total"] == 0


def test_a_missing_case_and_an_absurd_id_are_not_found(api):
    _error(api["clerk"].get("/cases/999999"), 404, "not_found")
    _error(api["clerk"].get("/cases/99999999999999999999"), 404, "not_found")
    _error(api["clerk"].get("/cases/abc"), 404, "not_found")


def test_cases_are_listed_and_filtered_by_stage_applicant_type_text_and_receipt_date(api):
    _register(api)
    _register(api, applicant={"kind": "BUSINESS", "name": "某某建设有限公司", "phone": "0571-87654321"},
              items=[{"description": "某地块土地出让合同"}])
    _register(api, channel="fax", submitted_on="2026-02-26")
    everyone = api["clerk"].get("/cases")[1]
    assert everyone["total"] == 3 and [c["id"] for c in everyone["items"]] == [3, 2, 1]
    assert [c["id"] for c in api["clerk"].get("/cases?stage=received")[1]["items"]] == [3]
    assert [c["id"] for c in api["clerk"].get("/cases?applicant_kind=BUSINESS")[1]["items"]] == [2]
    assert [c["id"] for c in api["clerk"].get("/cases?q=土地出让")[1]["items"]] == [2]
    assert [c["id"] for c in api["clerk"].get("/cases?q=依申请〔2026〕3号")[1]["items"]] == [3]
    assert api["clerk"].get("/cases?received_from=2026-03-02&received_to=2026-03-02")[1]["total"] == 2
    page = api["clerk"].get("/cases?per_page=2&page=2")[1]
    assert page["total"] == 3 and [c["id"] for c in page["items"]] == [1]


def test_cases_are_filtered_by_due_status(api, api_app, tokens):
    case_id = _register(api)["case"]["id"]  # due 2026-03-30, 20 working days left
    assert [c["id"] for c in api["clerk"].get("/cases?due_status=on_time")[1]["items"]] == [case_id]
    assert api["clerk"].get("/cases?due_status=overdue")[1]["total"] == 0
    api_app.config["GONGKAI_TODAY"] = "2026-03-26"  # Thursday: 2 working days left
    assert [c["id"] for c in api["clerk"].get("/cases?due_status=due_soon")[1]["items"]] == [case_id]
    assert api["clerk"].get(f"/cases/{case_id}")[1]["due_status"]["working_days_left"] == 2
    api_app.config["GONGKAI_TODAY"] = "2026-03-31"
    assert [c["id"] for c in api["clerk"].get("/cases?due_status=overdue")[1]["items"]] == [case_id]


@pytest.mark.parametrize("query", ["stage=lost", "due_status=late", "received_from=yesterday", "per_page=1000",
                                   "page=0", "outcome=MAYBE", "colour=red", "stage=received&stage=registered"])
def test_list_filters_are_checked(api, query):
    _error(api["clerk"].get(f"/cases?{query}"), 400, "invalid")


# ---------------------------------------------------------------- actions: refusals

def test_a_stale_version_is_refused_with_409_and_the_current_version(api):
    case = _register(api)["case"]
    body = _error(api["clerk"].act(case["id"], "withdraw", {"version": case["version"] - 1, "reason": "撤回"}),
                  409, "stale")
    assert body["current_version"] == case["version"]


def test_an_action_the_stage_does_not_allow_is_refused_with_409_saying_why(api):
    case = _register(api)["case"]
    body = _error(api["clerk"].act(case["id"], "record_payment", {"version": case["version"],
                                                                   "paid_on": "2026-03-02",
                                                                   "receipt_no": "浙财电0001234"}), 409, "workflow")
    assert "已登记" in body["detail"]


def test_a_rule_of_the_statute_refuses_with_422(api, session, users, today):
    case_id = _register(api)["case"]["id"]
    case = api["clerk"].get(f"/cases/{case_id}")[1]
    _, me = api["clerk"].get("/me")
    status, data = api["clerk"].act(case_id, "accept", {"version": case["version"],
                                                        "department_id": me["departments"][0]["id"]})
    assert status == 200
    body = _error(api["handler"].act(case_id, "issue_fee_notice", {
        "version": data["case"]["version"], "mode": "PER_APPLICATION", "units": 1}), 422, "rule")
    assert "不收费" in body["detail"]


def test_an_unknown_action_is_not_found_and_a_get_on_an_action_is_405(api, api_app, tokens):
    case = _register(api)["case"]
    _error(api["clerk"].act(case["id"], "teleport", {"version": case["version"]}), 404, "not_found")
    response = api_app.test_client().get(f"/api/v1/cases/{case['id']}/actions/withdraw",
                                         headers={"Authorization": f"Bearer {tokens['clerk']}"})
    assert response.status_code == 405 and "POST" in response.headers["Allow"]


def test_an_action_body_with_a_string_for_a_number_is_refused(api):
    case = _register(api)["case"]
    _error(api["clerk"].act(case["id"], "withdraw", {"version": str(case["version"]), "reason": "撤回"}),
           400, "invalid")


# ---------------------------------------------------------------- letters

def test_a_frozen_letter_downloads_with_its_sha256_and_is_not_found_elsewhere(api, api_app, tokens, session, users,
                                                                               today):
    case, _ = walk.register(session, users, today)
    walk.accept(session, users, case, today)
    walk.decide_disclosed(session, users, case, today)
    letter = walk.review_and_sign(session, users, case, today)
    client = api_app.test_client()
    response = client.get(f"/api/v1/cases/{case.id}/letters/{letter.id}.pdf",
                          headers={"Authorization": f"Bearer {tokens['archivist']}"})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["X-Content-SHA256"] == hashlib.sha256(response.data).hexdigest() == letter.sha256
    assert response.data == letter.pdf
    _error(api["clerk"].get(f"/cases/{case.id}/letters/{letter.id + 1}.pdf"), 404, "not_found")
    other = _register(api)["case"]
    _error(api["clerk"].get(f"/cases/{other['id']}/letters/{letter.id}.pdf"), 404, "not_found")


# ---------------------------------------------------------------- exemption log

def test_the_exemption_log_lists_records_by_ground_department_and_period(api, session, users, today):
    for _ in range(2):
        case, _ = walk.register(session, users, today)
        walk.accept(session, users, case, today)
        walk.decide_partial(session, users, case, today)
    status, log = api["legal_reviewer"].get("/exemptions")
    assert status == 200 and log["total"] == 2 and log["by_ground"] == {"WITHHELD_THIRD_PARTY": 2}
    entry = log["items"][0]
    assert entry["reg_no"] == "依申请〔2026〕2号" and entry["department_name"] == "规划科"
    assert entry["created_at"].endswith("+08:00")
    assert api["legal_reviewer"].get("/exemptions?ground=WITHHELD_INTERNAL")[1]["total"] == 0
    assert api["legal_reviewer"].get(f"/exemptions?department_id={entry['department_id']}")[1]["total"] == 2
    created_on = entry["created_at"][:10]
    assert api["legal_reviewer"].get(f"/exemptions?created_from={created_on}&created_to={created_on}")[1]["total"] == 2
    assert api["legal_reviewer"].get("/exemptions?created_to=2020-01-01")[1]["total"] == 0
    assert api["legal_reviewer"].get("/exemptions?review_state=confirmed")[1]["total"] == 0


# ---------------------------------------------------------------- the applicant's status lookup

def test_the_status_lookup_reveals_only_the_stage_and_dates(api):
    registered = _register(api)
    status, seen = api[None].post("/public/status", {"reg_no": registered["case"]["reg_no"],
                                                    "query_code": registered["query_code"].lower()})
    assert status == 200
    assert seen == {"reg_no": "依申请〔2026〕1号", "stage_label": "已登记", "received_on": "2026-03-02",
                    "due_on": "2026-03-30", "finished_on": None}


def test_a_wrong_query_code_and_a_wrong_number_get_the_same_answer(api):
    registered = _register(api)
    wrong_code = _error(api[None].post("/public/status", {"reg_no": registered["case"]["reg_no"],
                                                         "query_code": "AAAAAAAA"}), 404, "not_found")
    wrong_number = _error(api[None].post("/public/status", {"reg_no": "依申请〔2026〕99号",
                                                           "query_code": registered["query_code"]}), 404, "not_found")
    same = ("type", "title", "status", "detail", "code")
    assert {k: wrong_code[k] for k in same} == {k: wrong_number[k] for k in same}


def test_the_status_lookup_is_rate_limited_per_address(db_url, agency, users):
    client = ApiClient(make_app(db_url, API_LOOKUP_LIMIT_PER_MINUTE=3).test_client(), None)
    answers = [client.client.post("/api/v1/public/status", json={"reg_no": "依申请〔2026〕1号", "query_code": "ABCD2345"})
               for _ in range(4)]
    assert [r.status_code for r in answers] == [404, 404, 404, 429]
    assert int(answers[-1].headers["Retry-After"]) >= 1
    assert (answers[0].headers["RateLimit-Limit"], answers[0].headers["RateLimit-Remaining"]) == ("3", "2")
    assert int(answers[0].headers["RateLimit-Reset"]) > 0
    assert answers[-1].get_json()["code"] == "rate_limited"


def test_requests_are_rate_limited_per_token(db_url, agency, users, tokens):
    app = make_app(db_url, API_RATE_LIMIT_PER_TOKEN=2)
    clerk = ApiClient(app.test_client(), tokens["clerk"])
    handler = ApiClient(app.test_client(), tokens["handler"])
    assert [clerk.get("/cases")[0] for _ in range(3)] == [200, 200, 429]
    assert handler.get("/cases")[0] == 200  # another token has its own budget


# ---------------------------------------------------------------- the document and its page

def test_the_openapi_document_is_3_1_and_built_from_the_validating_models(api_app):
    from webui.api import schemas
    from webui.api.openapi import REF

    doc = api_app.test_client().get("/api/v1/openapi.json").get_json()
    assert doc["openapi"] == "3.1.0"
    for model in (schemas.RegisterIn, schemas.DecisionIn, schemas.ExemptionIn, schemas.StatusLookupIn):
        own = model.model_json_schema(ref_template=REF)
        own.pop("$defs", None)
        assert doc["components"]["schemas"][model.__name__] == own
    assert doc["paths"]["/public/status"]["post"]["security"] == []
    assert doc["paths"]["/cases"]["post"]["security"] == [{"bearerAuth": ["full", "portal"]}]
    assert doc["paths"]["/cases"]["get"]["security"] == [{"bearerAuth": ["full", "read"]}]
    assert doc["paths"]["/cases/{case_id}/actions/sign"]["post"]["security"] == [{"bearerAuth": ["full"]}]


def test_every_api_route_is_documented(api_app):
    doc = api_app.test_client().get("/api/v1/openapi.json").get_json()
    documented = {path.split("{")[0].rstrip("/") for path in doc["paths"]}
    undocumented_on_purpose = {"api.not_found", "api.static", "api.openapi_json", "api.docs"}
    for rule in api_app.url_map.iter_rules():
        if rule.endpoint.startswith("api.") and rule.endpoint not in undocumented_on_purpose:
            prefix = rule.rule.removeprefix("/api/v1").split("<")[0].rstrip("/")
            assert prefix in documented, rule.rule


def test_the_docs_page_lists_every_operation_without_any_outside_asset(api_app):
    doc = api_app.test_client().get("/api/v1/openapi.json").get_json()
    page = api_app.test_client().get("/api/v1/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    for methods in doc["paths"].values():
        for op in methods.values():
            assert op["summary"] in html
    assert "http://" not in html and "https://" not in html


def test_a_token_is_live_only_while_unrevoked_and_its_user_active(session, users):
    """The lookup every API request makes: the token's scope and personal-data right and its user (with the
    agency), none for an unknown or revoked token or a deactivated user."""
    from engine.services.accounts import token_row

    token = create_token(session, users["clerk"], "窗口", scope="read", personal_data=True)
    session.commit()
    live = token_row(session, token)
    assert (live.scope, live.personal_data, live.user) == ("read", True, users["clerk"])
    assert live.user.agency is users["clerk"].agency
    assert token_row(session, token + "x") is None
    users["clerk"].active = False
    session.commit()
    assert token_row(session, token) is None
    users["clerk"].active = True
    revoke_token(session, live.id, actor=users["admin"])
    session.commit()
    assert token_row(session, token) is None
