"""The wording page in a real browser: the preview follows the administrator's typing (no submit), a refused
slot shows its problem live, and saving activates the new version."""

from __future__ import annotations

import pytest

from tests.browser import test_web_browser as shared

pytestmark = pytest.mark.browser
served = shared.served
browser = shared.browser


def test_the_receipt_preview_follows_the_typed_contact_paragraph_and_the_version_is_saved(served, browser, session):
    _app, base = served
    page = shared._sign_in(browser, base, "admin")
    page.goto(f"{base}/admin/wording/receipt")
    preview = page.locator("#wording-preview")
    page.fill("textarea[name=slot_contact]", "办理进度请拨打本机关电话查询：{登记编号}")
    preview.locator("text=办理进度请拨打本机关电话查询：").wait_for()
    assert "办理进度请拨打本机关电话查询：依申请〔2026〕37号" in preview.inner_text()
    page.fill("textarea[name=slot_closing]", "{{ 7*7 }}")
    preview.locator("text=这样的措辞不能保存").wait_for()
    assert "（closing）含有模板语法" in preview.inner_text()
    page.fill("textarea[name=slot_closing]", "特此告知。")
    preview.locator(".letter-preview").wait_for()
    if shared.DOCS_IMG is not None:
        page.screenshot(path=str(shared.DOCS_IMG / "wording.png"), full_page=True)
    page.click("button:has-text('保存为新版本')")
    page.wait_for_selector("text=已保存第1版措辞并启用")
    assert "使用中" in page.inner_text("body")
