"""The applicant's public pages in a real browser at phone width (390 px): apply → receipt → lookup → supplement →
the signed reply downloaded (its electronic delivery recorded), with axe-core on every public page."""

from __future__ import annotations

import json
import threading

import pytest
from sqlalchemy import select

from engine import services
from engine.persistence.models import Case, Delivery, Upload
from tests.browser.test_accessibility import AXE, _violations
from tests.browser.test_web_browser import _confirm, browser  # noqa: F401 - fixture
from tests.conftest import TODAY
from tests.integration import helpers_cases as h

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def served(db_url, agency, users):
    """The app on a free loopback port; a person needs at least 2 s to fill the form."""
    from werkzeug.serving import make_server

    from webui.app import create_app

    app = create_app({"DATABASE_URL": db_url, "SECRET_KEY": "browser-test", "GONGKAI_TODAY": TODAY,
                      "RATELIMIT_STORAGE_URI": "memory://", "PORTAL_MIN_FILL_SECONDS": 2})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    from webui.db import get_engine

    with app.app_context():
        get_engine().dispose()


def _phone(browser):  # noqa: F811
    context = browser.new_context(viewport=PHONE, locale="zh-CN", bypass_csp=True, accept_downloads=True,
                                  device_scale_factor=1, is_mobile=True, has_touch=True)
    context.set_default_timeout(60_000)
    return context.new_page()


