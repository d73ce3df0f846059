"""CSRF, optimistic locking, security headers, login rules, uploads, bad input, exports and the other forms."""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from datetime import timedelta

from openpyxl import load_workbook
from sqlalchemy import select

from engine.persistence.models import Case, Letter, Upload, User
from engine.rules.calendar import default_calendar
from tests.conftest import PASSWORD, TODAY
from tests.integration import helpers_cases as h
from tests.integration import test_web_support as support
from tests.integration.test_web_support import (
    CSRF_FIELD,
    logged_in,
    login,
    register_via_web,
    registration_form,
)

web_app = support.web_app
client = support.client


def _case(session, case_id) -> Case:
    session.expire_all()
    return session.get(Case, case_id)


def test_a_form_posted_without_its_csrf_token_is_refused(db_url, agency, users):
    from webui.app import create_app

    app = create_app({"DATABASE_URL": db_url, "SECRET_KEY": "s", "GONGKAI_TODAY": TODAY})
    c = app.test_client()
    assert c.post("/login", data={"username": "clerk", "password": PASSWORD}).status_code == 400
    token = CSRF_FIELD.search(c.get("/login").get_data(as_text=True)).group(1)
    response = c.post("/login", data={"username": "clerk", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    assert c.post("/register", data=registration_form()).status_code == 400
    support.dispose(app)


def test_a_stale_version_is_refused_with_a_clear_message_and_the_input_is_kept(web_app, session, users, today):
    case, _ = h.register(session, users, today)
    clerk = logged_in(web_app, "clerk")
    response = clerk.post(f"/cases/{case.id}/do/request_supplement", data={"confirmed": "1",
        "version": case.version - 1, "items": "请写明所申请文件的文号", "period_working_days": "10"})
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "已被他人修改" in page and "请写明所申请文件的文号" in page
    assert f'name="version" value="{case.version}"' in page
    assert _case(session, case.id).stage == "registered"


def test_pages_carry_the_security_headers(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "<script>" not in response.get_data(as_text=True)


def test_the_production_config_sets_secure_cookies(db_url, monkeypatch):
    from webui.app import create_app

    monkeypatch.setenv("GONGKAI_PRODUCTION", "1")
    app = create_app({"DATABASE_URL": db_url, "SECRET_KEY": "s"})
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_HTTPONLY"]
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    support.dispose(app)


def test_next_is_followed_only_when_it_is_a_path_on_this_site(web_app, users):
    for target, expected in (("/cases?stage=registered", "/cases?stage=registered"), ("//evil.example/x", "/"),
                             ("https://evil.example/", "/"), ("/\\evil.example", "/")):
        c = web_app.test_client()
        response = c.post("/login", data={"username": "clerk", "password": PASSWORD, "next": target})
        assert response.headers["Location"] == expected, target


def test_five_wrong_passwords_throttle_the_account_with_a_clear_message_and_no_hint(client, users):
    for _ in range(5):
        page = login(client, "clerk", "wrong-password").get_data(as_text=True)
        assert "用户名或密码错误" in page and "再错" not in page
    response = login(client, "clerk")
    assert response.status_code == 401 and "登录尝试过于频繁" in response.get_data(as_text=True)


def test_a_deactivated_user_is_signed_out_at_the_next_request(web_app, session, users):
    c = logged_in(web_app, "clerk")
    user = session.get(User, users["clerk"].id)
    user.active = False
    session.commit()
    assert c.get("/").status_code == 302


def test_uploads_are_checked_by_their_bytes_not_their_name(web_app, session, users, today):
    case, _ = h.register(session, users, today)
    clerk = logged_in(web_app, "clerk")

    def upload(content: bytes, name: str):
        return clerk.post(f"/cases/{case.id}/uploads", data={"kind": "attachment", "file": (io.BytesIO(content), name)},
                          content_type="multipart/form-data")

    assert upload(b"<html><script>alert(1)</script>", "scan.pdf").status_code == 400
    assert upload(b"%PDF-1.7\n" + b"x" * 100, "申请书.pdf").status_code == 302
    ofd = io.BytesIO()
    with zipfile.ZipFile(ofd, "w") as archive:
        archive.writestr("OFD.xml", "<ofd:OFD/>")
    assert upload(ofd.getvalue(), "答复.ofd").status_code == 302
    assert web_app.config["MAX_CONTENT_LENGTH"] == 20 * 1024 * 1024
    web_app.config["MAX_CONTENT_LENGTH"] = 4096  # the same check, without spooling 20 MB in a test
    response = upload(b"%PDF-1.7\n" + b"x" * 8192, "big.pdf")
    assert response.status_code == 413 and "20 MB" in response.get_data(as_text=True)
    session.expire_all()
    kinds = [u.content_type for u in session.scalars(select(Upload).where(Upload.case_id == case.id))]
    assert kinds == ["application/pdf", "application/ofd"]
    served = clerk.get(f"/uploads/{session.scalar(select(Upload.id).where(Upload.case_id == case.id).limit(1))}")
    assert served.headers["Content-Type"] == "application/pdf" and "attachment" in served.headers["Content-Disposition"]


def test_bad_input_gives_a_message_and_a_4xx_never_a_500(web_app, session, users, today):
    case, _ = h.register(session, users, today)
    clerk = logged_in(web_app, "clerk")
    response = clerk.post("/register", data=registration_form(submitted_on="2026-13-45", name="坏日期"))
    assert response.status_code == 400 and "提交日期格式不正确" in response.get_data(as_text=True)
    assert "坏日期" in response.get_data(as_text=True)
    response = clerk.post("/register", data=registration_form(id_number="110105194912310021"))
    assert response.status_code == 400 and "校验位" in response.get_data(as_text=True)
    assert clerk.post(f"/cases/{case.id}/do/accept", data={"version": "abc"}).status_code == 400
    assert clerk.post(f"/cases/{case.id}/do/accept", data={"version": case.version}).status_code == 400
    assert clerk.get("/cases/999999").status_code == 404
    assert clerk.get("/cases?page=x&received_from=bad&department_id=y").status_code == 200
    assert clerk.get(f"/cases/{case.id}/do/unknown").status_code == 404
    assert clerk.post("/register/duplicates", data="not json", content_type="application/json").status_code == 200


def test_registration_by_plain_letter_waits_for_the_confirmation_date(web_app, session, users):
    clerk = logged_in(web_app, "clerk")
    case_id = register_via_web(clerk, channel="plain_letter")
    case = _case(session, case_id)
    assert case.stage == "received" and case.due_on is None
    response = clerk.post(f"/cases/{case_id}/do/confirm_receipt", data={
        "version": case.version, "confirmed_on": TODAY.isoformat(),
        "late_reason": "" if case.submitted_on == TODAY else "信件周末到达，工作日拆封确认"})
    assert response.status_code == 303
    assert _case(session, case_id).stage == "registered"
    # The receipt is issued on confirmation, with a fresh query code that the clerk sees once.
    page = clerk.get(response.headers["Location"]).get_data(as_text=True)
    flashes = page[page.find("flashes"):page.find("flashes") + 600]
    assert "出具登记回执" in page and "查询码" in page, flashes
    from sqlalchemy import select

    from engine.persistence.models import Letter

    session.expire_all()
    receipt = session.scalar(select(Letter).where(Letter.case_id == case_id, Letter.letter_type == "receipt"))
    assert receipt is not None and receipt.data_snapshot["received_on"] == TODAY.isoformat()


def test_the_duplicate_warning_finds_an_earlier_similar_request(web_app, session, users, today):
    h.register(session, users, today)
    clerk = logged_in(web_app, "clerk")
    response = clerk.post("/register/duplicates", json={
        "applicant_kind": "NATURAL", "name": "张三", "id_number": "11010519491231002X",
        "items": ["2025年度城区老旧小区改造项目的批复文件"]})
    found = response.get_json()["duplicates"]
    assert len(found) == 1 and found[0]["similarity"] >= 0.5 and found[0]["url"].startswith("/cases/")


def test_the_list_filters_searches_and_exports_what_it_shows(web_app, session, users, today):
    h.register(session, users, today, name="王小明", id_number="", items=[("关于滨江路拓宽工程的环评批复", "城乡规划")])
    h.register(session, users, today, name="李华", id_number="", items=[("2024年保障性住房分配名单", "保障性住房")],
               kind="BUSINESS")
    clerk = logged_in(web_app, "clerk")
    page = clerk.get("/cases?q=滨江路").get_data(as_text=True)
    assert "王小明" in page and "李华" not in page
    page = clerk.get("/cases?applicant_kind=BUSINESS").get_data(as_text=True)
    assert "李华" in page and "王小明" not in page
    page = clerk.get("/cases?q=%25_").get_data(as_text=True)
    assert "共 0 件" in page
    csv_text = clerk.get("/cases/export.csv?q=滨江路").data.decode("utf-8-sig")
    assert csv_text.splitlines()[0].startswith("登记编号,申请人") and "王小明" in csv_text and "李华" not in csv_text
    book = load_workbook(io.BytesIO(clerk.get("/cases/export.xlsx?sort=due_asc").data))
    names = [row[1] for row in book.active.iter_rows(min_row=2, values_only=True)]
    assert sorted(names) == ["李华", "王小明"]


def test_a_supplement_request_issues_its_notice_and_a_lapsed_one_closes_the_case(web_app, session, users, today):
    case, _ = h.register(session, users, today)
    clerk = logged_in(web_app, "clerk")
    response = clerk.post(f"/cases/{case.id}/do/request_supplement", data={"confirmed": "1",
        "version": case.version, "items": "请写明所申请批复的文号\n请提供身份证明复印件", "period_working_days": "5"})
    assert response.status_code == 303
    case = _case(session, case.id)
    notice = session.scalar(select(Letter).where(Letter.case_id == case.id, Letter.letter_type == "supplement_notice"))
    assert notice.data_snapshot["period_working_days"] == 5 and len(notice.data_snapshot["items"]) == 2
    response = clerk.post(f"/cases/{case.id}/do/close_lapsed", data={"confirmed": "1", "version": case.version})
    assert response.status_code == 422 and "尚未登记送达" in response.get_data(as_text=True)
    response = clerk.post(f"/cases/{case.id}/do/record_delivery", data={
        "version": case.version, "letter_id": notice.id, "method": "IN_PERSON", "delivered_on": today.isoformat()})
    assert response.status_code == 303
    case = _case(session, case.id)
    assert case.supplement_due_on == default_calendar().add_working_days(today, 5)
    response = clerk.post(f"/cases/{case.id}/do/close_lapsed", data={"confirmed": "1", "version": case.version})
    assert response.status_code == 422 and "期限尚未届满" in response.get_data(as_text=True)
    web_app.config["GONGKAI_TODAY"] = case.supplement_due_on + timedelta(days=1)
    response = clerk.post(f"/cases/{case.id}/do/close_lapsed", data={"confirmed": "1", "version": case.version})
    assert response.status_code == 303
    case = _case(session, case.id)
    assert case.stage == "closed" and case.report_outcome == "LAPSED_SUPPLEMENT"
    termination = session.scalar(select(Letter).where(Letter.case_id == case.id,
                                                      Letter.letter_type == "termination_notice"))
    assert termination.data_snapshot["earlier_notice_number"] == notice.doc_number


def test_the_fee_calculator_quotes_and_the_notice_follows_the_quote(web_app, session, users, today):
    case, _ = h.register(session, users, today)
    h.accept(session, users, case, today)
    handler = logged_in(web_app, "handler")
    form = {"version": case.version + 0, "mode": "PER_PAGE", "units": "120", "earlier_this_month": "0"}
    case = _case(session, case.id)
    form["version"] = case.version
    page = handler.post(f"/cases/{case.id}/do/issue_fee_notice", data={**form, "quote": "1"}).get_data(as_text=True)
    assert "第31—100页" in page and "1100 元" in page  # 70 × 10 + 20 × 20
    confirm = handler.post(f"/cases/{case.id}/do/issue_fee_notice", data=form)  # nothing issued yet: a 样稿
    page = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and "确认收费通知" in page and 'name="confirmed" value="1"' in page
    assert _case(session, case.id).stage == "in_handling" and not _case(session, case.id).fees
    draft_url = re.search(r'src="(/drafts/[^"]+\.pdf)"', page).group(1)
    draft = handler.get(draft_url)
    assert draft.status_code == 200 and draft.data.startswith(b"%PDF")
    from tests.integration.test_letter_rendering import flat, pdf_text
    draft_text = flat(pdf_text(draft.data))
    assert "样稿" in draft_text and "文号待出具时编定" in draft_text
    assert logged_in(web_app, "clerk").get(draft_url).status_code == 404  # only for the user who asked
    response = handler.post(f"/cases/{case.id}/do/issue_fee_notice", data={**form, "confirmed": "1"})
    assert response.status_code == 303
    case = _case(session, case.id)
    assert case.stage == "awaiting_fee" and case.fees[0].amount_yuan == 1100
    issued = session.scalar(select(Letter).where(Letter.case_id == case.id, Letter.letter_type == "fee_notice"))
    assert issued.doc_number and issued.doc_number in flat(pdf_text(issued.pdf))
    assert issued.doc_number not in draft_text  # the 样稿 never shows a made-up number
    assert session.scalar(select(Letter).where(Letter.case_id == case.id, Letter.letter_type == "fee_notice"))


def test_the_office_head_approves_an_extension_and_the_notice_is_issued(web_app, session, users, today):
    case, _ = h.register(session, users, today)
    h.accept(session, users, case, today)
    case = _case(session, case.id)
    original = case.due_on
    head = logged_in(web_app, "office_head")
    response = head.post(f"/cases/{case.id}/do/extend", data={"confirmed": "1", "version": case.version, "working_days": "10",
                                                              "reason": "所涉文件数量较多，需要逐页进行区分处理"})
    assert response.status_code == 303
    case = _case(session, case.id)
    assert case.due_on > original and case.extension_working_days == 10
    letter = session.scalar(select(Letter).where(Letter.case_id == case.id, Letter.letter_type == "extension_notice"))
    assert letter.data_snapshot["original_due_on"] == original.isoformat()


def test_the_case_page_explains_the_due_date_day_by_day(web_app, session, users, today):
    case, _ = h.register(session, users, today)
    page = logged_in(web_app, "clerk").get(f"/cases/{case.id}").get_data(as_text=True)
    assert "为什么是这个日期" in page and "不计入" in page and "周六" in page
    assert "登记申请" in page  # the timeline, from the audit trail


def test_the_admin_manages_users_tokens_and_sees_the_calendar_coverage(web_app, session, users):
    admin = logged_in(web_app, "admin")
    assert "工作日日历" in admin.get("/admin/").get_data(as_text=True)
    response = admin.post("/admin/users", data={"username": "newclerk", "password": "long-password-1",
                                                "roles": ["clerk"], "display_name": "新登记员"})
    assert response.status_code == 303
    new = session.scalar(select(User).where(User.username == "newclerk"))
    newcomer = web_app.test_client()
    assert login(newcomer, "newclerk", "long-password-1").status_code == 302
    assert newcomer.get("/register").status_code == 200
    admin.post(f"/admin/users/{new.id}/deactivate")
    assert login(web_app.test_client(), "newclerk", "long-password-1").status_code == 401
    page = admin.post("/admin/tokens", data={"user_id": users["clerk"].id, "name": "门户对接"}).get_data(as_text=True)
    assert "gk_" in page and "只显示这一次" in page
    assert "gk_" not in admin.get("/admin/tokens").get_data(as_text=True)
    response = admin.post("/admin/agency", data={
        "name": "测试市人民政府办公室", "review_body": "测试市人民政府", "court": "测试市中级人民法院",
        "supplement_period_working_days": "12", "topics": "城乡规划\n教育", "letter_no_pattern": "{prefix}〔{year}〕{n}号",
        "reg_no_pattern": "依申请〔{year}〕{n}号", "archive_no_pattern": "{code}-{year}-XXGK-{retention}-{n}"})
    assert response.status_code == 303
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
    response = admin.post("/admin/agency/seal", data={"seal": (io.BytesIO(png), "seal.png")},
                          content_type="multipart/form-data")
    assert response.status_code == 303
    from engine.persistence.models import Agency

    session.expire_all()
    agency = session.scalar(select(Agency))
    assert agency.supplement_period_working_days == 12 and agency.topics == ["城乡规划", "教育"]
    # The seal lives in the database with the agency (a database-only restore keeps it), its hash audited.
    assert agency.seal_image_data == png and agency.seal_image is None
    assert agency.seal_image_sha256 == hashlib.sha256(png).hexdigest()


def test_an_unconfirmed_plain_letter_waits_on_the_clerks_dashboard_at_risk_with_its_days(web_app, session, users):
    # 条例31(二): the receipt date is the confirmation day; until then the request is at risk, never "no clock".
    from datetime import date

    case, _ = h.register(session, users, date(2026, 2, 25), channel="plain_letter")
    clerk = logged_in(web_app, "clerk")
    page = clerk.get("/").get_data(as_text=True)
    section = page[page.find('id="unconfirmed"'):page.find('id="tasks"')]
    assert case.reg_no in section and "5 日" in section  # TODAY is 2026-03-02
    listing = clerk.get("/cases?stage=received").get_data(as_text=True)
    assert "待确认：已等待 5 日" in listing
    handler_page = logged_in(web_app, "handler").get("/").get_data(as_text=True)
    assert 'id="unconfirmed"' not in handler_page


def test_downloads_are_named_for_people(web_app, session, users, today):
    from urllib.parse import quote

    case, _ = h.register(session, users, today)
    clerk = logged_in(web_app, "clerk")
    receipt = session.scalar(select(Letter).where(Letter.case_id == case.id, Letter.letter_type == "receipt"))
    response = clerk.get(f"/letters/{receipt.id}.pdf")
    disposition = response.headers["Content-Disposition"]
    wanted = f"登记回执-{case.reg_no}.pdf"
    assert case.reg_no.startswith("依申请〔")
    assert disposition == f"attachment; filename=\"letter-{receipt.id}.pdf\"; filename*=UTF-8''{quote(wanted, safe='')}"
