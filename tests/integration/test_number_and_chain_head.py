"""Registration's short stretch under the number counter's lock (issue 14): the counter and the agency's chain head
taken together (`next_number_and_chain_head`), the events and the number's writes written together
(`ChainHead.write`), on SQLite and — with GONGKAI_TEST_DATABASE_URL — PostgreSQL, where each is one statement."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, update

from engine.persistence.audit import ChainHead, PendingEvent, verify_chain
from engine.persistence.models import Agency, AuditEvent, NumberSequence, User
from engine.persistence.numbering import REGISTRATION, next_number_and_chain_head

from .helpers_cases import register

MON = date(2026, 3, 2)


def _pending(agency, actor, n: int) -> PendingEvent:
    return PendingEvent(agency_id=agency.id, action="update_settings", actor=actor, case_id=None, stage_before=None,
                        stage_after=None, changes={"第": n, "说明": "机关设置变更", "nested": {"list": [n, "二"]}},
                        reason=f"理由{n}")


def test_the_years_first_number_creates_its_counter_and_the_next_come_with_the_locked_head(session, agency, users):
    before = session.execute(select(Agency.audit_seq, Agency.audit_head_hash).where(Agency.id == agency.id)).one()
    assert session.scalar(select(NumberSequence.last_value).where(NumberSequence.agency_id == agency.id,
                                                                  NumberSequence.year == 2031)) is None
    first, head = next_number_and_chain_head(session, agency.id, REGISTRATION, 2031)
    second, again = next_number_and_chain_head(session, agency.id, REGISTRATION, 2031)
    assert (first, second) == (1, 2)
    assert (head.seq, head.hash) == (again.seq, again.hash) == tuple(before)
    assert session.scalar(select(NumberSequence.last_value).where(
        NumberSequence.agency_id == agency.id, NumberSequence.kind == REGISTRATION, NumberSequence.year == 2031)) == 2
    session.rollback()  # a rollback gives the numbers back: no gap
    assert next_number_and_chain_head(session, agency.id, REGISTRATION, 2031)[0] == 1


def test_events_written_together_are_chained_in_order_and_verify(session, agency, users):
    register(session, users, MON)  # a chain with a history of case events before the written ones
    session.commit()
    actor = users["admin"]
    for count in (1, 4):
        _number, head = next_number_and_chain_head(session, agency.id, REGISTRATION, MON.year)
        start = head.seq
        events = [head.chain(_pending(agency, actor, n)) for n in range(count)]
        renamed = (update(User).where(User.id == actor.id).values(display_name="管理员（改）"), {})
        ids = head.write(events, also=[renamed])
        assert ids == sorted(ids) and len(set(ids)) == count
        # The session's copy of the agency says the new head without reading it; the rows say the same.
        assert (agency.audit_seq, agency.audit_head_hash) == (start + count, events[-1].hash)
        session.commit()
        session.expire_all()
        written = session.scalars(select(AuditEvent).where(AuditEvent.id.in_(ids)).order_by(AuditEvent.id)).all()
        assert [e.seq for e in written] == list(range(start + 1, start + count + 1))
        assert [e.changes for e in written] == [_pending(agency, actor, n).changes for n in range(count)]
        assert [e.occurred_at.timestamp() for e in written] == [e.occurred_at.timestamp() for e in events]
        assert session.get(Agency, agency.id).audit_seq == start + count
        assert session.get(User, actor.id).display_name == "管理员（改）"
        assert verify_chain(session, agency) is None


def test_writing_no_events_is_refused(session, agency):
    with pytest.raises(ValueError):
        ChainHead(session, agency.id).write([])
