"""The annual report in the official form: the xlsx of tables 二、三、四 opened back, and the whole report's PDF/A
read back with Poppler (text, order of the parts, fonts, conformance markers)."""

from __future__ import annotations

import re
import subprocess
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from engine.services.report_text import PART_TITLES
from engine.services.reports import RECONCILIATION_NOTE, ROW_LABELS, full_report
from tests.integration.test_report_counting import add_case
from tests.integration.test_report_text import OTHER, PROBLEMS, enter_report_content
from webui.reports.exports import render_pdf, tables_draft, write_xlsx


def pdf_text(pdf: bytes, *args: str) -> str:
    return subprocess.run(["pdftotext", *args, "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture
def cases(session, agency):
    add_case(session, agency, kind="BUSINESS", received_on=date(2025, 3, 3), finished_on=date(2025, 3, 20),
             outcome="WITHHELD_THIRD_PARTY")
    add_case(session, agency, received_on=date(2025, 12, 29))


@pytest.fixture
def full(session, agency, users, cases):
    enter_report_content(session, agency, users["office_head"])
    return full_report(session, 2025, agency)


@pytest.fixture
def empty(session, agency, cases):
    return full_report(session, 2025, agency)


def test_the_xlsx_has_tables_two_three_and_four_with_verbatim_labels_and_numbers(full, tmp_path):
    out = tmp_path / "report.xlsx"
    write_xlsx(full, out)

    book = load_workbook(out)
    assert book.sheetnames == ["表二", "表三", "表四"]
    sheet2 = book["表二"]
    merged2 = {str(r) for r in sheet2.merged_cells.ranges}
    assert sheet2["A1"].value == "二、主动公开政府信息情况"
    assert [sheet2.cell(row=3, column=c).value for c in range(1, 5)] == ["信息内容", "本年制发件数", "本年废止件数",
                                                                          "现行有效件数"]
    assert sheet2["A2"].value == "第二十条第（一）项" and "A2:D2" in merged2
    assert (sheet2["A4"].value, sheet2["B4"].value, sheet2["C4"].value, sheet2["D4"].value) == ("规章", 2, 1, 17)
    assert (sheet2["A5"].value, sheet2["D5"].value) == ("行政规范性文件", 120)
    assert (sheet2["A6"].value, sheet2["A7"].value, sheet2["B7"].value) == ("第二十条第（五）项", "信息内容",
                                                                          "本年处理决定数量")
    assert (sheet2["A8"].value, sheet2["B8"].value) == ("行政许可", 3456) and "B8:D8" in merged2
    assert sheet2["A9"].value == "第二十条第（六）项"
    assert [(sheet2[f"A{r}"].value, sheet2[f"B{r}"].value) for r in (11, 12)] == [("行政处罚", 78), ("行政强制", 0)]
    assert (sheet2["A13"].value, sheet2["B14"].value) == ("第二十条第（八）项", "本年收费金额（单位：万元）")
    assert sheet2["A15"].value == "行政事业性收费"
    assert sheet2["B15"].data_type == "n" and Decimal(str(sheet2["B15"].value)) == Decimal("12.3456")

    sheet = book["表三"]
    merged = {str(r) for r in sheet.merged_cells.ranges}
    assert sheet["A1"].value == "三、收到和处理政府信息公开申请情况"
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
    assert sheet["C11"].value == "3.危及“三安全一稳定”"
    assert sheet["C12"].value == "4.保护第三方合法权益"
    assert sheet["B17"].value == "（四）无法提供" and "B17:B19" in merged
    assert sheet["B20"].value == "（五）不予处理" and "B20:B24" in merged
    assert sheet["B25"].value == "（六）其他处理" and "B25:B27" in merged
    assert sheet["B28"].value == "（七）总计"
    assert sheet["A29"].value == "四、结转下年度继续办理"
    assert (sheet["E12"].value, sheet["J5"].value, sheet["D29"].value) == (1, 2, 1)

    table4 = book["表四"]
    merged4 = {str(r) for r in table4.merged_cells.ranges}
    assert table4["A1"].value == "四、政府信息公开行政复议、行政诉讼情况"
    assert {"A2:E3", "F2:O2", "F3:J3", "K3:O3"} <= merged4
    assert (table4["A2"].value, table4["F2"].value, table4["F3"].value, table4["K3"].value) == (
        "行政复议", "行政诉讼", "未经复议直接起诉", "复议后起诉")
    assert [table4.cell(row=4, column=c).value for c in range(1, 6)] == ["结果维持", "结果纠正", "其他结果",
                                                                          "尚未审结", "总计"]
    assert table4["E5"].value == 0


def test_the_xlsx_of_an_unentered_table_two_is_a_draft_with_blank_cells(empty, tmp_path):
    assert tables_draft(empty)
    out = tmp_path / "report.xlsx"
    write_xlsx(empty, out, draft=True)

    book = load_workbook(out)
    assert book["表二"]["A1"].value == "二、主动公开政府信息情况（草稿）"
    assert book["表二"]["B4"].value is None
    assert "表二尚有 10 栏未填" in book["表二"]["A17"].value
    assert "草稿" in book["表三"]["A1"].value


def test_the_pdf_is_the_whole_report_with_every_part_in_order_and_the_entered_text_and_figures(full):
    pdf = render_pdf(full)

    text = flat(pdf_text(pdf))
    assert text.startswith("测试市人民政府办公室2025年政府信息公开工作年度报告")
    positions = [text.find(flat(title)) for title in PART_TITLES.values()]
    assert -1 not in positions and positions == sorted(positions), positions
    assert flat("全年主动公开政府信息1234条。") in text and flat(PROBLEMS) in text and flat(OTHER) in text
    # Table 二 as entered, in layout order: 规章 2 1 17 · 行政规范性文件 15 3 120 · 行政许可 3456 · … · 12.3456
    layout = re.sub(r"[ \t]+", " ", pdf_text(pdf, "-layout"))
    assert re.search(r"规章 2 1 17\n", layout) and re.search(r"行政规范性文件 15 3 120\n", layout)
    assert re.search(r"行政许可 3456\n", layout) and re.search(r"行政处罚 78\n", layout)
    assert re.search(r"行政事业性收费 12\.3456\n", layout)
    assert "本年收费金额（单位：万元）" in text and "第二十条第（八）项" in text
    # Tables 三 and 四 as computed.
    assert "本年度办理结果" in text and "4.保护第三方合法权益" in text and "复议后起诉" in text
    assert "草稿" not in text and "尚未填写" not in text


def test_the_pdf_is_pdf_a_with_every_font_embedded_and_numbered_pages(full):
    pdf = render_pdf(full)

    info = subprocess.run(["pdfinfo", "-meta", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    assert 'pdfaid:part="3"' in info and 'pdfaid:conformance="B"' in info
    fonts = subprocess.run(["pdffonts", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    rows = fonts.splitlines()[2:]
    assert rows and all(row.split()[-5:-2] == ["yes", "yes", "yes"] for row in rows), fonts  # emb sub uni
    pages = pdf_text(pdf).split("\f")[:-1]
    assert len(pages) >= 2
    for number, page in enumerate(pages, start=1):
        assert f"—{number}—" in flat(page)


def test_an_incomplete_report_renders_as_a_draft_naming_the_missing_parts_on_every_page(empty):
    assert not empty.complete and empty.missing_parts == ["OVERVIEW", "PROACTIVE", "PROBLEMS", "OTHER"]

    pdf = render_pdf(empty, draft=True)

    pages = pdf_text(pdf).split("\f")[:-1]
    assert all("草稿（未发布）" in page for page in pages)
    text = flat("".join(pages))
    assert flat("以下部分尚未填写：一、总体情况；二、主动公开政府信息情况（表二尚有 10 栏未填：规章 · 本年制发件数、"
                "规章 · 本年废止件数 等）；五、存在的主要问题及改进情况；六、其他需要报告的事项") in text
    assert text.count("（尚未填写）") == 3 and text.count("（未填）") == 10
    assert all(flat(title) in text for title in PART_TITLES.values())
