"""The report pages: the official table with drill-down links, downloads, publishing, ledger upload, statistics."""

from __future__ import annotations

import io
from datetime import date

from openpyxl import load_workbook
from sqlalchemy import func, select

from engine.persistence.models import AuditEvent, Case, PublishedReport
from engine.services.report_text import report_content
from tests.integration import test_web_support as support
from tests.integration.test_report_counting import add_case
from tests.integration.test_report_exports import flat, pdf_text
from tests.integration.test_report_text import FIGURES, OTHER, OVERVIEW, PROBLEMS, enter_report_content
from tests.integration.test_web_support import logged_in

web_app = support.web_app

HEADER = "登记编号,申请人类型,申请人,申请渠道,收到日期,申请内容,答复日期,办理结果\n"


def test_the_annual_table_links_every_cell_to_its_cases_and_flags_failing_cells(web_app, session, agency):
    case = add_case(session, agency, received_on=date(2025, 3, 3), finished_on=date(2025, 3, 20), outcome="DISCLOSED")
    add_case(session, agency, kind="RESEARCH", received_on=date(2025, 4, 1), finished_on=date(2025, 4, 9))
    session.commit()
    browser = logged_in(web_app, "clerk")

    page = browser.get("/reports/annual?year=2025").get_data(as_text=True)

    assert "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）" in page
    assert "/reports/annual/2025/cell/R1/NATURAL" in page
    assert "勾稽关系不成立" in page and 'class="num failing"' in page
    assert "发布2025年度报告" not in page  # a clerk cannot publish
    listing = browser.get("/reports/annual/2025/cell/R1/NATURAL").get_data(as_text=True)
    assert case.reg_no in listing and f"/cases/{case.id}" in listing


def test_downloads_are_marked_draft_while_the_table_does_not_reconcile(web_app, session, agency):
    add_case(session, agency, kind="RESEARCH", received_on=date(2025, 4, 1), finished_on=date(2025, 4, 9))
    session.commit()
    browser = logged_in(web_app, "clerk")

    xlsx = browser.get("/reports/annual/2025.xlsx")
    assert xlsx.status_code == 200 and "draft" in xlsx.headers["Content-Disposition"]
    assert "草稿" in load_workbook(io.BytesIO(xlsx.data))["表三"]["A1"].value
    data = browser.get("/reports/annual/2025.json").get_json()
    assert data["table3"]["NEW"]["RESEARCH"] == 1 and data["agency"] == "TESTCITY"


def test_the_office_head_publishes_a_reconciled_and_complete_year(web_app, session, agency, users):
    add_case(session, agency, received_on=date(2025, 3, 3), finished_on=date(2025, 3, 20), outcome="DISCLOSED")
    session.commit()
    browser = logged_in(web_app, "office_head")
    page = browser.get("/reports/annual?year=2025").get_data(as_text=True)
    assert "发布2025年度报告" not in page and "各部分填写完整、勾稽关系成立后才能发布" in page
    enter_report_content(session, agency, users["office_head"])
    session.commit()
    assert "发布2025年度报告" in browser.get("/reports/annual?year=2025").get_data(as_text=True)

    confirm = browser.post("/reports/annual/2025/publish")  # first the consequences, nothing published yet
    assert confirm.status_code == 200 and "2025年度数据即锁定" in confirm.get_data(as_text=True)
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(PublishedReport)) == 0
    response = browser.post("/reports/annual/2025/publish", data={"confirmed": "1"})

    assert response.status_code == 302
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(PublishedReport)) == 1
    assert "数据已锁定" in browser.get("/reports/annual?year=2025").get_data(as_text=True)
    assert logged_in(web_app, "clerk").post("/reports/annual/2025/publish").status_code == 403
    locked = browser.get("/reports/annual?year=2025").get_data(as_text=True)
    assert "<textarea" not in locked and 'name="RULES.ISSUED"' not in locked and "保存2025年度报告内容" not in locked
    assert OVERVIEW.splitlines()[0] in locked and "3456" in locked


def content_form(version: int, **overrides) -> dict:
    return {"version": str(version), "OVERVIEW": OVERVIEW, "PROBLEMS": PROBLEMS, "OTHER": OTHER, **FIGURES,
            **overrides}


