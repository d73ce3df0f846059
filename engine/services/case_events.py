"""What happened to a case, told to whoever must react to it in the same transaction.

Every action ends in `common.finish_action` and every letter is issued by `issuing.issue_letter`; both publish a
`CaseEvent` here after writing the audit event. Subscribers (applicant notifications, webhooks) write their own
outbox rows and enqueue their jobs in the caller's transaction, so a dry run that is rolled back (a confirmation
page) or a refused action sends nothing, and every channel (web, API, CLI, portal) gets the same reactions
without re-implementing them.

A subscriber must not commit, must not call the network, and should be cheap: it runs inside the action.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from engine.persistence.models import Case, Letter


@dataclass(frozen=True)
class CaseEvent:
    """One audited change of a case: `action` is the audit action name (`register`, `request_supplement`,
    `issue_letter`, `record_delivery`, …); `letter` is set for `issue_letter`."""

    case: Case
    action: str
    actor: object | None
    stage_before: str | None
    stage_after: str | None
    changes: dict = field(default_factory=dict)
    letter: Letter | None = None


Subscriber = Callable[[Session, CaseEvent], None]
_SUBSCRIBERS: list[Subscriber] = []


def subscribe(subscriber: Subscriber) -> Subscriber:
    """Register `subscriber(session, event)` (usable as a decorator; registering twice is harmless)."""
    if subscriber not in _SUBSCRIBERS:
        _SUBSCRIBERS.append(subscriber)
    return subscriber


def publish(session: Session, event: CaseEvent) -> None:
    for subscriber in list(_SUBSCRIBERS):
        subscriber(session, event)
