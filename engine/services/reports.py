"""The annual report's tables 3 and 4 (条例49–50; 国办公开办函〔2021〕30号), computed by SQL aggregation.

Counting (DESIGN §6): NEW = received in the year; CARRY_IN = received before it and not finished before
it; result rows = finished in the year, by the case's report outcome; CARRY_OUT = received by the year's
end and not finished by then. Cases never confirmed (no receipt date) are not counted. Every column must
satisfy NEW + CARRY_IN = R_TOTAL + CARRY_OUT before the report can be published.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.orm import Session

from engine.errors import InvalidInput, PeriodLocked, PermissionDenied, RuleViolation
from engine.persistence.audit import record_event, utcnow
from engine.persistence.models import Agency, Case, LegalChallenge, PublishedReport
from engine.rules.outcomes import APPLICANT_TYPES, OUTCOMES, REPORT_COLUMNS, REPORT_ROWS, RESULT_ROWS
from engine.rules.vocabulary import CHALLENGE_KINDS, CHALLENGE_RESULTS
from engine.services.report_text import PART_TITLES, ReportContent, report_content

APPLICANT_COLUMNS: tuple[str, ...] = tuple(APPLICANT_TYPES)
TABLE4_COLUMNS: tuple[str, ...] = (*CHALLENGE_RESULTS, "TOTAL")
PUBLISHER_ROLES = ("admin", "office_head")

RECONCILIATION_NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
TABLE3_TITLE = PART_TITLES["APPLICATIONS"]
TABLE4_TITLE = PART_TITLES["CHALLENGES"]

# Verbatim labels of table 3 (legal reference §9.2).
ROW_LABELS: dict[str, str] = {
    "NEW": "一、本年新收政府信息公开申请数量",
    "CARRY_IN": "二、上年结转政府信息公开申请数量",
    "R1": "（一）予以公开",
    "R2": "（二）部分公开（区分处理的，只计这一情形，不计其他情形）",
    "R3_1": "1.属于国家秘密",
    "R3_2": "2.其他法律行政法规禁止公开",
    "R3_3": "3.危及“三安全一稳定”",  # the legal reference §9.2's label, with Chinese quotation marks
    "R3_4": "4.保护第三方合法权益",
    "R3_5": "5.属于三类内部事务信息",
    "R3_6": "6.属于四类过程性信息",
    "R3_7": "7.属于行政执法案卷",
    "R3_8": "8.属于行政查询事项",
    "R4_1": "1.本机关不掌握相关政府信息",
    "R4_2": "2.没有现成信息需要另行制作",
    "R4_3": "3.补正后申请内容仍不明确",
    "R5_1": "1.信访举报投诉类申请",
    "R5_2": "2.重复申请",
    "R5_3": "3.要求提供公开出版物",
    "R5_4": "4.无正当理由大量反复申请",
    "R5_5": "5.要求行政机关确认或重新出具已获取信息",
    "R6_1": "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
    "R6_2": "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
    "R6_3": "3.其他",
    "R_TOTAL": "（七）总计",
    "CARRY_OUT": "四、结转下年度继续办理",
}
RESULTS_GROUP_LABEL = "三、本年度办理结果"
# Sub-groups merged vertically in the official table; they have no subtotal row of their own.
ROW_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("（三）不予公开", ("R3_1", "R3_2", "R3_3", "R3_4", "R3_5", "R3_6", "R3_7", "R3_8")),
    ("（四）无法提供", ("R4_1", "R4_2", "R4_3")),
    ("（五）不予处理", ("R5_1", "R5_2", "R5_3", "R5_4", "R5_5")),
    ("（六）其他处理", ("R6_1", "R6_2", "R6_3")),
)
COLUMN_LABELS: dict[str, str] = {**APPLICANT_TYPES, "TOTAL": "总计"}
APPLICANTS_HEADER = "申请人情况"
ORGANISATIONS_HEADER = "法人或其他组织"
TABLE4_GROUP_LABELS = {"REVIEW": "行政复议", "SUIT": "行政诉讼"}
TABLE4_KIND_LABELS = {"REVIEW": "行政复议", "SUIT_DIRECT": "未经复议直接起诉", "SUIT_AFTER_REVIEW": "复议后起诉"}
TABLE4_COLUMN_LABELS = {"UPHELD": "结果维持", "CORRECTED": "结果纠正", "OTHER": "其他结果", "PENDING": "尚未审结",
                        "TOTAL": "总计"}


@dataclass(frozen=True)
class ReconciliationFailure:
    """A column where NEW + CARRY_IN ≠ R_TOTAL + CARRY_OUT."""

    column: str
    received: int   # NEW + CARRY_IN
    handled: int    # R_TOTAL + CARRY_OUT
    unclassified: int = 0  # finished in the year without a report outcome

    @property
    def cells(self) -> tuple[tuple[str, str], ...]:
        return tuple((row, self.column) for row in ("NEW", "CARRY_IN", "R_TOTAL", "CARRY_OUT"))

    def __str__(self) -> str:
        text = (f"「{COLUMN_LABELS[self.column]}」列不平衡：第一项加第二项 = {self.received}，"
                f"第三项加第四项 = {self.handled}")
        if self.unclassified:
            text += f"（其中 {self.unclassified} 件已办结但没有办理结果）"
        return text


@dataclass(frozen=True)
class AnnualReport:
    """Tables 3 and 4 of one year for one agency (or every agency when agency_code is None)."""

    year: int
    agency_code: str | None
    table3: dict[str, dict[str, int]]
    table4: dict[str, dict[str, int]]
    failures: tuple[ReconciliationFailure, ...] = field(default=())

    @property
    def reconciles(self) -> bool:
        return not self.failures

    @property
    def failing_cells(self) -> frozenset[tuple[str, str]]:
        return frozenset(cell for failure in self.failures for cell in failure.cells)

    def as_json(self) -> dict:
        """The contract of DESIGN §7."""
        return {"year": self.year, "agency": self.agency_code, "table3": self.table3, "table4": self.table4}


@dataclass(frozen=True)
class FullReport:
    """The whole annual report of one agency in the 2021 format: the entered parts and the computed tables."""

    agency_name: str
    tables: AnnualReport
    content: ReportContent
    published_at: object | None = None

    @property
    def year(self) -> int:
        return self.tables.year

    @property
    def title(self) -> str:
        """「XX机关YYYY年政府信息公开工作年度报告」"""
        return f"{self.agency_name}{self.year}年政府信息公开工作年度报告"

    @property
    def missing_parts(self) -> list[str]:
        return self.content.missing_parts()

    @property
    def complete(self) -> bool:
        """Every part entered and table 三 reconciled: the report can be published as it stands."""
        return not self.missing_parts and self.tables.reconciles

    def draft_reasons(self) -> list[str]:
        """Why the report is still a draft, in words for the notice on the draft (empty when complete)."""
        reasons = []
        if self.missing_parts:
            reasons.append(f"以下部分尚未填写：{self.content.missing_description()}")
        if not self.tables.reconciles:
            reasons.append(f"{TABLE3_TITLE}勾稽关系不成立：" + "；".join(str(f) for f in self.tables.failures))
        return reasons


def full_report(session: Session, year: int, agency: Agency, *, as_published: bool = True) -> FullReport:
    """The agency's whole report for `year`: parts 一、二、五、六 as entered, tables 三 and 四 as computed — or, once
    the year is published (and `as_published`), exactly what was published, even if a date was corrected since."""
    published = published_report(session, agency.id, year)
    content = report_content(session, agency.id, year)
    frozen = published.figures if published is not None else {}
    if as_published and {"table2", "texts"} <= set(frozen):
        by_title = {title: key for key, title in PART_TITLES.items()}
        content = replace(content, proactive=frozen["table2"],
                          texts={by_title[title]: text for title, text in frozen["texts"].items()})
        tables = AnnualReport(year, agency.code, frozen["table3"], frozen["table4"])
    else:
        tables = annual_report(session, year, agency)
    return FullReport(agency.name, tables, content, published.published_at if published is not None else None)


def _year_bounds(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


def _row_of_outcome():
    """SQL CASE mapping a case's report outcome to its table-3 row (NULL when unknown or missing)."""
    return case({code: o.report_row for code, o in OUTCOMES.items()}, value=Case.report_outcome, else_=None)


