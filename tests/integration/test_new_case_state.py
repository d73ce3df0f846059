"""The state digest of a case the running action inserted is taken from the session's objects (registration's
events need no read per event): it must be what a read of every table gives, and whenever the session cannot vouch
for every record (one deleted, moved to another case, or not held by the session), it is read again."""

from __future__ import annotations

import re
from contextlib import ExitStack
from datetime import date

import pytest
from sqlalchemy import select

from engine import services
from engine.persistence import audit_state
from engine.persistence.models import AuditEvent, Upload
from engine.services.uploads import UploadedFile, attach

from .helpers_cases import registration, render, sql_statements

MON = date(2026, 3, 2)
KINDS = ("items", "uploads", "letters")


def _full_read(session, case_id: int) -> dict:
    noted = session.info.pop(audit_state._NEW_CASES, None)
    try:
        return audit_state.case_states(session, [case_id])[case_id]
    finally:
        if noted is not None:
            session.info[audit_state._NEW_CASES] = noted


def _note(session, case_id: int):
    return session.info[audit_state._NEW_CASES][case_id]


_statements = sql_statements


def _reads(session, action) -> int:
    return len(_statements(session, action))


def test_the_state_of_a_new_case_held_by_the_session_is_the_full_read(session, agency, users):
    result = services.register_request(session, registration(submitted_on=MON), renderer=render,
                                       actor=users["clerk"], today=MON)
    case = result.case  # the result holds its receipt: the session's object stays
    with audit_state.new_case_records(session, case.id, may_hold=KINDS):
        assert _note(session, case.id).held["items"] and _note(session, case.id).held["letters"]
        held = {}
        assert _reads(session, lambda: held.update(audit_state.case_states(session, [case.id]))) == 0
        assert held[case.id] == _full_read(session, case.id)
        attach(session, case, UploadedFile(filename="补充材料.pdf", content=b"%PDF-1.4 y"), kind="attachment",
               actor=users["clerk"])
        case.items[0].topic = "改过的分类"
        assert audit_state.case_states(session, [case.id])[case.id] == _full_read(session, case.id)
        assert len(audit_state.case_states(session, [case.id])[case.id]["uploads"]) == 1
        assert _note(session, case.id).held is not None  # added and changed records keep the shortcut


def test_records_the_caller_names_are_not_read_and_give_the_same_state(session, agency, users):
    result = services.register_request(session, registration(submitted_on=MON), renderer=render,
                                       actor=users["clerk"], today=MON)
    case = result.case
    holding = {"items": case.items, "letters": [result.letter]}
    with ExitStack() as block:
        assert _reads(session, lambda: block.enter_context(audit_state.new_case_records(
            session, case.id, may_hold=KINDS, holding=holding))) == 0
        assert _note(session, case.id).held["items"] and _note(session, case.id).held["letters"]
        assert audit_state.case_states(session, [case.id])[case.id] == _full_read(session, case.id)


def test_named_records_that_are_not_the_cases_rows_make_the_state_read(session, agency, users):
    results = [services.register_request(session, registration(submitted_on=MON), renderer=render,
                                         actor=users["clerk"], today=MON) for _ in range(2)]
    case, other = (result.case for result in results)
    from engine.persistence.models import CaseItem

    for holding in ({"items": other.items}, {"items": [CaseItem(seq=9, description="未写入", topic="")]}):
        with audit_state.new_case_records(session, case.id, may_hold=KINDS, holding=holding):
            assert _note(session, case.id).held is None
            assert audit_state.case_states(session, [case.id])[case.id] == _full_read(session, case.id)
    with pytest.raises(ValueError), audit_state.new_case_records(session, case.id, may_hold=("items",),
                                                                 holding={"letters": []}):
        pass


def test_a_record_deleted_or_moved_in_the_action_makes_the_state_read_again(session, agency, users):
    results = [services.register_request(session, registration(submitted_on=MON), renderer=render,
                                         actor=users["clerk"], today=MON) for _ in range(2)]
    case, other = (result.case for result in results)
    with audit_state.new_case_records(session, case.id, may_hold=KINDS):
        upload = attach(session, case, UploadedFile(filename="补充材料.pdf", content=b"%PDF-1.4 y"),
                        kind="attachment", actor=users["clerk"])
        session.flush()
        upload.case_id = other.id  # moved away: the held list would still show it
        session.flush()
        assert _note(session, case.id).held is None
        state = audit_state.case_states(session, [case.id])[case.id]
        assert state == _full_read(session, case.id) and state["uploads"] == []
    with audit_state.new_case_records(session, other.id, may_hold=KINDS):
        assert _note(session, other.id).held["uploads"]
        session.delete(session.get(Upload, upload.id))
        session.flush()
        assert _note(session, other.id).held is None
        assert audit_state.case_states(session, [other.id])[other.id] == _full_read(session, other.id)


