"""Issue 13: what a court would fault in the letters and periods — each defect pinned through the engine's actions
and the real letters package (periods from receipt, 条例35, consultations, NOT_RESPONSIBLE, fees, wording)."""

from __future__ import annotations

import io
import subprocess
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from engine import services
from engine.errors import InvalidInput, RuleViolation
from engine.persistence.models import Letter
from engine.rules.calendar import default_calendar
from engine.services import ItemDecision
from engine.services.letter_data import merge_citations
from letters.lint import wording_problems

from .helpers_cases import accept, deliver, register, registration, render

MON = date(2026, 3, 2)
CAL = default_calendar()


def wd(day: date, n: int) -> date:
    return CAL.add_working_days(day, n)


def text_of(letter) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(letter.pdf)).pages).replace(" ", "").replace(
        "\n", "")


# ---------------------------------------------------------------- periods run from receipt

def test_a_supplement_period_runs_from_the_delivery_of_the_notice_and_a_lapse_waits_for_it(session, agency, users):
    case, _ = register(session, users, MON)
    notice = services.request_supplement(session, case.id, items=["请写明文号"], period_working_days=10,
                                         renderer=render, actor=users["clerk"], today=MON).letter
    assert "自收到本告知书之日起10个工作日内" in text_of(notice)
    assert "supplement_due_on" not in notice.data_snapshot and case.supplement_due_on is None
    with pytest.raises(RuleViolation, match="尚未登记送达"):
        services.close_lapsed(session, case.id, renderer=render, actor=users["clerk"], today=wd(MON, 30))
    received = wd(MON, 5)  # the post took a week
    deliver(session, users, case, notice, received)
    assert case.supplement_due_on == wd(received, 10)  # not wd(MON, 10)
    with pytest.raises(RuleViolation, match="尚未届满"):
        services.close_lapsed(session, case.id, renderer=render, actor=users["clerk"], today=wd(MON, 11))
    services.close_lapsed(session, case.id, renderer=render, actor=users["clerk"], today=wd(received, 11))
    assert case.report_outcome == "LAPSED_SUPPLEMENT"


def test_a_returned_delivery_starts_no_period(session, agency, users):
    case, _ = register(session, users, MON)
    notice = services.request_supplement(session, case.id, items=["请写明文号"], renderer=render,
                                         actor=users["clerk"], today=MON).letter
    services.record_delivery(session, case.id, method="POST", delivered_on=wd(MON, 3), letter_id=notice.id,
                             returned=True, actor=users["clerk"], today=wd(MON, 3))
    assert case.supplement_due_on is None


def test_a_supplement_period_of_zero_is_refused_not_replaced_by_the_default(session, agency, users):
    case, _ = register(session, users, MON)
    with pytest.raises(InvalidInput, match="1 至 60 个工作日"):
        services.request_supplement(session, case.id, items=["请写明文号"], period_working_days=0, renderer=render,
                                    actor=users["clerk"], today=MON)


def test_the_fee_period_runs_from_the_applicants_receipt(session, agency, users):
    case, _ = register(session, users, MON)
    accept(session, users, case, MON)
    issued = services.issue_fee_notice(session, case.id, mode="PER_PAGE", units=120, renderer=render,
                                       actor=users["handler"], today=MON)
    assert issued.record.pay_by_on is None and "自收到本通知书之日起20个工作日内" in text_of(issued.letter)
    # Until the delivery is known the paused clock is estimated from the issue date, and says so.
    due = services.load_case(session, case.id, users["clerk"])
    from engine.rules.case_clock import clock_settings, compute_due
    explained = compute_due(due, **clock_settings(agency))
    assert any("送达日期未登记" in p.reason for p in explained.pauses)
    with pytest.raises(RuleViolation, match="收费通知书.*尚未登记送达"):
        services.close_lapsed(session, case.id, renderer=render, actor=users["clerk"], today=wd(MON, 40))
    deliver(session, users, case, issued.letter, wd(MON, 4))
    assert issued.record.pay_by_on == wd(wd(MON, 4), 20)
    with pytest.raises(RuleViolation, match="尚未届满"):
        services.close_lapsed(session, case.id, renderer=render, actor=users["clerk"], today=wd(MON, 21))


