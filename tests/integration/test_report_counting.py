"""Counting rules of the annual report's table 3 at every boundary (DESIGN §6), and table 4."""

from __future__ import annotations

import itertools
from datetime import date

import pytest

from engine.persistence.audit import utcnow
from engine.persistence.models import Applicant, Case, CaseItem, LegalChallenge
from engine.rules.outcomes import case_report_outcome
from engine.services.reports import annual_report, cell_cases

_seq = itertools.count(1)



def add_case(session, agency, *, kind="NATURAL", received_on=None, finished_on=None, outcome=None,
             stage=None, imported=False, items=()):
    """A case written straight to the database, as the services or the ledger import would leave it."""
    applicant = Applicant(agency_id=agency.id, kind=kind, name=f"申请人{next(_seq)}")
    session.add(applicant)
    session.flush()
    n = next(_seq)
    if stage is None:
        stage = "received" if received_on is None else ("replied" if finished_on else "in_handling")
    case = Case(agency_id=agency.id, reg_no=f"依申请〔{(received_on or date(2025, 1, 1)).year}〕{n}号",
                reg_year=(received_on or date(2025, 1, 1)).year, reg_seq=n, applicant_id=applicant.id, applicant_kind=kind,
                stage=stage, channel="online", submitted_on=received_on or date(2025, 1, 1),
                received_on=received_on, finished_on=finished_on, report_outcome=outcome, imported=imported,
                created_at=utcnow(), updated_at=utcnow())
    session.add(case)
    session.flush()
    for seq, item_outcome in enumerate(items, start=1):
        session.add(CaseItem(case_id=case.id, seq=seq, description=f"事项{seq}", outcome=item_outcome))
    session.flush()
    return case


def test_a_case_received_on_31_december_and_replied_on_1_january_is_carried_over(session, agency):
    case = add_case(session, agency, received_on=date(2025, 12, 31), finished_on=date(2026, 1, 1), outcome="DISCLOSED")

    y2025 = annual_report(session, 2025, agency).table3
    y2026 = annual_report(session, 2026, agency).table3

    assert (y2025["NEW"]["NATURAL"], y2025["R1"]["NATURAL"], y2025["CARRY_OUT"]["NATURAL"]) == (1, 0, 1)
    assert (y2026["NEW"]["NATURAL"], y2026["CARRY_IN"]["NATURAL"], y2026["R1"]["NATURAL"]) == (0, 1, 1)
    assert y2026["CARRY_OUT"]["NATURAL"] == 0
    assert cell_cases(session, 2026, "CARRY_IN", "NATURAL", agency.id) == [(case.id, case.reg_no)]


def test_a_case_received_and_replied_on_the_last_day_of_the_year_is_not_carried_out(session, agency):
    add_case(session, agency, received_on=date(2025, 12, 31), finished_on=date(2025, 12, 31), outcome="NOT_HELD")

    table = annual_report(session, 2025, agency).table3

    assert (table["NEW"]["TOTAL"], table["R4_1"]["TOTAL"], table["CARRY_OUT"]["TOTAL"]) == (1, 1, 0)


def test_a_case_received_in_an_earlier_year_and_still_open_is_carried_in_and_out(session, agency):
    add_case(session, agency, kind="BUSINESS", received_on=date(2024, 6, 3))

    table = annual_report(session, 2026, agency).table3

    assert table["CARRY_IN"]["BUSINESS"] == 1
    assert table["CARRY_OUT"]["BUSINESS"] == 1
    assert table["NEW"]["BUSINESS"] == 0
    assert table["R_TOTAL"]["BUSINESS"] == 0


def test_a_case_finished_before_the_year_does_not_appear_at_all(session, agency):
    add_case(session, agency, received_on=date(2024, 3, 1), finished_on=date(2024, 12, 31), outcome="DISCLOSED")

    table = annual_report(session, 2025, agency).table3

    assert all(value == 0 for row in table.values() for value in row.values())


def test_a_case_closed_without_a_letter_counts_in_its_closing_year_under_other_handling(session, agency):
    add_case(session, agency, kind="NGO", received_on=date(2025, 11, 20), finished_on=date(2026, 1, 10),
             outcome="LAPSED_SUPPLEMENT", stage="closed")

    table = annual_report(session, 2026, agency).table3

    assert table["R6_1"]["NGO"] == 1
    assert table["R_TOTAL"]["NGO"] == 1
    assert table["R_TOTAL"]["TOTAL"] == 1


def test_imported_cases_count_like_handled_ones(session, agency):
    add_case(session, agency, received_on=date(2025, 2, 1), finished_on=date(2025, 2, 20), outcome="PARTIAL")
    add_case(session, agency, received_on=date(2025, 2, 1), finished_on=date(2025, 2, 20), outcome="PARTIAL",
             imported=True)

    table = annual_report(session, 2025, agency).table3

    assert table["R2"]["NATURAL"] == 2
    assert table["NEW"]["TOTAL"] == 2


def test_a_case_never_confirmed_is_not_counted(session, agency):
    add_case(session, agency, received_on=None)

    report = annual_report(session, 2025, agency)

    assert report.table3["NEW"]["TOTAL"] == 0
    assert report.table3["CARRY_OUT"]["TOTAL"] == 0
    assert report.reconciles


def test_a_case_mixing_disclosure_and_withholding_counts_once_as_partial(session, agency):
    items = ("DISCLOSED", "WITHHELD_PROCESS", "NOT_HELD")
    add_case(session, agency, kind="LEGAL_SERVICE", received_on=date(2025, 5, 6), finished_on=date(2025, 5, 30),
             outcome=case_report_outcome(items), items=items)

    table = annual_report(session, 2025, agency).table3

    assert table["R2"]["LEGAL_SERVICE"] == 1
    assert table["R1"]["LEGAL_SERVICE"] == table["R3_6"]["LEGAL_SERVICE"] == table["R4_1"]["LEGAL_SERVICE"] == 0
    assert table["R_TOTAL"]["LEGAL_SERVICE"] == 1


