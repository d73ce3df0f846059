"""The hash-chained audit trail detects an edited, deleted or reordered event."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select, text

from engine import services
from engine.persistence.audit import verify_chain
from engine.persistence.models import Agency, AuditEvent

from .helpers_cases import accept, register, render

MON = date(2026, 3, 2)


def _events(session, agency):
    return session.scalars(select(AuditEvent).where(AuditEvent.agency_id == agency.id).order_by(AuditEvent.seq)).all()


def _make_history(session, agency, users):
    case, _ = register(session, users, MON)
    accept(session, users, case, MON)
    services.withdraw(session, case.id, reason="申请人书面撤回", renderer=render, actor=users["clerk"], today=MON)
    session.commit()
    return case


def test_an_untouched_chain_verifies(session, agency, users):
    _make_history(session, agency, users)
    events = _events(session, agency)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert all(e.prev_hash == p.hash for p, e in zip(events, events[1:], strict=False))
    assert verify_chain(session, agency) is None


def test_an_edited_event_is_detected(session, agency, users):
    _make_history(session, agency, users)
    victim_id = _events(session, agency)[-2].id
    session.execute(text("UPDATE audit_events SET reason = :r WHERE id = :id"), {"r": "篡改", "id": victim_id})
    session.commit()
    session.expire_all()
    broken = verify_chain(session, session.get(Agency, agency.id))
    assert broken is not None and broken.event_id == victim_id
    assert "修改" in str(broken)


def test_a_deleted_event_is_detected(session, agency, users):
    _make_history(session, agency, users)
    victim = _events(session, agency)[3]
    victim_id, victim_seq = victim.id, victim.seq
    session.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": victim_id})
    session.commit()
    session.expire_all()
    broken = verify_chain(session, session.get(Agency, agency.id))
    assert broken is not None and broken.seq == victim_seq + 1


def test_deleting_the_last_event_is_detected_by_the_chain_head(session, agency, users):
    _make_history(session, agency, users)
    last_id = _events(session, agency)[-1].id
    session.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": last_id})
    session.commit()
    session.expire_all()
    broken = verify_chain(session, session.get(Agency, agency.id))
    assert broken is not None and "链头" in str(broken)


def test_swapping_two_events_is_detected(session, agency, users):
    _make_history(session, agency, users)
    a, b = _events(session, agency)[2:4]
    a_id, a_seq, b_id, b_seq = a.id, a.seq, b.id, b.seq
    session.execute(text("UPDATE audit_events SET seq = -1 WHERE id = :id"), {"id": a_id})
    session.execute(text("UPDATE audit_events SET seq = :s WHERE id = :id"), {"s": a_seq, "id": b_id})
    session.execute(text("UPDATE audit_events SET seq = :s WHERE id = :id"), {"s": b_seq, "id": a_id})
    session.commit()
    session.expire_all()
    broken = verify_chain(session, session.get(Agency, agency.id))
    assert broken is not None and broken.seq == a_seq


def test_each_agency_keeps_its_own_chain(session, agency, users):
    from engine.services.accounts import add_agency

    other = add_agency(session, "OTHER", "另一机关")
    session.commit()
    _make_history(session, agency, users)
    assert other.audit_seq == 1
    assert verify_chain(session, other) is None and verify_chain(session, agency) is None
