"""The annual report in the official form (国办公开办函〔2021〕30号): the whole report as a PDF/A, its tables as xlsx.

Used by `gongkai report annual` and by the web pages; plain functions of a `FullReport`. The PDF goes through the
letters' renderer (GB/T 9704 page, 仿宋 body, 黑体 headings, page numbers, fonts embedded, PDF/A-3b).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from engine.rules.outcomes import REPORT_COLUMNS, REPORT_ROWS
from engine.rules.vocabulary import CHALLENGE_KINDS
from engine.services.report_text import (
    AMOUNT_COLUMN,
    PART_TITLES,
    PROACTIVE_CONTENT_LABEL,
    PROACTIVE_GROUPS,
    amount_value,
    cell_field,
    paragraphs,
)
from engine.services.reports import (
    APPLICANT_COLUMNS,
    APPLICANTS_HEADER,
    COLUMN_LABELS,
    ORGANISATIONS_HEADER,
    RECONCILIATION_NOTE,
    RESULTS_GROUP_LABEL,
    ROW_GROUPS,
    ROW_LABELS,
    TABLE3_TITLE,
    TABLE4_COLUMN_LABELS,
    TABLE4_COLUMNS,
    TABLE4_GROUP_LABELS,
    TABLE4_KIND_LABELS,
    TABLE4_TITLE,
    AnnualReport,
    FullReport,
)
from webui.spreadsheet_cells import set_text

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
DRAFT_MARK = "草稿"
DRAFT_HEADER = "草稿（未发布）"
# A line of its own like 「（一）主动公开」 is a second-level heading (GB/T 9704 §7.3.3: 楷体); longer lines are text.
_SUBHEADING = re.compile(r"（[一二三四五六七八九十]{1,3}）[^。；！？]{1,28}")


@dataclass(frozen=True)
class Line:
    """One row of table 3 with the merged label cells that start on it."""

    row: str
    label: str
    label_span: int                       # label columns it spans (of 3)
    group_cell: tuple[str, int] | None    # ("三、本年度办理结果", rowspan) on the first result row
    subgroup_cell: tuple[str, int] | None  # ("（三）不予公开", rowspan) on the first row of a group


def table3_lines() -> list[Line]:
    """The official row layout: 一/二/四 span all label columns; 三 groups the results, (三)–(六) sub-groups."""
    result_rows = REPORT_ROWS[2:-1]  # R1 … R_TOTAL
    first_of_group = {rows[0]: (label, len(rows)) for label, rows in ROW_GROUPS}
    grouped = {row for _, rows in ROW_GROUPS for row in rows}
    lines = []
    for row in REPORT_ROWS:
        if row in ("NEW", "CARRY_IN", "CARRY_OUT"):
            lines.append(Line(row, ROW_LABELS[row], 3, None, None))
            continue
        group = (RESULTS_GROUP_LABEL, len(result_rows)) if row == result_rows[0] else None
        lines.append(Line(row, ROW_LABELS[row], 1 if row in grouped else 2, group, first_of_group.get(row)))
    return lines


@lru_cache(maxsize=1)
def labels() -> dict:
    """Everything the templates need to draw the official tables."""
    return {
        "note": RECONCILIATION_NOTE,
        "applicants": APPLICANTS_HEADER,
        "organisations": ORGANISATIONS_HEADER,
        "columns": COLUMN_LABELS,
        "column_ids": REPORT_COLUMNS,
        "org_columns": APPLICANT_COLUMNS[1:],
        "lines": table3_lines(),
        "parts": PART_TITLES,
        "table3_title": TABLE3_TITLE,
        "table4_title": TABLE4_TITLE,
        "t2_groups": PROACTIVE_GROUPS,
        "t2_content": PROACTIVE_CONTENT_LABEL,
        "t2_amount": AMOUNT_COLUMN,
        "t4_kinds": TABLE4_KIND_LABELS,
        "t4_kind_ids": CHALLENGE_KINDS,
        "t4_suit": TABLE4_GROUP_LABELS["SUIT"],
        "t4_columns": TABLE4_COLUMN_LABELS,
        "t4_column_ids": TABLE4_COLUMNS,
    }


def heading(report: AnnualReport, agency_name: str | None) -> str:
    who = agency_name or "全部机关（合计）"
    return f"{who}{report.year}年政府信息公开工作年度报告"


def figure_text(column: str, value) -> str:
    """A cell of table 二 as printed: counts as they are, the amount in 万元 without trailing zeros, blank as blank."""
    if value is None:
        return ""
    if column == AMOUNT_COLUMN:
        amount = amount_value(value)
        return f"{amount:f}" if amount != amount.to_integral() else f"{amount.to_integral():f}"
    return str(value)


def is_subheading(line: str) -> bool:
    return bool(_SUBHEADING.fullmatch(line))


# Shared by the PDF's environment and the web pages' (registered by the blueprint).
TEMPLATE_FILTERS = {"report_paragraphs": paragraphs, "report_figure": lambda value, column: figure_text(column, value)}
TEMPLATE_TESTS = {"report_subheading": is_subheading}


def tables_draft(full: FullReport) -> bool:
    """The tables alone are a draft while table 二 has a blank cell or table 三 does not reconcile."""
    return bool(full.content.blank_cells()) or not full.tables.reconciles


# -- xlsx ----------------------------------------------------------------------------------------------


def write_xlsx(full: FullReport, out: str | Path, *, draft: bool = False) -> None:
    """Tables 二, 三 and 四 as an Excel workbook, one sheet each, with the official merged headers, verbatim labels
    and the figures as numbers."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    report = full.tables
    thin = Side(style="thin")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    centre = Alignment(horizontal="center", vertical="center", wrap_text=True)
    left = Alignment(horizontal="left", vertical="center", wrap_text=True)
    failing_fill = PatternFill("solid", fgColor="F8C9C9")
    title_font = Font(bold=True, size=14)
    suffix = f"（{DRAFT_MARK}）" if draft else ""

    def put(sheet, ref_row: int, col: int, value, *, end_row: int | None = None, end_col: int | None = None,
            align=centre):
        cell = sheet.cell(row=ref_row, column=col)
        set_text(cell, value)
        cell.alignment = align
        if end_row is not None or end_col is not None:
            sheet.merge_cells(start_row=ref_row, start_column=col, end_row=end_row or ref_row,
                              end_column=end_col or col)
        for r in range(ref_row, (end_row or ref_row) + 1):
            for c in range(col, (end_col or col) + 1):
                sheet.cell(row=r, column=c).border = border
        return cell

    def title(sheet, text: str, width: int) -> None:
        cell = sheet.cell(row=1, column=1, value=f"{text}{suffix}")
        cell.font = title_font
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)

    workbook = Workbook()

    # 表二: four columns; each block of 条例第二十条 a caption row, a header row and its rows.
    sheet2 = workbook.active
    sheet2.title = "表二"
    title(sheet2, PART_TITLES["PROACTIVE"], 4)
    r = 2
    for group in PROACTIVE_GROUPS:
        put(sheet2, r, 1, group.caption, end_col=4)
        put(sheet2, r + 1, 1, PROACTIVE_CONTENT_LABEL)
        wide = len(group.columns) == 1
        for offset, (_, label) in enumerate(group.columns):
            put(sheet2, r + 1, 2 + offset, label, end_col=4 if wide else None)
        r += 2
        for row_id, row_label in group.rows:
            put(sheet2, r, 1, row_label, align=left)
            for offset, (column, _) in enumerate(group.columns):
                stored = (full.content.proactive.get(row_id) or {}).get(column)
                value = amount_value(stored) if column == AMOUNT_COLUMN else stored
                cell = put(sheet2, r, 2 + offset, value, end_col=4 if wide else None)
                if column == AMOUNT_COLUMN:
                    cell.number_format = "0.0000"
            r += 1
    sheet2.column_dimensions["A"].width = 22
    for letter in "BCD":
        sheet2.column_dimensions[letter].width = 16
    if draft and full.content.blank_cells():
        sheet2.cell(row=r + 1, column=1, value=f"{DRAFT_MARK}：表二尚有 {len(full.content.blank_cells())} 栏未填")

    sheet3 = workbook.create_sheet("表三")
    # Title, then the header block: rows 2–4, label columns A–C, data columns D–J.
    title(sheet3, TABLE3_TITLE, 10)
    put(sheet3, 2, 1, RECONCILIATION_NOTE, end_row=4, end_col=3)
    put(sheet3, 2, 4, APPLICANTS_HEADER, end_col=10)
    put(sheet3, 3, 4, COLUMN_LABELS["NATURAL"], end_row=4)
    put(sheet3, 3, 5, ORGANISATIONS_HEADER, end_col=9)
    for offset, column in enumerate(APPLICANT_COLUMNS[1:]):
        put(sheet3, 4, 5 + offset, COLUMN_LABELS[column])
    put(sheet3, 3, 10, COLUMN_LABELS["TOTAL"], end_row=4)

    failing = report.failing_cells
    first_data_row = 5
    for index, line in enumerate(table3_lines()):
        r = first_data_row + index
        if line.group_cell:
            put(sheet3, r, 1, line.group_cell[0], end_row=r + line.group_cell[1] - 1)
        if line.subgroup_cell:
            put(sheet3, r, 2, line.subgroup_cell[0], end_row=r + line.subgroup_cell[1] - 1)
        start_col = 4 - line.label_span
        put(sheet3, r, start_col, line.label, end_col=3 if line.label_span > 1 else None, align=left)
        for offset, column in enumerate(REPORT_COLUMNS):
            cell = put(sheet3, r, 4 + offset, report.table3[line.row][column])
            if (line.row, column) in failing:
                cell.fill = failing_fill
    sheet3.column_dimensions["A"].width = 10
    sheet3.column_dimensions["B"].width = 12
    sheet3.column_dimensions["C"].width = 44
    for letter in "DEFGHIJ":
        sheet3.column_dimensions[letter].width = 11
    if draft:
        note_row = first_data_row + len(REPORT_ROWS) + 1
        sheet3.cell(row=note_row, column=1, value=f"{DRAFT_MARK}：勾稽关系"
                    + ("成立" if report.reconciles else "不成立：" + "；".join(str(f) for f in report.failures)))

    sheet4 = workbook.create_sheet("表四")
    title(sheet4, TABLE4_TITLE, 15)
    put(sheet4, 2, 1, TABLE4_KIND_LABELS["REVIEW"], end_row=3, end_col=5)
    put(sheet4, 2, 6, TABLE4_GROUP_LABELS["SUIT"], end_col=15)
    put(sheet4, 3, 6, TABLE4_KIND_LABELS["SUIT_DIRECT"], end_col=10)
    put(sheet4, 3, 11, TABLE4_KIND_LABELS["SUIT_AFTER_REVIEW"], end_col=15)
    for k, kind in enumerate(CHALLENGE_KINDS):
        for c, column in enumerate(TABLE4_COLUMNS):
            put(sheet4, 4, 1 + 5 * k + c, TABLE4_COLUMN_LABELS[column])
            put(sheet4, 5, 1 + 5 * k + c, report.table4[kind][column])
    for col in range(1, 16):
        sheet4.column_dimensions[sheet4.cell(row=4, column=col).column_letter].width = 10
    workbook.properties.title = f"{full.title}{suffix}"
    workbook.properties.creator = full.agency_name
    workbook.save(out)


# -- HTML / PDF ----------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _jinja():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    environment = Environment(loader=FileSystemLoader(str(TEMPLATES_DIR)), autoescape=select_autoescape(["html"]),
                              undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    environment.filters.update(TEMPLATE_FILTERS)
    environment.tests.update(TEMPLATE_TESTS)
    return environment


def render_html(full: FullReport, *, draft: bool = False) -> str:
    """The whole report as one HTML document (the source of the PDF): title, parts 一 to 六 in order."""
    return _jinja().get_template("reports/annual_pdf.html").render(
        full=full, report=full.tables, content=full.content, L=labels(), failing=full.tables.failing_cells,
        draft=draft, draft_header=DRAFT_HEADER, reasons=full.draft_reasons() if draft else [],
        cell_field=cell_field)


def render_pdf(full: FullReport, *, draft: bool = False, assets=None) -> bytes:
    """The whole report as a PDF/A-3b ready to publish (or marked 草稿 on every page), fonts embedded."""
    from letters.render import render_pdf as render_letter_pdf

    pdf, _pages = render_letter_pdf(render_html(full, draft=draft), assets=assets)
    return pdf