def test_a_consultation_answer_is_due_fifteen_working_days_after_the_party_received_the_letter(
        session, agency, users):
    case, _ = register(session, users, MON)
    accept(session, users, case, MON)
    opened = services.open_consultation(session, case.id, kind="AGENCY", party_name="某市住房和城乡建设局",
                                        sent_on=MON, renderer=render, actor=users["handler"], today=MON)
    consultation, letter = opened.record, opened.letters[0]
    assert consultation.answer_due_on is None
    with pytest.raises(RuleViolation, match="尚未登记送达"):
        services.record_consultation_answer(session, case.id, consultation_id=consultation.id, answer="NO_ANSWER",
                                            answered_on=wd(MON, 30), actor=users["handler"], today=wd(MON, 30))
    deliver(session, users, case, letter, wd(MON, 3))
    assert consultation.answer_due_on == wd(wd(MON, 3), 15)
    with pytest.raises(RuleViolation, match="尚未届满"):
        services.record_consultation_answer(session, case.id, consultation_id=consultation.id, answer="NO_ANSWER",
                                            answered_on=wd(MON, 16), actor=users["handler"], today=wd(MON, 16))
    on = wd(consultation.answer_due_on, 1)
    services.record_consultation_answer(session, case.id, consultation_id=consultation.id, answer="NO_ANSWER",
                                        answered_on=on, actor=users["handler"], today=on)
    assert case.stage == "in_handling"


# ---------------------------------------------------------------- consultations and third parties

def test_the_applicant_is_told_of_the_consultation_pause_and_the_party_sees_only_its_items(session, agency, users):
    case, _ = register(session, users, MON, items=[("2025年度老旧小区改造批复", "城乡规划"),
                                                    ("某公司投标文件技术标", "城乡规划")])
    accept(session, users, case, MON)
    opened = services.open_consultation(session, case.id, kind="THIRD_PARTY", party_name="李四", item_seqs=[2],
                                        party_is_person=True, sent_on=MON, renderer=render, actor=users["handler"],
                                        today=MON)
    letter, notice = opened.letters
    party_text = text_of(letter)
    assert "某公司投标文件技术标" in party_text and "老旧小区改造批复" not in party_text
    assert "请你自收到本意见书之日起15个工作日内" in party_text and "贵单位" not in party_text
    assert "0571-12345678" in party_text  # the contact line: whom to answer
    assert notice.letter_type == "consultation_notice" and notice.doc_number
    notice_text = text_of(notice)
    assert "第三十三条第三款" in notice_text and "不计算在答复期限内" in notice_text and "李四" not in notice_text


def test_an_organisation_is_addressed_as_such(session, agency, users):
    case, _ = register(session, users, MON)
    accept(session, users, case, MON)
    letter = services.open_consultation(session, case.id, kind="THIRD_PARTY", party_name="某建设有限公司", sent_on=MON,
                                        renderer=render, actor=users["handler"], today=MON).letters[0]
    assert "请贵单位自收到本意见书之日起15个工作日内" in text_of(letter)


def test_the_applicant_is_not_a_third_party_to_its_own_information(session, agency, users):
    case, _ = register(session, users, MON)  # applicant 张三
    accept(session, users, case, MON)
    with pytest.raises(RuleViolation, match="申请人本人不是第三方"):
        services.open_consultation(session, case.id, kind="THIRD_PARTY", party_name="张 三", sent_on=MON,
                                   renderer=render, actor=users["handler"], today=MON)


# ---------------------------------------------------------------- 条例35

def test_excessive_needs_a_request_for_reasons_answered_or_lapsed_first(session, agency, users):
    case, _ = register(session, users, MON)
    accept(session, users, case, MON)
    item = case.items[0]
    decision = ItemDecision(item_id=item.id, outcome="EXCESSIVE", reason="本月申请120件，说明的理由不合理")
    with pytest.raises(InvalidInput, match="须先要求申请人说明理由"):
        services.record_decision(session, case.id, decisions=[decision], actor=users["handler"], today=MON)
    asked = services.request_reasons(session, case.id, volume_description="本月共申请120件", period_working_days=5,
                                     renderer=render, actor=users["handler"], today=MON)
    assert "自收到本告知书之日起5个工作日内" in text_of(asked.letter)
    assert case.stage == "in_handling" and not case.clock_paused  # 条例35 pauses nothing by default
    with pytest.raises(InvalidInput, match="须先登记申请人说明理由"):
        services.record_decision(session, case.id, decisions=[decision], actor=users["handler"], today=MON)
    with pytest.raises(RuleViolation, match="尚未登记送达"):
        services.record_reasons(session, case.id, answer="LAPSED", answered_on=wd(MON, 10), actor=users["clerk"],
                                today=wd(MON, 10))
    deliver(session, users, case, asked.letter, wd(MON, 1))
    with pytest.raises(RuleViolation, match="尚未届满"):
        services.record_reasons(session, case.id, answer="LAPSED", answered_on=wd(MON, 6), actor=users["clerk"],
                                today=wd(MON, 6))
    services.record_reasons(session, case.id, answer="LAPSED", answered_on=wd(MON, 7), actor=users["clerk"],
                            today=wd(MON, 7))
    services.record_decision(session, case.id, decisions=[decision], actor=users["handler"], today=wd(MON, 7))
    assert case.items[0].outcome == "EXCESSIVE"


