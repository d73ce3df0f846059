"""The reconciliation check of table 3 (本列数据的勾稽关系) on plain tables, without a database."""

from __future__ import annotations

from engine.rules.outcomes import OUTCOMES, REPORT_COLUMNS, REPORT_ROWS, RESULT_ROWS
from engine.services.reports import ROW_GROUPS, ROW_LABELS, ReconciliationFailure, reconcile


def blank_table() -> dict[str, dict[str, int]]:
    return {row: dict.fromkeys(REPORT_COLUMNS, 0) for row in REPORT_ROWS}


def test_an_empty_table_reconciles():
    assert reconcile(blank_table()) == ()


def test_a_column_where_received_and_handled_differ_is_reported_with_its_four_cells():
    table = blank_table()
    table["NEW"]["NGO"] = 3
    table["R_TOTAL"]["NGO"] = 1
    table["CARRY_OUT"]["NGO"] = 1

    failures = reconcile(table, {"NGO": 1})

    assert failures == (ReconciliationFailure("NGO", 3, 2, 1),)
    assert set(failures[0].cells) == {("NEW", "NGO"), ("CARRY_IN", "NGO"), ("R_TOTAL", "NGO"), ("CARRY_OUT", "NGO")}
    assert "社会公益组织" in str(failures[0])


def test_every_row_has_its_official_label_and_every_result_row_one_outcome_at_least():
    assert set(ROW_LABELS) == set(REPORT_ROWS)
    assert {o.report_row for o in OUTCOMES.values()} == set(RESULT_ROWS)
    grouped = [row for _, rows in ROW_GROUPS for row in rows]
    assert grouped == [r for r in RESULT_ROWS if r.startswith(("R3", "R4", "R5", "R6"))]
    assert ROW_LABELS["R6_1"] == "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请"