def test_a_record_the_session_does_not_hold_makes_the_state_read(session, agency, users):
    result = services.register_request(session, registration(submitted_on=MON), renderer=render,
                                       actor=users["clerk"], today=MON)
    session.flush()
    session.expunge(result.letter)  # written, but no longer an object of this session
    with audit_state.new_case_records(session, result.case.id, may_hold=KINDS):
        assert _note(session, result.case.id).held is None
        state = audit_state.case_states(session, [result.case.id])[result.case.id]
        assert state == _full_read(session, result.case.id) and len(state["letters"]) == 1


def test_a_case_that_may_hold_confidentiality_reviews_is_always_read(session, agency, users):
    case = services.register_request(session, registration(submitted_on=MON), renderer=render,
                                     actor=users["clerk"], today=MON).case
    with audit_state.new_case_records(session, case.id, may_hold=(*KINDS, "confidentiality_reviews")):
        assert _note(session, case.id).held is None


def test_a_record_moved_whose_old_case_the_session_did_not_know_makes_every_noted_state_read(session, agency,
                                                                                              users):
    results = [services.register_request(session, registration(submitted_on=MON), renderer=render,
                                         actor=users["clerk"], today=MON) for _ in range(2)]
    case, other = (result.case for result in results)
    with audit_state.new_case_records(session, case.id, may_hold=KINDS):
        upload = attach(session, case, UploadedFile(filename="补充材料.pdf", content=b"%PDF-1.4 y"),
                        kind="attachment", actor=users["clerk"])
        session.flush()
        session.expire(upload, ["case_id"])  # its case is no longer known to the session
        upload.case_id = other.id
        session.flush()
        assert _note(session, case.id).held is None
        state = audit_state.case_states(session, [case.id])[case.id]
        assert state == _full_read(session, case.id) and state["uploads"] == []


_CASE_WRITE = re.compile(r"\b(INSERT) INTO cases\b|\b(UPDATE) cases\b", re.IGNORECASE)


def _case_writes(session, action) -> list[str]:
    """INSERT or UPDATE, for each write of the cases table in the statements `action()` sends (also one that is a
    WITH clause of another statement)."""
    return [(found.group(1) or found.group(2)).upper() for sql in _statements(session, action)
            for found in _CASE_WRITE.finditer(sql)]


def test_registration_inserts_the_case_with_its_clock_and_records_the_due_date_as_new(session, agency, users):
    # The row is inserted with its clock: registration does not update it again; the number, taken last, does,
    # with the receipt's confirmation (when there is a receipt date) in the same UPDATE. The event still says the
    # due date is new.
    agency.online_manual_confirmation = True
    for form, writes in ((registration(submitted_on=MON), ["INSERT", "UPDATE"]),
                         (registration(submitted_on=MON, channel="online"), ["INSERT", "UPDATE"])):
        done: dict = {}

        def register(form=form, done=done):
            done["result"] = services.register_request(session, form, renderer=render, actor=users["clerk"],
                                                       today=MON, render_later=True)

        assert _case_writes(session, register) == writes
        case = done["result"].case
        session.expire_all()
        events = session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id).order_by(AuditEvent.seq)).all()
        assert events[0].action == "register_request"
        assert events[0].changes.get("due_on", {"before": None})["before"] is None
        if case.received_on is not None:  # confirmed at registration: the reply clock starts there
            confirmed = next(e for e in events if e.action == "confirm_receipt")
            assert confirmed.changes["due_on"] == {"before": None, "after": case.due_on.isoformat()}
        # and what the events recorded is what the rows say
        assert audit_state.case_state_digest(session, case.id) == events[-1].state_digest


def test_hold_back_changes_leaves_nothing_for_a_flush_and_keeps_what_else_is_pending(session, agency, users):
    """The confirmation's changes held back for the number's UPDATE: the session's copy says them, a flush writes
    nothing (not even looks at the case), and a change it does not hold back is still flushed."""
    from sqlalchemy.orm.attributes import flag_modified

    from engine.services.common import hold_back_changes

    case = services.register_request(session, registration(submitted_on=MON), renderer=render,
                                     actor=users["clerk"], today=MON).case
    session.flush()
    written = {"purpose": case.purpose, "requested_form": case.requested_form, "version": case.version}
    case.purpose = "核对用途"
    case.version += 1
    assert hold_back_changes(case) == {"purpose": "核对用途", "version": written["version"] + 1}
    assert case.purpose == "核对用途" and not session.dirty
    assert _statements(session, session.flush) == []
    case.purpose = "再次更正"
    case.supplement_items.append("补正事项")
    flag_modified(case, "supplement_items")
    assert set(hold_back_changes(case)) == {"purpose", "supplement_items"}
    assert not session.dirty
    case.requested_form = "纸质"
    case.fees = list(case.fees)  # a relationship change is not held back: the case stays modified
    held = hold_back_changes(case)
    assert held == {"requested_form": "纸质"} and session.dirty
    session.expire_all()
    assert {name: getattr(case, name) for name in written} == written  # held back: the caller's own write keeps them
