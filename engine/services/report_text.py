"""The parts of the annual report the system cannot compute (国办公开办函〔2021〕30号; 条例第四十九、五十条).

一、总体情况, 五、存在的主要问题及改进情况 and 六、其他需要报告的事项 are written by the head of the disclosure
office; table 二、主动公开政府信息情况 (条例第二十条) holds figures the office collects from the agency's other
systems. Both are kept per agency and year, edited through the two use cases below (role-checked, audited), and
frozen once the year's report is published. Tables 三 and 四 are computed (`engine.services.reports`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import InvalidInput, PeriodLocked, PermissionDenied, StaleCase
from engine.persistence.audit import record_event, utcnow
from engine.persistence.models import Agency, AnnualReportContent, PublishedReport, User
from engine.rules.text_input import has_control_characters
from engine.rules.vocabulary import ROLE_LABELS

# The six parts of the 2021 format, in order (legal reference §9).
PART_TITLES: dict[str, str] = {
    "OVERVIEW": "一、总体情况",
    "PROACTIVE": "二、主动公开政府信息情况",
    "APPLICATIONS": "三、收到和处理政府信息公开申请情况",
    "CHALLENGES": "四、政府信息公开行政复议、行政诉讼情况",
    "PROBLEMS": "五、存在的主要问题及改进情况",
    "OTHER": "六、其他需要报告的事项",
}
# Text parts and the model column each is stored in.
TEXT_PARTS: dict[str, str] = {"OVERVIEW": "overview", "PROBLEMS": "problems", "OTHER": "other_matters"}
# 条例第四十九条: the disclosure office compiles the report; its head writes the text.
TEXT_EDITOR_ROLES = ("office_head",)
# The figures of table 二 are gathered by the office: its head or its clerks enter them.
FIGURE_EDITOR_ROLES = ("office_head", "clerk")
MAX_PART_CHARS = 20_000


@dataclass(frozen=True)
class ProactiveGroup:
    """One block of table 二: the item of 条例第二十条 it reports, its columns and its rows (labels verbatim)."""

    caption: str
    columns: tuple[tuple[str, str], ...]
    rows: tuple[tuple[str, str], ...]


PROACTIVE_CONTENT_LABEL = "信息内容"
AMOUNT_COLUMN = "FEE_AMOUNT"
# Labels from the legal reference §9.1 (the 2021 format as reprinted by 宁国市商务局 and open filing tools).
PROACTIVE_GROUPS: tuple[ProactiveGroup, ...] = (
    ProactiveGroup("第二十条第（一）项",
                   (("ISSUED", "本年制发件数"), ("REPEALED", "本年废止件数"), ("IN_FORCE", "现行有效件数")),
                   (("RULES", "规章"), ("NORMATIVE_DOCUMENTS", "行政规范性文件"))),
    ProactiveGroup("第二十条第（五）项", (("DECISIONS", "本年处理决定数量"),), (("LICENSING", "行政许可"),)),
    ProactiveGroup("第二十条第（六）项", (("DECISIONS", "本年处理决定数量"),),
                   (("PUNISHMENT", "行政处罚"), ("COERCION", "行政强制"))),
    ProactiveGroup("第二十条第（八）项", ((AMOUNT_COLUMN, "本年收费金额（单位：万元）"),),
                   (("ADMIN_FEES", "行政事业性收费"),)),
)
PROACTIVE_CELLS: tuple[tuple[str, str], ...] = tuple(
    (row, column) for group in PROACTIVE_GROUPS for row, _ in group.rows for column, _ in group.columns)
ROW_LABELS_2: dict[str, str] = {row: label for group in PROACTIVE_GROUPS for row, label in group.rows}
_COLUMN_LABELS_2: dict[str, str] = {column: label for group in PROACTIVE_GROUPS for column, label in group.columns}
MAX_COUNT = 10**9
MAX_AMOUNT_WAN_YUAN = Decimal(10**9)
AMOUNT_PLACES = 4  # 万元 to the yuan


def cell_label(row: str, column: str) -> str:
    """「规章 · 本年制发件数」: how a message names one cell of table 二."""
    return f"{ROW_LABELS_2[row]} · {_COLUMN_LABELS_2[column]}"


def cell_field(row: str, column: str) -> str:
    """The form field (and CLI/JSON key) of one cell of table 二."""
    return f"{row}.{column}"


def parse_proactive_figures(raw: Mapping[str, object]) -> dict[str, dict[str, int | str | None]]:
    """Table 二 from form or JSON values keyed `ROW.COLUMN`: counts are whole numbers ≥ 0, the fee amount a
    number of 万元 with at most four decimals; a blank cell stays blank (not yet entered). Errors name the cell."""
    unknown = sorted(set(raw) - {cell_field(r, c) for r, c in PROACTIVE_CELLS})
    if unknown:
        raise InvalidInput(f"表二没有这一栏：{unknown[0]}")
    figures: dict[str, dict[str, int | str | None]] = {}
    for row, column in PROACTIVE_CELLS:
        value = raw.get(cell_field(row, column))
        text = "" if value is None else unicodedata.normalize("NFKC", str(value)).strip().replace(",", "")
        figures.setdefault(row, {})[column] = (
            None if text == "" else _amount(text, row, column) if column == AMOUNT_COLUMN else _count(text, row, column))
    return figures


def _count(text: str, row: str, column: str) -> int:
    if not re.fullmatch(r"\d+", text) or int(text) > MAX_COUNT:
        raise InvalidInput(f"表二「{cell_label(row, column)}」应为不小于 0 的整数（填写的是「{text[:20]}」）")
    return int(text)


def _amount(text: str, row: str, column: str) -> str:
    try:
        amount = Decimal(text)
    except InvalidOperation:
        amount = None
    if (amount is None or not amount.is_finite() or amount < 0 or amount > MAX_AMOUNT_WAN_YUAN
            or -amount.as_tuple().exponent > AMOUNT_PLACES or not re.fullmatch(r"\d+(\.\d+)?", text)):
        raise InvalidInput(f"表二「{cell_label(row, column)}」应为以万元为单位的金额，不小于 0，"
                           f"最多 {AMOUNT_PLACES} 位小数（填写的是「{text[:20]}」）")
    return str(amount)  # kept as text: JSON floats would lose the exact amount


def amount_value(stored: str | None) -> Decimal | None:
    return None if stored is None else Decimal(stored)


def clean_text(text: str | None, title: str) -> str:
    """A part's text with unified line ends and no trailing blanks; control characters and overlong text refused."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    lines = [line.rstrip() for line in text.split("\n")]
    text = "\n".join(lines).strip("\n")
    if has_control_characters(text):  # also the bidirectional overrides (engine.rules.text_input)
        raise InvalidInput(f"「{title}」含有不可见的控制字符，请删除后再保存")
    if len(text) > MAX_PART_CHARS:
        raise InvalidInput(f"「{title}」过长（{len(text)} 字，最多 {MAX_PART_CHARS} 字）")
    return text