def test_the_office_head_writes_the_whole_report_on_the_page_and_downloads_it(web_app, session, agency):
    add_case(session, agency, received_on=date(2025, 3, 3), finished_on=date(2025, 3, 20), outcome="DISCLOSED")
    session.commit()
    browser = logged_in(web_app, "office_head")
    page = browser.get("/reports/annual?year=2025").get_data(as_text=True)
    assert "尚未填写：一、总体情况；二、主动公开政府信息情况" in page
    document = page.split('action="/reports/annual/2025/content"', 1)[1]
    positions = [document.find(f"<h2>{title}</h2>") for title in ("一、总体情况", "二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况",
                                               "四、政府信息公开行政复议、行政诉讼情况", "五、存在的主要问题及改进情况",
                                               "六、其他需要报告的事项")]
    assert -1 not in positions and positions == sorted(positions)
    assert document.count("<textarea") == 3 and 'name="ADMIN_FEES.FEE_AMOUNT"' in page
    draft = browser.get("/reports/annual/2025.pdf")
    assert "draft" in draft.headers["Content-Disposition"] and "草稿（未发布）" in pdf_text(draft.data)

    saved = browser.post("/reports/annual/2025/content", data=content_form(0))

    assert saved.status_code == 303
    session.expire_all()
    assert report_content(session, agency.id, 2025).texts["PROBLEMS"] == PROBLEMS
    assert session.scalar(select(func.count()).select_from(AuditEvent)
                          .where(AuditEvent.action == "edit_annual_report")) == 1
    pdf = browser.get("/reports/annual/2025.pdf")
    assert pdf.status_code == 200 and "draft" not in pdf.headers["Content-Disposition"]
    text = flat(pdf_text(pdf.data))
    assert flat(PROBLEMS) in text and "12.3456" in text and "草稿" not in text
    book = load_workbook(io.BytesIO(browser.get("/reports/annual/2025.xlsx").data))
    assert book.sheetnames == ["表二", "表三", "表四"] and book["表二"]["B8"].value == 3456


def test_a_refused_save_keeps_what_was_typed_and_saves_nothing(web_app, session, agency):
    browser = logged_in(web_app, "office_head")

    refused = browser.post("/reports/annual/2025/content",
                           data=content_form(0, **{"PUNISHMENT.DECISIONS": "七十八"}, OTHER="新写的其他事项。"))

    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "表二「行政处罚 · 本年处理决定数量」应为不小于 0 的整数" in page
    assert "新写的其他事项。" in page and 'value="七十八"' in page and 'value="3456"' in page
    session.expire_all()
    assert report_content(session, agency.id, 2025).version == 0
    stale = browser.post("/reports/annual/2025/content", data=content_form(0))
    assert stale.status_code == 303
    again = browser.post("/reports/annual/2025/content", data=content_form(0, OVERVIEW="另一人的改动。"))
    assert again.status_code == 409 and "另一人的改动。" in again.get_data(as_text=True)


def test_a_clerk_enters_table_two_but_cannot_write_the_text(web_app, session, agency):
    browser = logged_in(web_app, "clerk")
    page = browser.get("/reports/annual?year=2025").get_data(as_text=True)
    assert "<textarea" not in page and 'name="LICENSING.DECISIONS"' in page

    assert browser.post("/reports/annual/2025/content", data=content_form(0)).status_code == 403
    figures_only = browser.post("/reports/annual/2025/content", data={"version": "0", **FIGURES})
    assert figures_only.status_code == 303
    session.expire_all()
    content = report_content(session, agency.id, 2025)
    assert content.proactive["RULES"]["IN_FORCE"] == 17 and content.texts["OVERVIEW"] == ""
    assert logged_in(web_app, "handler").post("/reports/annual/2025/content",
                                              data={"version": "1", **FIGURES}).status_code == 403


def test_a_bad_ledger_upload_lists_every_bad_line_and_writes_nothing(web_app, session, agency):
    browser = logged_in(web_app, "clerk")
    bad = (HEADER + ",自然人,张三,网络,2025-03-03,申请公开规划许可,,\n,外星人,李四,网络,2025-03-03,内容,,\n").encode()

    response = browser.post("/reports/ledger", data={"file": (io.BytesIO(bad), "台账.csv")},
                            content_type="multipart/form-data")

    assert response.status_code == 422
    assert "第3行：申请人类型「外星人」无效" in response.get_data(as_text=True)
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Case)) == 0

    good = (HEADER + ",自然人,张三,网络,2025-03-03,申请公开规划许可,,\n").encode()
    done = browser.post("/reports/ledger", data={"file": (io.BytesIO(good), "台账.csv")},
                        content_type="multipart/form-data", follow_redirects=True)
    assert "共导入 1 件申请" in done.get_data(as_text=True)


def test_the_statistics_page_draws_svg_charts_and_offers_csv(web_app, session, agency):
    add_case(session, agency, received_on=date(2025, 3, 3), finished_on=date(2025, 3, 20), outcome="DISCLOSED")
    session.commit()
    browser = logged_in(web_app, "handler")

    page = browser.get("/reports/statistics?year=2025").get_data(as_text=True)

    assert page.count("<svg") >= 4 and "按期率 100.0%" in page
    assert "style=" not in page.split("<main", 1)[1].split("</main>")[0]  # the CSP forbids inline style
    csv_text = browser.get("/reports/statistics/by_month.csv?year=2025").get_data(as_text=True)
    assert csv_text.splitlines()[0] == "\ufeff月份,当面,邮寄,平常信函,网络,传真"
    assert csv_text.splitlines()[3] == "3月,0,0,0,1,0"
