"""Append-only, keyed hash chain; one chain per agency, its head row locked by the writer.

Each event's hash is an HMAC-SHA256, keyed with `GONGKAI_AUDIT_KEY` (kept outside the database), over the previous
event's hash and the event's content — including the digest of the case state the event produced — so someone who
can write the database but does not hold the key cannot edit an event and re-chain the rest. The checks that use
it live in `engine.persistence.audit_verify`.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import JSON, bindparam, insert, literal_column, select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.dml import UpdateBase

from engine.config import load_settings
from engine.persistence import audit_state
from engine.persistence.audit_state import case_state_digest, state_digest
from engine.persistence.models import Agency, AuditEvent, Case

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
) -> AuditEvent | None:
    """Append one event to the agency's chain in the caller's transaction (locks the chain head).

    An event about a case records the digest of the case's state as it is now (flushed), so the last event of an
    action must come after the action's last change to the case. Events whose `changes` name a `letter_id` or an
    `upload_id` with a `sha256` record the hash those bytes must keep (`audit verify` and downloads check it).

    Inside `deferred_events` for this case the event is not written: its content and the case's state as it is
    now are kept (None is returned), and the caller chains them later (`ChainHead`)."""
    state = None
    if case_id is not None:
        session.flush()
        deferred = (session.info.get(_DEFERRED) or {}).get(case_id)
        if deferred is not None:
            deferred.append(PendingEvent(
                agency_id=agency_id, case_id=case_id, actor=actor, action=action, stage_before=stage_before,
                stage_after=stage_after, changes=jsonable(changes or {}), reason=reason or "",
                state=audit_state.case_states(session, [case_id]).get(case_id)))
            return None
    # The case's state digest is computed before the chain head is locked, so writers of the same agency wait on
    # each other no longer than before. The case row is locked first (a no-op for an action that has updated it):
    # an action that only records an event (showing the applicant's details, an upload, an archive note) must not
    # read the state beside another writer's uncommitted change to the case (a letter's render job), or its digest
    # would miss that change and `audit verify` would report the case as altered outside any action.
    if case_id is not None:
        session.execute(select(Case.id).where(Case.id == case_id).with_for_update(key_share=True))
        state = case_state_digest(session, case_id)
    return append_events(session, agency_id, [PendingEvent(
        agency_id=agency_id, case_id=case_id, actor=actor, action=action, stage_before=stage_before,
        stage_after=stage_after, changes=jsonable(changes or {}), reason=reason or "")], digests=[state])[0]


@dataclass
class PendingEvent:
    """An event kept by `deferred_events`, with the case's state (`audit_state.case_states`) when it was due."""

    agency_id: int
    action: str
    actor: object | None
    case_id: int | None
    stage_before: str | None
    stage_after: str | None
    changes: dict
    reason: str
    state: dict | None = None


# Case id → the events kept for it while `deferred_events` runs.
_DEFERRED = "gongkai_deferred_case_events"


@contextmanager
def deferred_events(session: Session, case_id: int, into: list | None = None) -> Iterator[list]:
    """While the block runs, `record_event` for `case_id` keeps the event and the case's state instead of writing
    them (the list yielded, in order): an action whose last step changes values every event's state holds (the
    registration number, taken last so the counter's lock is held briefly) patches the states and appends them
    all under one lock of the chain head (`ChainHead`). Events not appended are lost: the caller must append them
    before the transaction commits. `into`: a list the events are added to (shared with other kept things, so
    their order is kept too)."""
    kept = into if into is not None else []
    held = session.info.setdefault(_DEFERRED, {})
    held[case_id] = kept
    try:
        yield kept
    finally:
        held.pop(case_id, None)


def append_events(session: Session, agency_id: int, events: list[PendingEvent],
                  digests: list[str | None] | None = None) -> list[AuditEvent]:
    """Chain `events` (of one agency, in order) after the agency's head: the head row is locked once for all.
    Each event's state digest is `digests`' entry when given, else the hash of its kept state."""
    head = ChainHead(session, agency_id)
    written = [head.append(pending, digest) for pending, digest in
               zip(events, digests if digests is not None else [None] * len(events), strict=True)]
    head.close()
    return written


