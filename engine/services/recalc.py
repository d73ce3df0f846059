"""When a new year's holiday notice is loaded, every open case's due date is recomputed (DESIGN §3)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.persistence.audit import record_event
from engine.persistence.models import Agency, Case, Job
from engine.rules.calendar import default_calendar
from engine.rules.case_clock import clock_settings, refresh_due
from engine.rules.workflow import OPEN_STAGES
from engine.services import jobs


@dataclass(frozen=True)
class DueChange:
    case_id: int
    reg_no: str
    before: object
    after: object
    provisional_before: bool
    provisional_after: bool


def count_open_cases(session: Session) -> int:
    """How many cases `recompute_open_due_dates` goes through (the progress bar's length)."""
    return session.scalar(select(func.count()).select_from(Case).where(*_OPEN)) or 0


def recompute_due_dates_batch(session: Session, *, after_id: int = 0, limit: int = 500,
                              cal=None) -> tuple[list[DueChange], int | None, int]:
    """Recompute the next `limit` open cases after `after_id`: the changes, the last id seen (None: no more
    cases) and how many cases the batch went through.

    Each change is audited. Running a batch twice changes nothing the second time, so a job that was
    interrupted and starts again repeats no audit event."""
    cal = cal or default_calendar()
    cases = session.scalars(select(Case).where(*_OPEN, Case.id > after_id).order_by(Case.id).limit(limit)).all()
    if not cases:
        return [], None, 0
    agencies = {a.id: a for a in session.scalars(select(Agency).where(Agency.id.in_({c.agency_id for c in cases})))}
    changes: list[DueChange] = []
    for case in cases:
        before, was_provisional = case.due_on, case.due_provisional
        refresh_due(case, **clock_settings(agencies[case.agency_id]), cal=cal)
        if (case.due_on, case.due_provisional) != (before, was_provisional):
            changes.append(DueChange(case.id, case.reg_no, before, case.due_on, was_provisional,
                                     case.due_provisional))
            record_event(session, agency_id=case.agency_id, case_id=case.id, action="recompute_due",
                         stage_before=case.stage, stage_after=case.stage,
                         changes={"due_on": {"before": before, "after": case.due_on},
                                  "provisional": {"before": was_provisional, "after": case.due_provisional}},
                         reason=f"节假日日历更新（版本 {cal.version}），重新计算答复期限")
    session.flush()
    return changes, cases[-1].id, len(cases)


def recompute_open_due_dates(session: Session, *, cal=None, batch_size: int = 500,
                             on_batch=None) -> list[DueChange]:
    """Recompute the due date of every open case under `cal`; each change is recorded in the audit trail.
    `on_batch(cases)` is called after each batch with the number of cases it went through (a progress bar)."""
    cal = cal or default_calendar()
    changes: list[DueChange] = []
    last_id: int | None = 0
    while True:
        found, last_id, seen = recompute_due_dates_batch(session, after_id=last_id, limit=batch_size, cal=cal)
        if last_id is None:
            return changes
        changes.extend(found)
        if on_batch is not None:
            on_batch(seen)


_OPEN = (Case.stage.in_(OPEN_STAGES), Case.imported.is_(False))


def request_recompute(session: Session, *, requested_by: str) -> Job:
    """Queue the recomputation of every open case's due date (one at a time: a pending one is reused)."""
    pending = session.scalar(select(Job).where(Job.kind == "calendar_recompute", Job.state.in_(("queued", "running")))
                             .order_by(Job.id).limit(1))
    return pending or jobs.enqueue(session, "calendar_recompute", requested_by=requested_by)
