"""The web app in a real browser (Debian's chromium through playwright): a partial disclosure from registration to
a signed, delivered reply, and a supplement request that lapses. `GONGKAI_SCREENSHOTS=docs/img` refreshes the
README's screenshots."""

from __future__ import annotations

import os
import threading
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.conftest import PASSWORD, TODAY
from tests.integration import helpers_cases as h

pytestmark = pytest.mark.browser
CHROMIUM = Path("/usr/bin/chromium")
# The README's screenshots are refreshed only on request (GONGKAI_SCREENSHOTS=docs/img): a test run must not
# change tracked files.
DOCS_IMG = Path(os.environ["GONGKAI_SCREENSHOTS"]) if os.environ.get("GONGKAI_SCREENSHOTS") else None
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


@pytest.fixture
def served(db_url, agency, users):
    """The app on 127.0.0.1 with a free port, served by a werkzeug thread."""
    from werkzeug.serving import make_server

    from webui.app import create_app

    app = create_app({"DATABASE_URL": db_url, "SECRET_KEY": "browser-test", "GONGKAI_TODAY": TODAY})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    from webui.db import get_engine

    with app.app_context():
        get_engine().dispose()


@pytest.fixture
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        yield chromium
        chromium.close()


def _sign_in(browser, base: str, username: str, **options):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN", **options)
    context.set_default_timeout(60_000)  # the CI machine has two cores and runs other suites alongside
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('登录')")
    page.wait_for_url(f"{base}/")
    return page