def _check(page, name: str, found: dict, shots) -> None:
    """No sideways scrolling at 390 px, no critical or serious axe violation; a screenshot to look at."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], (name, width)
    if AXE.exists():
        problems = _violations(page)
        if problems:
            found[name] = problems
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)


def _case(session, reg_no: str) -> Case:
    session.expire_all()
    return session.scalar(select(Case).where(Case.reg_no == reg_no))


def test_an_applicant_applies_looks_up_supplements_and_downloads_the_reply_on_a_phone(served, browser, session,  # noqa: F811
                                                                                    users, tmp_path):
    base = served
    found: dict = {}
    page = _phone(browser)
    page.goto(f"{base}/apply")
    _check(page, "apply", found, tmp_path)
    page.fill("#f-name", "李四")
    page.fill("#f-id_number", "11010519491231002X")
    page.fill("#f-phone", "13900000000")
    page.fill("#f-email", "lisi@example.cn")
    page.fill("#f-item-1", "2025年度城区老旧小区改造项目的批复文件")
    page.click("button:has-text('增加一项')")
    page.fill("#f-item-2", "改造资金的拨付文件")
    page.check("input[name=requested_delivery][value=网络平台]")
    page.check("input[name=notice_read]")
    page.wait_for_timeout(2100)  # the minimum fill time (a robot's form comes back with the input kept)
    page.click("button:has-text('下一步：核对申请')")
    page.wait_for_selector("h1:has-text('核对申请内容')")
    assert "改造资金的拨付文件" in page.inner_text("main")
    _check(page, "review", found, tmp_path)
    assert _case(session, "依申请〔2026〕1号") is None
    _confirm(page, "确认提交")
    page.wait_for_selector("#query-code")
    reg_no, code = page.inner_text("#reg-no").strip(), page.inner_text("#query-code").strip()
    assert len(code) == 8 and "2026年3月2日" in page.inner_text("#received-on")
    _check(page, "receipt", found, tmp_path)
    with page.expect_download() as receipt:
        page.click("button:has-text('下载登记回执')")
    assert receipt.value.suggested_filename.startswith("登记回执-")
    page.context.close()

    case = _case(session, reg_no)
    services.request_supplement(session, case.id, items=["请写明批复文件的文号或者大致成文时间"], renderer=h.render,
                                actor=users["clerk"], today=TODAY)
    session.commit()

    page = _phone(browser)
    page.goto(f"{base}/progress?reg_no={reg_no.replace('〔', '[').replace('〕', ']')}")
    _check(page, "lookup", found, tmp_path)
    page.fill("#f-query_code", "WRONG123")
    page.click("button:has-text('查询')")
    page.wait_for_selector(".field-error")
    assert "登记编号或查询码不正确" in page.inner_text(".field-error")
    page.fill("#f-query_code", code)
    page.click("button:has-text('查询')")
    page.wait_for_selector("#stage")
    assert "需要您补正申请" in page.inner_text("#stage")
    _check(page, "case-supplement", found, tmp_path)
    page.fill("#f-statement", "文号为测政复〔2025〕12号，2025年6月成文")
    tmp_pdf = tmp_path / "补正说明.pdf"
    tmp_pdf.write_bytes(PDF)
    page.set_input_files("#f-files", str(tmp_pdf))
    page.click("button:has-text('提交补正')")
    page.wait_for_selector(".flash-success")
    assert "已收到申请，正在审核" in page.inner_text("#stage")
    case = _case(session, reg_no)
    assert case.supplement_received_on == TODAY
    assert session.scalar(select(Upload.filename).where(Upload.case_id == case.id)) == "补正说明.pdf"

    h.accept(session, users, case, TODAY)
    h.decide_disclosed(session, users, _case(session, reg_no), TODAY)
    reply = h.review_and_sign(session, users, _case(session, reg_no), TODAY)
    page.reload()
    page.wait_for_selector("text=首次下载即为电子送达")
    _check(page, "case-reply", found, tmp_path)
    with page.expect_download() as download:
        page.click(f"form[action$='/progress/letters/{reply.id}'] button")
    path = download.value.path()
    assert path is not None and path.read_bytes() == reply.pdf
    assert download.value.suggested_filename.startswith("答复书-")
    case = _case(session, reg_no)
    deliveries = session.scalars(select(Delivery).where(Delivery.case_id == case.id,
                                                        Delivery.letter_id == reply.id)).all()
    assert [(d.method, d.delivered_on) for d in deliveries] == [("ONLINE", TODAY)]
    assert case.stage == "replied"
    page.reload()
    assert "已答复" in page.inner_text("#stage") and "答复书已送达" in page.inner_text("main")
    _check(page, "case-replied", found, tmp_path)
    page.context.close()
    assert not found, json.dumps(found, ensure_ascii=False)


def test_an_applicant_told_by_email_follows_the_link_supplements_and_downloads_the_signed_reply(
        served, browser, session, users, db_engine, tmp_path, monkeypatch):  # noqa: F811
    """Issue 15's whole path: apply online → the registration e-mail arrives on a real SMTP server on loopback →
    its link opens the progress page → the supplement asked for by e-mail is given there → the reply-ready e-mail's
    link leads to the signed reply, whose first download records the electronic delivery."""
    from engine.config import load_settings
    from tests.mail_servers import SmtpServer
    from webui.background.runner import work_pending

    base = served
    smtp = SmtpServer().start()
    monkeypatch.setenv("GONGKAI_SMTP_URL", smtp.url)
    monkeypatch.setenv("GONGKAI_MAIL_FROM", "测试市政府信息公开 <gongkai@testcity.example.cn>")
    monkeypatch.setenv("GONGKAI_PUBLIC_URL", base)
    load_settings.cache_clear()
    try:
        page = _phone(browser)
        page.goto(f"{base}/apply")
        page.fill("#f-name", "王五")
        page.fill("#f-id_number", "11010519491231002X")
        page.fill("#f-email", "wangwu@example.cn")
        page.fill("#f-item-1", "2025年度城区道路维修工程的招标文件")
        page.check("input[name=requested_delivery][value=网络平台]")
        page.check("input[name=notice_read]")
        page.wait_for_timeout(2100)
        page.click("button:has-text('下一步：核对申请')")
        _confirm(page, "确认提交")
        page.wait_for_selector("#query-code")
        reg_no, code = page.inner_text("#reg-no").strip(), page.inner_text("#query-code").strip()
        page.context.close()

        def mails_to_applicant() -> list:
            work_pending(db_engine)  # the job queue's own path: the send jobs the actions wrote
            return [m for m in smtp.messages() if m["To"] and "wangwu@example.cn" in m["To"]]

        def link_in(mail) -> str:
            text = mail.get_body(("plain",)).get_content()
            return text.split("办理进度查询：")[1].split()[0]

        [registered] = mails_to_applicant()
        assert reg_no in registered["Subject"]
        link = link_in(registered)
        assert link.startswith(f"{base}/progress?reg_no=")

        case = _case(session, reg_no)
        services.request_supplement(session, case.id, items=["请写明招标文件的项目编号"], renderer=h.render,
                                    actor=users["clerk"], today=TODAY)
        session.commit()
        mails = mails_to_applicant()
        assert len(mails) == 2 and "补正" in mails[1]["Subject"]

        page = _phone(browser)
        page.goto(link_in(mails[1]))  # the 登记编号 is filled in from the link; the 查询码 only the applicant knows
        page.fill("#f-query_code", code)
        page.click("button:has-text('查询')")
        page.wait_for_selector("#stage")
        assert "需要您补正申请" in page.inner_text("#stage")
        page.fill("#f-statement", "项目编号为 CSLQ-2025-031")
        page.click("button:has-text('提交补正')")
        page.wait_for_selector(".flash-success")
        assert _case(session, reg_no).supplement_received_on == TODAY

        h.accept(session, users, _case(session, reg_no), TODAY)
        h.decide_disclosed(session, users, _case(session, reg_no), TODAY)
        reply = h.review_and_sign(session, users, _case(session, reg_no), TODAY)
        mails = mails_to_applicant()
        ready = mails[-1]
        assert "答复" in ready["Subject"] and reg_no in ready["Subject"]
        page.goto(link_in(ready))
        page.fill("#f-query_code", code)
        page.click("button:has-text('查询')")
        page.wait_for_selector("text=首次下载即为电子送达")
        with page.expect_download() as download:
            page.click(f"form[action$='/progress/letters/{reply.id}'] button")
        assert download.value.path().read_bytes() == reply.pdf
        deliveries = session.scalars(select(Delivery).where(Delivery.letter_id == reply.id)).all()
        assert [(d.method, d.delivered_on) for d in deliveries] == [("ONLINE", TODAY)]
        page.context.close()
    finally:
        smtp.stop()
        load_settings.cache_clear()