class ChainHead:
    """An agency's chain head, locked in the caller's transaction until it ends. `append` chains one event after
    it (added to the session: written at the next flush, so a reaction that reads it can be told in between);
    `close` writes the new head and flushes, once for all the events. `chain` and `write` do the same without the
    session's unit of work, in one statement on PostgreSQL, for a writer that holds a lock every other writer of
    the agency waits on (registration, under the number counter's)."""

    def __init__(self, session: Session, agency_id: int, *, locked: tuple[int, str] | None = None) -> None:
        # FOR NO KEY UPDATE: inserts that reference the agency hold KEY SHARE on its row, which this lock must not
        # wait for (a plain FOR UPDATE deadlocks concurrent registrations on PostgreSQL); writers of one agency
        # still queue on the chain head, other agencies are untouched. `locked`: the head's sequence number and
        # hash, read by the caller with that lock (`numbering.next_number_and_chain_head`).
        self.session, self.agency_id = session, agency_id
        if locked is None:
            locked = session.execute(
                select(Agency.audit_seq, Agency.audit_head_hash).where(Agency.id == agency_id)
                .with_for_update(key_share=True)
            ).one()
        self.seq, self.hash = locked
        self.written = 0

    def append(self, pending: PendingEvent, digest: str | None = None) -> AuditEvent:
        """Chain `pending` and add it to the session; its state digest is `digest`, else the hash of its kept
        state (None without one)."""
        event = self.chain(pending, digest)
        self.session.add(event)
        return event

    def chain(self, pending: PendingEvent, digest: str | None = None) -> AuditEvent:
        """Chain `pending` as `append` does, without adding it to the session: `write` writes it."""
        if pending.agency_id != self.agency_id:
            raise ValueError("ChainHead.append: an event of another agency")
        if digest is None and pending.state is not None:
            digest = state_digest(pending.state)
        actor = pending.actor
        event = AuditEvent(
            agency_id=self.agency_id,
            seq=self.seq + 1,
            case_id=pending.case_id,
            actor_id=getattr(actor, "id", None),
            actor_name=getattr(actor, "display_name", None) or getattr(actor, "username", None) or "系统",
            occurred_at=utcnow(),
            action=pending.action,
            stage_before=pending.stage_before,
            stage_after=pending.stage_after,
            changes=pending.changes,
            reason=pending.reason,
            prev_hash=self.hash,
            state_digest=digest,
        )
        event.hash = event_digest(event.prev_hash, hashed_fields(event))
        self.seq, self.hash = event.seq, event.hash
        self.written += 1
        return event

    def close(self) -> None:
        """Write the head (sequence number and hash of the last event) and flush the events."""
        session = self.session
        session.flush()
        if not self.written:
            return
        session.connection().execute(_HEAD_UPDATE, self._head_values())
        self._loaded_head_is_written()

    def write(self, events: Sequence[AuditEvent], also: Sequence[tuple[UpdateBase, dict]] = ()) -> list[int]:
        """Write `events` (from `chain`, in their order), the new head and the caller's writes `also` (UPDATEs of
        other rows, each with its parameters, which the session's copies must then be told of:
        `set_committed_value`) without the session's unit of work. On PostgreSQL they are one statement, the other
        writes its WITH clauses (one round trip while the head is locked; none of them sees another's effect, so
        they must not touch the same rows), the events one JSON parameter whatever their number; elsewhere they run
        one after the other. Every value is a bound parameter, so each statement is compiled once; the caller's
        are named apart from each other, from `head_…` and `chained_events`, and from the columns of the table each
        updates (an UPDATE takes a parameter named after one of its columns as a value to set). Returns the events'
        ids, in their order."""
        if not events:
            raise ValueError("ChainHead.write: no events")
        conn = self.session.connection()
        rows = [{name: getattr(event, name) for name in _EVENT_COLUMNS} for event in events]
        writes = [*also, (_HEAD_UPDATE, self._head_values())]
        if conn.dialect.name == "postgresql":
            for row in rows:  # the JSON parameter: the moment with its offset, read back as the same instant
                row["occurred_at"] = row["occurred_at"].isoformat()
            statement = _written_together(tuple(write for write, _values in writes))
            values = {"chained_events": rows}
            for _write, params in writes:
                values.update(params)
            ids = dict(conn.execute(statement, values).all())
        else:
            for write, params in writes:
                conn.execute(write, params)
            ids = dict(conn.execute(_EVENTS_INSERT, rows).all())
        self._loaded_head_is_written()
        return [ids[event.seq] for event in events]

    def _head_values(self) -> dict:
        return {"head_agency_id": self.agency_id, "head_seq": self.seq, "head_hash": self.hash}

    def _loaded_head_is_written(self) -> None:
        """The session's copy of the agency says what the row says (without reading it again)."""
        loaded = self.session.identity_map.get(self.session.identity_key(Agency, self.agency_id))
        if loaded is not None:
            set_committed_value(loaded, "audit_seq", self.seq)
            set_committed_value(loaded, "audit_head_hash", self.hash)


_EVENT_COLUMNS = tuple(column.key for column in AuditEvent.__table__.columns if column.key != "id")
_HEAD_UPDATE = (update(Agency).where(Agency.id == bindparam("head_agency_id"))
                .values(audit_seq=bindparam("head_seq"), audit_head_hash=bindparam("head_hash")))


# The chained events as rows of one JSON parameter (PostgreSQL): one statement, compiled once, for any number.
_EVENTS_FROM_JSON = (
    insert(AuditEvent)
    .from_select(list(_EVENT_COLUMNS), select(*(literal_column(name) for name in _EVENT_COLUMNS)).select_from(
        text("json_populate_recordset(NULL::audit_events, :chained_events)")
        .bindparams(bindparam("chained_events", type_=JSON))))
    .returning(AuditEvent.seq, AuditEvent.id)
)
_EVENTS_INSERT = insert(AuditEvent).returning(AuditEvent.seq, AuditEvent.id, sort_by_parameter_order=True)


@functools.lru_cache(maxsize=64)
def _written_together(writes: tuple[UpdateBase, ...]):
    """The events' INSERT with `writes` as its WITH clauses (PostgreSQL), built once for the same statements."""
    inserted = _EVENTS_FROM_JSON.cte("chained")
    return select(inserted.c.seq, inserted.c.id).add_cte(
        *(write.cte(f"also_{n}") for n, write in enumerate(writes)))


def verify_chain(session: Session, agency: Agency):
    """The first problem of one agency's chain, or None (the full check is `audit_verify.verify_audit`)."""
    from engine.persistence.audit_verify import verify_agency_chain  # audit_verify builds on this module

    problems, _count = verify_agency_chain(session, agency, audit_key())
    return problems[0] if problems else None
