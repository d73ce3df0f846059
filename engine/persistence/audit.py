"""Append-only, hash-chained audit trail; one chain per agency, its head row locked by the writer."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.persistence.models import Agency, AuditEvent


def utcnow() -> datetime:
    """Wall-clock time of an audit record (UTC); business dates are always passed in as `today`."""
    return datetime.now(UTC)


def jsonable(value):
    """Dates and other plain values as JSON-safe data (dates as ISO strings)."""
    if isinstance(value, datetime):
        return _utc_iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return value


def _utc_iso(moment: datetime) -> str:
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="microseconds")


def event_digest(prev_hash: str, fields: dict) -> str:
    canonical = json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


def _hashed_fields(event: AuditEvent) -> dict:
    return {
        "agency_id": event.agency_id,
        "seq": event.seq,
        "case_id": event.case_id,
        "actor_id": event.actor_id,
        "actor_name": event.actor_name,
        "occurred_at": _utc_iso(event.occurred_at),
        "action": event.action,
        "stage_before": event.stage_before,
        "stage_after": event.stage_after,
        "changes": event.changes,
        "reason": event.reason,
    }


def record_event(
    session: Session,
    *,
    agency_id: int,
    action: str,
    actor=None,
    case_id: int | None = None,
    stage_before: str | None = None,
    stage_after: str | None = None,
    changes: dict | None = None,
    reason: str = "",
) -> AuditEvent:
    """Append one event to the agency's chain in the caller's transaction (locks the chain head)."""
    # FOR NO KEY UPDATE: inserts that reference the agency hold KEY SHARE on its row, which this lock must not
    # wait for (a plain FOR UPDATE deadlocks concurrent registrations on PostgreSQL); writers of one agency still
    # queue on the chain head, other agencies are untouched.
    agency = session.execute(
        select(Agency).where(Agency.id == agency_id).with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).scalar_one()
    event = AuditEvent(
        agency_id=agency_id,
        seq=agency.audit_seq + 1,
        case_id=case_id,
        actor_id=getattr(actor, "id", None),
        actor_name=getattr(actor, "display_name", None) or getattr(actor, "username", None) or "系统",
        occurred_at=utcnow(),
        action=action,
        stage_before=stage_before,
        stage_after=stage_after,
        changes=jsonable(changes or {}),
        reason=reason or "",
        prev_hash=agency.audit_head_hash,
    )
    event.hash = event_digest(event.prev_hash, _hashed_fields(event))
    agency.audit_seq = event.seq
    agency.audit_head_hash = event.hash
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class ChainBreak:
    agency_code: str
    event_id: int | None
    seq: int | None
    problem: str

    def __str__(self) -> str:
        where = f"事件 #{self.event_id}（序号 {self.seq}）" if self.event_id else "链头"
        return f"机关 {self.agency_code} 的审计链在{where}处断裂：{self.problem}"


def verify_chain(session: Session, agency: Agency, batch_size: int = 5000) -> ChainBreak | None:
    """Recompute the agency's chain; the first edited, deleted or reordered event is reported."""
    prev_hash = "0" * 64
    expected_seq = 1
    last_id = 0
    while True:
        events = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.agency_id == agency.id, AuditEvent.seq >= expected_seq)
            .order_by(AuditEvent.seq)
            .limit(batch_size)
        ).all()
        if not events:
            break
        for event in events:
            if event.seq != expected_seq:
                return ChainBreak(agency.code, event.id, event.seq, f"缺少序号 {expected_seq} 的事件（已被删除）")
            if event.id < last_id:
                return ChainBreak(agency.code, event.id, event.seq, "事件顺序被调换")
            if event.prev_hash != prev_hash:
                return ChainBreak(agency.code, event.id, event.seq, "前序哈希不符（事件被删除或调换顺序）")
            if event_digest(event.prev_hash, _hashed_fields(event)) != event.hash:
                return ChainBreak(agency.code, event.id, event.seq, "内容哈希不符（事件被修改）")
            prev_hash = event.hash
            last_id = event.id
            expected_seq += 1
        for event in events:
            session.expunge(event)
    if agency.audit_seq != expected_seq - 1 or agency.audit_head_hash != prev_hash:
        return ChainBreak(agency.code, None, agency.audit_seq, "链头与最后一个事件不符（末尾事件被删除）")
    return None
