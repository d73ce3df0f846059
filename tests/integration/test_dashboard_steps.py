"""工作台: the next step per case for each role, letters waiting for delivery, columns by role."""

from __future__ import annotations

import re

from sqlalchemy import select

from engine import services
from engine.persistence.models import Case, Letter
from tests.integration import helpers_cases as h
from tests.integration import test_web_support as support
from tests.integration.test_web_support import logged_in

web_app = support.web_app


def _section(page: str, anchor: str) -> str:
    start = page.find(f'id="{anchor}"')
    assert start >= 0, anchor
    return page[start:page.find("</section>", start)]


def test_the_clerk_sees_the_supplement_window_and_the_next_step_of_a_registered_case(web_app, session, users, today):
    case, _ = h.register(session, users, today)
    page = logged_in(web_app, "clerk").get("/").get_data(as_text=True)
    tasks = _section(page, "tasks")
    assert case.reg_no in tasks and "前出具补正告知书，否则受理分办" in tasks
    assert "补正告知期限（收到之日起 7 个工作日，条例第三十条）" in tasks
    assert f"/cases/{case.id}/do/accept" in tasks


def test_an_extension_notice_waits_in_the_clerks_delivery_list_until_its_delivery_is_recorded(
        web_app, session, users, today):
    case, _ = h.register(session, users, today)
    h.accept(session, users, case, today)
    services.extend(session, case.id, working_days=10, reason="所涉文件数量较多，需要逐页区分处理", renderer=h.render,
                    actor=users["office_head"], today=today)
    session.commit()
    notice = session.scalar(select(Letter).where(Letter.case_id == case.id, Letter.letter_type == "extension_notice"))
    clerk = logged_in(web_app, "clerk")
    waiting = _section(clerk.get("/").get_data(as_text=True), "to-deliver")
    assert f"延期答复告知书 {notice.doc_number}" in waiting
    assert f"/cases/{case.id}/do/record_delivery?letter_id={notice.id}" in waiting
    form = clerk.get(f"/cases/{case.id}/do/record_delivery?letter_id={notice.id}").get_data(as_text=True)
    assert f'value="{notice.id}" selected' in form
    assert 'value="POST" selected' in form and "按申请人要求的获取方式（邮寄）预选" in form  # 申请表: 邮寄
    case = session.get(Case, case.id)
    response = clerk.post(f"/cases/{case.id}/do/record_delivery", data={
        "version": case.version, "letter_id": notice.id, "method": "POST", "delivered_on": today.isoformat()})
    assert response.status_code == 303
    assert notice.doc_number not in _section(clerk.get("/").get_data(as_text=True), "to-deliver")
    assert 'id="to-deliver"' not in logged_in(web_app, "handler").get("/").get_data(as_text=True)


def test_the_archivist_sees_retention_and_archive_number_and_not_the_reply_deadline(web_app, session, users, today):
    case, _ = h.register(session, users, today)
    services.withdraw(session, case.id, reason="申请人来电表示不再需要", issue_notice=False, renderer=h.render,
                      actor=users["clerk"],
                      today=today)
    session.commit()
    tasks = _section(logged_in(web_app, "archivist").get("/").get_data(as_text=True), "tasks")
    assert case.reg_no in tasks and "保管期限（按规则）" in tasks and "档号" in tasks and "归档（办结于" in tasks
    assert "答复期限" not in tasks
    h.register(session, users, today)
    assert "答复期限" in _section(logged_in(web_app, "clerk").get("/").get_data(as_text=True), "tasks")


def test_a_provisional_due_date_is_explained_in_words_on_the_dashboard(web_app, session, users, today):
    case, _ = h.register(session, users, today)
    session.get(Case, case.id).due_provisional = True
    session.commit()
    page = logged_in(web_app, "clerk").get("/").get_data(as_text=True)
    legend = page[page.find('id="prov-legend"'):]
    assert "表示答复期限为临时推算" in legend and "新一年的通知发布后，系统自动重算" in legend


def test_the_legal_review_page_names_the_third_party_its_answer_and_the_article_never_record_numbers(
        web_app, session, users, today):
    from dataclasses import replace

    from engine.services import ItemDecision

    case, _ = h.register(session, users, today)
    h.accept(session, users, case, today)
    services.open_consultation(session, case.id, kind="THIRD_PARTY", party_name="某某置业有限公司", sent_on=today,
                               renderer=h.render, actor=users["handler"], today=today)
    session.commit()
    consultation = session.get(Case, case.id).consultations[0]
    services.record_consultation_answer(session, case.id, consultation_id=consultation.id, answer="OBJECTION",
                                        answered_on=today, summary="涉及本公司商业秘密", actor=users["handler"],
                                        today=today)
    item = session.get(Case, case.id).items[0]
    services.record_decision(session, case.id, decisions=[ItemDecision(
        item_id=item.id, outcome="PARTIAL", reason="批复正文予以公开，附件中的商业信息不予公开",
        how_to_obtain="随本答复书邮寄批复文件复印件（已作区分处理）")], actor=users["handler"], today=today)
    services.record_exemption(session, case.id, item_id=item.id, actor=users["handler"], today=today,
                              form=replace(h.PARTIAL_EXEMPTION, consultation_id=consultation.id,
                                           no_consultation_reason=""))
    services.record_confidentiality_review(session, case.id, item_id=item.id, conclusion="CLEARED_AFTER_REDACTION",
                                           basis="删除后不涉密", reviewed_on=today, actor=users["handler"], today=today)
    services.submit_for_review(session, case.id, actor=users["handler"], today=today)
    session.commit()
    page = logged_in(web_app, "legal_reviewer").get(f"/cases/{case.id}/review").get_data(as_text=True)
    assert "某某置业有限公司：不同意公开" in page and "涉及本公司商业秘密" in page
    assert "保护第三方合法权益（《中华人民共和国政府信息公开条例》第十五条" in page
    assert not re.search(r"#\d+|记录 #| v\d\b", page)


def test_a_row_link_is_exactly_the_link_url_for_builds(web_app):
    """The dashboard's links are built once per request and filled in per row (webui.row_urls)."""
    from flask import url_for

    from webui.row_urls import row_url

    for base in ("http://localhost/", "http://localhost/gongkai/"):
        with web_app.test_request_context("/", base_url=base):
            for case_id, letter_id in ((1, 2), (7, 7), (42, 10), (123456, 9), (70, 700000)):
                assert row_url("cases.show", case_id=case_id) == url_for("cases.show", case_id=case_id)
                assert row_url("handling.act", case_id=case_id, name="confirm_receipt") == \
                    url_for("handling.act", case_id=case_id, name="confirm_receipt")
                assert row_url("handling.act", case_id=case_id, name="record_delivery", letter_id=letter_id) == \
                    url_for("handling.act", case_id=case_id, name="record_delivery", letter_id=letter_id)
                assert row_url("handling.act", case_id=case_id, name="accept") == \
                    url_for("handling.act", case_id=case_id, name="accept")
