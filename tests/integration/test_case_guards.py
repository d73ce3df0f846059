"""Each guard of DESIGN §2, through the services on a real database."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from engine import services
from engine.errors import InvalidInput, NotFound, PermissionDenied, RuleViolation, StaleCase, WorkflowError
from engine.persistence.models import AuditEvent, Case
from engine.rules.calendar import default_calendar
from engine.services import ExemptionForm, ItemDecision

from .helpers_cases import accept, decide_disclosed, deliver, register, registration, render, review_and_sign

MON = date(2026, 3, 2)


def test_a_supplement_request_after_seven_working_days_is_refused(session, agency, users):
    case, _ = register(session, users, MON)
    late = default_calendar().add_working_days(MON, 8)
    with pytest.raises(RuleViolation, match="7 个工作日"):
        services.request_supplement(session, case.id, items=["请写明文号"], renderer=render, actor=users["clerk"], today=late)


def test_a_supplement_on_the_seventh_working_day_is_allowed_and_only_once(session, agency, users):
    case, _ = register(session, users, MON)
    day7 = default_calendar().add_working_days(MON, 7)
    services.request_supplement(session, case.id, items=["请写明文号"], renderer=render, actor=users["clerk"], today=day7)
    assert case.stage == "awaiting_supplement"
    services.receive_supplement(session, case.id, received_on=day7, actor=users["clerk"], today=day7)
    assert case.clock_start_on == day7
    assert case.due_on == default_calendar().add_working_days(day7, 20)  # the clock restarts at 0
    with pytest.raises(RuleViolation, match="一次性"):
        services.request_supplement(session, case.id, items=["再补"], renderer=render, actor=users["clerk"], today=day7)


def test_a_lapsed_supplement_closes_the_case_as_r6_1_only_after_the_period(session, agency, users):
    case, _ = register(session, users, MON)
    notice = services.request_supplement(session, case.id, items=["请写明文号"], renderer=render,
                                         actor=users["clerk"], today=MON).letter
    deliver(session, users, case, notice, MON)
    with pytest.raises(RuleViolation, match="尚未届满"):
        services.close_lapsed(session, case.id, renderer=render, actor=users["clerk"], today=case.supplement_due_on)
    after = default_calendar().add_working_days(case.supplement_due_on, 1)
    services.close_lapsed(session, case.id, renderer=render, actor=users["clerk"], today=after)
    assert (case.stage, case.report_outcome, case.finished_on) == ("closed", "LAPSED_SUPPLEMENT", after)


def test_an_extension_needs_the_office_head_is_at_most_twenty_days_and_only_once(session, agency, users):
    case, _ = register(session, users, MON)
    accept(session, users, case, MON)
    with pytest.raises(PermissionDenied, match="负责人"):
        services.extend(session, case.id, working_days=10, reason="需协调", renderer=render, actor=users["handler"], today=MON)
    with pytest.raises(RuleViolation, match="20 个工作日"):
        services.extend(session, case.id, working_days=21, reason="需协调", renderer=render, actor=users["office_head"], today=MON)
    original = case.due_on
    services.extend(session, case.id, working_days=20, reason="需协调多个部门", renderer=render, actor=users["office_head"], today=MON)
    assert case.due_on == default_calendar().add_working_days(original, 20)
    with pytest.raises(RuleViolation, match="只能延长一次"):
        services.extend(session, case.id, working_days=5, reason="再延", renderer=render, actor=users["office_head"], today=MON)


def test_an_extension_after_the_due_date_is_refused(session, agency, users):
    case, _ = register(session, users, MON)
    accept(session, users, case, MON)
    late = default_calendar().add_working_days(case.due_on, 1)
    with pytest.raises(RuleViolation, match="届满前"):
        services.extend(session, case.id, working_days=10, reason="需协调", renderer=render, actor=users["office_head"], today=late)


def test_a_consultation_pauses_the_clock_until_the_answer(session, agency, users):
    case, _ = register(session, users, MON)
    accept(session, users, case, MON)
    cal = default_calendar()
    before = case.due_on
    sent = cal.add_working_days(MON, 2)
    c = services.open_consultation(session, case.id, kind="THIRD_PARTY", party_name="某公司", sent_on=sent,
                                   renderer=render, actor=users["handler"], today=sent).record
    assert case.stage == "consulting"
    answered = cal.add_working_days(sent, 4)
    services.record_consultation_answer(session, case.id, consultation_id=c.id, answer="OBJECTION",
                                        answered_on=answered, actor=users["handler"], today=answered)
    assert case.stage == "in_handling"
    # sent..answered inclusive = 5 working days not counted
    assert case.due_on == cal.add_working_days(before, 5)


def test_only_a_legal_reviewer_can_sign(session, agency, users):
    case, _ = register(session, users, MON)
    accept(session, users, case, MON)
    decide_disclosed(session, users, case, MON)
    services.submit_for_review(session, case.id, actor=users["handler"], today=MON)
    for role in ("clerk", "handler", "office_head", "archivist", "admin"):
        with pytest.raises(PermissionDenied, match="法制审核"):
            services.sign_reply(session, case.id, renderer=render, actor=users[role], today=MON)


def test_a_disclosure_without_a_confidentiality_review_cannot_be_signed(session, agency, users):
    case, _ = register(session, users, MON)
    accept(session, users, case, MON)
    item = case.items[0]
    services.record_decision(session, case.id, decisions=[ItemDecision(item.id, "DISCLOSED", how_to_obtain="邮寄")],
                             actor=users["handler"], today=MON)
    services.submit_for_review(session, case.id, actor=users["handler"], today=MON)
    with pytest.raises(RuleViolation, match="保密审查"):
        services.sign_reply(session, case.id, renderer=render, actor=users["legal_reviewer"], today=MON)
    services.record_confidentiality_review(session, case.id, item_id=item.id, conclusion="SECRET",
                                           basis="已定密", reviewed_on=MON, actor=users["legal_reviewer"], today=MON)
    with pytest.raises(RuleViolation, match="涉密，不得公开"):
        services.sign_reply(session, case.id, renderer=render, actor=users["legal_reviewer"], today=MON)


def test_a_refusal_without_a_complete_exemption_record_is_refused_naming_what_is_missing(session, agency, users):
    case, _ = register(session, users, MON)
    accept(session, users, case, MON)
    item = case.items[0]
    services.record_decision(session, case.id, decisions=[ItemDecision(item.id, "WITHHELD_THIRD_PARTY",
                                                                        reason="涉及商业秘密")],
                             actor=users["handler"], today=MON)
    with pytest.raises(RuleViolation) as refused:
        services.record_exemption(session, case.id, item_id=item.id,
                                  form=ExemptionForm(ground="WITHHELD_THIRD_PARTY", facts="商业秘密"),
                                  actor=users["handler"], today=MON)
    for element in ("具体事实理由", "不予公开的范围", "区分处理", "征求第三方意见", "公共利益"):
        assert element in refused.value.message
    with pytest.raises(RuleViolation, match="缺少不予公开理由记录"):
        services.submit_for_review(session, case.id, actor=users["handler"], today=MON)


def test_a_rejected_exemption_returns_the_case_to_drafting_and_blocks_signing(session, agency, users):
    from .helpers_cases import decide_partial

    case, _ = register(session, users, MON)
    accept(session, users, case, MON)
    decide_partial(session, users, case, MON)
    services.submit_for_review(session, case.id, actor=users["handler"], today=MON)
    from engine.persistence.models import ExemptionRecord

    record = session.scalar(select(ExemptionRecord).where(ExemptionRecord.case_id == case.id))
    with pytest.raises(InvalidInput):
        services.review_exemption(session, case.id, record_id=record.id, confirm=False,
                                  actor=users["legal_reviewer"], today=MON)
    services.review_exemption(session, case.id, record_id=record.id, confirm=False, comment="范围写得不具体",
                              actor=users["legal_reviewer"], today=MON)
    assert case.stage == "drafting"
    with pytest.raises(RuleViolation, match="退回"):
        services.submit_for_review(session, case.id, actor=users["handler"], today=MON)


def test_archived_cases_are_read_only(session, agency, users):
    case, _ = register(session, users, MON)
    accept(session, users, case, MON)
    decide_disclosed(session, users, case, MON)
    review_and_sign(session, users, case, MON)
    services.record_delivery(session, case.id, method="IN_PERSON", delivered_on=MON, actor=users["clerk"], today=MON)
    services.archive(session, case.id, actor=users["archivist"], today=MON)
    with pytest.raises(WorkflowError, match="已归档"):
        services.withdraw(session, case.id, reason="撤回", renderer=render, actor=users["clerk"], today=MON)
    with pytest.raises(RuleViolation, match="备考"):
        services.record_delivery(session, case.id, method="POST", delivered_on=MON, returned=True,
                                 actor=users["clerk"], today=MON)


def test_a_stale_version_is_refused_with_a_clear_message(session, agency, users):
    case, _ = register(session, users, MON)
    old_version = case.version
    accept(session, users, case, MON)
    with pytest.raises(StaleCase, match="已被他人修改"):
        services.withdraw(session, case.id, reason="撤回", renderer=render, actor=users["clerk"], today=MON, version=old_version)


def test_another_agencys_case_is_not_found(session, agency, users):
    from engine.services.accounts import add_agency, add_user

    case, _ = register(session, users, MON)
    other = add_agency(session, "OTHER", "另一机关")
    outsider = add_user(session, other, "outsider", "password-123", ["clerk"])
    with pytest.raises(NotFound):
        services.withdraw(session, case.id, reason="撤回", renderer=render, actor=outsider, today=MON)


def test_a_failed_action_leaves_no_partial_state_and_no_audit_event(session, agency, users, monkeypatch):
    case, _ = register(session, users, MON)
    events_before = session.scalar(select(func.count()).select_from(AuditEvent))
    import engine.services.common as cases_module

    def explode(*_a, **_k):
        raise RuntimeError("injected failure")

    monkeypatch.setattr(cases_module, "record_event", explode)
    with pytest.raises(RuntimeError):
        services.request_supplement(session, case.id, items=["请写明文号"], renderer=render, actor=users["clerk"], today=MON)
    session.rollback()
    fresh = session.get(Case, case.id)
    assert fresh.stage == "registered"
    assert fresh.supplement_requested_on is None
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == events_before


def test_plain_letters_wait_for_confirmation_before_the_clock_starts(session, agency, users):
    form = registration(submitted_on=MON, channel="plain_letter")
    registered = services.register_request(session, form, renderer=render, actor=users["clerk"], today=MON)
    case = registered.case
    assert (case.stage, case.received_on, case.due_on) == ("received", None, None)
    confirmed = date(2026, 3, 4)
    with pytest.raises(InvalidInput, match="晚于申请到达日期.*2 日"):
        services.confirm_receipt(session, case.id, confirmed_on=confirmed, renderer=render,
                                 actor=users["clerk"], today=confirmed)
    services.confirm_receipt(session, case.id, confirmed_on=confirmed, late_reason="需电话核实申请人身份",
                             renderer=render, actor=users["clerk"], today=confirmed)
    event = session.scalar(select(AuditEvent).where(AuditEvent.case_id == case.id,
                                                    AuditEvent.action == "confirm_receipt"))
    assert event.reason == "需电话核实申请人身份"
    assert case.received_on == confirmed
    assert case.due_on == default_calendar().add_working_days(confirmed, 20)


def test_an_online_request_is_received_on_the_systems_confirmation_day(session, agency, users):
    registered = services.register_request(session, registration(submitted_on=MON, channel="online"),
                                        renderer=render, actor=users["clerk"], today=MON)
    case = registered.case
    assert case.received_on == MON


def test_a_bad_id_number_or_missing_contact_is_refused(session, agency, users):
    with pytest.raises(InvalidInput, match="校验位"):
        services.register_request(session, registration(submitted_on=MON, id_number="110105194912310021"),
                                  renderer=render, actor=users["clerk"], today=MON)
    form = registration(submitted_on=MON)
    form.applicant.phone = form.applicant.address = ""
    with pytest.raises(InvalidInput, match="联系方式"):
        services.register_request(session, form, renderer=render, actor=users["clerk"], today=MON)


def test_an_earlier_similar_request_from_the_same_applicant_is_offered_as_a_possible_repeat(session, agency, users):
    first, _ = register(session, users, MON)
    form = registration(submitted_on=MON, items=[("2025年度城区老旧小区改造项目批复文件", "")])
    found = services.find_possible_duplicates(session, agency.id, form.applicant, [form.items[0][0]])
    assert [f["reg_no"] for f in found] == [first.reg_no]
    other = registration(submitted_on=MON, items=[("公交线路调整方案", "")])
    assert services.find_possible_duplicates(session, agency.id, other.applicant, [other.items[0][0]]) == []


def test_an_earlier_request_is_the_same_applicants_by_id_number_or_by_name_with_phone_or_email(session, agency, users):
    from engine.services import ApplicantForm

    form = registration(submitted_on=MON)
    form.applicant.email = "zhangsan@example.cn"
    first = services.register_request(session, form, renderer=render, actor=users["clerk"], today=MON).case
    session.commit()
    text = [form.items[0][0]]

    def found(**fields) -> list[str]:
        asked = ApplicantForm(kind="NATURAL", **{"name": "", **fields})
        return [f["reg_no"] for f in services.find_possible_duplicates(session, agency.id, asked, text)]

    assert found(name="张三丰", id_number="11010519491231002x") == [first.reg_no]  # the ID number, any spelling
    assert found(name="张三", phone="13800000000") == [first.reg_no]
    assert found(name="张三", email="zhangsan@example.cn") == [first.reg_no]
    assert found(name="李四", phone="13800000000", email="zhangsan@example.cn") == []  # a contact is not a person
    assert found(name="张三") == []  # a name alone is not either
    assert found(name="张三", phone="13900000000", email="other@example.cn") == []
    assert services.find_possible_duplicates(session, agency.id + 1, form.applicant, text) == []  # own agency only


def test_fee_time_pauses_the_clock_and_a_lapsed_fee_closes_the_case(session, agency, users):
    case, _ = register(session, users, MON)
    accept(session, users, case, MON)
    issued = services.issue_fee_notice(session, case.id, mode="PER_PAGE", units=120, renderer=render,
                                       actor=users["handler"], today=MON)
    fee = issued.record
    assert fee.amount_yuan == 700 + 400
    assert case.stage == "awaiting_fee" and case.clock_paused
    deliver(session, users, case, issued.letter, MON)
    after = default_calendar().add_working_days(fee.pay_by_on, 1)
    services.close_lapsed(session, case.id, renderer=render, actor=users["clerk"], today=after)
    assert case.report_outcome == "LAPSED_FEE"


def test_an_item_topic_outside_the_agencys_list_is_refused(session, agency, users):
    with pytest.raises(InvalidInput, match="分类目录"):
        services.register_request(session, registration(submitted_on=MON, items=[("某文件", "天气预报")]),
                                  renderer=render, actor=users["clerk"], today=MON)


def test_user_administration_is_for_admins_of_the_same_agency_and_is_audited(session, agency, users):
    from engine.services.accounts import update_user

    with pytest.raises(PermissionDenied, match="系统管理员"):
        update_user(session, users["clerk"].id, "deactivate", actor=users["office_head"])
    with pytest.raises(InvalidInput, match="自己"):
        update_user(session, users["admin"].id, "deactivate", actor=users["admin"])
    with pytest.raises(InvalidInput, match="10 位"):
        update_user(session, users["clerk"].id, "reset_password", password="short", actor=users["admin"])
    assert "已停用" in update_user(session, users["clerk"].id, "deactivate", actor=users["admin"])
    assert users["clerk"].active is False
    update_user(session, users["clerk"].id, "roles", roles=["clerk", "handler", "bogus"], actor=users["admin"])
    assert users["clerk"].roles == ["clerk", "handler"]
    last = session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1))
    assert last.action == "user_roles" and last.actor_id == users["admin"].id


def test_disclosing_over_a_third_partys_objection_needs_the_written_notice_before_signing(session, agency, users):
    from .helpers_cases import decide_disclosed

    case, _ = register(session, users, MON)
    accept(session, users, case, MON)
    consultation = services.open_consultation(session, case.id, kind="THIRD_PARTY", party_name="某建设有限公司",
                                              sent_on=MON, renderer=render, actor=users["handler"], today=MON).record
    answered = date(2026, 3, 6)
    services.record_consultation_answer(session, case.id, consultation_id=consultation.id, answer="OBJECTION",
                                        summary="认为合同金额属于商业秘密", answered_on=answered,
                                        actor=users["handler"], today=answered)
    decide_disclosed(session, users, case, answered)
    services.submit_for_review(session, case.id, actor=users["handler"], today=answered)
    with pytest.raises(RuleViolation, match="书面告知"):
        services.sign_reply(session, case.id, renderer=render, actor=users["legal_reviewer"], today=answered)
    with pytest.raises(PermissionDenied):
        services.notify_third_party_of_disclosure(
            session, case.id, consultation_id=consultation.id, information="合同金额", reason="公共利益",
            renderer=render, actor=users["clerk"], today=answered)
    letter = services.notify_third_party_of_disclosure(
        session, case.id, consultation_id=consultation.id, information="出让合同的成交价款",
        reason="成交价款是国有资产处置结果，不公开会对公共利益造成重大影响", renderer=render,
        actor=users["handler"], today=answered).letter
    assert letter.data_snapshot["recipient"] == "某建设有限公司"
    assert letter.data_snapshot["third_party_opinion"] == "认为合同金额属于商业秘密"
    signed = services.sign_reply(session, case.id, renderer=render, actor=users["legal_reviewer"], today=answered).letter
    assert signed.letter_type == "reply"


def test_a_consenting_third_party_needs_no_disclosure_notice(session, agency, users):
    consultation_case, _ = register(session, users, MON)
    accept(session, users, consultation_case, MON)
    c = services.open_consultation(session, consultation_case.id, kind="THIRD_PARTY", party_name="某公司",
                                   sent_on=MON, renderer=render, actor=users["handler"], today=MON).record
    services.record_consultation_answer(session, consultation_case.id, consultation_id=c.id, answer="CONSENT",
                                        answered_on=MON, actor=users["handler"], today=MON)
    with pytest.raises(RuleViolation, match="不同意公开的第三方"):
        services.notify_third_party_of_disclosure(session, consultation_case.id, consultation_id=c.id,
                                                  information="x", reason="y", renderer=render,
                                                  actor=users["handler"], today=MON)