def test_a_delay_notice_fixes_a_later_deadline_that_the_clock_honours(session, agency, users):
    case, _ = register(session, users, MON)
    accept(session, users, case, MON)
    asked = services.request_reasons(session, case.id, volume_description="本月共申请120件", renderer=render,
                                     actor=users["handler"], today=MON)
    with pytest.raises(RuleViolation, match="已说明理由"):
        services.set_delayed_reply(session, case.id, new_due_on=wd(MON, 60), reason="需逐件调档", renderer=render,
                                   actor=users["office_head"], today=MON)
    deliver(session, users, case, asked.letter, MON)
    services.record_reasons(session, case.id, answer="ANSWERED", answered_on=wd(MON, 2), summary="用于课题研究",
                            actor=users["handler"], today=wd(MON, 2))
    with pytest.raises(RuleViolation, match="应晚于现行答复期限"):
        services.set_delayed_reply(session, case.id, new_due_on=case.due_on, reason="需逐件调档", renderer=render,
                                   actor=users["office_head"], today=wd(MON, 2))
    later = wd(MON, 60)
    delayed = services.set_delayed_reply(session, case.id, new_due_on=later, reason="理由合理，但需逐件调档审查",
                                         renderer=render, actor=users["office_head"], today=wd(MON, 2))
    assert case.due_on == later and delayed.letter.letter_type == "delay_notice"
    from engine.rules.case_clock import clock_settings, compute_due
    assert compute_due(case, **clock_settings(agency)).delayed_to == later
    # Later actions recompute the clock and keep the delay; an extension no longer applies.
    department = case.department_id
    services.assign(session, case.id, department_id=department, actor=users["clerk"], today=wd(MON, 3))
    assert case.due_on == later
    with pytest.raises(RuleViolation, match="不再适用延期"):
        services.extend(session, case.id, working_days=5, reason="需协调", renderer=render,
                        actor=users["office_head"], today=wd(MON, 3))


# ---------------------------------------------------------------- responsible agency, fees

def test_not_responsible_names_the_agency_or_says_why_it_cannot(session, agency, users):
    case, _ = register(session, users, MON)
    accept(session, users, case, MON)
    item = case.items[0]
    with pytest.raises(InvalidInput, match="无法确定负责机关的理由"):
        services.record_decision(session, case.id, decisions=[ItemDecision(
            item_id=item.id, outcome="NOT_RESPONSIBLE", reason="不属于本机关职责")], actor=users["handler"], today=MON)
    services.record_decision(session, case.id, decisions=[ItemDecision(
        item_id=item.id, outcome="NOT_RESPONSIBLE", reason="不属于本机关职责",
        referral_unknown_reason="该事项涉及的职责尚未明确划定，经向市编办咨询仍无法确定")],
        actor=users["handler"], today=MON)
    preview = services.preview_reply(session, case.id, renderer=render, actor=users["handler"], today=MON)
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(preview.pdf)).pages).replace("\n", "")
    assert "无法确定负责公开该政府信息的机关" in text and "市编办" in text


def test_the_fee_tier_counts_the_applicants_applications_of_the_month_from_the_database(session, agency, users):
    # 109号第四条: 1–10 free, 11–30 at ¥100; the 13th application of March is billed ¥100 for itself.
    for k in range(12):
        services.register_request(session, registration(submitted_on=wd(MON, k % 5)), renderer=render,
                                  actor=users["clerk"], today=wd(MON, k % 5))
    session.commit()
    case, _ = register(session, users, wd(MON, 5))
    other, _ = register(session, users, wd(MON, 5), id_number="110105198001010032", name="王五")
    accept(session, users, case, wd(MON, 5))
    accept(session, users, other, wd(MON, 5))
    assert services.earlier_applications_this_month(session, case) == 12
    fee = services.issue_fee_notice(session, case.id, mode="PER_APPLICATION", units=1, renderer=render,
                                    actor=users["handler"], today=wd(MON, 5))
    assert fee.record.amount_yuan == 100
    assert "本件为当月第13件" in text_of(fee.letter)
    with pytest.raises(RuleViolation, match="不收费"):  # 王五's first application this month is free
        services.issue_fee_notice(session, case_id=other.id, mode="PER_APPLICATION", units=1, renderer=render,
                                  actor=users["handler"], today=wd(MON, 5))


# ---------------------------------------------------------------- wording

