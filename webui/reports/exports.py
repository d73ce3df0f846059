"""The annual report's tables in the official layout (国办公开办函〔2021〕30号): xlsx, HTML and PDF.

Used by `gongkai report annual` and by the web pages; plain functions of an `AnnualReport`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from engine.rules.outcomes import REPORT_COLUMNS, REPORT_ROWS
from engine.rules.vocabulary import CHALLENGE_KINDS
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
)

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
DRAFT_MARK = "草稿"


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
        "table3_title": TABLE3_TITLE,
        "table4_title": TABLE4_TITLE,
        "t4_kinds": TABLE4_KIND_LABELS,
        "t4_kind_ids": CHALLENGE_KINDS,
        "t4_suit": TABLE4_GROUP_LABELS["SUIT"],
        "t4_columns": TABLE4_COLUMN_LABELS,
        "t4_column_ids": TABLE4_COLUMNS,
    }


def heading(report: AnnualReport, agency_name: str | None) -> str:
    who = agency_name or "全部机关（合计）"
    return f"{who}{report.year}年政府信息公开工作年度报告"


# -- xlsx ----------------------------------------------------------------------------------------------


def write_xlsx(report: AnnualReport, out: str | Path, *, agency_name: str | None = None, draft: bool = False) -> None:
    """Tables 3 and 4 as an Excel workbook with the official merged headers and verbatim labels."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    thin = Side(style="thin")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    centre = Alignment(horizontal="center", vertical="center", wrap_text=True)
    left = Alignment(horizontal="left", vertical="center", wrap_text=True)
    failing_fill = PatternFill("solid", fgColor="F8C9C9")
    title_font = Font(bold=True, size=14)

    workbook = Workbook()
    sheet3 = workbook.active
    sheet3.title = "表三"
    suffix = f"（{DRAFT_MARK}）" if draft else ""

    def put(sheet, ref_row: int, col: int, value, *, end_row: int | None = None, end_col: int | None = None,
            align=centre):
        cell = sheet.cell(row=ref_row, column=col, value=value)
        cell.alignment = align
        if end_row is not None or end_col is not None:
            sheet.merge_cells(start_row=ref_row, start_column=col, end_row=end_row or ref_row,
                              end_column=end_col or col)
        for r in range(ref_row, (end_row or ref_row) + 1):
            for c in range(col, (end_col or col) + 1):
                sheet.cell(row=r, column=c).border = border
        return cell

    # Title, then the header block: rows 2–4, label columns A–C, data columns D–J.
    title = sheet3.cell(row=1, column=1, value=f"{TABLE3_TITLE}{suffix}")
    title.font = title_font
    sheet3.merge_cells(start_row=1, start_column=1, end_row=1, end_column=10)
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
    title4 = sheet4.cell(row=1, column=1, value=f"{TABLE4_TITLE}{suffix}")
    title4.font = title_font
    sheet4.merge_cells(start_row=1, start_column=1, end_row=1, end_column=15)
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
    workbook.properties.title = f"{report.year}年政府信息公开工作年度报告{suffix}"
    workbook.save(out)


# -- HTML / PDF ----------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _jinja():
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    return Environment(loader=FileSystemLoader(str(TEMPLATES_DIR)), autoescape=select_autoescape(["html"]))


def render_html(report: AnnualReport, *, agency_name: str | None = None, draft: bool = False) -> str:
    """A standalone HTML page of tables 3 and 4 (the source of the PDF)."""
    return _jinja().get_template("reports/annual_pdf.html").render(
        report=report, L=labels(), failing=report.failing_cells, draft=draft,
        heading=heading(report, agency_name) + (f"（{DRAFT_MARK}）" if draft else ""))


def _refuse_every_url(url: str, *args, **kwargs):
    """The report page needs no external resource; refuse all (no file://, no http)."""
    raise ValueError(f"不允许加载外部资源：{url}")


def render_pdf(report: AnnualReport, *, agency_name: str | None = None, draft: bool = False) -> bytes:
    from weasyprint import HTML

    html = render_html(report, agency_name=agency_name, draft=draft)
    return HTML(string=html, url_fetcher=_refuse_every_url).write_pdf()