def _counted_in(year: int):
    """Cases that appear anywhere in the year's table: confirmed, received by its end, not finished before it."""
    start, end = _year_bounds(year)
    return and_(
        Case.received_on.is_not(None),
        Case.received_on <= end,
        or_(Case.finished_on.is_(None), Case.finished_on >= start),
    )


def _sum_when(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def compute_table3(session: Session, year: int, agency_id: int | None = None) -> tuple[dict, dict[str, int]]:
    """Table 3 by GROUP BY over applicant kind × result row; returns (table, unclassified per column).

    The cases counted in the year are those finished in it or later plus those not finished: two queries, each
    an index-only range of `ix_cases_report` (one OR would make PostgreSQL read every counted row's heap page)."""
    start, end = _year_bounds(year)
    row = _row_of_outcome().label("row")
    finished_in_year = and_(Case.finished_on.is_not(None), Case.finished_on <= end)
    columns = (
        Case.applicant_kind,
        row,
        _sum_when(Case.received_on >= start).label("new"),
        _sum_when(Case.received_on < start).label("carry_in"),
        _sum_when(finished_in_year).label("finished"),
        _sum_when(or_(Case.finished_on.is_(None), Case.finished_on > end)).label("carry_out"),
    )
    counted = and_(Case.received_on.is_not(None), Case.received_on <= end)
    if agency_id is not None:
        counted = and_(counted, Case.agency_id == agency_id)
    queries = [select(*columns).where(counted, finishing).group_by(Case.applicant_kind, row)
               for finishing in (Case.finished_on >= start, Case.finished_on.is_(None))]

    table = {r: dict.fromkeys(REPORT_COLUMNS, 0) for r in REPORT_ROWS}
    unclassified = dict.fromkeys(REPORT_COLUMNS, 0)
    rows = [result for query in queries for result in session.execute(query)]
    for kind, result_row, new, carry_in, finished, carry_out in rows:
        table["NEW"][kind] += new
        table["CARRY_IN"][kind] += carry_in
        table["CARRY_OUT"][kind] += carry_out
        if result_row is None:
            unclassified[kind] += finished
        else:
            table[result_row][kind] += finished
    for kind in APPLICANT_COLUMNS:
        table["R_TOTAL"][kind] = sum(table[r][kind] for r in RESULT_ROWS)
    for values in table.values():
        values["TOTAL"] = sum(values[c] for c in APPLICANT_COLUMNS)
    unclassified["TOTAL"] = sum(unclassified[c] for c in APPLICANT_COLUMNS)
    return table, unclassified


def compute_table4(session: Session, year: int, agency_id: int | None = None) -> dict[str, dict[str, int]]:
    """Table 4: challenges filed in the year by kind, with their result as of the year's end (条例50)."""
    start, end = _year_bounds(year)
    result_at_end = case(
        (and_(LegalChallenge.decided_on.is_not(None), LegalChallenge.decided_on <= end), LegalChallenge.result),
        else_=literal("PENDING"),
    ).label("result_at_end")
    query = (
        select(LegalChallenge.kind, result_at_end, func.count())
        .where(LegalChallenge.filed_on >= start, LegalChallenge.filed_on <= end)
        .group_by(LegalChallenge.kind, result_at_end)
    )
    if agency_id is not None:
        query = query.join(Case, Case.id == LegalChallenge.case_id).where(Case.agency_id == agency_id)
    table = {kind: dict.fromkeys(TABLE4_COLUMNS, 0) for kind in CHALLENGE_KINDS}
    for kind, result, count in session.execute(query):
        table[kind][result] += count
    for values in table.values():
        values["TOTAL"] = sum(values[c] for c in CHALLENGE_RESULTS)
    return table


def reconcile(table3: dict[str, dict[str, int]], unclassified: dict[str, int] | None = None
              ) -> tuple[ReconciliationFailure, ...]:
    """Check NEW + CARRY_IN = R_TOTAL + CARRY_OUT in every column (年报表三勾稽关系)."""
    failures = []
    for column in REPORT_COLUMNS:
        received = table3["NEW"][column] + table3["CARRY_IN"][column]
        handled = table3["R_TOTAL"][column] + table3["CARRY_OUT"][column]
        if received != handled:
            failures.append(ReconciliationFailure(column, received, handled, (unclassified or {}).get(column, 0)))
    return tuple(failures)


def annual_report(session: Session, year: int, agency: Agency | None = None) -> AnnualReport:
    """Tables 3 and 4 for one agency, or summed over every agency of the deployment when agency is None."""
    agency_id = agency.id if agency is not None else None
    table3, unclassified = compute_table3(session, year, agency_id)
    table4 = compute_table4(session, year, agency_id)
    return AnnualReport(year, agency.code if agency is not None else None, table3, table4,
                        reconcile(table3, unclassified))


def cell_cases(session: Session, year: int, row: str, column: str, agency_id: int | None = None,
               limit: int | None = None) -> list[tuple[int, str]]:
    """The cases (id, reg_no) behind one cell of table 3, for the drill-down list."""
    if row not in REPORT_ROWS:
        raise InvalidInput(f"没有这一行：{row}")
    if column not in REPORT_COLUMNS:
        raise InvalidInput(f"没有这一列：{column}")
    start, end = _year_bounds(year)
    query = select(Case.id, Case.reg_no).where(_counted_in(year)).order_by(Case.received_on, Case.id)
    if agency_id is not None:
        query = query.where(Case.agency_id == agency_id)
    if column != "TOTAL":
        query = query.where(Case.applicant_kind == column)
    finished_in_year = and_(Case.finished_on.is_not(None), Case.finished_on <= end)
    if row == "NEW":
        query = query.where(Case.received_on >= start)
    elif row == "CARRY_IN":
        query = query.where(Case.received_on < start)
    elif row == "CARRY_OUT":
        query = query.where(or_(Case.finished_on.is_(None), Case.finished_on > end))
    elif row == "R_TOTAL":
        query = query.where(finished_in_year)
    else:
        codes = [code for code, o in OUTCOMES.items() if o.report_row == row]
        query = query.where(finished_in_year, Case.report_outcome.in_(codes))
    if limit is not None:
        query = query.limit(limit)
    return [(case_id, reg_no) for case_id, reg_no in session.execute(query)]


def unclassified_cases(session: Session, year: int, agency_id: int | None = None) -> list[tuple[int, str]]:
    """Cases finished in the year without a report outcome: what breaks the reconciliation."""
    _, end = _year_bounds(year)
    query = (select(Case.id, Case.reg_no).where(_counted_in(year), Case.finished_on.is_not(None),
                                                Case.finished_on <= end, _row_of_outcome().is_(None))
             .order_by(Case.id))
    if agency_id is not None:
        query = query.where(Case.agency_id == agency_id)
    return list(session.execute(query).tuples())


def published_report(session: Session, agency_id: int, year: int) -> PublishedReport | None:
    return session.scalar(select(PublishedReport).where(PublishedReport.agency_id == agency_id,
                                                        PublishedReport.year == year))


def publish_report(session: Session, agency: Agency, year: int, actor, today: date) -> PublishedReport:
    """Freeze the year's report and lock the period (条例49–50); refused while a part is not entered or table 三
    does not reconcile. The published figures keep tables 二、三、四 and the text as published."""
    if actor is None or getattr(actor, "agency_id", None) != agency.id or not any(
            actor.has_role(role) for role in PUBLISHER_ROLES):
        raise PermissionDenied("只有本机关的系统管理员或公开工作机构负责人可以发布年度报告")
    if today <= date(year, 12, 31):
        raise RuleViolation(f"{year}年尚未结束，不能发布该年度的年度报告")
    if published_report(session, agency.id, year) is not None:
        raise PeriodLocked(f"{agency.name}{year}年度报告已经发布，不能重复发布")
    content = report_content(session, agency.id, year)
    if content.missing_parts():
        raise RuleViolation(f"{year}年度报告尚未填写完整，不能发布：{content.missing_description()}",
                            details=content.missing_parts())
    report = annual_report(session, year, agency)
    if not report.reconciles:
        details = "；".join(str(f) for f in report.failures)
        raise RuleViolation(f"{year}年度报告表三勾稽关系不成立，不能发布：{details}",
                            details=[f.column for f in report.failures])
    published = PublishedReport(agency_id=agency.id, year=year,
                                figures={"table3": report.table3, "table4": report.table4,
                                         "table2": content.proactive,
                                         "texts": {PART_TITLES[k]: v for k, v in content.texts.items()}},
                                published_by_id=actor.id, published_at=utcnow())
    session.add(published)
    session.flush()
    record_event(session, agency_id=agency.id, action="publish_report", actor=actor,
                 changes={"year": year, "new": report.table3["NEW"]["TOTAL"],
                          "carry_out": report.table3["CARRY_OUT"]["TOTAL"]},
                 reason=f"发布{year}年度政府信息公开工作年度报告，锁定{year}年度数据")
    return published
