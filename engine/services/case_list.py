"""Which cases match a list's criteria, as one SQL statement (web list, exports, dashboard and API alike).

Due status in SQL is the same rule as `clocks.due_status` (DESIGN §3): overdue before today, due soon with at
most 3 working days left, on time otherwise — only for open cases with a running clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, and_, literal_column, select, text
from sqlalchemy.orm import contains_eager

from engine.persistence.models import Applicant, Case, Department
from engine.rules.calendar import default_calendar
from engine.rules.search import normalise_search_text
from engine.rules.workflow import OPEN_STAGES

DUE_SOON_WORKING_DAYS = 3
DUE_STATUSES = ("overdue", "due_soon", "on_time")


@dataclass(frozen=True)
class CaseCriteria:
    """Which cases a list shows, however it was asked for (the web list's query string, the API's); blank = any."""

    stage: str = ""
    due: str = ""                   # one of DUE_STATUSES, or ""
    department_id: int | None = None
    applicant_kind: str = ""
    received_from: date | None = None
    received_to: date | None = None
    outcome: str = ""
    q: str = ""                     # any part of the applicant (name, ID number, phone), the request text, the
    #                                 registration number in any bracket style or a letter's 文号


def due_soon_limit(today: date, cal=None) -> date:
    """The last due date that is "due soon" as of `today` (at most 3 working days left)."""
    return (cal or default_calendar()).add_working_days(today, DUE_SOON_WORKING_DAYS)


def due_conditions(due: str, today: date, cal=None) -> tuple:
    """SQL conditions for open cases whose reply clock is in `due` status as of `today`."""
    limit = due_soon_limit(today, cal)
    running = (Case.stage.in_(OPEN_STAGES), Case.due_on.is_not(None))
    if due == "overdue":
        return (*running, Case.due_on < today)
    if due == "due_soon":
        return (*running, Case.due_on >= today, Case.due_on <= limit)
    return (*running, Case.due_on > limit)


def _escape_like(text_: str) -> str:
    return text_.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# Characters that have no case in any collation and are no other character's lower case: digits, CJK ideographs,
# CJK symbols and punctuation (〔〕、。…), spaces. For a query of these alone, ILIKE finds exactly what LIKE finds,
# and LIKE compares bytes instead of lower-casing every text it reads (half the time on PostgreSQL).
_CASELESS = re.compile(r"[0-9\s\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff]+")


# pg_trgm cuts text into words at every character that is neither a letter nor a digit (CJK ideographs are letters).
_WORDS = re.compile(r"[^\W_]+")


def index_piece(text_: str) -> str:
    """The part of a query the trigram index is asked for: when it has several words, its last word, with the
    character before it when the word is shorter than four characters; else the whole query.

    An index scan reads the list of rows of every trigram it is given. A number such as 依申请〔2026〕1205号 has
    trigrams that nearly every case shares (依申请, 〔20: every case has a 登记编号); its last word (1205号: the
    sequence number) has rare ones. A short one has a single trigram (93号) shared by a hundredth of the numbers,
    each of them read again: with the bracket before it (〕93号), the trigrams say "a word beginning 93", which
    few are. The whole query is then compared on the rows found, so the matches are the same."""
    words = list(_WORDS.finditer(text_))
    if len(words) < 2:
        return text_
    last = words[-1]
    start = last.start() if len(last.group()) >= 4 else max(last.start() - 1, 0)
    return text_[start:last.end()]


def _contains(column, text_: str):
    """`column` contains `text_`: the index is asked for `index_piece(text_)` and the rows it finds are compared
    with the whole query (on `column || ''`, which no index serves, so the planner cannot ask the index for it)."""
    caseless = _CASELESS.fullmatch(text_) is not None

    def contains(expression, part: str):
        like = expression.like if caseless else expression.ilike
        return like(f"%{_escape_like(part)}%", escape="\\")

    piece = index_piece(text_)
    if piece == text_:
        return contains(column, text_)
    return and_(contains(column, piece), contains(column.concat(""), text_))


def text_match(q: str, dialect: str):
    """Substring search of the case's search text, which holds the 登记编号 and every other identifier in the
    normal form the query is put in: SQLite's FTS5 trigram table for 3+ characters (`cases_fts`, kept by
    triggers), else ILIKE (LIKE when the query has no letters), which PostgreSQL serves from its pg_trgm GIN index
    (migration 0002), asked for the query's rarest-looking part only (`index_piece`)."""
    q = normalise_search_text(q)
    if dialect == "sqlite" and len(q) >= 3:
        phrase = '"' + q.replace('"', '""') + '"'
        return Case.id.in_(select(literal_column("rowid")).select_from(text("cases_fts"))
                           .where(text("cases_fts MATCH :fts_phrase")).params(fts_phrase=phrase))
    return _contains(Case.search_text, q)


def _conditions(agency_id: int, c: CaseCriteria, today: date, dialect: str) -> list:
    where = [Case.agency_id == agency_id]
    if c.stage:
        where.append(Case.stage == c.stage)
    if c.due:
        where.extend(due_conditions(c.due, today))
    if c.department_id:
        where.append(Case.department_id == c.department_id)
    if c.applicant_kind:
        where.append(Applicant.kind == c.applicant_kind)
    if c.received_from:
        where.append(Case.received_on >= c.received_from)
    if c.received_to:
        where.append(Case.received_on <= c.received_to)
    if c.outcome:
        where.append(Case.report_outcome == c.outcome)
    if c.q:
        where.append(text_match(c.q, dialect))
    return where


def cases_matching(agency_id: int, c: CaseCriteria, today: date, dialect: str) -> Select:
    """The agency's cases matching `c`, with applicant and department loaded in the same query."""
    return (select(Case).join(Case.applicant).outerjoin(Department, Case.department_id == Department.id)
            .options(contains_eager(Case.applicant), contains_eager(Case.department))
            .where(*_conditions(agency_id, c, today, dialect)))


def case_ids_matching(agency_id: int, c: CaseCriteria, today: date, dialect: str) -> Select:
    """The ids of the same cases, joining the applicant only to filter by it (what a count needs: every case has
    exactly one applicant, so the join never changes how many there are)."""
    stmt = select(Case.id)
    if c.applicant_kind:
        stmt = stmt.join(Case.applicant)
    return stmt.where(*_conditions(agency_id, c, today, dialect))