def test_the_total_column_sums_the_applicant_columns(session, agency):
    for kind in ("NATURAL", "BUSINESS", "RESEARCH", "NGO", "LEGAL_SERVICE", "OTHER_ORG"):
        add_case(session, agency, kind=kind, received_on=date(2025, 3, 3), finished_on=date(2025, 3, 20),
                 outcome="DISCLOSED")

    report = annual_report(session, 2025, agency)

    assert report.table3["R1"]["TOTAL"] == 6
    assert report.table3["NEW"]["TOTAL"] == 6
    assert report.reconciles


def test_a_finished_case_without_an_outcome_breaks_the_reconciliation_of_its_column(session, agency):
    add_case(session, agency, kind="RESEARCH", received_on=date(2025, 3, 3), finished_on=date(2025, 3, 20),
             outcome=None)

    report = annual_report(session, 2025, agency)

    assert not report.reconciles
    assert {f.column for f in report.failures} == {"RESEARCH", "TOTAL"}
    assert ("NEW", "RESEARCH") in report.failing_cells
    assert "1 件已办结但没有办理结果" in str(report.failures[0])


def test_every_agency_is_summed_when_no_agency_is_given(session, agency):
    from engine.services.accounts import add_agency

    other = add_agency(session, "OTHER", "另一机关")
    add_case(session, agency, received_on=date(2025, 4, 1))
    add_case(session, other, received_on=date(2025, 4, 2))

    assert annual_report(session, 2025, agency).table3["NEW"]["TOTAL"] == 1
    combined = annual_report(session, 2025)
    assert combined.table3["NEW"]["TOTAL"] == 2
    assert combined.agency_code is None


def test_table_four_counts_challenges_filed_in_the_year_with_their_result_at_its_end(session, agency):
    case = add_case(session, agency, received_on=date(2025, 1, 6), finished_on=date(2025, 2, 1), outcome="WITHHELD_PROCESS")
    for kind, filed, result, decided in (
        ("REVIEW", date(2025, 3, 1), "UPHELD", date(2025, 5, 1)),
        ("REVIEW", date(2025, 3, 1), "CORRECTED", date(2026, 1, 5)),   # decided after the year: pending
        ("SUIT_DIRECT", date(2025, 4, 1), "PENDING", None),
        ("SUIT_AFTER_REVIEW", date(2025, 6, 1), "OTHER", date(2025, 12, 31)),
        ("REVIEW", date(2024, 12, 31), "UPHELD", date(2025, 2, 1)),     # filed the year before: not counted
    ):
        session.add(LegalChallenge(case_id=case.id, kind=kind, filed_on=filed, result=result, decided_on=decided,
                                   created_at=utcnow()))
    session.flush()

    table4 = annual_report(session, 2025, agency).table4

    assert table4["REVIEW"] == {"UPHELD": 1, "CORRECTED": 0, "OTHER": 0, "PENDING": 1, "TOTAL": 2}
    assert table4["SUIT_DIRECT"] == {"UPHELD": 0, "CORRECTED": 0, "OTHER": 0, "PENDING": 1, "TOTAL": 1}
    assert table4["SUIT_AFTER_REVIEW"]["OTHER"] == 1


@pytest.mark.parametrize("row, expected", [("NEW", 2), ("R1", 1), ("R_TOTAL", 1), ("CARRY_OUT", 1), ("R2", 0)])
def test_the_drill_down_lists_the_cases_behind_a_cell(session, agency, row, expected):
    add_case(session, agency, received_on=date(2025, 7, 1), finished_on=date(2025, 7, 9), outcome="ALREADY_PUBLIC")
    add_case(session, agency, received_on=date(2025, 12, 1))

    assert len(cell_cases(session, 2025, row, "TOTAL", agency.id)) == expected
    assert len(cell_cases(session, 2025, row, "NATURAL", agency.id)) == expected
    assert cell_cases(session, 2025, row, "NGO", agency.id) == []


def test_the_report_counts_a_registered_case_under_its_applicant_s_kind_and_follows_a_corrected_kind(
        session, users):
    """Table 3 reads the kind kept on the case (`cases.applicant_kind`): it is the applicant's kind as registered,
    and a clerk's correction of the applicant's kind moves the case to the corrected column."""
    from engine import services
    from engine.services import ApplicantForm
    from tests.conftest import TODAY
    from tests.integration import helpers_cases as h

    case, _ = h.register(session, users, TODAY, kind="NATURAL", name="张三")
    assert case.applicant_kind == case.applicant.kind == "NATURAL"
    table = annual_report(session, TODAY.year, case.agency).table3
    assert table["NEW"]["NATURAL"] == 1 and table["NEW"]["BUSINESS"] == 0
    services.update_applicant(session, case.id, ApplicantForm(
        kind="BUSINESS", name="某某科技有限公司", id_type="统一社会信用代码", id_number="91330100MA2H123456",
        phone="13800000000", address="测试市解放路2号"), actor=users["clerk"], today=TODAY)
    session.commit()
    session.expire_all()
    case = session.get(Case, case.id)
    assert case.applicant_kind == case.applicant.kind == "BUSINESS"
    table = annual_report(session, TODAY.year, case.agency).table3
    assert table["NEW"]["NATURAL"] == 0 and table["NEW"]["BUSINESS"] == 1
    assert [reg_no for _id, reg_no in cell_cases(session, TODAY.year, "NEW", "BUSINESS", case.agency_id)] == \
        [case.reg_no]