def paragraphs(text: str) -> list[str]:
    """The paragraphs of a part (one per non-blank line), as the report prints them."""
    return [line.strip() for line in text.split("\n") if line.strip()]


@dataclass(frozen=True)
class ReportContent:
    """The entered parts of one agency's report for one year (empty when nothing was entered yet)."""

    year: int
    texts: dict[str, str]                                 # OVERVIEW / PROBLEMS / OTHER → text
    proactive: dict[str, dict[str, int | str | None]]     # table 二
    version: int = 0                                      # 0: nothing stored yet
    updated_at: object | None = None
    updated_by: str | None = None

    def blank_cells(self) -> list[tuple[str, str]]:
        return [(r, c) for r, c in PROACTIVE_CELLS if (self.proactive.get(r) or {}).get(c) is None]

    def missing_parts(self) -> list[str]:
        """The parts (keys of PART_TITLES) still to be entered before the report can be published."""
        missing = [key for key in ("OVERVIEW",) if not self.texts.get(key, "").strip()]
        if self.blank_cells():
            missing.append("PROACTIVE")
        missing += [key for key in ("PROBLEMS", "OTHER") if not self.texts.get(key, "").strip()]
        return missing

    def blank_description(self) -> str:
        """「表二尚有 3 栏未填：规章 · 本年制发件数、规章 · 本年废止件数 等」 (empty when every cell is entered)."""
        blank = self.blank_cells()
        if not blank:
            return ""
        first = "、".join(cell_label(r, c) for r, c in blank[:2])
        return f"表二尚有 {len(blank)} 栏未填：{first}{' 等' if len(blank) > 2 else ''}"

    def missing_description(self) -> str:
        """「一、总体情况；二、主动公开政府信息情况（表二尚有 3 栏未填：规章 · 本年制发件数 等）」"""
        described = []
        for key in self.missing_parts():
            if key == "PROACTIVE":
                described.append(f"{PART_TITLES[key]}（{self.blank_description()}）")
            else:
                described.append(PART_TITLES[key])
        return "；".join(described)


def _empty_figures() -> dict[str, dict[str, None]]:
    return {row: dict.fromkeys((c for r, c in PROACTIVE_CELLS if r == row), None) for row in ROW_LABELS_2}


