"""The case list's filters as one SQL query (no query per row), shared by the list page, exports and the dashboard."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, contains_eager

from engine.persistence.limits import MAX_ID, MAX_PAGE
from engine.persistence.models import Case, Department
from engine.rules.outcomes import APPLICANT_TYPES, OUTCOMES
from engine.rules.text_input import has_control_characters
from engine.rules.vocabulary import STAGES
from engine.services.case_list import DUE_STATUSES, CaseCriteria, case_ids_matching, cases_matching

PAGE_SIZE = 50
COUNT_CAP = 1000    # the list counts its matches up to here and says 「1000+ 件」 beyond
def _date_key(day: date | None) -> tuple[bool, int]:
    """A date's place in ascending order with the undated last, as `.asc().nulls_last()` sorts it in SQL."""
    return day is None, day.toordinal() if day is not None else 0


# Each order as the database sorts it and, for the rows of a list with fewer matches than COUNT_CAP, the same
# order in Python (tie-broken by id, or by the unique registration number, so both give one order).
SORTS = {
    "received_desc": ("收到日期（新→旧）", lambda: (Case.received_on.desc().nulls_last(), Case.id.desc()),
                      lambda r: (r.received_on is None, -_date_key(r.received_on)[1], -r.id)),
    "received_asc": ("收到日期（旧→新）", lambda: (Case.received_on.asc().nulls_last(), Case.id.asc()),
                     lambda r: (*_date_key(r.received_on), r.id)),
    "due_asc": ("答复期限（近→远）", lambda: (Case.due_on.asc().nulls_last(), Case.id.asc()),
                lambda r: (*_date_key(r.due_on), r.id)),
    "reg_no": ("登记编号", lambda: (Case.reg_year.desc(), Case.reg_seq.desc()), lambda r: (-r.reg_year, -r.reg_seq)),
}


@dataclass(frozen=True)
class CaseFilter(CaseCriteria):
    """The list page's query string: the engine's criteria, plus the order and page it shows them in."""

    sort: str = "received_desc"
    page: int = 1
    errors: tuple[str, ...] = ()    # what in the query string was ignored, to tell the user

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

        def integer(name: str, default: int | None, ceiling: int = MAX_ID) -> int | None:
            """A positive integer no larger than `ceiling`; anything else is the default (a bad link, not input)."""
            raw = (args.get(name) or "").strip()
            try:
                value = int(raw) if raw else default
            except ValueError:
                return default
            return value if value is None or 1 <= value <= ceiling else default

        q = (args.get("q") or "").strip()
        if has_control_characters(q):
            errors.append("搜索词含有不允许的控制字符，已忽略")
            q = ""

        stage = args.get("stage", "")
        due = args.get("due", "")
        kind = args.get("applicant_kind", "")
        outcome = args.get("outcome", "")
        sort = args.get("sort", "received_desc")
        return cls(stage=stage if stage in STAGES else "", due=due if due in DUE_STATUSES else "",
                   department_id=integer("department_id", None), applicant_kind=kind if kind in APPLICANT_TYPES else "",
                   received_from=day("received_from", "收到日期（起）"), received_to=day("received_to", "收到日期（止）"),
                   outcome=outcome if outcome in OUTCOMES else "", q=q[:100],
                   sort=sort if sort in SORTS else "received_desc", page=integer("page", 1, MAX_PAGE) or 1,
                   errors=tuple(errors))

    def query_args(self, **changes) -> dict:
        """The query string that shows this list again (the page number aside)."""
        values = {f.name: getattr(self, f.name) for f in fields(CaseCriteria)} | {"sort": self.sort} | changes
        return {k: v for k, v in values.items() if v not in ("", None)}


def filtered(agency_id: int, f: CaseFilter, today: date, dialect: str = "") -> Select:
    """Cases of the agency matching the filter (the engine's one query for every case list)."""
    return cases_matching(agency_id, f, today, dialect)


@dataclass(frozen=True)
class ListPage:
    """One page of the list and how many cases match: exactly up to `COUNT_CAP`, beyond it only "more than"."""

    rows: list[Case]
    total: int          # the number of matches, or COUNT_CAP when there are more (`capped`)
    capped: bool        # more than COUNT_CAP matches: shown as 「1000+ 件」, never counted to the end
    has_next: bool      # a case follows this page

    @property
    def pages(self) -> int | None:
        """How many pages the list has, when it is known."""
        return None if self.capped else max(1, -(-self.total // PAGE_SIZE))


def page_of(session: Session, agency_id: int, f: CaseFilter, today: date) -> ListPage:
    """One page of the filtered list and its count, capped (two queries whatever the page size or the matches).

    Counting every one of a million matches costs what a page of 50 does not; nobody pages through more than
    a thousand cases, they narrow the filter. The first query reads at most COUNT_CAP + 1 matches (their ids and
    sort keys): when that is all of them, they are put in order here and the page's cases read by id (a search is
    run once, not once to count and again to show); when there are more, the page is read in its order from the
    indexes. Either way one row more than the page is taken, so the next page is offered exactly when it has cases,
    counted or not."""
    dialect = session.get_bind().dialect.name
    offset = (f.page - 1) * PAGE_SIZE
    matches = session.execute(case_ids_matching(agency_id, f, today, dialect).add_columns(
        Case.received_on, Case.due_on, Case.reg_year, Case.reg_seq).limit(COUNT_CAP + 1)).all()
    capped = len(matches) > COUNT_CAP
    if capped:
        rows = list(session.scalars(filtered(agency_id, f, today, dialect).order_by(*SORTS[f.sort][1]())
                                    .limit(PAGE_SIZE + 1).offset(offset)).all())
    else:
        wanted = [r.id for r in sorted(matches, key=SORTS[f.sort][2])[offset:offset + PAGE_SIZE + 1]]
        found = {c.id: c for c in session.scalars(
            select(Case).join(Case.applicant).outerjoin(Department, Case.department_id == Department.id)
            .options(contains_eager(Case.applicant), contains_eager(Case.department)).where(Case.id.in_(wanted)))}
        rows = [found[case_id] for case_id in wanted]
    return ListPage(rows[:PAGE_SIZE], min(len(matches), COUNT_CAP), capped, len(rows) > PAGE_SIZE)
