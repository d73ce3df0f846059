"""The exemption log across cases (DESIGN §4): every withheld part's record by ground, department and period,
so that over-use of a ground can be watched (以公开为常态、不公开为例外, 条例第5、13条)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.errors import PermissionDenied
from engine.persistence.models import AuditEvent, Case, CaseItem, Department, ExemptionRecord

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Who may read the log, on every channel (the page and the API alike).
EXEMPTION_LOG_ROLES = ("legal_reviewer", "office_head", "admin")


def ensure_may_read_log(actor) -> None:
    if actor is None or not any(actor.has_role(role) for role in EXEMPTION_LOG_ROLES):
        raise PermissionDenied("只有法制审核人员、机构负责人和系统管理员可以查看不予公开理由台账")


@dataclass(frozen=True)
class ExemptionLogFilter:
    ground: str | None = None
    department_id: int | None = None
    review_state: str | None = None
    created_from: date | None = None     # Asia/Shanghai calendar days, inclusive
    created_to: date | None = None
    include_superseded: bool = False


@dataclass(frozen=True)
class ExemptionLogPage:
    rows: list[tuple[ExemptionRecord, str, int, str | None]]   # record, reg_no, item seq, department name
    total: int
    by_ground: dict[str, int]
    # Cases whose reply was signed by someone who also decided or submitted it (one-person office, 条例 issue 17).
    waived_cases: frozenset[int] = frozenset()


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=SHANGHAI).astimezone(UTC)


def _conditions(agency_id: int, flt: ExemptionLogFilter) -> list:
    conditions = [Case.agency_id == agency_id]
    if not flt.include_superseded:
        conditions.append(ExemptionRecord.current.is_(True))
    if flt.ground:
        conditions.append(ExemptionRecord.ground == flt.ground)
    if flt.department_id:
        conditions.append(ExemptionRecord.department_id == flt.department_id)
    if flt.review_state:
        conditions.append(ExemptionRecord.review_state == flt.review_state)
    if flt.created_from:
        conditions.append(ExemptionRecord.created_at >= _start_of(flt.created_from))
    if flt.created_to:
        conditions.append(ExemptionRecord.created_at < _start_of(flt.created_to + timedelta(days=1)))
    return conditions


def exemption_log(session: Session, agency_id: int, flt: ExemptionLogFilter, *, page: int = 1,
                  per_page: int = 50) -> ExemptionLogPage:
    """One page of the agency's exemption records, newest first, with the count per ground (three queries)."""
    conditions = _conditions(agency_id, flt)
    joined = select(ExemptionRecord).join(Case, ExemptionRecord.case_id == Case.id).where(*conditions)
    total = session.scalar(select(func.count()).select_from(joined.subquery()))
    by_ground = dict(session.execute(
        select(ExemptionRecord.ground, func.count()).join(Case, ExemptionRecord.case_id == Case.id)
        .where(*conditions).group_by(ExemptionRecord.ground)).all())
    rows = session.execute(
        select(ExemptionRecord, Case.reg_no, CaseItem.seq, Department.name)
        .join(Case, ExemptionRecord.case_id == Case.id)
        .join(CaseItem, ExemptionRecord.item_id == CaseItem.id)
        .outerjoin(Department, ExemptionRecord.department_id == Department.id)
        .where(*conditions)
        .order_by(ExemptionRecord.id.desc())
        .limit(per_page).offset((max(page, 1) - 1) * per_page)).all()
    return ExemptionLogPage([tuple(r) for r in rows], int(total or 0),
                            {k: int(v) for k, v in sorted(by_ground.items())},
                            waived_signatures(session, {r[0].case_id for r in rows}))


def waived_signatures(session: Session, case_ids) -> frozenset[int]:
    """The cases among `case_ids` whose reply was signed with separation of duties waived (the agency's
    `one_person_office` setting), as their `sign` audit events say."""
    ids = sorted(set(case_ids))
    if not ids:
        return frozenset()
    signed = session.execute(select(AuditEvent.case_id, AuditEvent.changes)
                             .where(AuditEvent.case_id.in_(ids), AuditEvent.action == "sign")).all()
    return frozenset(case_id for case_id, changes in signed if (changes or {}).get("separation_of_duties_waived"))
