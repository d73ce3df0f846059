"""A request carried through the web pages: registration to a signed, delivered partial disclosure, archived."""

from __future__ import annotations

from sqlalchemy import select

from engine.persistence.models import Case, Department, ExemptionRecord, Letter
from tests.conftest import TODAY
from tests.integration import test_web_support as support
from tests.integration.helpers_cases import PARTIAL_EXEMPTION, render
from tests.integration.test_web_support import logged_in, register_via_web

web_app = support.web_app
client = support.client


def _case(session, case_id) -> Case:
    session.expire_all()
    return session.get(Case, case_id)


def test_a_request_goes_from_registration_to_an_archived_partial_disclosure(web_app, session, users):
    clerk = logged_in(web_app, "clerk")
    case_id = register_via_web(clerk)
    page = clerk.get(f"/cases/{case_id}/registered").get_data(as_text=True)
    assert "查询码" in page and "下载登记回执" in page
    assert "不能再次查看" in clerk.get(f"/cases/{case_id}/registered").get_data(as_text=True)
    case = _case(session, case_id)
    assert case.stage == "registered"
    receipt = session.scalar(select(Letter).where(Letter.case_id == case_id, Letter.letter_type == "receipt"))
    assert receipt.pdf.startswith(b"%PDF")

    dept = session.scalar(select(Department))
    response = clerk.post(f"/cases/{case_id}/do/accept", data={
        "version": case.version, "department_id": dept.id, "handler_id": users["handler"].id})
    assert response.status_code == 303
    case = _case(session, case_id)
    assert case.stage == "in_handling"

    handler = logged_in(web_app, "handler")
    item = case.items[0]
    response = handler.post(f"/cases/{case_id}/decide", data={
        "version": case.version, f"outcome_{item.id}": "PARTIAL",
        f"reason_{item.id}": "批复正文予以公开，附件中的个人信息不予公开",
        f"how_to_obtain_{item.id}": "随本答复书邮寄批复文件复印件（已作区分处理）"})
    assert response.status_code == 303, response.get_data(as_text=True)
    case = _case(session, case_id)
    form = handler.get(f"/cases/{case_id}/items/{item.id}/exemption?ground=WITHHELD_THIRD_PARTY").get_data(as_text=True)
    assert "公共利益衡量" in form and "不能区分处理的说明" not in form
    response = handler.post(f"/cases/{case_id}/items/{item.id}/exemption", data={
        "version": case.version, "ground": "WITHHELD_THIRD_PARTY", "facts": PARTIAL_EXEMPTION.facts,
        "scope": PARTIAL_EXEMPTION.scope, "no_consultation_reason": PARTIAL_EXEMPTION.no_consultation_reason,
        "public_interest": PARTIAL_EXEMPTION.public_interest, "article": ""})
    assert response.status_code == 303, response.get_data(as_text=True)
    case = _case(session, case_id)
    response = handler.post(f"/cases/{case_id}/items/{item.id}/confidentiality", data={
        "version": case.version, "conclusion": "CLEARED_AFTER_REDACTION", "basis": "删除个人信息后不涉密",
        "reviewed_on": TODAY.isoformat()})
    assert response.status_code == 303
    preview = handler.get(f"/cases/{case_id}/preview.pdf")
    assert preview.status_code == 200 and preview.data.startswith(b"%PDF")
    assert preview.headers["X-Frame-Options"] == "SAMEORIGIN"
    case = _case(session, case_id)
    assert handler.post(f"/cases/{case_id}/submit", data={"version": case.version}).status_code == 303

    reviewer = logged_in(web_app, "legal_reviewer")
    page = reviewer.get(f"/cases/{case_id}/review").get_data(as_text=True)
    assert "签发答复书" in page and "<iframe" in page
    record = session.scalar(select(ExemptionRecord).where(ExemptionRecord.case_id == case_id))
    case = _case(session, case_id)
    response = reviewer.post(f"/cases/{case_id}/review/exemptions/{record.id}",
                             data={"version": case.version, "decision": "confirm"})
    assert response.status_code == 303
    case = _case(session, case_id)
    confirm = reviewer.post(f"/cases/{case_id}/sign", data={"version": case.version})  # first the 样稿 and a warning
    assert confirm.status_code == 200 and "签发后答复书冻结，不能修改，只能更正" in confirm.get_data(as_text=True)
    assert _case(session, case_id).stage == "in_review"
    response = reviewer.post(f"/cases/{case_id}/sign", data={"version": case.version, "confirmed": "1"})
    assert response.status_code == 303, response.get_data(as_text=True)
    case = _case(session, case_id)
    assert case.stage == "signed"
    reply = session.scalar(select(Letter).where(Letter.case_id == case_id, Letter.letter_type == "reply"))
    assert reply.signed_by_id == users["legal_reviewer"].id

    response = clerk.post(f"/cases/{case_id}/do/record_delivery", data={
        "version": case.version, "letter_id": reply.id, "method": "POST", "delivered_on": TODAY.isoformat(),
        "tracking_no": "EMS1234567890"})
    assert response.status_code == 303, response.get_data(as_text=True)
    case = _case(session, case_id)
    assert case.stage == "replied" and case.report_outcome == "PARTIAL"

    archivist = logged_in(web_app, "archivist")
    assert case.reg_no in archivist.get("/archive").get_data(as_text=True)
    confirm = archivist.post(f"/cases/{case_id}/do/archive", data={"version": case.version})
    assert confirm.status_code == 200 and "归档后案件材料冻结" in confirm.get_data(as_text=True)
    assert _case(session, case_id).stage == "replied"
    response = archivist.post(f"/cases/{case_id}/do/archive", data={"confirmed": "1", "version": case.version})
    assert response.status_code == 303, response.get_data(as_text=True)
    case = _case(session, case_id)
    assert case.stage == "archived" and case.archive_no

    page = archivist.get(f"/cases/{case_id}").get_data(as_text=True)
    for text in ("答复书", reply.sha256[:16], "办理过程", "签发答复书", "EMS1234567890"):
        assert text in page


