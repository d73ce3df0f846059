"""Append-only, keyed hash chain; one chain per agency, its head row locked by the writer.

Each event's hash is an HMAC-SHA256, keyed with `GONGKAI_AUDIT_KEY` (kept outside the database), over the previous
event's hash and the event's content — including the digest of the case state the event produced — so someone who
can write the database but does not hold the key cannot edit an event and re-chain the rest. The checks that use
it live in `engine.persistence.audit_verify`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.config import load_settings
from engine.persistence.audit_state import case_state_digest
from engine.persistence.models import Agency, AuditEvent

GENESIS_HASH = "0" * 64


def audit_key() -> bytes:
    """The chain's HMAC key from the configuration (never from the database)."""
    return load_settings().audit_key.encode()


def key_fingerprint(key: bytes) -> str:
    """A short public name of the key, so a checkpoint or a verify run can tell a wrong key from tampering."""
    return hmac.new(key, b"gongkai-audit-key-fingerprint", hashlib.sha256).hexdigest()[:16]


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


def _canonical(fields: dict) -> str:
    return json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def event_digest(prev_hash: str, fields: dict, key: bytes | None = None) -> str:
    """HMAC-SHA256 over the previous hash and the event's canonical content."""
    message = (prev_hash + _canonical(fields)).encode()
    return hmac.new(key if key is not None else audit_key(), message, hashlib.sha256).hexdigest()


def legacy_event_digest(prev_hash: str, fields: dict) -> str:
    """The unkeyed SHA-256 of chains written before the key existed (only read to re-key them once)."""
    return hashlib.sha256((prev_hash + _canonical(fields)).encode()).hexdigest()


def hashed_fields(event) -> dict:
    """What the chain hash covers (an AuditEvent or a row with the same attributes)."""
    return {**legacy_hashed_fields(event), "state_digest": event.state_digest}


def legacy_hashed_fields(event) -> dict:
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
    """Append one event to the agency's chain in the caller's transaction (locks the chain head).

    An event about a case records the digest of the case's state as it is now (flushed), so the last event of an
    action must come after the action's last change to the case. Events whose `changes` name a `letter_id` or an
    `upload_id` with a `sha256` record the hash those bytes must keep (`audit verify` and downloads check it)."""
    # FOR NO KEY UPDATE: inserts that reference the agency hold KEY SHARE on its row, which this lock must not
    # wait for (a plain FOR UPDATE deadlocks concurrent registrations on PostgreSQL); writers of one agency still
    # queue on the chain head, other agencies are untouched.
    # The case's state digest is computed before the chain head is locked, so writers of the same agency wait on
    # each other no longer than before (the state is this transaction's own view either way).
    state_digest = None
    if case_id is not None:
        session.flush()
        state_digest = case_state_digest(session, case_id)
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
        state_digest=state_digest,
    )
    event.hash = event_digest(event.prev_hash, hashed_fields(event))
    agency.audit_seq = event.seq
    agency.audit_head_hash = event.hash
    session.add(event)
    session.flush()
    return event




def verify_chain(session: Session, agency: Agency):
    """The first problem of one agency's chain, or None (the full check is `audit_verify.verify_audit`)."""
    from engine.persistence.audit_verify import verify_agency_chain  # audit_verify builds on this module

    problems, _count = verify_agency_chain(session, agency, audit_key())
    return problems[0] if problems else None