def _confirm(page, label: str) -> None:
    """Press a confirmation page's button once that page has loaded entirely, its 样稿 iframe included: on the loaded
    CI machine a click while the page was still loading submitted nothing. Even after "load" a click has now and
    then sent nothing (the 样稿's PDF viewer still taking the pointer): the button is pressed again only when no
    request at all left the page, so nothing is ever submitted twice."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    button = f"button:has-text('{label}')"
    page.wait_for_selector(button)
    page.wait_for_load_state("load")
    for _attempt in range(3):
        try:
            with page.expect_request(lambda request: request.method == "POST", timeout=15_000):
                page.click(button)
            return
        except PlaywrightTimeout:
            continue
    raise AssertionError(f"「{label}」 was pressed three times and the page sent nothing")


def _open_case(page, base: str, case_url: str):
    page.goto(case_url)
    page.wait_for_selector("h2:has-text('可执行的操作')")


def _some_other_cases(session, users):
    """A realistic desk: cases in several stages, one overdue and one due soon, for the dashboard shot."""
    early = TODAY - timedelta(days=40)
    overdue, _ = h.register(session, users, TODAY, submitted_on=early, name="周建国", id_number="",
                            items=[("2025年城区道路绿化养护合同", "城乡规划")])
    h.accept(session, users, overdue, TODAY)
    soon, _ = h.register(session, users, TODAY, submitted_on=TODAY - timedelta(days=24), name="某某律师事务所",
                         id_number="", kind="LEGAL_SERVICE", items=[("某地块征收补偿方案及批复", "房屋征收")])
    h.accept(session, users, soon, TODAY)
    for name, text in (("陈静", "2025年保障性租赁住房分配结果"), ("刘洋", "学区划分调整的会议纪要")):
        h.register(session, users, TODAY, name=name, id_number="", items=[(text, "其他")])


def test_clerk_handler_and_reviewer_take_a_request_to_a_signed_delivered_partial_reply(served, browser, session,
                                                                                        users, tmp_path):
    app, base = served
    _some_other_cases(session, users)
    clerk = _sign_in(browser, base, "clerk")
    clerk.click("nav.mainnav >> text=登记申请")
    clerk.fill("input[name=name]", "张三")
    clerk.fill("input[name=id_number]", "11010519491231002X")
    clerk.fill("input[name=phone]", "13800000000")
    clerk.fill("input[name=address]", "测试市解放路2号")
    clerk.fill("textarea[name=item_description]", "2025年度城区老旧小区改造项目的批复文件及附件")
    clerk.select_option("select[name=requested_form]", "纸质")
    clerk.select_option("select[name=requested_delivery]", "邮寄")
    assert clerk.is_hidden("input[name=confirmed_on]")
    clerk.click("button:has-text('登记并出具回执')")
    clerk.wait_for_selector("#query-code")
    assert len(clerk.inner_text("#query-code").strip()) == 8
    clerk.click("text=查看案件")
    case_url = clerk.url
    clerk.click("a:has-text('受理并分办')")
    clerk.select_option("select[name=department_id]", label="规划科")
    clerk.select_option("select[name=handler_id]", label="handler用户")
    clerk.click("button:has-text('受理并分办')")
    clerk.wait_for_selector(".flash-success")
    assert "办理中" in clerk.inner_text(".casehead")

    handler = _sign_in(browser, base, "handler")
    assert "张三" in handler.inner_text("#tasks")
    _open_case(handler, base, case_url)
    handler.click("a:has-text('拟稿')")
    handler.select_option("select.outcome-select", "PARTIAL")
    handler.fill("textarea[name^=reason_]", "批复正文予以公开，附件中的个人信息不予公开")
    handler.fill("textarea[name^=how_to_obtain_]", "随本答复书邮寄批复文件复印件（已作区分处理）")
    handler.click("button:has-text('保存办理结果')")
    handler.wait_for_selector(".flash-success")
    handler.click("a:has-text('不予公开理由记录')")
    # The ground's select re-shows the form by script (gongkai.js, at the end of the page): choosing before the
    # script has run would change nothing, so wait for the page to have loaded.
    handler.wait_for_load_state("load")
    handler.select_option("select[name=ground]", "WITHHELD_THIRD_PARTY")
    handler.wait_for_selector("textarea[name=public_interest]")
    assert "涉及商业秘密、个人隐私" in handler.inner_text("blockquote.statute")
    exemption = h.PARTIAL_EXEMPTION
    handler.fill("textarea[name=facts]", exemption.facts)
    handler.fill("textarea[name=scope]", exemption.scope)
    handler.fill("textarea[name=no_consultation_reason]", exemption.no_consultation_reason)
    handler.fill("textarea[name=public_interest]", exemption.public_interest)
    handler.click("button:has-text('保存记录')")
    handler.wait_for_selector(".flash-success")
    handler.select_option("select[name=conclusion]", "CLEARED_AFTER_REDACTION")
    handler.fill("input[name=basis]", "删除个人信息后不涉及国家秘密")
    handler.click("button:has-text('记录保密审查')")
    handler.wait_for_selector("text=各项已齐备")
    handler.wait_for_selector("iframe.pdf")
    handler.screenshot(path=str(tmp_path / "drafting.png"))
    handler.click("button:has-text('提交法制审核')")
    handler.wait_for_selector(".flash-success")

    reviewer = _sign_in(browser, base, "legal_reviewer")
    _open_case(reviewer, base, case_url)
    reviewer.click("a:has-text('法制审核与签发')")
    _confirm(reviewer, "确认")
    reviewer.wait_for_selector("text=各项审核完毕")
    reviewer.click("#sign-button")
    reviewer.wait_for_selector("text=签发后答复书冻结，不能修改，只能更正")
    reviewer.wait_for_load_state("load")  # the 样稿 iframe too: see _confirm
    reviewer.click("#confirm-sign")
    reviewer.wait_for_selector(".flash-success")
    assert "答复书已签发" in reviewer.inner_text(".flash-success")
    _open_case(reviewer, base, case_url)
    reviewer.click("tr:has(.badge.stage-signed) a:has-text('验证签名')")
    reviewer.wait_for_selector(".signature-report")
    assert "签名有效：文件自签名以来未被改动" in reviewer.inner_text(".signature-report")
    reviewer.screenshot(path=str(tmp_path / "signature.png"), full_page=True)

    _open_case(clerk, base, case_url)
    clerk.click("a:has-text('登记送达')")
    clerk.select_option("select[name=method]", "POST")
    clerk.fill("input[name=tracking_no]", "EMS1234567890")
    clerk.set_input_files("input[name=proof]", files=[{"name": "回执.png", "mimeType": "image/png", "buffer": PNG}])
    clerk.click("button:has-text('登记送达')")
    clerk.wait_for_selector(".flash-success")
    header = clerk.inner_text(".casehead")
    assert "已答复" in header and "部分公开" in header
    assert "EMS1234567890" in clerk.inner_text("body")
    clerk.screenshot(path=str((DOCS_IMG or tmp_path) / "case-page.png"), full_page=True)
    clerk.click("nav.mainnav >> text=工作台")
    clerk.wait_for_selector("#tasks")
    # The README's dashboard shot is the desk of test_daily_work_browser (next steps, letters to deliver).
    clerk.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)


def test_a_supplement_request_that_lapses_closes_the_case_with_a_termination_notice(served, browser, session, users):
    app, base = served
    case, _ = h.register(session, users, TODAY, name="钱多多", id_number="")
    clerk = _sign_in(browser, base, "clerk")
    case_url = f"{base}/cases/{case.id}"
    _open_case(clerk, base, case_url)
    clerk.click("a:has-text('补正告知')")
    clerk.fill("textarea[name=items]", "请写明所申请文件的名称或文号\n请说明所申请信息的时间范围")
    clerk.fill("input[name=period_working_days]", "10")
    clerk.click("button:has-text('出具补正告知书')")
    assert "补正告知书（样稿）" in clerk.inner_text("main")  # nothing issued before the confirmation
    _confirm(clerk, "确认补正告知")
    clerk.wait_for_selector(".flash-success")
    assert "补正中" in clerk.inner_text(".casehead")
    assert "补正告知书" in clerk.inner_text("#documents")
    # The applicant's period runs from its receipt of the notice: no date until the delivery is recorded.
    assert "尚未登记送达" in clerk.inner_text(".casehead .due-date")
    clerk.click("a:has-text('登记文书送达')")
    # all_inner_texts() does not wait: wait for the delivery form before reading its options.
    clerk.wait_for_selector("select[name=letter_id] option:has-text('补正告知书')", state="attached")
    notice = next(o for o in clerk.locator("select[name=letter_id] option").all_inner_texts() if "补正告知书" in o)
    clerk.select_option("select[name=letter_id]", label=notice)
    clerk.select_option("select[name=method]", "IN_PERSON")
    clerk.click("button:has-text('登记送达')")
    clerk.wait_for_selector(".flash-success")
    due_text = clerk.inner_text(".casehead .due-date")
    supplement_due = date.fromisoformat(due_text.split()[0])

    app.config["GONGKAI_TODAY"] = supplement_due + timedelta(days=1)
    _open_case(clerk, base, case_url)
    clerk.click("a:has-text('逾期未补正')")
    clerk.click("button:has-text('结案并出具终止办理告知书')")
    _confirm(clerk, "确认逾期结案")
    clerk.wait_for_selector(".flash-success")
    header = clerk.inner_text(".casehead")
    assert "已办结" in header and "逾期不补正" in header
    assert "终止办理告知书" in clerk.inner_text("#documents")
