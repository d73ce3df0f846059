"""What happened to a case, told to whoever must react to it in the same transaction.

Every action ends in `common.finish_action` and every letter is issued by `issuing.issue_letter`; both publish a
`CaseEvent` here after writing the audit event. Subscribers (applicant notifications, webhooks) write their own
outbox rows and enqueue their jobs in the caller's transaction, so a dry run that is rolled back (a confirmation
page) or a refused action sends nothing, and every channel (web, API, CLI, portal) gets the same reactions
without re-implementing them.

A subscriber must not commit, must not call the network, and should be cheap: it runs inside the action.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from engine.persistence.models import Case, Letter


@dataclass(frozen=True)
class CaseEvent:
    """One audited change of a case: `action` is the audit action name (`register`, `request_supplement`,
    `issue_letter`, `record_delivery`, …); `letter` is set for `issue_letter`. `audit_event_id`: the id of the
    audit event this change wrote, when the publisher knows it (a held event told after every event of its
    action is written); otherwise the case's latest event is this change's, as it is told right after it."""

    case: Case
    action: str
    actor: object | None
    stage_before: str | None
    stage_after: str | None
    changes: dict = field(default_factory=dict)
    letter: Letter | None = None
    audit_event_id: int | None = None


Subscriber = Callable[[Session, CaseEvent], None]
_SUBSCRIBERS: list[Subscriber] = []


def subscribe(subscriber: Subscriber) -> Subscriber:
    """Register `subscriber(session, event)` (usable as a decorator; registering twice is harmless)."""
    if subscriber not in _SUBSCRIBERS:
        _SUBSCRIBERS.append(subscriber)
    return subscriber


Preparer = Callable[[Session, CaseEvent], None]
_PREPARERS: list[Preparer] = []


def prepares(preparer: Preparer) -> Preparer:
    """Register `preparer(session, event)`: what a subscriber reads for an event, done by `prepare` before a held
    event is told (usable as a decorator; registering twice is harmless)."""
    if preparer not in _PREPARERS:
        _PREPARERS.append(preparer)
    return preparer


def prepare(session: Session, events: list) -> None:
    """Let the subscribers read now what they will need to react to these held events (the `CaseEvent`s among
    them), so that telling them later does not wait on reads: registration tells its events under the number
    counter's lock, on which every registration of the agency queues. A preparer only reads; what it reads must be
    as good when the event is told (the webhook endpoints are read again if the transaction writes one)."""
    for event in events:
        if isinstance(event, CaseEvent):
            for preparer in list(_PREPARERS):
                preparer(session, event)


# Case id → the events held for it while `held_events` runs.
_HELD = "gongkai_held_case_events"


def publish(session: Session, event: CaseEvent) -> None:
    held = (session.info.get(_HELD) or {}).get(event.case.id)
    if held is not None:
        held.append(event)
        return
    for subscriber in list(_SUBSCRIBERS):
        subscriber(session, event)


@contextmanager
def held_events(session: Session, case_id: int, into: list | None = None) -> Iterator[list]:
    """While the block runs, events about `case_id` are kept (the list yielded, or `into`) instead of told: the
    action publishes them itself once the case is final (registration tells them after its number is taken)."""
    kept = into if into is not None else []
    session.info.setdefault(_HELD, {})[case_id] = kept
    try:
        yield kept
    finally:
        session.info[_HELD].pop(case_id, None)
