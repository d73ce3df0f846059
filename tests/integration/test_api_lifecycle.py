"""A request's whole life over HTTP: online registration, handling, partial disclosure with its exemption
record, legal review, signing, the frozen letter, delivery, archive — and the applicant's status lookup."""

from __future__ import annotations

import hashlib

from tests.conftest import TODAY
from tests.integration.api_harness import api_app_fixture, api_fixture, online_registration, tokens_fixture  # noqa: F401

FACTS = "批复附件中列有拆迁户的姓名、身份证号和补偿金额，属于个人隐私，公开会损害其合法权益"


def _act(api, role, case, action, **body):
    status, data = api[role].act(case["id"], action, {"version": case["version"], **body})
    assert status == 200, (action, data)
    return data["case"], data["created"]


def test_a_request_goes_from_online_registration_to_archive_over_http(api):
    status, registered = api["clerk"].post("/cases", online_registration())
    assert status == 201, registered
    case = registered["case"]
    query_code = registered["query_code"]
    # Online, no manual confirmation: the submission day is the receipt day (条例31(三)); the clock runs.
    assert case["stage"] == "registered"
    assert case["received_on"] == TODAY.isoformat()
    assert case["due_on"] == "2026-03-30"
    assert case["due_status"] == {"kind": "on_time", "label": "按时", "working_days_left": 20}
    assert any(day["kind"] == "weekend" for day in case["due_explanation"]["not_counted"])
    assert {a["name"] for a in case["available_actions"]} >= {"accept", "request_supplement", "withdraw"}

    _, me = api["clerk"].get("/me")
    handler_id = me["handlers"][0]["id"]
    case, _ = _act(api, "clerk", case, "accept", department_id=me["departments"][0]["id"], handler_id=handler_id)
    assert case["stage"] == "in_handling" and case["handler"]["id"] == handler_id

    item_id = case["items"][0]["id"]
    case, _ = _act(api, "handler", case, "record_decision", decisions=[{
        "item_id": item_id, "outcome": "PARTIAL", "reason": "批复正文予以公开，附件中的个人信息不予公开",
        "how_to_obtain": "随本答复书邮寄批复文件复印件（已作区分处理）"}])
    case, created = _act(api, "handler", case, "record_exemption", item_id=item_id, ground="WITHHELD_THIRD_PARTY",
                         facts=FACTS, scope="批复附件二第3—5页“被征收人名单”中的姓名、身份证号码和补偿金额栏",
                         no_consultation_reason="所涉为身份证号码等个人敏感信息，依法不应公开，无需征求意见",
                         public_interest="删除个人信息后的批复正文已足以满足公众监督需要")
    record_id = created["record_id"]
    assert [r["id"] for r in case["exemption_records"]] == [record_id]
    case, _ = _act(api, "handler", case, "record_confidentiality_review", item_id=item_id,
                   conclusion="CLEARED_AFTER_REDACTION", basis="删除个人信息后不涉及国家秘密", reviewed_on="2026-03-02")
    case, _ = _act(api, "handler", case, "submit_for_review")
    assert case["stage"] == "in_review"
    assert [a["name"] for a in case["available_actions"]] == ["record_confidentiality_review"]

    _, reviewer_view = api["legal_reviewer"].get(f"/cases/{case['id']}")
    assert {a["name"] for a in reviewer_view["available_actions"]} == {
        "record_confidentiality_review", "review_exemption", "return_for_revision", "sign"}
    case, _ = _act(api, "legal_reviewer", reviewer_view, "review_exemption", record_id=record_id, confirm=True)
    case, created = _act(api, "legal_reviewer", case, "sign")
    assert case["stage"] == "signed"
    letter = next(x for x in case["letters"] if x["id"] == created["letter_id"])

    status, pdf = api["clerk"].get("/" + letter["download_url"])
    assert status == 200 and pdf.startswith(b"%PDF")
    assert hashlib.sha256(pdf).hexdigest() == letter["sha256"]

    case, _ = _act(api, "clerk", case, "record_delivery", method="POST", delivered_on="2026-03-02",
                   tracking_no="EMS1234567890")
    assert case["stage"] == "replied" and case["report_outcome"] == "PARTIAL" and case["due_status"] is None
    case, _ = _act(api, "archivist", case, "archive")
    assert case["stage"] == "archived" and case["archive_no"]
    assert case["available_actions"] == []

    status, seen = api[None].post("/public/status", {"reg_no": case["reg_no"], "query_code": query_code})
    assert status == 200
    assert seen == {"reg_no": case["reg_no"], "stage_label": "已归档", "received_on": "2026-03-02",
                    "due_on": None, "finished_on": "2026-03-02"}


def test_a_plain_letter_waits_for_its_confirmation_date_and_can_be_withdrawn(api):
    body = online_registration(channel="plain_letter", submitted_on="2026-02-25")
    status, registered = api["clerk"].post("/cases", body)
    assert status == 201
    case = registered["case"]
    assert case["stage"] == "received" and case["received_on"] is None and case["due_status"] is None
    case, _ = _act(api, "clerk", case, "confirm_receipt", confirmed_on="2026-02-27",
                   late_reason="信件于2月25日到达，经电话核实申请人身份后确认")
    assert case["stage"] == "registered" and case["received_on"] == "2026-02-27"
    case, _ = _act(api, "clerk", case, "withdraw", reason="申请人于2026年3月2日书面撤回申请")
    assert case["stage"] == "closed" and case["report_outcome"] == "OTHER"
