"""Reading a case through the API (issue 14): few statements per read, never a letter's PDF bytes, and the case's
other records shown exactly when they exist; the token's last-use memory stays bounded."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import event

from engine.persistence.models import Consultation, Delivery, Fee
from tests.integration.api_harness import (  # noqa: F401
    api_app_fixture,
    api_fixture,
    online_registration,
    tokens_fixture,
)


def _statements(api_app, read):
    """The SQL statements the app's engine runs during `read()`."""
    from webui.db import get_engine

    with api_app.app_context():
        engine = get_engine()
    seen = []

    def note(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        result = read()
    finally:
        event.remove(engine, "before_cursor_execute", note)
    return result, seen


def test_a_case_is_read_in_three_statements_without_the_pdf_of_its_letters(api, api_app):
    status, registered = api["clerk"].post("/cases", online_registration())
    assert status == 201, registered
    case_id = registered["case"]["id"]
    api["clerk"].get(f"/cases/{case_id}")  # the token's last use is written once, not on every read
    (status, case), statements = _statements(api_app, lambda: api["clerk"].get(f"/cases/{case_id}"))
    assert status == 200
    assert case == {**registered["case"], "available_actions": case["available_actions"]}
    assert case["letters"] and case["items"]  # the receipt and the requested item
    # the token with its user; the case with applicant, department, handler, items and which records exist; letters
    assert len(statements) == 3, statements
    assert not any("letters.pdf" in s or "letters.data_snapshot" in s for s in statements)


def test_records_a_case_has_are_shown_and_none_are_invented(api, session):
    status, registered = api["clerk"].post("/cases", online_registration())
    case_id = registered["case"]["id"]
    _, before = api["clerk"].get(f"/cases/{case_id}")
    assert before["consultations"] == [] and before["fees"] == [] and before["deliveries"] == []
    assert before["exemption_records"] == []
    letter_id = before["letters"][0]["id"]
    session.add_all([
        Consultation(case_id=case_id, kind="THIRD_PARTY", party_name="第三方公司", subject="征求意见",
                     sent_on=date(2026, 3, 3)),
        Fee(case_id=case_id, mode="PER_APPLICATION", units=1, amount_yuan=100, notice_issued_on=date(2026, 3, 3)),
        Delivery(case_id=case_id, letter_id=letter_id, method="EMAIL", delivered_on=date(2026, 3, 3),
                 created_at=datetime(2026, 3, 3, 9, tzinfo=UTC)),
    ])
    session.commit()
    _, after = api["clerk"].get(f"/cases/{case_id}")
    assert [c["party_name"] for c in after["consultations"]] == ["第三方公司"]
    assert [f["amount_yuan"] for f in after["fees"]] == [100]
    assert [(d["letter_id"], d["method"]) for d in after["deliveries"]] == [(letter_id, "EMAIL")]


def test_the_memory_of_when_tokens_were_last_used_is_bounded(api, monkeypatch):
    from webui.api import context

    monkeypatch.setattr(context, "LAST_USED_REMEMBERED", 3)
    monkeypatch.setattr(context, "_last_used", {f"stale{n}": -10_000.0 for n in range(5)})
    for role in ("clerk", "handler"):
        assert api[role].get("/cases")[0] == 200
    assert not any(key.startswith("stale") for key in context._last_used)
    assert len(context._last_used) == 2
