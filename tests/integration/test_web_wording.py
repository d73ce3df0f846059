"""The agency's wording in the admin pages: edit the receipt's contact paragraph, preview it, activate it; the next
receipt the engine issues carries it and the earlier receipt keeps its bytes (issue 20's "done when")."""

from __future__ import annotations

import io
import json
import re
import subprocess

from sqlalchemy import select

from engine.persistence.models import AuditEvent, Letter, LetterWording
from letters import wording
from tests.integration import test_web_support as support
from tests.integration.test_web_support import logged_in, register_via_web

web_app = support.web_app
client = support.client

CONTACT = "如对本回执有疑问，请于工作日拨打{联系电话}与{机关名称}政务公开办公室联系。"


def _receipt(session, case_id) -> Letter:
    session.expire_all()
    return session.scalar(select(Letter).where(Letter.case_id == case_id, Letter.letter_type == "receipt"))

# A page's footer (— 1 —) and the next page's 样稿 mark, where a paragraph runs over a page.
PAGE_BREAK = re.compile(r"—\d+—(?=.)(样稿（未签发）)?")


def _pdf_text(pdf: bytes) -> str:
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    return PAGE_BREAK.sub("", "".join(text.split()))


def _form(slots: dict, **extra) -> dict:
    return {**{f"slot_{name}": text for name, text in slots.items()}, **extra}


def _set_phone(admin, agency) -> None:
    page = admin.get("/admin/agency")
    assert page.status_code == 200
    form = {name: getattr(agency, name) for name in ("name", "reg_no_pattern", "letter_no_prefix",
                                                      "letter_no_pattern", "archive_no_pattern", "review_body",
                                                      "court", "contact", "address", "online_review_channel")}
    form.update(supplement_period_working_days="15", contact_phone="0571-12345678")
    assert admin.post("/admin/agency", data=form).status_code == 303


def test_an_edited_receipt_contact_is_previewed_activated_and_carried_by_the_next_receipt_only(
        web_app, session, agency):
    clerk = logged_in(web_app, "clerk")
    first_case = register_via_web(clerk)
    earlier = _receipt(session, first_case)
    earlier_bytes, earlier_sha = bytes(earlier.pdf), earlier.sha256
    assert earlier.wording_version == 0

    admin = logged_in(web_app, "admin")
    _set_phone(admin, agency)
    index = admin.get("/admin/wording").get_data(as_text=True)
    assert "政府信息公开申请登记回执" in index and "系统默认措辞" in index
    page = admin.get("/admin/wording/receipt").get_data(as_text=True)
    assert "{联系电话}" in page and "联系方式（附注）" in page and "letter-preview" in page

    slots = {**wording.default_slots("receipt"), "contact": CONTACT}
    expected = "如对本回执有疑问，请于工作日拨打0571-12345678与测试市人民政府办公室政务公开办公室联系。"
    preview = admin.post("/admin/wording/receipt", data=_form(slots, action="preview")).get_data(as_text=True)
    assert expected in preview and CONTACT in preview  # the preview, and the text kept in the field
    fragment = admin.post("/admin/wording/receipt/preview", data=_form(slots)).get_data(as_text=True)
    assert expected in fragment
    pdf = admin.post("/admin/wording/receipt/preview.pdf", data=_form(slots))
    assert pdf.status_code == 200 and expected in _pdf_text(pdf.data) and "样稿" in _pdf_text(pdf.data)
    assert session.scalar(select(LetterWording)) is None  # previews save nothing

    saved = admin.post("/admin/wording/receipt", data=_form(slots, action="save", activate="1"))
    assert saved.status_code == 303
    page = admin.get("/admin/wording/receipt").get_data(as_text=True)
    assert "已保存第1版措辞并启用" in page and "使用中" in page and "管理页面" in page
    assert "<del>{联系方式}</del>" in page and f"<ins>{CONTACT}</ins>" in page

    second_case = register_via_web(clerk)
    receipt = _receipt(session, second_case)
    assert receipt.wording_version == 1
    assert receipt.data_snapshot["wording"] == {"version": 1, "slots": slots}
    assert expected in _pdf_text(receipt.pdf)
    again = _receipt(session, first_case)
    assert bytes(again.pdf) == earlier_bytes and again.sha256 == earlier_sha
    assert "0571-12345678与" not in _pdf_text(again.pdf)
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("%letter_wording"))).all()
    assert actions == ["save_letter_wording", "activate_letter_wording"]


