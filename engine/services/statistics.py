"""Statistics for the agency's own oversight (条例44、49–50): plain tables, each drawable as a chart and as CSV.

Every figure is an aggregation in SQL except those that need the working-day calendar per case (days
to reply) or text similarity (information asked for by several applicants, a candidate for proactive
disclosure under 条例44).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from engine.persistence.models import Applicant, Case, CaseItem, Department, ExemptionRecord
from engine.rules.calendar import WorkingCalendar
from engine.rules.outcomes import OUTCOMES, RESULT_ROWS
from engine.rules.similarity import bigrams
from engine.rules.vocabulary import CHANNEL_LABELS, CHANNELS
from engine.services.reports import ROW_LABELS, compute_table3

SHANGHAI = ZoneInfo("Asia/Shanghai")
OPEN_STAGES = ("registered", "awaiting_supplement", "in_handling", "consulting", "awaiting_fee", "drafting",
               "in_review", "signed")
REPLY_WORKING_DAYS = 20
DAY_BUCKETS = ((0, 5), (6, 10), (11, 15), (16, 20), (21, 30), (31, 40), (41, None))
DUE_STATUS_LABELS = {"overdue": "已逾期", "due_soon": "即将到期（≤3个工作日）", "on_time": "期限内",
                     "paused": "计时暂停", "unknown": "未计算期限"}


@dataclass(frozen=True)
class StatTable:
    """One statistic: a header and rows whose first cell is the label and the rest numbers."""

    key: str
    title: str
    header: tuple[str, ...]
    rows: list[tuple]
    notes: list[str] = field(default_factory=list)

    @property
    def series(self) -> tuple[str, ...]:
        return self.header[1:]


def _year_filter(column, year: int):
    return and_(column >= date(year, 1, 1), column <= date(year, 12, 31))


def _agency_filter(query, agency_id: int | None):
    return query if agency_id is None else query.where(Case.agency_id == agency_id)


def applications_by_month(session: Session, agency_id: int | None, year: int) -> StatTable:
    """Applications received per month of the year, by channel (条例31)."""
    month = func.extract("month", Case.received_on)
    query = _agency_filter(select(month, Case.channel, func.count()).where(_year_filter(Case.received_on, year))
                           .group_by(month, Case.channel), agency_id)
    counts: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(CHANNELS, 0))
    for m, channel, n in session.execute(query):
        counts[int(m)][channel] += n
    rows = [(f"{m}月", *(counts[m][c] for c in CHANNELS)) for m in range(1, 13)]
    return StatTable("by_month", f"{year}年每月收到的申请（按渠道）", ("月份", *(CHANNEL_LABELS[c] for c in CHANNELS)), rows)


def outcomes_by_row(session: Session, agency_id: int | None, year: int) -> StatTable:
    """Cases finished in the year by their annual-report row (年报表三)."""
    table3, _ = compute_table3(session, year, agency_id)
    rows = [(ROW_LABELS[row], table3[row]["TOTAL"]) for row in RESULT_ROWS]
    return StatTable("outcomes", f"{year}年办理结果（按年报表三分类）", ("办理结果", "件数"), rows)


def _reply_days(session: Session, agency_id: int | None, year: int, cal: WorkingCalendar) -> tuple[Counter[int], int]:
    """How many cases finished in the year took each number of working days from receipt to reply, and how many
    were on time.

    The database groups the cases by (received, finished, due) — a few thousand distinct triples however many cases
    — so the calendar is consulted once per triple, not once per case, and the days are kept as counts, not as a
    list of one entry per case."""
    query = _agency_filter(select(Case.received_on, Case.finished_on, Case.due_on, func.count()).where(
        Case.received_on.is_not(None), _year_filter(Case.finished_on, year))
        .group_by(Case.received_on, Case.finished_on, Case.due_on), agency_id)
    days: Counter[int] = Counter()
    on_time = 0
    for received_on, finished_on, due_on, n in session.execute(query):
        working_days = cal.working_days_between(received_on, finished_on)
        days[working_days] += n
        # The stored due date carries extensions and pauses; imported or older cases fall back to 20 days.
        on_time += n * ((finished_on <= due_on) if due_on is not None else working_days <= REPLY_WORKING_DAYS)
    return days, on_time


def _median(days: Counter[int]) -> float:
    """`statistics.median` of the days the counts stand for (the middle one, or the mean of the middle two)."""
    total = sum(days.values())

    def nth(k: int) -> int:  # the k-th smallest, from 0
        seen = 0
        for day in sorted(days):
            seen += days[day]
            if k < seen:
                return day
        raise IndexError(k)

    return nth(total // 2) if total % 2 else (nth(total // 2 - 1) + nth(total // 2)) / 2


def _mean(days: Counter[int]) -> float:
    """`statistics.fmean` of the days the counts stand for (their sum is exact, so the same float)."""
    return sum(day * n for day, n in days.items()) / sum(days.values())


def timeliness_figures(session: Session, agency_id: int | None, year: int, cal: WorkingCalendar) -> dict:
    """Finished cases, on-time replies, on-time rate, median and mean working days to reply (条例33)."""
    days, on_time = _reply_days(session, agency_id, year, cal)
    finished = sum(days.values())
    return {"finished": finished, "on_time": on_time, "rate": on_time / finished if finished else None,
            "median_days": _median(days) if finished else None, "mean_days": _mean(days) if finished else None}


def reply_timeliness(session: Session, agency_id: int | None, year: int, cal: WorkingCalendar) -> StatTable:
    """Working days from receipt to reply of cases finished in the year, bucketed, with the on-time rate."""
    days, on_time = _reply_days(session, agency_id, year, cal)
    finished = sum(days.values())
    rows = []
    for low, high in DAY_BUCKETS:
        label = f"{low}–{high}个工作日" if high is not None else f"{low}个工作日以上"
        rows.append((label, sum(n for d, n in days.items() if d >= low and (high is None or d <= high))))
    if finished:
        notes = [f"办结 {finished} 件，按期答复 {on_time} 件，按期率 {on_time / finished:.1%}",
                 f"答复用时：中位数 {_median(days):g} 个工作日，平均 {_mean(days):.1f} 个工作日"]
    else:
        notes = ["本年度没有办结的申请"]
    return StatTable("timeliness", f"{year}年答复用时（工作日）", ("用时", "件数"), rows, notes)


def _utc_bounds(year: int) -> tuple[datetime, datetime]:
    start = datetime(year, 1, 1, tzinfo=SHANGHAI).astimezone(UTC)
    end = datetime(year + 1, 1, 1, tzinfo=SHANGHAI).astimezone(UTC)
    return start, end


def exemptions_by_department(session: Session, agency_id: int | None, year: int) -> StatTable:
    """Exemption grounds used in the year, by department (条例13–16: watch over-use of exceptions)."""
    start, end = _utc_bounds(year)
    department = func.coalesce(ExemptionRecord.department_id, Case.department_id)
    query = _agency_filter(
        select(department, ExemptionRecord.ground, func.count())
        .join(Case, Case.id == ExemptionRecord.case_id)
        .where(ExemptionRecord.current.is_(True), ExemptionRecord.created_at >= start, ExemptionRecord.created_at < end)
        .group_by(department, ExemptionRecord.ground), agency_id)
    counts: dict[int | None, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    grounds: set[str] = set()
    for department_id, ground, n in session.execute(query):
        counts[department_id][ground] += n
        grounds.add(ground)
    ordered = [code for code in OUTCOMES if code in grounds]
    names = {department_id: name for department_id, name in session.execute(
        select(Department.id, Department.name).where(Department.id.in_([d for d in counts if d is not None])))}
    rows = [(names.get(d, "未分配科室"), *(counts[d][g] for g in ordered))
            for d in sorted(counts, key=lambda d: names.get(d, "~"))]
    return StatTable("exemptions", f"{year}年不予公开理由（按科室）",
                     ("科室", *(OUTCOMES[g].label for g in ordered)), rows)


def open_cases_by_due_status(session: Session, agency_id: int | None, today: date, cal: WorkingCalendar) -> StatTable:
    """Open cases as of today: overdue, due soon (≤ 3 working days), on time, paused (DESIGN §3)."""
    # due_status() says "due soon" when (today, due] holds ≤ 3 working days, i.e. due before the 4th one.
    soon_limit = cal.add_working_days(today, 4) - timedelta(days=1)
    running = Case.clock_paused.is_(False)
    filters = {
        "overdue": and_(running, Case.due_on < today),
        "due_soon": and_(running, Case.due_on >= today, Case.due_on <= soon_limit),
        "on_time": and_(running, Case.due_on > soon_limit),
        "paused": Case.clock_paused.is_(True),
        "unknown": and_(running, Case.due_on.is_(None)),
    }
    # One pass over the open cases (the partial index over unfinished stages), not one COUNT per status.
    query = _agency_filter(select(*(func.count().filter(f) for f in filters.values())).select_from(Case).where(
        Case.received_on.is_not(None), Case.finished_on.is_(None), Case.stage.in_(OPEN_STAGES)), agency_id)
    counts = dict(zip(filters, session.execute(query).one(), strict=True))
    rows = [(DUE_STATUS_LABELS[k], counts[k]) for k in DUE_STATUS_LABELS]
    return StatTable("due_status", f"在办申请的期限状态（截至{today.isoformat()}）", ("期限状态", "件数"), rows)


def requests_by_topic(session: Session, agency_id: int | None, year: int) -> StatTable:
    """Requested items of the year's applications by topic (the agency's topic list)."""
    topic = func.coalesce(func.nullif(CaseItem.topic, ""), "未分类")
    query = _agency_filter(select(topic, func.count()).join(Case, Case.id == CaseItem.case_id)
                           .where(_year_filter(Case.received_on, year)).group_by(topic)
                           .order_by(func.count().desc()), agency_id)
    rows = [(name, n) for name, n in session.execute(query)]
    return StatTable("topics", f"{year}年申请事项（按主题）", ("主题", "事项数"), rows)


_BOILERPLATE = ("申请公开", "请求公开", "要求公开", "申请", "公开", "提供", "关于", "相关", "有关", "的", "及", "和")


def _content_bigrams(text: str) -> frozenset[str]:
    for phrase in _BOILERPLATE:
        text = text.replace(phrase, " ")
    return bigrams(text)


@dataclass(frozen=True)
class RepeatedRequest:
    text: str
    applicants: int
    cases: list[tuple[int, str]]


def repeated_requests(session: Session, agency_id: int | None, year: int, *, threshold: float = 0.6,
                      limit_items: int = 5000) -> list[RepeatedRequest]:
    """Similar request texts from ≥ 2 different applicants: candidates for proactive disclosure (条例44)."""
    latest = _agency_filter(
        select(CaseItem.description, CaseItem.id.label("item_id"), Case.id, Case.reg_no, Case.applicant_id,
               Case.received_on)
        .join(Case, Case.id == CaseItem.case_id)
        .where(_year_filter(Case.received_on, year))
        .order_by(Case.received_on.desc(), CaseItem.id.desc()).limit(limit_items), agency_id).subquery()
    # Each case keeps its own applicant snapshot; the same person is recognised by the ID number. Only the
    # applicants of the listed items are read (joined by primary key after the limit), never every applicant.
    rows = session.execute(
        select(latest.c.description, latest.c.id, latest.c.reg_no, latest.c.applicant_id, Applicant.kind,
               Applicant.id_number_normalized)
        .join(Applicant, Applicant.id == latest.c.applicant_id)
        .order_by(latest.c.received_on.desc(), latest.c.item_id.desc())).all()
    grams = {text: _content_bigrams(text) for text in {row[0] for row in rows}}  # the same words, asked again
    items = [(text, case_id, reg_no, (kind, id_number) if id_number else applicant_id, grams[text])
             for text, case_id, reg_no, applicant_id, kind, id_number in rows]
    items = [item for item in items if len(item[4]) >= 2]
    group_of = _similar_groups([item[4] for item in items], threshold)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(items)):
        groups[group_of(i)].append(i)
    found = []
    for members in groups.values():
        applicants = {items[i][3] for i in members}
        if len(applicants) < 2:
            continue
        cases = sorted({(items[i][1], items[i][2]) for i in members})
        found.append(RepeatedRequest(items[members[-1]][0], len(applicants), cases))
    found.sort(key=lambda r: (-r.applicants, -len(r.cases), r.text))
    return found


def _similar_groups(texts: list[frozenset[str]], threshold: float):
    """Which texts are similar, transitively: a function giving each text's group. Two texts are compared when they
    share a bigram found in 2 to max(10, 5 %) of the texts (common ones would pair everything with everything), and
    are similar when their Dice coefficient reaches `threshold`.

    Texts are compared once per distinct bigram set, not once per text: people ask for the same things in the same
    words, so a year's thousands of items hold a few hundred distinct sets. Equal sets are similar (Dice 1) whenever
    they share a bigram that qualifies, which is when their set holds one; the groups are those of comparing every
    pair of texts."""
    ceiling = max(10, len(texts) // 20)
    frequency: dict[str, int] = defaultdict(int)
    members: dict[frozenset[str], list[int]] = defaultdict(list)
    for i, grams in enumerate(texts):
        members[grams].append(i)
        for gram in grams:
            frequency[gram] += 1
    parent = list(range(len(texts)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def join(a: int, b: int) -> None:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[rb] = ra

    distinct = list(members)
    postings: dict[str, list[int]] = defaultdict(list)
    usable_of: list[list[str]] = []
    for d, grams in enumerate(distinct):
        usable = [gram for gram in grams if 2 <= frequency[gram] <= ceiling]
        usable_of.append(usable)
        if usable and threshold <= 1:
            for i in members[grams][1:]:
                join(members[grams][0], i)
        for gram in usable:
            postings[gram].append(d)
    # Each pair of distinct sets sharing a usable bigram is compared once: the later sets found through the earlier
    # one's postings (set by set, not posting by posting, so a pair sharing many bigrams is not met many times).
    for a, ga in enumerate(distinct):
        first_a = members[ga][0]
        later = {b for gram in usable_of[a] for b in postings[gram] if b > a}
        for b in later:
            gb = distinct[b]
            first_b = members[gb][0]
            if root(first_a) != root(first_b) and 2 * len(ga & gb) / (len(ga) + len(gb)) >= threshold:
                join(first_a, first_b)
    return root


def repeated_requests_table(session: Session, agency_id: int | None, year: int) -> StatTable:
    found = repeated_requests(session, agency_id, year)
    rows = [(r.text, r.applicants, len(r.cases), "、".join(reg_no for _, reg_no in r.cases[:10])) for r in found]
    return StatTable("repeated", f"{year}年多个申请人申请的相似信息（可考虑主动公开，条例第四十四条）",
                     ("申请内容", "不同申请人数", "申请件数", "登记编号"), rows)
