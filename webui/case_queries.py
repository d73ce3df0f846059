"""The case list's filters as one SQL query (no query per row), shared by the list page, exports and the dashboard."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Select, func, literal_column, or_, select, text
from sqlalchemy.orm import Session, contains_eager

from engine.calendar import default_calendar
from engine.models import STAGES, Applicant, Case, Department
from engine.outcomes import APPLICANT_TYPES, OUTCOMES
from engine.workflow import OPEN_STAGES

DUE_SOON_WORKING_DAYS = 3
PAGE_SIZE = 50
SORTS = {
    "received_desc": ("收到日期（新→旧）", lambda: (Case.received_on.desc().nulls_last(), Case.id.desc())),
    "received_asc": ("收到日期（旧→新）", lambda: (Case.received_on.asc().nulls_last(), Case.id.asc())),
    "due_asc": ("答复期限（近→远）", lambda: (Case.due_on.asc().nulls_last(), Case.id.asc())),
    "reg_no": ("登记编号", lambda: (Case.reg_year.desc(), Case.reg_seq.desc())),
}


def due_soon_limit(today: date) -> date:
    """The last due date that counts as "due soon": 3 working days from today (DESIGN §3)."""
    return default_calendar().add_working_days(today, DUE_SOON_WORKING_DAYS)


@dataclass
class CaseFilter:
    stage: str = ""
    due: str = ""
    department_id: int | None = None
    applicant_kind: str = ""
    received_from: date | None = None
    received_to: date | None = None
    outcome: str = ""
    q: str = ""
    sort: str = "received_desc"
    page: int = 1
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_args(cls, args) -> CaseFilter:
        errors: list[str] = []

        def day(name: str, label: str) -> date | None:
            raw = (args.get(name) or "").strip()
            if not raw:
                return None
            try:
                return date.fromisoformat(raw)
            except ValueError:
                errors.append(f"{label}格式不正确，已忽略")
                return None

        def integer(name: str, default: int | None) -> int | None:
            try:
                return int(args.get(name) or default) if (args.get(name) or default) is not None else None
            except ValueError:
                return default

        stage = args.get("stage", "")
        due = args.get("due", "")
        kind = args.get("applicant_kind", "")
        outcome = args.get("outcome", "")
        sort = args.get("sort", "received_desc")
        return cls(stage=stage if stage in STAGES else "", due=due if due in ("overdue", "due_soon", "on_time") else "",
                   department_id=integer("department_id", None), applicant_kind=kind if kind in APPLICANT_TYPES else "",
                   received_from=day("received_from", "收到日期（起）"), received_to=day("received_to", "收到日期（止）"),
                   outcome=outcome if outcome in OUTCOMES else "", q=(args.get("q") or "").strip()[:100],
                   sort=sort if sort in SORTS else "received_desc", page=max(1, integer("page", 1) or 1),
                   errors=errors)

    def query_args(self, **changes) -> dict:
        values = {"stage": self.stage, "due": self.due, "department_id": self.department_id or "",
                  "applicant_kind": self.applicant_kind, "received_from": self.received_from or "",
                  "received_to": self.received_to or "", "outcome": self.outcome, "q": self.q, "sort": self.sort}
        values.update(changes)
        return {k: v for k, v in values.items() if v not in ("", None)}


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _text_match(q: str, dialect: str):
    """Substring search of applicant and request text: SQLite's FTS5 trigram table for 3+ characters
    (`cases_fts`, kept by triggers), else ILIKE, which PostgreSQL serves from its pg_trgm GIN index."""
    pattern = f"%{_escape_like(q)}%"
    by_number = Case.reg_no.ilike(pattern, escape="\\")
    if dialect == "sqlite" and len(q) >= 3:
        phrase = '"' + q.replace('"', '""') + '"'
        in_fts = Case.id.in_(select(literal_column("rowid")).select_from(text("cases_fts"))
                             .where(text("cases_fts MATCH :fts_phrase")).params(fts_phrase=phrase))
        return or_(in_fts, by_number)
    return or_(Case.search_text.ilike(pattern, escape="\\"), by_number)


def filtered(agency_id: int, f: CaseFilter, today: date, dialect: str = "") -> Select:
    """Cases of the agency matching the filter, with applicant and department loaded in the same query."""
    stmt = (select(Case).join(Case.applicant).outerjoin(Department, Case.department_id == Department.id)
            .options(contains_eager(Case.applicant), contains_eager(Case.department))
            .where(Case.agency_id == agency_id))
    if f.stage:
        stmt = stmt.where(Case.stage == f.stage)
    if f.due:
        limit = due_soon_limit(today)
        stmt = stmt.where(Case.stage.in_(OPEN_STAGES), Case.due_on.is_not(None))
        if f.due == "overdue":
            stmt = stmt.where(Case.due_on < today)
        elif f.due == "due_soon":
            stmt = stmt.where(Case.due_on >= today, Case.due_on <= limit)
        else:
            stmt = stmt.where(Case.due_on > limit)
    if f.department_id:
        stmt = stmt.where(Case.department_id == f.department_id)
    if f.applicant_kind:
        stmt = stmt.where(Applicant.kind == f.applicant_kind)
    if f.received_from:
        stmt = stmt.where(Case.received_on >= f.received_from)
    if f.received_to:
        stmt = stmt.where(Case.received_on <= f.received_to)
    if f.outcome:
        stmt = stmt.where(Case.report_outcome == f.outcome)
    if f.q:
        stmt = stmt.where(_text_match(f.q, dialect))
    return stmt


def page_of(session: Session, agency_id: int, f: CaseFilter, today: date) -> tuple[list[Case], int]:
    """One page of the filtered list and the total count (two queries whatever the page size)."""
    base = filtered(agency_id, f, today, session.get_bind().dialect.name)
    total = session.scalar(select(func.count()).select_from(base.order_by(None).subquery()))
    rows = session.scalars(base.order_by(*SORTS[f.sort][1]()).limit(PAGE_SIZE).offset((f.page - 1) * PAGE_SIZE)).all()
    return list(rows), total or 0
