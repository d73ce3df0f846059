"""Property: for any set of cases, every column of table 3 reconciles and the totals are sums (DESIGN §6)."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.persistence.audit import utcnow
from engine.persistence.models import Applicant, Case
from engine.rules.outcomes import APPLICANT_TYPES, OUTCOME_CODES, REPORT_COLUMNS, RESULT_ROWS
from engine.services.accounts import add_agency
from engine.services.reports import annual_report

_agency_numbers = itertools.count(1)

a_case = st.fixed_dictionaries({
    "kind": st.sampled_from(tuple(APPLICANT_TYPES)),
    "received_on": st.one_of(st.none(), st.dates(date(2023, 12, 1), date(2026, 1, 31))),
    "days_to_finish": st.one_of(st.none(), st.integers(0, 500)),
    "outcome": st.sampled_from(OUTCOME_CODES),
})


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cases=st.lists(a_case, max_size=25))
def test_every_column_reconciles_and_totals_are_sums_for_any_case_set(session, cases):
    agency = add_agency(session, f"PROP{next(_agency_numbers)}", "性质测试机关")
    applicants = {}
    for n, spec in enumerate(cases, start=1):
        if spec["kind"] not in applicants:
            applicant = Applicant(agency_id=agency.id, kind=spec["kind"], name=spec["kind"])
            session.add(applicant)
            session.flush()
            applicants[spec["kind"]] = applicant.id
        received_on = spec["received_on"]
        finished_on = (received_on + timedelta(days=spec["days_to_finish"])
                       if received_on is not None and spec["days_to_finish"] is not None else None)
        session.add(Case(agency_id=agency.id, reg_no=f"P{n}", reg_year=2025, reg_seq=n,
                         applicant_id=applicants[spec["kind"]], applicant_kind=spec["kind"], stage="replied" if finished_on else "registered",
                         channel="mail", submitted_on=received_on or date(2025, 1, 1), received_on=received_on,
                         finished_on=finished_on, report_outcome=spec["outcome"] if finished_on else None,
                         created_at=utcnow(), updated_at=utcnow()))
    session.flush()

    previous_carry_out = None
    for year in (2023, 2024, 2025, 2026):
        report = annual_report(session, year, agency)
        table = report.table3
        assert report.reconciles, report.failures
        for column in REPORT_COLUMNS:
            assert table["R_TOTAL"][column] == sum(table[row][column] for row in RESULT_ROWS)
            assert table["NEW"][column] + table["CARRY_IN"][column] == table["R_TOTAL"][column] + table["CARRY_OUT"][column]
        for row, values in table.items():
            assert values["TOTAL"] == sum(values[c] for c in APPLICANT_TYPES), row
        if previous_carry_out is not None:
            assert table["CARRY_IN"] == previous_carry_out
        previous_carry_out = table["CARRY_OUT"]
    assert sum(annual_report(session, y, agency).table3["NEW"]["TOTAL"] for y in (2023, 2024, 2025, 2026)) == sum(
        1 for c in cases if c["received_on"] is not None)
