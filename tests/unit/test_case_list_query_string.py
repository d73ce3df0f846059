"""The case list page reads its query string into the engine's CaseCriteria (plus order and page), and back."""

from __future__ import annotations

from dataclasses import fields
from datetime import date

from engine.services.case_list import CaseCriteria
from webui.case_queries import CaseFilter

EVERY_CRITERION = {"stage": "drafting", "due": "overdue", "department_id": "3", "applicant_kind": "NATURAL",
                   "received_from": "2026-03-02", "received_to": "2026-03-31", "outcome": "PARTIAL", "q": "征收",
                   "sort": "due_asc"}


def test_the_list_page_adds_only_its_order_page_and_notes_to_the_engines_criteria():
    own = {f.name for f in fields(CaseFilter)} - {f.name for f in fields(CaseCriteria)}
    assert issubclass(CaseFilter, CaseCriteria)
    assert own == {"sort", "page", "errors"}


def test_every_criterion_in_the_query_string_reaches_the_criteria_and_comes_back_unchanged():
    f = CaseFilter.from_args(EVERY_CRITERION | {"page": "2"})
    assert (f.stage, f.due, f.department_id, f.received_from, f.q, f.sort, f.page) == (
        "drafting", "overdue", 3, date(2026, 3, 2), "征收", "due_asc", 2)
    assert {k: str(v) for k, v in f.query_args().items()} == EVERY_CRITERION


def test_an_unknown_code_is_dropped_and_a_bad_date_is_dropped_with_a_note():
    f = CaseFilter.from_args({"stage": "nonsense", "received_from": "2026-02-30", "page": "x"})
    assert (f.stage, f.received_from, f.page) == ("", None, 1)
    assert f.errors == ("收到日期（起）格式不正确，已忽略",)
    assert f.query_args() == {"sort": "received_desc"}