def test_refused_wording_is_shown_next_to_its_field_with_the_input_kept(web_app, session):
    admin = logged_in(web_app, "admin")
    slots = {**wording.default_slots("receipt"), "additional": "{{ 7*7 }}", "closing": "<script>alert(1)</script>"}
    response = admin.post("/admin/wording/receipt", data=_form(slots, action="save", activate="1"))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'class="field-error">措辞“补充告知事项”（additional）含有模板语法“{{”' in page
    assert "措辞“结束语”（closing）含有尖括号" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;</textarea>" in page and "<script>alert" not in page
    assert "{{ 7*7 }}</textarea>" in page and "49" not in page.split("<textarea")[1].split("</textarea>")[0]
    assert session.scalar(select(LetterWording)) is None
    fragment = admin.post("/admin/wording/receipt/preview", data=_form({**slots, "closing": ""}))
    assert "这样的措辞不能保存" in fragment.get_data(as_text=True)


def test_versions_can_be_reactivated_and_the_built_in_wording_restored(web_app, session):
    admin = logged_in(web_app, "admin")
    base = wording.default_slots("reply")
    for closing in ("特此答复。", "此复。"):
        response = admin.post("/admin/wording/reply", data=_form({**base, "closing": closing}, action="save",
                                                                  activate="1"))
        assert response.status_code == 303
    assert admin.post("/admin/wording/reply/activate", data={"version": "1"}).status_code == 303
    session.expire_all()
    active = session.scalars(select(LetterWording.version).where(LetterWording.active.is_(True))).all()
    assert active == [1]
    assert admin.post("/admin/wording/reply/activate", data={"version": "0"}).status_code == 303
    session.expire_all()
    assert session.scalars(select(LetterWording.version).where(LetterWording.active.is_(True))).all() == []
    assert "第3版" not in admin.get("/admin/wording/reply").get_data(as_text=True)
    missing = admin.post("/admin/wording/reply/activate", data={"version": "9"}, follow_redirects=True)
    assert "没有第9版措辞" in missing.get_data(as_text=True)


def test_a_province_wording_file_is_imported_all_or_nothing(web_app, session):
    admin = logged_in(web_app, "admin")
    good = {"letters": {"receipt": {"slots": {"closing": "特此回执。"}},
                        "reply": {"slots": {"additional": "如需纸质文书，请凭登记编号{登记编号}到窗口领取。"}}}}
    bad = {"letters": {**good["letters"], "fee_notice": {"slots": {"closing": "{% for x in y %}"}}}}
    refused = admin.post("/admin/wording/import", data={
        "file": (io.BytesIO(json.dumps(bad, ensure_ascii=False).encode()), "江苏.json"), "activate": "1"},
        content_type="multipart/form-data", follow_redirects=True)
    assert "导入未完成，没有保存任何措辞" in refused.get_data(as_text=True)
    assert "政府信息公开信息处理费收费通知书：措辞“结束语”（closing）含有模板语法" in refused.get_data(as_text=True)
    assert session.scalar(select(LetterWording)) is None
    imported = admin.post("/admin/wording/import", data={
        "file": (io.BytesIO(json.dumps(good, ensure_ascii=False).encode()), "江苏.json"), "activate": "1"},
        content_type="multipart/form-data", follow_redirects=True)
    assert "已导入措辞" in imported.get_data(as_text=True)
    session.expire_all()
    rows = session.scalars(select(LetterWording).order_by(LetterWording.letter_type)).all()
    assert [(row.letter_type, row.version, row.active, row.source) for row in rows] == [
        ("receipt", 1, True, "导入：江苏.json"), ("reply", 1, True, "导入：江苏.json")]


def test_only_administrators_reach_the_wording_pages(web_app):
    clerk = logged_in(web_app, "clerk")
    assert clerk.get("/admin/wording/receipt").status_code == 403
    assert clerk.post("/admin/wording/receipt", data={"action": "save"}).status_code == 403


def test_the_preview_says_which_paragraph_is_left_out_for_a_placeholder_without_a_value(web_app):
    admin = logged_in(web_app, "admin")  # the test agency has no contact phone set
    slots = {**wording.default_slots("receipt"), "contact": "咨询电话：{联系电话}"}
    fragment = admin.post("/admin/wording/receipt/preview", data=_form(slots)).get_data(as_text=True)
    assert "措辞“联系方式（附注）”用到的 {联系电话} 在本文书中没有值，这一段不会印出" in fragment
    assert "咨询电话：" not in fragment.split('class="letter-preview"')[1]
