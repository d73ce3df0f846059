"""The exemption log lists every current exemption record across cases, by ground and department."""

from __future__ import annotations

from datetime import date

from engine.services.exemption_log import ExemptionLogFilter, exemption_log

from .helpers_cases import accept, decide_partial, register

MON = date(2026, 3, 2)


def test_the_exemption_log_lists_records_across_cases_and_counts_them_by_ground(session, agency, users):
    for n in range(3):
        case, _ = register(session, users, MON, name=f"申请人{n}", id_number="")
        accept(session, users, case, MON)
        decide_partial(session, users, case, MON)
    page = exemption_log(session, agency.id, ExemptionLogFilter())
    assert page.total == 3
    assert page.by_ground == {"WITHHELD_THIRD_PARTY": 3}
    record, reg_no, item_seq, department = page.rows[0]
    assert reg_no.startswith("依申请〔2026〕") and item_seq == 1 and department == "规划科"
    assert exemption_log(session, agency.id, ExemptionLogFilter(ground="WITHHELD_PROCESS")).total == 0
    assert exemption_log(session, agency.id + 99, ExemptionLogFilter()).total == 0
    assert len(exemption_log(session, agency.id, ExemptionLogFilter(), page=2, per_page=2).rows) == 1
