"""The annual report page in a real browser: the office head writes parts 一、五、六 and table 二, saves, and the
report can then be published."""

from __future__ import annotations

from datetime import date

import pytest

from tests.browser.test_web_browser import DOCS_IMG, _sign_in, browser, served  # noqa: F401  (fixtures)
from tests.integration.test_report_counting import add_case
from tests.integration.test_report_text import FIGURES, OTHER, OVERVIEW, PROBLEMS

pytestmark = pytest.mark.browser


def test_the_office_head_writes_the_annual_report_on_its_page_and_may_then_publish_it(served, browser, session,  # noqa: F811
                                                                                       agency, tmp_path):
    add_case(session, agency, received_on=date(2025, 3, 3), finished_on=date(2025, 3, 20), outcome="DISCLOSED")
    add_case(session, agency, kind="BUSINESS", received_on=date(2025, 4, 1), finished_on=date(2025, 4, 20),
             outcome="PARTIAL")
    session.commit()
    _app, base = served
    page = _sign_in(browser, base, "office_head")
    page.goto(f"{base}/reports/annual?year=2025")
    assert "尚未填写：一、总体情况" in page.inner_text("main")

    page.fill("textarea[name=OVERVIEW]", OVERVIEW)
    for name, value in FIGURES.items():
        page.fill(f"input[name='{name}']", value)
    page.fill("textarea[name=PROBLEMS]", PROBLEMS)
    page.fill("textarea[name=OTHER]", OTHER)
    page.click("button:has-text('保存2025年度报告内容')")
    page.wait_for_selector("text=已保存2025年度报告内容")

    body = page.inner_text("main")
    assert "尚未填写" not in body
    assert page.input_value("input[name='ADMIN_FEES.FEE_AMOUNT']") == "12.3456"
    assert page.input_value("textarea[name=PROBLEMS]") == PROBLEMS
    assert page.is_visible("button:has-text('发布2025年度报告并锁定数据')")
    page.screenshot(path=str((DOCS_IMG or tmp_path) / "annual-report.png"), full_page=True)
