"""The parts of the annual report the office enters (国办公开办函〔2021〕30号): who may write them, the audit trail,
the checks on table 二, and the lock once the report is published."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from engine.errors import InvalidInput, PeriodLocked, PermissionDenied, RuleViolation, StaleCase
from engine.persistence.models import AnnualReportContent, AuditEvent
from engine.services.report_text import report_content, save_report_content
from engine.services.reports import full_report, publish_report
from tests.integration.test_report_counting import add_case

OVERVIEW = "2025年，本机关坚持以公开为常态、不公开为例外，全面推进政务公开。\n（一）主动公开\n全年主动公开政府信息1234条。"
PROBLEMS = "一是主动公开的及时性有待提高。下一步将加强培训，规范答复。"
OTHER = "本年度未收取信息处理费。无其他需要报告的事项。"
FIGURES = {
    "RULES.ISSUED": "2", "RULES.REPEALED": "1", "RULES.IN_FORCE": "17",
    "NORMATIVE_DOCUMENTS.ISSUED": "15", "NORMATIVE_DOCUMENTS.REPEALED": "3", "NORMATIVE_DOCUMENTS.IN_FORCE": "120",
    "LICENSING.DECISIONS": "3456", "PUNISHMENT.DECISIONS": "78", "COERCION.DECISIONS": "0",
    "ADMIN_FEES.FEE_AMOUNT": "12.3456",
}


def enter_report_content(session, agency, office_head, year=2025, **texts):
    """Everything the office enters for `year` (text of 一、五、六 and table 二), as the office head would."""
    parts = {"OVERVIEW": OVERVIEW, "PROBLEMS": PROBLEMS, "OTHER": OTHER, **texts}
    return save_report_content(session, agency, year, texts=parts, figures=FIGURES, actor=office_head)


def events(session, agency, action):
    return list(session.scalars(select(AuditEvent).where(AuditEvent.agency_id == agency.id,
                                                         AuditEvent.action == action).order_by(AuditEvent.seq)))


def test_the_office_head_writes_the_text_and_the_change_is_audited_with_before_and_after(session, agency, users):
    save_report_content(session, agency, 2025, texts={"OVERVIEW": "初稿。"}, actor=users["office_head"])
    changes = save_report_content(session, agency, 2025, texts={"OVERVIEW": OVERVIEW + "\r\n\r\n"},
                                  actor=users["office_head"], expected_version=1)

    content = report_content(session, agency.id, 2025)
    assert content.texts["OVERVIEW"] == OVERVIEW  # Windows line ends unified, trailing blank lines dropped
    assert content.version == 2 and content.updated_by == "office_head用户"
    assert changes == {"一、总体情况": {"before": "初稿。", "after": OVERVIEW}}
    audited = events(session, agency, "edit_annual_report")
    assert len(audited) == 2
    assert audited[-1].changes["一、总体情况"] == {"before": "初稿。", "after": OVERVIEW}
    assert audited[-1].changes["year"] == 2025 and audited[-1].actor_id == users["office_head"].id


def test_saving_the_same_text_again_writes_no_event(session, agency, users):
    enter_report_content(session, agency, users["office_head"])
    before = len(events(session, agency, "edit_annual_report"))

    assert enter_report_content(session, agency, users["office_head"]) == {}
    assert len(events(session, agency, "edit_annual_report")) == before


@pytest.mark.parametrize("role", ["clerk", "handler", "legal_reviewer", "archivist", "admin"])
def test_only_the_office_head_may_write_the_text(session, agency, users, role):
    with pytest.raises(PermissionDenied, match="公开工作机构负责人"):
        save_report_content(session, agency, 2025, texts={"OVERVIEW": OVERVIEW}, actor=users[role])
    assert session.scalar(select(func.count()).select_from(AnnualReportContent)) == 0


def test_a_clerk_of_the_office_enters_table_two_but_a_handler_may_not(session, agency, users):
    save_report_content(session, agency, 2025, figures=FIGURES, actor=users["clerk"])

    assert report_content(session, agency.id, 2025).proactive["LICENSING"]["DECISIONS"] == 3456
    with pytest.raises(PermissionDenied, match="表二"):
        save_report_content(session, agency, 2025, figures=FIGURES, actor=users["handler"])
    with pytest.raises(PermissionDenied):  # a clerk cannot slip text in with the figures
        save_report_content(session, agency, 2025, texts={"OVERVIEW": "x"}, figures=FIGURES, actor=users["clerk"])


def test_an_office_head_of_another_agency_cannot_write_this_agencys_report(session, agency, users):
    from engine.services.accounts import add_agency, add_user

    other = add_agency(session, "OTHER", "另一机关")
    stranger = add_user(session, other, "head2", "password-12345", ["office_head"])
    with pytest.raises(PermissionDenied):
        save_report_content(session, agency, 2025, texts={"OVERVIEW": OVERVIEW}, actor=stranger)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("RULES.ISSUED", "-1", "表二「规章 · 本年制发件数」应为不小于 0 的整数"),
    ("PUNISHMENT.DECISIONS", "2.5", "表二「行政处罚 · 本年处理决定数量」应为不小于 0 的整数"),
    ("LICENSING.DECISIONS", "很多", "表二「行政许可 · 本年处理决定数量」"),
    ("ADMIN_FEES.FEE_AMOUNT", "1.23456", "最多 4 位小数"),
    ("ADMIN_FEES.FEE_AMOUNT", "-3", "行政事业性收费 · 本年收费金额（单位：万元）"),
    ("RULES.UNKNOWN", "1", "表二没有这一栏"),
])
def test_a_bad_figure_is_refused_naming_its_cell_and_nothing_is_saved(session, agency, users, field, value,
                                                                     message):
    with pytest.raises(InvalidInput, match=message.replace("(", r"\(").replace(")", r"\)")):
        save_report_content(session, agency, 2025, figures={**FIGURES, field: value}, actor=users["office_head"])
    assert session.scalar(select(func.count()).select_from(AnnualReportContent)) == 0


def test_figures_accept_full_width_digits_and_thousands_separators_and_keep_the_exact_amount(session, agency, users):
    save_report_content(session, agency, 2025, actor=users["office_head"],
                        figures={**FIGURES, "LICENSING.DECISIONS": "３,４５６", "ADMIN_FEES.FEE_AMOUNT": "0.1000",
                                 "COERCION.DECISIONS": ""})

    figures = report_content(session, agency.id, 2025).proactive
    assert figures["LICENSING"]["DECISIONS"] == 3456
    assert figures["ADMIN_FEES"]["FEE_AMOUNT"] == "0.1000"
    assert figures["COERCION"]["DECISIONS"] is None  # left blank: not yet entered


def test_control_characters_and_overlong_text_are_refused(session, agency, users):
    with pytest.raises(InvalidInput, match="五、存在的主要问题及改进情况」含有不可见的控制字符"):
        save_report_content(session, agency, 2025, texts={"PROBLEMS": "问题\x07"}, actor=users["office_head"])
    with pytest.raises(InvalidInput, match="过长"):
        save_report_content(session, agency, 2025, texts={"OTHER": "字" * 20_001}, actor=users["office_head"])


def test_a_form_rendered_before_someone_elses_save_is_refused_as_stale(session, agency, users):
    save_report_content(session, agency, 2025, figures=FIGURES, actor=users["clerk"], expected_version=0)

    with pytest.raises(StaleCase, match="已被他人修改"):
        save_report_content(session, agency, 2025, texts={"OVERVIEW": OVERVIEW}, actor=users["office_head"],
                            expected_version=0)


def test_publishing_is_refused_while_a_part_is_empty_naming_it(session, agency, users):
    add_case(session, agency, received_on=date(2025, 3, 3), finished_on=date(2025, 3, 20), outcome="DISCLOSED")
    save_report_content(session, agency, 2025, texts={"OVERVIEW": OVERVIEW, "OTHER": OTHER},
                        figures={**FIGURES, "RULES.IN_FORCE": ""}, actor=users["office_head"])

    with pytest.raises(RuleViolation) as refused:
        publish_report(session, agency, 2025, users["office_head"], date(2026, 1, 15))
    assert "二、主动公开政府信息情况（表二尚有 1 栏未填：规章 · 现行有效件数）" in refused.value.message
    assert "五、存在的主要问题及改进情况" in refused.value.message
    assert "一、总体情况" not in refused.value.message
    assert refused.value.details == ["PROACTIVE", "PROBLEMS"]
    assert full_report(session, 2025, agency).missing_parts == ["PROACTIVE", "PROBLEMS"]


def test_once_published_the_report_keeps_its_text_and_cannot_be_edited(session, agency, users):
    add_case(session, agency, received_on=date(2025, 3, 3), finished_on=date(2025, 3, 20), outcome="DISCLOSED")
    enter_report_content(session, agency, users["office_head"])

    published = publish_report(session, agency, 2025, users["office_head"], date(2026, 1, 15))

    assert published.figures["texts"]["五、存在的主要问题及改进情况"] == PROBLEMS
    assert published.figures["table2"]["ADMIN_FEES"]["FEE_AMOUNT"] == "12.3456"
    for actor, kwargs in ((users["office_head"], {"texts": {"OVERVIEW": "改写"}}),
                          (users["clerk"], {"figures": FIGURES})):
        with pytest.raises(PeriodLocked, match="报告内容已锁定"):
            save_report_content(session, agency, 2025, actor=actor, **kwargs)
    assert report_content(session, agency.id, 2025).texts["OVERVIEW"] == OVERVIEW
    # The next year is still open.
    save_report_content(session, agency, 2026, texts={"OVERVIEW": "2026年初稿。"}, actor=users["office_head"])


def test_a_published_years_report_is_the_one_published_even_after_a_corrected_date(session, agency, users):
    add_case(session, agency, received_on=date(2025, 3, 3), finished_on=date(2025, 3, 20), outcome="DISCLOSED")
    enter_report_content(session, agency, users["office_head"])
    publish_report(session, agency, 2025, users["office_head"], date(2026, 1, 15))
    # A correction an administrator let through the period lock (written straight to the table here).
    add_case(session, agency, received_on=date(2025, 6, 1), finished_on=date(2025, 6, 9), outcome="NOT_HELD")

    published = full_report(session, 2025, agency)
    live = full_report(session, 2025, agency, as_published=False)

    assert published.tables.table3["NEW"]["TOTAL"] == 1 and live.tables.table3["NEW"]["TOTAL"] == 2
    assert published.complete and published.published_at is not None
    assert published.content.texts["PROBLEMS"] == PROBLEMS
    assert published.content.proactive["LICENSING"]["DECISIONS"] == 3456