def test_the_exemption_log_page_lists_records_for_reviewers_and_refuses_clerks(web_app, session, users, today):
    from tests.integration import helpers_cases as hc

    case, _ = hc.register(session, users, today)
    hc.accept(session, users, case, today)
    hc.decide_partial(session, users, case, today)
    reviewer = logged_in(web_app, "legal_reviewer")
    page = reviewer.get("/exemptions").get_data(as_text=True)
    assert "保护第三方合法权益" in page and case.reg_no in page and "共 1 条" in page
    assert "共 0 条" in reviewer.get("/exemptions?ground=WITHHELD_PROCESS").get_data(as_text=True)
    assert reviewer.get("/exemptions?created_from=bad").status_code == 200
    assert logged_in(web_app, "clerk").get("/exemptions").status_code == 403


def test_a_legal_reviewer_corrects_a_signed_reply_and_the_old_one_is_kept(web_app, session, users, today):
    from tests.integration import helpers_cases as hc

    case, _ = hc.register(session, users, today)
    hc.accept(session, users, case, today)
    hc.decide_disclosed(session, users, case, today)
    signed = hc.review_and_sign(session, users, case, today)
    old_hash = signed.sha256
    reviewer = logged_in(web_app, "legal_reviewer")
    page = reviewer.get(f"/cases/{case.id}").get_data(as_text=True)
    assert f"/cases/{case.id}/letters/{signed.id}/correct" in page
    form = reviewer.get(f"/cases/{case.id}/letters/{signed.id}/correct").get_data(as_text=True)
    assert "主送" in form and "张三" in form
    case = _case(session, case.id)
    refused = reviewer.post(f"/cases/{case.id}/letters/{signed.id}/correct",
                            data={"version": case.version, "recipient": "张叁", "reason": ""})
    assert refused.status_code == 400 and "更正理由" in refused.get_data(as_text=True)
    response = reviewer.post(f"/cases/{case.id}/letters/{signed.id}/correct",
                             data={"version": case.version, "recipient": "张叁", "reason": "申请人姓名写错"})
    assert response.status_code == 303, response.get_data(as_text=True)
    session.expire_all()
    letters = session.scalars(select(Letter).where(Letter.case_id == case.id, Letter.letter_type == "reply")
                              .order_by(Letter.id)).all()
    assert [letter.sha256 == old_hash for letter in letters] == [True, False]
    assert letters[1].supersedes_id == letters[0].id and letters[1].data_snapshot["recipient"] == "张叁"
    assert logged_in(web_app, "clerk").get(f"/cases/{case.id}/letters/{signed.id}/correct").status_code == 403


def test_a_handler_notifies_an_objecting_third_party_before_the_reply_is_signed(web_app, session, users, today):
    from engine import services
    from tests.integration import helpers_cases as hc

    case, _ = hc.register(session, users, today)
    hc.accept(session, users, case, today)
    c = services.open_consultation(session, case.id, kind="THIRD_PARTY", party_name="某建设有限公司", sent_on=today,
                                   renderer=render, actor=users["handler"], today=today).record
    services.record_consultation_answer(session, case.id, consultation_id=c.id, answer="OBJECTION",
                                        answered_on=today, summary="属于商业秘密", actor=users["handler"], today=today)
    session.commit()
    handler = logged_in(web_app, "handler")
    assert "告知第三方公开决定" in handler.get(f"/cases/{case.id}").get_data(as_text=True)
    form = handler.get(f"/cases/{case.id}/do/notify_third_party").get_data(as_text=True)
    assert "某建设有限公司" in form and "条例第三十二条" in form
    case = _case(session, case.id)
    response = handler.post(f"/cases/{case.id}/do/notify_third_party", data={"confirmed": "1",
        "version": case.version, "consultation_id": c.id, "information": "出让合同成交价款",
        "reason": "成交价款是国有资产处置结果，不公开会对公共利益造成重大影响"})
    assert response.status_code == 303, response.get_data(as_text=True)
    session.expire_all()
    letter = session.scalar(select(Letter).where(Letter.case_id == case.id,
                                                 Letter.letter_type == "third_party_disclosure_notice"))
    assert letter.data_snapshot["recipient"] == "某建设有限公司"