def test_each_statute_is_named_once_per_citation():
    ogi = "《中华人民共和国政府信息公开条例》"
    assert merge_citations([f"{ogi}第三十七条", f"{ogi}第十五条"]) == f"{ogi}第三十七条、第十五条"
    assert merge_citations([f"{ogi}第十四条、第三十六条第（三）项", "《中华人民共和国统计法》第二十八条"]) == (
        f"{ogi}第十四条、第三十六条第（三）项和《中华人民共和国统计法》第二十八条")


def test_a_reply_without_a_typed_reason_states_its_conclusion_once_and_the_draft_has_no_number(
        session, agency, users):
    case, _ = register(session, users, MON)
    accept(session, users, case, MON)
    item = case.items[0]
    services.record_decision(session, case.id, decisions=[ItemDecision(
        item_id=item.id, outcome="DISCLOSED", how_to_obtain="随本答复书邮寄复印件")], actor=users["handler"], today=MON)
    preview = services.preview_reply(session, case.id, renderer=render, actor=users["handler"], today=MON)
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(preview.pdf)).pages)
    assert text.count("予以公开") == 1
    assert "测政办公开〔" not in text  # no made-up 文号 on the 样稿
    assert wording_problems(text) == []


def test_every_sample_letter_passes_the_wording_lint(tmp_path):
    from letters import render_letter, sample_data
    from letters.samples import letter_type_of

    for name, data in sample_data().items():
        rendered = render_letter(letter_type_of(name), data)
        text = subprocess.run(["pdftotext", "-", "-"], input=rendered.pdf, capture_output=True, check=True).stdout
        assert wording_problems(text.decode()) == [], name


def test_every_demo_letter_passes_the_wording_lint_and_the_process_record_speaks_chinese(session, db_url):
    import re

    from engine.persistence.models import AuditEvent
    from engine.services.casefile_collect import describe_changes
    from engine.services.demo import create_demo

    create_demo(session, renderer=render, today=date(2026, 11, 20))
    session.commit()
    letters = session.scalars(select(Letter)).all()
    assert len(letters) > 60
    types = {letter.letter_type for letter in letters}
    assert {"consultation_notice", "reason_request", "delay_notice", "supplement_notice", "fee_notice"} <= types
    for letter in letters:
        text = subprocess.run(["pdftotext", "-", "-"], input=letter.pdf, capture_output=True, check=True).stdout
        assert wording_problems(text.decode()) == [], (letter.letter_type, letter.doc_number)
    from engine.rules import vocabulary
    from engine.rules.outcomes import OUTCOMES

    internal = set(OUTCOMES) | set(vocabulary.LETTER_LABELS) | {"state", "filename"} | set(
        vocabulary.REASON_ANSWERS) | set(vocabulary.CONSULTATION_KINDS) | set(vocabulary.CONSULTATION_ANSWERS) | set(
        vocabulary.DELIVERY_METHODS) | set(vocabulary.STAGES) | set(vocabulary.FEE_MODES)
    for changes in session.scalars(select(AuditEvent.changes)):
        line = describe_changes(changes or {})
        # No internal key or code: only names, numbers and hashes (hex) may be ASCII.
        words = set(re.findall(r"[A-Za-z_]{4,}", line))
        leaked = {w for w in words if "_" in w or w in internal}
        assert not leaked, line


def test_the_unsettled_points_are_agency_settings(session, agency, users):
    from engine.services.agency_admin import AGENCY_TEXT_FIELDS, AgencySettingsForm, update_agency_settings

    def settings(**kw):
        return AgencySettingsForm(texts={name: getattr(agency, name) for name in AGENCY_TEXT_FIELDS},
                                  supplement_period_working_days=15, fee_pauses_clock=True,
                                  online_manual_confirmation=False, topics=list(agency.topics), **kw)

    with pytest.raises(InvalidInput, match="办理结果无效"):
        update_agency_settings(session, settings(review_first_also=["DISCLOSED"]), actor=users["admin"])
    session.rollback()
    update_agency_settings(session, settings(reason_request_pauses_clock=True, review_first_also=["NOT_HELD"]),
                           actor=users["admin"])
    case, _ = register(session, users, MON)
    accept(session, users, case, MON)
    before = case.due_on
    asked = services.request_reasons(session, case.id, volume_description="本月共申请120件", period_working_days=5,
                                     renderer=render, actor=users["handler"], today=wd(MON, 1))
    deliver(session, users, case, asked.letter, wd(MON, 2))
    services.record_reasons(session, case.id, answer="ANSWERED", answered_on=wd(MON, 4), summary="用于研究",
                            actor=users["handler"], today=wd(MON, 4))
    assert case.due_on == wd(before, 4)  # the 4 working days from the request to the answer are not counted
    from engine.services import letter_data
    assert letter_data._remedies(agency)["review_first_also"] == ["NOT_HELD"]
