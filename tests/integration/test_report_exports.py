"""The annual report in the official layout: the xlsx opened back, and the PDF's extracted text."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from engine.services.reports import RECONCILIATION_NOTE, ROW_LABELS, annual_report
from tests.integration.test_report_counting import add_case
from webui.reports.exports import render_pdf, write_xlsx


@pytest.fixture
def report(session, agency):
    add_case(session, agency, kind="BUSINESS", received_on=date(2025, 3, 3), finished_on=date(2025, 3, 20),
             outcome="WITHHELD_THIRD_PARTY")
    add_case(session, agency, received_on=date(2025, 12, 29))
    return annual_report(session, 2025, agency)


def test_the_xlsx_has_the_official_merged_headers_and_verbatim_labels(report, tmp_path):
    out = tmp_path / "report.xlsx"
    write_xlsx(report, out, agency_name="测试市人民政府办公室")

    book = load_workbook(out)
    sheet = book["表三"]
    merged = {str(r) for r in sheet.merged_cells.ranges}
    assert {"A2:C4", "D2:J2", "D3:D4", "E3:I3", "J3:J4"} <= merged
    assert sheet["A2"].value == RECONCILIATION_NOTE == "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
    assert [sheet.cell(row=4, column=c).value for c in range(5, 10)] == ["商业企业", "科研机构", "社会公益组织",
                                                                          "法律服务机构", "其他"]
    assert (sheet["D3"].value, sheet["E3"].value, sheet["J3"].value, sheet["D2"].value) == (
        "自然人", "法人或其他组织", "总计", "申请人情况")
    # Rows: 一 and 二 span A:C; 三 is a vertical group A7:A28; (三) groups B9:B16; the items sit in C.
    assert sheet["A5"].value == ROW_LABELS["NEW"] and "A5:C5" in merged
    assert sheet["A7"].value == "三、本年度办理结果" and "A7:A28" in merged
    assert sheet["B7"].value == "（一）予以公开" and "B7:C7" in merged
    assert sheet["B9"].value == "（三）不予公开" and "B9:B16" in merged
    assert sheet["C12"].value == "4.保护第三方合法权益"
    assert sheet["B17"].value == "（四）无法提供" and "B17:B19" in merged
    assert sheet["B20"].value == "（五）不予处理" and "B20:B24" in merged
    assert sheet["B25"].value == "（六）其他处理" and "B25:B27" in merged
    assert sheet["B28"].value == "（七）总计"
    assert sheet["A29"].value == "四、结转下年度继续办理"
    assert (sheet["E12"].value, sheet["J5"].value, sheet["D29"].value) == (1, 2, 1)

    table4 = book["表四"]
    merged4 = {str(r) for r in table4.merged_cells.ranges}
    assert {"A2:E3", "F2:O2", "F3:J3", "K3:O3"} <= merged4
    assert (table4["A2"].value, table4["F2"].value, table4["F3"].value, table4["K3"].value) == (
        "行政复议", "行政诉讼", "未经复议直接起诉", "复议后起诉")
    assert [table4.cell(row=4, column=c).value for c in range(1, 6)] == ["结果维持", "结果纠正", "其他结果",
                                                                          "尚未审结", "总计"]


def test_the_pdf_carries_the_tables_text(report):
    pdf = render_pdf(report, agency_name="测试市人民政府办公室")

    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).replace("\n", "")
    assert "测试市人民政府办公室2025年政府信息公开工作年度报告" in text
    assert "本年度办理结果" in text and "结转下年度继续办理" in text and "复议后起诉" in text
    assert "草稿" not in text
    assert "草稿" in "".join(p.extract_text() for p in PdfReader(io.BytesIO(render_pdf(report, draft=True))).pages)
