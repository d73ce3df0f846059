"""The screens as each role uses them day to day, in Chromium: the dashboard's next steps and delivery list, forms
that check formats in the browser and keep the work when the server refuses, an exemption ground changed without
losing the facts typed. Screenshots at 1400 px and 390 px (docs/img with GONGKAI_SCREENSHOTS=docs/img)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine import services
from tests.browser.test_web_browser import DOCS_IMG, _sign_in, browser, served  # noqa: F401 - fixtures
from tests.conftest import TODAY
from tests.integration import helpers_cases as h

pytestmark = pytest.mark.browser


@pytest.fixture
def desk(session, users):
    """A clerk's desk: a new request, one waiting for its supplement, an extension notice not yet delivered, a
    finished case for the archivist, a plain letter waiting for its confirmation."""
    registered, _ = h.register(session, users, TODAY, name="陈静", id_number="",
                               items=[("2025年保障性租赁住房分配结果", "保障性住房")])
    extended, _ = h.register(session, users, TODAY, name="刘洋", id_number="", items=[("学区划分调整的会议纪要", "其他")])
    h.accept(session, users, extended, TODAY)
    services.extend(session, extended.id, working_days=10, reason="所涉文件数量较多，需要逐页区分处理",
                    renderer=h.render, actor=users["office_head"], today=TODAY)
    h.register(session, users, TODAY, name="周建国", id_number="", channel="plain_letter",
               submitted_on=TODAY - timedelta(days=3), items=[("某路段拓宽工程的立项批复", "城乡规划")])
    closed, _ = h.register(session, users, TODAY, name="王芳", id_number="", items=[("某小区停车位规划图", "城乡规划")])
    services.withdraw(session, closed.id, reason="申请人于2026年3月2日书面撤回申请", issue_notice=False,
                      renderer=h.render, actor=users["clerk"], today=TODAY)
    drafting, _ = h.register(session, users, TODAY, name="吴敏", id_number="", items=[("某项目的拆迁补偿名册", "城乡规划")])
    h.accept(session, users, drafting, TODAY)
    services.record_decision(session, drafting.id, decisions=[services.ItemDecision(
        item_id=drafting.items[0].id, outcome="PARTIAL", reason="名册中的汇总数据予以公开，个人信息不予公开",
        how_to_obtain="随本答复书邮寄")], actor=users["handler"], today=TODAY)
    session.commit()
    return {"registered": registered, "extended": extended, "closed": closed, "drafting": drafting}


def test_the_clerk_sees_each_next_step_and_records_a_waiting_delivery_from_the_dashboard(served, browser, desk,  # noqa: F811
                                                                                         tmp_path):
    app, base = served
    shots = DOCS_IMG or tmp_path
    clerk = _sign_in(browser, base, "clerk")
    tasks = clerk.inner_text("#tasks")
    assert "前出具补正告知书，否则受理分办" in tasks and "确认收件：平常信函已等待 3 日" in tasks
    waiting = clerk.inner_text("#to-deliver")
    assert "延期答复告知书" in waiting
    clerk.screenshot(path=str(shots / "dashboard.png"), full_page=True)
    clerk.click("#to-deliver a:has-text('登记送达')")
    clerk.wait_for_selector("select[name=letter_id]")
    chosen = clerk.eval_on_selector("select[name=letter_id]", "s => s.options[s.selectedIndex].text")
    assert "延期答复告知书" in chosen
    assert clerk.eval_on_selector("select[name=method]", "s => s.value") == "POST"  # the applicant asked for 邮寄
    clerk.click("button:has-text('登记送达')")
    clerk.wait_for_selector(".flash-success")
    clerk.goto(f"{base}/")
    assert "没有待登记送达的文书" in clerk.inner_text("#to-deliver")
    clerk.set_viewport_size({"width": 390, "height": 844})
    clerk.goto(f"{base}/")
    assert clerk.evaluate("document.documentElement.scrollWidth") <= 392
    clerk.screenshot(path=str(tmp_path / "dashboard-390-full.png"), full_page=True)
    clerk.locator("#tasks").scroll_into_view_if_needed()
    clerk.screenshot(path=str(shots / "dashboard-390.png"), full_page=False)

    archivist = _sign_in(browser, base, "archivist")
    header = archivist.inner_text("#tasks tr:first-child")
    assert "保管期限" in header and "档号" in header and "答复期限" not in header
    assert "归档（办结于" in archivist.inner_text("#tasks")
    archivist.screenshot(path=str(tmp_path / "archivist-dashboard.png"), full_page=True)


def test_registration_checks_formats_in_the_browser_and_keeps_the_work_when_the_server_refuses(served, browser,  # noqa: F811
                                                                                              desk, tmp_path):
    app, base = served
    clerk = _sign_in(browser, base, "clerk")
    clerk.goto(f"{base}/register")
    clerk.fill("input[name=name]", "张三")
    clerk.fill("input[name=phone]", "abc")
    clerk.fill("input[name=email]", "not-an-email")
    clerk.fill("input[name=postal_code]", "12")
    clerk.fill("input[name=id_number]", "123")
    clerk.fill("textarea[name=item_description]", "某小区改造项目的批复")
    for name in ("phone", "email", "postal_code", "id_number"):
        assert not clerk.eval_on_selector(f"input[name={name}]", "e => e.checkValidity()"), name
    clerk.click("button:has-text('登记并出具回执')")
    assert clerk.url.endswith("/register")  # the browser stopped the submission
    # The server says the same, every problem beside its field, with what was typed kept.
    clerk.eval_on_selector("#register-form", "f => f.noValidate = true")
    clerk.click("button:has-text('登记并出具回执')")
    clerk.wait_for_selector(".field-error")
    errors = clerk.locator(".field-error").all_inner_texts()
    assert len(errors) == 4 and any("11 位手机号码" in e for e in errors)
    assert clerk.input_value("input[name=phone]") == "abc"
    assert clerk.input_value("textarea[name=item_description]") == "某小区改造项目的批复"
    clerk.screenshot(path=str(tmp_path / "register-errors.png"), full_page=True)
    clerk.set_viewport_size({"width": 390, "height": 844})
    assert clerk.evaluate("document.documentElement.scrollWidth") <= 392
    clerk.screenshot(path=str(tmp_path / "register-errors-390.png"), full_page=True)


def test_the_handler_changes_the_exemption_ground_and_keeps_the_facts_typed(served, browser, desk, tmp_path):  # noqa: F811
    app, base = served
    handler = _sign_in(browser, base, "handler")
    case = desk["drafting"]
    handler.goto(f"{base}/cases/{case.id}/items/{case.items[0].id}/exemption")
    assert handler.eval_on_selector("select[name=ground]", "s => s.value") == ""  # no default ground
    handler.select_option("select[name=ground]", "WITHHELD_PROCESS")
    handler.wait_for_selector("textarea[name=discretion_reason]")
    handler.fill("textarea[name=facts]", "名册中列有被征收人的姓名、身份证号和补偿金额，属于个人隐私")
    handler.wait_for_load_state("load")  # the re-shown page's script must have run before the select changes
    handler.select_option("select[name=ground]", "WITHHELD_THIRD_PARTY")
    handler.wait_for_selector("textarea[name=public_interest]")
    assert handler.input_value("textarea[name=facts]") == "名册中列有被征收人的姓名、身份证号和补偿金额，属于个人隐私"
    assert "未选择上方已答复的征求意见记录时必填" in handler.inner_text("form#exemption-form")
    handler.click("button:has-text('保存记录')")
    handler.wait_for_selector(".field-error")
    assert handler.input_value("textarea[name=facts]").startswith("名册中列有被征收人")
    handler.screenshot(path=str(tmp_path / "exemption-errors.png"), full_page=True)
