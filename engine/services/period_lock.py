"""The period lock: once an agency publishes a year's annual report, that year's figures are frozen (条例49–50).

Any receipt or finishing date falling in a published year would change the published table, so it is
refused unless an administrator overrides the lock with a reason, which the audit trail records.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from engine.errors import PeriodLocked
from engine.persistence.audit import record_event
from engine.persistence.direct_read import core_rows
from engine.persistence.models import PublishedReport

OVERRIDE_ROLE = "admin"


# Built once, and read with Core (`direct_read`): every registration and every dated action asks.
_REPORTS = PublishedReport.__table__
_PUBLISHED = select(_REPORTS.c.year).where(_REPORTS.c.agency_id == bindparam("agency_id"))
_PUBLISHED_AMONG = _PUBLISHED.where(_REPORTS.c.year.in_(bindparam("years", expanding=True)))


def locked_years(session: Session, agency_id: int, years: Iterable[int] | None = None) -> set[int]:
    """The years whose annual report the agency has published (all of them, or those among `years`)."""
    if years is None:
        return set(core_rows(session, _PUBLISHED, {"agency_id": agency_id}, reads=(PublishedReport,)).scalars())
    wanted = sorted(set(years))
    if not wanted:
        return set()
    return set(core_rows(session, _PUBLISHED_AMONG, {"agency_id": agency_id, "years": wanted},
                         reads=(PublishedReport,)).scalars())


def lock_message(year: int) -> str:
    return f"{year}年度报告已发布，该年度数据已锁定，不能再登记或更改{year}年的收到日期或办结日期"


def ensure_period_open(session: Session, agency_id: int, *days: date | None, actor=None,
                       override_reason: str | None = None) -> None:
    """Refuse a date in a year whose annual report is published (条例50), unless an admin overrides with a reason."""
    years = {day.year for day in days if day is not None}
    locked = sorted(locked_years(session, agency_id, years))
    if not locked:
        return
    reason = (override_reason or "").strip()
    message = "；".join(lock_message(year) for year in locked)
    if not reason:
        raise PeriodLocked(message, details={"years": locked})
    if actor is None or not actor.has_role(OVERRIDE_ROLE) or getattr(actor, "agency_id", None) != agency_id:
        raise PeriodLocked(f"{message}（只有本机关的系统管理员可以说明理由后解除锁定）", details={"years": locked})
    record_event(session, agency_id=agency_id, action="override_period_lock", actor=actor,
                 changes={"years": locked, "days": sorted({d for d in days if d is not None and d.year in locked})},
                 reason=reason)