def _stored(session: Session, agency_id: int, year: int) -> AnnualReportContent | None:
    return session.scalar(select(AnnualReportContent).where(AnnualReportContent.agency_id == agency_id,
                                                            AnnualReportContent.year == year))


def report_content(session: Session, agency_id: int, year: int) -> ReportContent:
    """What has been entered for the agency's report of `year` (blank parts when nothing yet)."""
    row = _stored(session, agency_id, year)
    if row is None:
        return ReportContent(year, dict.fromkeys(TEXT_PARTS, ""), _empty_figures())
    figures = _empty_figures()
    for r, values in (row.proactive or {}).items():
        if r in figures:
            figures[r].update({c: v for c, v in values.items() if c in figures[r]})
    updated_by = session.get(User, row.updated_by_id) if row.updated_by_id else None
    return ReportContent(year, {key: getattr(row, column) for key, column in TEXT_PARTS.items()}, figures,
                         row.version, row.updated_at,
                         getattr(updated_by, "display_name", None) or getattr(updated_by, "username", None))


def _editable_row(session: Session, agency: Agency, year: int, expected_version: int | None
                  ) -> AnnualReportContent:
    """The stored row to change (a new, not yet added one on first save), after the lock and version checks."""
    if not 2008 <= year <= 9999:
        raise InvalidInput(f"年度不正确：{year}")
    if session.scalar(select(PublishedReport.id).where(PublishedReport.agency_id == agency.id,
                                                       PublishedReport.year == year)) is not None:
        raise PeriodLocked(f"{agency.name}{year}年度报告已经发布，报告内容已锁定，不能再修改")
    row = _stored(session, agency.id, year)
    current = row.version if row is not None else 0
    if expected_version is not None and expected_version != current:
        raise StaleCase(f"{year}年度报告的内容已被他人修改，请刷新页面后重新填写（本次填写未保存）",
                        details={"version": current})
    if row is None:
        row = AnnualReportContent(agency_id=agency.id, year=year, overview="", problems="", other_matters="",
                                  proactive={}, updated_at=utcnow())
    return row


def _require_role(agency: Agency, actor, roles: tuple[str, ...], what: str) -> None:
    if actor is None or getattr(actor, "agency_id", None) != agency.id or not any(actor.has_role(r) for r in roles):
        names = "或".join(ROLE_LABELS[role] for role in roles)
        raise PermissionDenied(f"只有本机关的{names}可以填写年度报告的{what}")


def save_report_content(session: Session, agency: Agency, year: int, *, texts: Mapping[str, str] | None = None,
                        figures: Mapping[str, object] | None = None, actor,
                        expected_version: int | None = None) -> dict:
    """Save what the office entered for the year's report: the text of parts 一、五、六 (office head only) and/or
    the figures of table 二 (office head or clerk). Refused once the report is published (条例50) or when the
    content changed since the form was rendered; returns what changed, which the audit trail records."""
    if texts is not None:
        _require_role(agency, actor, TEXT_EDITOR_ROLES, "正文（一、五、六部分）")
        unknown = sorted(set(texts) - set(TEXT_PARTS))
        if unknown:
            raise InvalidInput(f"年度报告没有这一部分：{unknown[0]}")
        texts = {key: clean_text(texts[key], PART_TITLES[key]) for key in TEXT_PARTS if key in texts}
    if figures is not None:
        _require_role(agency, actor, FIGURE_EDITOR_ROLES, "表二数字")
        figures = parse_proactive_figures(figures)
    if texts is None and figures is None:
        raise InvalidInput("没有要保存的年度报告内容")
    row = _editable_row(session, agency, year, expected_version)
    changes: dict[str, dict] = {}
    for key, text in (texts or {}).items():
        column = TEXT_PARTS[key]
        if getattr(row, column) != text:
            changes[PART_TITLES[key]] = {"before": getattr(row, column), "after": text}
            setattr(row, column, text)
    if figures is not None:
        before = row.proactive or {}
        for r, c in PROACTIVE_CELLS:
            old, new = (before.get(r) or {}).get(c), figures[r][c]
            if old != new:
                changes[f"表二「{cell_label(r, c)}」"] = {"before": old, "after": new}
        if before != figures:
            row.proactive = figures
    if not changes:
        return changes  # nothing changed: no row written, no event
    session.add(row)
    row.updated_at = utcnow()
    row.updated_by_id = getattr(actor, "id", None)
    session.flush()
    record_event(session, agency_id=agency.id, action="edit_annual_report", actor=actor,
                 changes={"year": year, **changes}, reason=f"填写{year}年度政府信息公开工作年度报告")
    return changes
