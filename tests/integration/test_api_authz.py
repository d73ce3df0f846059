"""The authorization matrix over HTTP: every action × every role. A role the chart does not name gets 403
(before its body is looked at, and nothing changes); a role it names is never 403."""

from __future__ import annotations

from engine.rules.vocabulary import ROLES
from engine.rules.workflow import ACTIONS
from tests.conftest import TODAY
from tests.integration.api_harness import api_app_fixture, api_fixture, online_registration, tokens_fixture  # noqa: F401
from webui.api.actions import ACTION_SPECS

DAY = TODAY.isoformat()
# A well-formed body per action (the data need not fit the case: a permitted role may get 400/409/422).
BODIES = {
    "confirm_receipt": {"confirmed_on": DAY},
    "request_supplement": {"items": ["请写明文件名称"]},
    "receive_supplement": {"received_on": DAY},
    "close_lapsed_supplement": {},
    "accept": {"department_id": 1},
    "assign": {"department_id": 1},
    "open_consultation": {"kind": "THIRD_PARTY", "party_name": "某公司", "sent_on": DAY},
    "record_consultation_answer": {"consultation_id": 1, "answer": "CONSENT", "answered_on": DAY},
    "issue_fee_notice": {"mode": "PER_PAGE", "units": 200},
    "record_payment": {"paid_on": DAY},
    "close_lapsed_fee": {},
    "extend": {"working_days": 10, "reason": "需要征求多个部门意见"},
    "record_decision": {"decisions": [{"item_id": 1, "outcome": "NOT_HELD", "reason": "经检索没有"}]},
    "record_exemption": {"item_id": 1, "ground": "NOT_HELD", "facts": "经检索本机关档案系统和业务系统均无该文件"},
    "record_confidentiality_review": {"item_id": 1, "conclusion": "NOT_SECRET", "reviewed_on": DAY},
    "submit_for_review": {},
    "review_exemption": {"record_id": 1, "confirm": True},
    "return_for_revision": {"comment": "请补充检索记录"},
    "sign": {},
    "record_delivery": {"method": "POST", "delivered_on": DAY},
    "withdraw": {"reason": "申请人书面撤回"},
    "notify_third_party": {"consultation_id": 1, "information": "成交价款", "reason": "涉及公共利益"},
    "archive": {},
    "request_reasons": {"volume_description": "本月申请120件"},
    "record_reasons": {"answer": "ANSWERED", "answered_on": DAY, "summary": "用于研究"},
    "set_delayed_reply": {"new_due_on": DAY, "reason": "理由合理但需逐件调档"},
    "record_review_or_litigation": {"kind": "REVIEW", "filed_on": DAY},
}
EXTRA_ROLES = {"record_exemption": ACTIONS["record_decision"].roles,
               "record_review_or_litigation": ("clerk", "legal_reviewer", "archivist", "office_head")}


def _roles_for(action: str) -> tuple[str, ...]:
    return ACTIONS[action].roles if action in ACTIONS else EXTRA_ROLES[action]


def test_the_bodies_cover_every_action():
    assert set(BODIES) == set(ACTION_SPECS) >= set(ACTIONS)


def test_every_role_outside_an_actions_roles_is_refused_and_every_role_inside_is_not(api):
    status, registered = api["clerk"].post("/cases", online_registration())
    assert status == 201
    case_id = registered["case"]["id"]
    outcomes: dict[tuple[str, str], int] = {}
    for action, body in BODIES.items():
        for role in ROLES:
            version = api["admin"].get(f"/cases/{case_id}")[1]["version"]
            status, answer = api[role].act(case_id, action, {"version": version, **body})
            outcomes[(action, role)] = status
            if role not in _roles_for(action):
                assert status == 403, (action, role, answer)
                assert answer["code"] == "forbidden"
                assert api["admin"].get(f"/cases/{case_id}")[1]["version"] == version
            else:
                assert status in (200, 400, 404, 409, 422), (action, role, answer)
    # The permitted side was really exercised: some actions went through, others were refused by stage or rule.
    assert 200 in outcomes.values() and 409 in outcomes.values()


def test_a_refusal_for_a_missing_role_names_the_roles_that_may_act(api):
    _, registered = api["clerk"].post("/cases", online_registration())
    case = registered["case"]
    status, answer = api["archivist"].act(case["id"], "extend", {"version": case["version"], "working_days": 5,
                                                                  "reason": "需要征求意见"})
    assert status == 403 and "公开工作机构负责人" in answer["detail"]


def test_a_user_with_a_role_sees_only_the_actions_that_role_may_take(api):
    _, registered = api["clerk"].post("/cases", online_registration())
    case_id = registered["case"]["id"]
    seen = {role: {a["name"] for a in api[role].get(f"/cases/{case_id}")[1]["available_actions"]} for role in ROLES}
    assert seen["clerk"] == {"request_supplement", "accept", "withdraw"}
    assert seen["office_head"] == {"accept", "extend"}
    assert seen["handler"] == seen["legal_reviewer"] == seen["archivist"] == seen["admin"] == set()
