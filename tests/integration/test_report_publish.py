"""Publishing the annual report freezes its figures and locks the period (条例49–50)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from engine.errors import PeriodLocked, PermissionDenied, RuleViolation
from engine.persistence.models import AuditEvent
from engine.services.period_lock import ensure_period_open, locked_years
from engine.services.reports import publish_report, published_report
from tests.integration.test_report_counting import add_case
from tests.integration.test_report_text import enter_report_content


@pytest.fixture(autouse=True)
def entered(session, agency, users):
    """Every part of the 2025 report is written, so these tests are about the figures and the lock."""
    enter_report_content(session, agency, users["office_head"], 2025)


def actions(session, agency):
    return [e.action for e in session.scalars(select(AuditEvent).where(AuditEvent.agency_id == agency.id)
                                              .order_by(AuditEvent.seq))]


def test_publishing_stores_the_figures_and_records_an_audit_event(session, agency, users):
    add_case(session, agency, received_on=date(2025, 3, 3), finished_on=date(2025, 3, 20), outcome="DISCLOSED")
    add_case(session, agency, received_on=date(2025, 12, 30))

    published = publish_report(session, agency, 2025, users["office_head"], date(2026, 1, 15))

    assert published.figures["table3"]["R1"]["TOTAL"] == 1
    assert published.figures["table3"]["CARRY_OUT"]["NATURAL"] == 1
    assert published.figures["table4"]["REVIEW"]["TOTAL"] == 0
    assert published_report(session, agency.id, 2025).id == published.id
    assert actions(session, agency)[-1] == "publish_report"


def test_a_table_that_does_not_reconcile_is_not_published(session, agency, users):
    add_case(session, agency, received_on=date(2025, 3, 3), finished_on=date(2025, 3, 20), outcome=None)

    with pytest.raises(RuleViolation, match="勾稽关系不成立"):
        publish_report(session, agency, 2025, users["admin"], date(2026, 1, 15))
    assert published_report(session, agency.id, 2025) is None


def test_only_an_admin_or_office_head_can_publish(session, agency, users):
    with pytest.raises(PermissionDenied):
        publish_report(session, agency, 2025, users["clerk"], date(2026, 1, 15))


def test_a_year_cannot_be_published_before_it_ends_or_twice(session, agency, users):
    with pytest.raises(RuleViolation, match="尚未结束"):
        publish_report(session, agency, 2025, users["admin"], date(2025, 12, 31))
    publish_report(session, agency, 2025, users["admin"], date(2026, 1, 2))
    with pytest.raises(PeriodLocked, match="已经发布"):
        publish_report(session, agency, 2025, users["admin"], date(2026, 1, 3))


def test_a_date_in_a_published_year_is_refused_with_the_year_named(session, agency, users):
    publish_report(session, agency, 2025, users["admin"], date(2026, 1, 2))

    with pytest.raises(PeriodLocked, match="2025年度报告已发布"):
        ensure_period_open(session, agency.id, date(2026, 2, 1), date(2025, 12, 31))
    ensure_period_open(session, agency.id, date(2026, 2, 1), None)
    assert locked_years(session, agency.id) == {2025}


def test_the_lock_of_one_agency_does_not_touch_another(session, agency, users):
    from engine.services.accounts import add_agency

    other = add_agency(session, "OTHER", "另一机关")
    publish_report(session, agency, 2025, users["admin"], date(2026, 1, 2))

    ensure_period_open(session, other.id, date(2025, 6, 1))


def test_an_admin_can_override_the_lock_with_a_reason_which_is_audited(session, agency, users):
    publish_report(session, agency, 2025, users["admin"], date(2026, 1, 2))

    ensure_period_open(session, agency.id, date(2025, 6, 1), actor=users["admin"], override_reason="更正录入错误")

    last = session.scalars(select(AuditEvent).where(AuditEvent.agency_id == agency.id)
                           .order_by(AuditEvent.seq.desc())).first()
    assert (last.action, last.reason, last.changes["years"]) == ("override_period_lock", "更正录入错误", [2025])


def test_an_override_needs_an_admin_and_a_reason(session, agency, users):
    publish_report(session, agency, 2025, users["admin"], date(2026, 1, 2))

    with pytest.raises(PeriodLocked, match="系统管理员"):
        ensure_period_open(session, agency.id, date(2025, 6, 1), actor=users["office_head"], override_reason="理由")
    with pytest.raises(PeriodLocked):
        ensure_period_open(session, agency.id, date(2025, 6, 1), actor=users["admin"], override_reason="  ")
