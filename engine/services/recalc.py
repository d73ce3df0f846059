"""When a new year's holiday notice is loaded, every open case's due date is recomputed (DESIGN §3)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.persistence.audit import record_event
from engine.persistence.models import Agency, Case
from engine.rules.calendar import default_calendar
from engine.rules.case_clock import clock_settings, refresh_due
from engine.rules.workflow import OPEN_STAGES


@dataclass(frozen=True)
class DueChange:
    case_id: int
    reg_no: str
    before: object
    after: object
    provisional_before: bool
    provisional_after: bool


def recompute_open_due_dates(session: Session, *, cal=None, batch_size: int = 500) -> list[DueChange]:
    """Recompute the due date of every open case under `cal`; each change is recorded in the audit trail."""
    cal = cal or default_calendar()
    changes: list[DueChange] = []
    agencies = {a.id: a for a in session.scalars(select(Agency))}
    last_id = 0
    while True:
        cases = session.scalars(select(Case).where(Case.stage.in_(OPEN_STAGES), Case.id > last_id, Case.imported.is_(False))
                                .order_by(Case.id).limit(batch_size)).all()
        if not cases:
            break
        for case in cases:
            last_id = case.id
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
    return changes
