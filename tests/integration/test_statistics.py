"""Statistics page figures: per month and channel, outcomes, timeliness, exemptions, due status, topics, 条例44."""

from __future__ import annotations

from datetime import date

from engine.persistence.audit import utcnow
from engine.persistence.models import Applicant, CaseItem, Department, ExemptionRecord
from engine.rules.calendar import default_calendar
from engine.services.statistics import (
    applications_by_month,
    exemptions_by_department,
    open_cases_by_due_status,
    outcomes_by_row,
    repeated_requests,
    requests_by_topic,
    timeliness_figures,
)
from tests.integration.test_report_counting import add_case


def with_item(session, case, text, topic="", applicant=None):
    if applicant is not None:
        case.applicant_id = applicant.id
    session.add(CaseItem(case_id=case.id, seq=1, description=text, topic=topic))
    session.flush()
    return case


def test_applications_are_counted_per_month_and_channel(session, agency):
    add_case(session, agency, received_on=date(2025, 3, 3))
    add_case(session, agency, received_on=date(2025, 3, 31))
    late = add_case(session, agency, received_on=date(2025, 12, 1))
    late.channel = "mail"
    add_case(session, agency, received_on=date(2024, 3, 3))
    session.flush()

    table = applications_by_month(session, agency.id, 2025)

    assert table.header == ("月份", "当面", "邮寄", "平常信函", "网络", "传真")
    assert table.rows[2] == ("3月", 0, 0, 0, 2, 0)
    assert table.rows[11] == ("12月", 0, 1, 0, 0, 0)
    assert sum(sum(r[1:]) for r in table.rows) == 3


def test_outcomes_follow_the_report_rows(session, agency):
    add_case(session, agency, received_on=date(2025, 3, 3), finished_on=date(2025, 3, 20), outcome="NOT_RESPONSIBLE")

    rows = dict(outcomes_by_row(session, agency.id, 2025).rows)

    assert rows["1.本机关不掌握相关政府信息"] == 1
    assert sum(rows.values()) == 1


def test_timeliness_counts_working_days_and_the_on_time_rate(session, agency):
    add_case(session, agency, received_on=date(2025, 3, 3), finished_on=date(2025, 3, 10), outcome="DISCLOSED")
    late = add_case(session, agency, received_on=date(2025, 3, 3), finished_on=date(2025, 4, 30), outcome="DISCLOSED")
    late.due_on = date(2025, 3, 31)
    session.flush()

    figures = timeliness_figures(session, agency.id, 2025, default_calendar())

    assert (figures["finished"], figures["on_time"], figures["rate"]) == (2, 1, 0.5)
    # 3 Mar (Mon) → 10 Mar: 5 working days; → 30 Apr: 20 in March + 22 in April (Qingming 4 Apr off,
    # Sunday 27 Apr a make-up working day) = 42.
    assert figures["median_days"] == (5 + 42) / 2


def test_open_cases_are_split_by_due_status_as_of_today(session, agency):
    today = date(2026, 3, 2)  # a Monday
    for due_on, paused in ((date(2026, 2, 27), False), (date(2026, 3, 5), False), (date(2026, 3, 6), False),
                           (date(2026, 4, 1), False), (date(2026, 3, 3), True), (None, False)):
        case = add_case(session, agency, received_on=date(2026, 2, 2))
        case.due_on, case.clock_paused = due_on, paused
    add_case(session, agency, received_on=date(2026, 2, 2), finished_on=date(2026, 2, 20), outcome="DISCLOSED")
    session.flush()

    rows = dict(open_cases_by_due_status(session, agency.id, today, default_calendar()).rows)

    assert rows == {"已逾期": 1, "即将到期（≤3个工作日）": 1, "期限内": 2, "计时暂停": 1, "未计算期限": 1}


def test_requests_are_counted_by_topic(session, agency):
    with_item(session, add_case(session, agency, received_on=date(2025, 5, 5)), "规划许可", "城乡规划")
    with_item(session, add_case(session, agency, received_on=date(2025, 5, 6)), "规划图", "城乡规划")
    with_item(session, add_case(session, agency, received_on=date(2025, 5, 7)), "其他事项")

    assert requests_by_topic(session, agency.id, 2025).rows == [("城乡规划", 2), ("未分类", 1)]


def test_similar_requests_from_two_applicants_are_candidates_for_proactive_disclosure(session, agency):
    other = Applicant(agency_id=agency.id, kind="NATURAL", name="李四")
    session.add(other)
    session.flush()
    first = with_item(session, add_case(session, agency, received_on=date(2025, 5, 5)),
                      "申请公开幸福小区旧城改造项目的征收补偿方案")
    second = with_item(session, add_case(session, agency, received_on=date(2025, 6, 5)),
                       "请提供幸福小区旧城改造项目征收补偿方案", applicant=other)
    same_person = with_item(session, add_case(session, agency, received_on=date(2025, 7, 5)),
                            "申请公开东湖公园建设项目的环评报告")
    with_item(session, add_case(session, agency, received_on=date(2025, 7, 6)), "东湖公园建设项目的环评报告",
              applicant=session.get(Applicant, same_person.applicant_id))

    found = repeated_requests(session, agency.id, 2025)

    assert len(found) == 1
    assert found[0].applicants == 2
    assert {case_id for case_id, _ in found[0].cases} == {first.id, second.id}


def test_exemption_grounds_are_counted_by_department(session, agency, users):
    department = session.query(Department).filter_by(agency_id=agency.id).one()
    case = add_case(session, agency, received_on=date(2026, 1, 5), finished_on=date(2026, 1, 20),
                    outcome="WITHHELD_PROCESS", items=("WITHHELD_PROCESS",))
    case.department_id = department.id
    item = case.items[0] if case.items else session.query(CaseItem).filter_by(case_id=case.id).one()
    for current in (True, False):  # an earlier version of the record is not counted again
        session.add(ExemptionRecord(case_id=case.id, item_id=item.id, ground="WITHHELD_PROCESS", article="第十六条",
                                    facts="讨论稿", current=current, created_by_id=users["handler"].id,
                                    created_at=utcnow()))
    session.flush()

    table = exemptions_by_department(session, agency.id, utcnow().year)

    assert table.header == ("科室", "四类过程性信息")
    assert table.rows == [("规划科", 1)]
