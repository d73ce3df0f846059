"""The export job in a real browser: the archivist starts a year's export, the job page refreshes itself with
the progress while the embedded runner (the background process of `gongkai serve`, here a thread) exports, and
ends with the download link."""

from __future__ import annotations

import threading
import zipfile

import pytest

from tests.browser.test_web_browser import _sign_in, browser, served  # noqa: F401  (fixtures)
from tests.integration.test_archive_export import make_archived_case
from webui.background.runner import run_embedded

pytestmark = pytest.mark.browser


def test_the_year_export_page_follows_the_job_to_its_download(served, browser, session, users, db_url,  # noqa: F811
                                                              tmp_path):
    _app, base = served
    cases = [make_archived_case(session, users, name=name) for name in ("张三", "李四")]
    page = _sign_in(browser, base, "archivist")
    page.goto(f"{base}/archive/export")
    page.select_option("select[name=year]", "2026")
    page.click("button:has-text('开始后台导出')")
    page.wait_for_selector("text=排队中")
    stop = threading.Event()
    runner = threading.Thread(target=run_embedded, args=(db_url, stop), daemon=True)
    runner.start()
    try:
        page.wait_for_selector("#job[data-state=done]", timeout=120_000)  # the page refreshes itself every 2 s
    finally:
        stop.set()
        runner.join(timeout=30)
    text = page.inner_text("#job")
    assert "已完成" in text and "100%" in text and "已导出 2 件" in text
    page.screenshot(path=str(tmp_path / "job.png"), full_page=True)
    with page.expect_download() as caught:
        page.click("a:has-text('下载')")
    saved = tmp_path / "bundle.zip"
    caught.value.save_as(saved)
    with zipfile.ZipFile(saved) as bundle:
        assert sorted(bundle.namelist()) == sorted(c.archive_no + ".zip" for c in cases)
