"""Input never breaks a page: NUL bytes, over-long fields, integers beyond 2³¹, years and dates out of range and
formula-looking text each get a Chinese refusal (or a 404 for an id that cannot exist), the form keeps what was
typed, and no stored value can break an export."""

from __future__ import annotations

import csv
import io
from urllib.parse import quote

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, text

from engine.persistence.models import Applicant, Case, Department
from tests.conftest import TODAY
from tests.integration import helpers_cases as h
from tests.integration import test_web_support as support
from tests.integration.test_web_support import logged_in, registration_form

web_app = support.web_app
BIG = str(2**31)
HUGE = "9" * 30


def _page(response) -> str:
    return response.get_data(as_text=True)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("name", "张\x00三", "控制字符"),
    ("address", "测试市\x00解放路", "控制字符"),
    ("item_description", "某\x00文件", "控制字符"),
    ("item_description", "不予\u202e公开", "文字显示方向"),  # a right-to-left override: shown reversed
    ("purpose", "用途\x07", "控制字符"),
    ("phone", "1" * 61, "联系电话过长"),
    ("email", "a" * 115 + "@x.com", "电子邮箱过长"),
    ("postal_code", "1" * 13, "邮政编码过长"),
    ("contact_person", "联" * 61, "联系人过长"),
    ("id_type", "证" * 41, "证件类型过长"),
    ("requested_form", "纸" * 101, "提供形式过长"),
    ("submitted_on", "2006-05-08", "工作日日历的范围"),
])
def test_a_bad_registration_field_is_refused_beside_the_field_and_the_form_keeps_the_input(web_app, session, field,
                                                                                           value, message):
    clerk = logged_in(web_app, "clerk")
    form = registration_form(**{field: [value] if field == "item_description" else value})
    form["contact_person"] = form.get("contact_person") or "保留的联系人"
    response = clerk.post("/register", data=form)
    page = _page(response)
    assert response.status_code == 400, page[:500]
    assert message in page and 'class="field-error"' in page
    assert "保留的联系人" in page or field == "contact_person"
    assert session.scalar(select(Case.id)) is None


def test_more_items_than_the_api_allows_are_refused_on_the_web_form_too(web_app, session):
    clerk = logged_in(web_app, "clerk")
    response = clerk.post("/register", data=registration_form(item_description=[f"文件{i}" for i in range(2000)]))
    assert response.status_code == 400 and "最多 50 项" in _page(response)


def test_a_nul_in_the_login_name_is_a_plain_failed_login(web_app):
    response = web_app.test_client().post("/login", data={"username": "clerk\x00", "password": "x"})
    assert response.status_code == 401 and "用户名或密码错误" in _page(response)


@pytest.mark.parametrize("path", [
    f"/cases/{BIG}", f"/cases/{HUGE}", f"/letters/{BIG}.pdf", f"/uploads/{HUGE}", f"/cases/{BIG}/do/withdraw",
    "/reports/annual/99999.json", "/reports/annual/1999.xlsx", f"/reports/annual/{HUGE}/cell/R1/TOTAL",
    f"/archive/cases/{BIG}",
])
def test_ids_and_years_that_cannot_exist_are_not_found(web_app, path):
    admin_like = logged_in(web_app, "admin")
    assert admin_like.get(path).status_code == 404


@pytest.mark.parametrize("query", [
    "q=%00", "q=%07abc", f"page={HUGE}", f"page={BIG}", f"department_id={HUGE}", "page=-5", "department_id=abc",
    # Registration numbers, which the search asks the index for by their last word (case_list.index_piece).
    "q=" + quote("依申请〔" + "9" * 100_000 + "〕号"), "q=" + quote("〔〕号"), "q=" + quote("%_\\〔2026〕1号"),
    "q=" + quote("a\x00〔2026〕1号"), "q=" + quote(" 【2026】 1 "),
])
def test_hostile_case_list_queries_show_the_list(web_app, query):
    response = logged_in(web_app, "clerk").get(f"/cases?{query}")
    assert response.status_code == 200


@pytest.mark.parametrize("path", [f"/archive?page={HUGE}", f"/exemptions?page={HUGE}&department_id={HUGE}"])
def test_hostile_page_numbers_elsewhere_show_the_page(web_app, path):
    assert logged_in(web_app, "admin").get(path).status_code in (200, 403)
    assert logged_in(web_app, "legal_reviewer").get(path).status_code in (200, 403)


def test_reasons_notes_and_tracking_numbers_with_control_characters_or_too_long_are_refused(web_app, session, users):
    case, _ = h.register(session, users, TODAY)
    clerk = logged_in(web_app, "clerk")
    response = clerk.post(f"/cases/{case.id}/do/withdraw", data={"version": case.version, "reason": "撤回\x00"})
    assert response.status_code == 400 and "控制字符" in _page(response)
    session.expire_all()
    assert session.get(Case, case.id).stage == "registered"


def test_department_token_and_user_names_are_checked(web_app, session, users):
    admin = logged_in(web_app, "admin")
    response = admin.post("/admin/departments", data={"name": "科\x00室"})
    assert response.status_code in (303, 400) and session.scalar(
        select(Department).where(Department.name.like("科%"))) is None
    page = _page(admin.post("/admin/tokens", data={"user_id": users["clerk"].id, "name": "门户\x00"},
                            follow_redirects=True))
    assert "控制字符" in page and "gk_" not in page
    page = _page(admin.post("/admin/users", data={"username": "u" * 61, "password": "long-password-123",
                                                  "roles": ["clerk"]}, follow_redirects=True))
    assert "用户名过长" in page


def test_a_bad_numbering_pattern_is_refused_on_save(web_app, session):
    admin = logged_in(web_app, "admin")
    base = {"name": "测试市人民政府办公室", "review_body": "测试市人民政府", "court": "测试市中级人民法院",
            "supplement_period_working_days": "12", "letter_no_pattern": "{prefix}〔{year}〕{n}号",
            "reg_no_pattern": "依申请〔{year}〕{n}号", "archive_no_pattern": "{code}-{year}-XXGK-{retention}-{n}"}
    for bad, words in (("依申请〔{year}〕号", "{n}"), ("依申请{x}{n}", "{x}"), ("依申请{n", "花括号"),
                       ("{n:>>5}", "格式说明"), ("{year!r}{n}", "格式说明")):
        response = admin.post("/admin/agency", data={**base, "reg_no_pattern": bad}, follow_redirects=True)
        assert words in _page(response), bad
    assert admin.post("/admin/agency", data={**base, "reg_no_pattern": "依申请〔{year}〕{n:03d}号"}).status_code == 303
    clerk = logged_in(web_app, "clerk")
    assert clerk.post("/register", data=registration_form()).status_code == 302


def test_a_control_character_already_stored_does_not_break_the_exports(web_app, session, users):
    case, _ = h.register(session, users, TODAY)
    session.execute(text("UPDATE applicants SET name = :n WHERE id = :a"), {"n": "=HYPERLINK(\"x\")\x07", "a":
                                                                             case.applicant_id})
    session.commit()
    clerk = logged_in(web_app, "clerk")
    response = clerk.get("/cases/export.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    cell = sheet.cell(row=2, column=2)
    assert cell.value == '=HYPERLINK("x")' and cell.data_type == "s"
    rows = list(csv.reader(io.StringIO(_page(clerk.get("/cases/export.csv")).lstrip("\ufeff"))))
    assert rows[1][1] == "'=HYPERLINK(\"x\")"


def test_a_bidi_override_stored_before_the_rule_does_not_stop_its_case_but_a_new_one_is_refused(session, users):
    from engine.errors import InvalidInput

    case, _ = h.register(session, users, TODAY)
    session.execute(text("UPDATE cases SET purpose = :p WHERE id = :c"), {"p": "科研\u202e用途", "c": case.id})
    session.commit()
    session.expire_all()
    case = session.get(Case, case.id)
    assert "\u202e" in case.purpose  # loaded with the row
    case.requested_delivery = "邮寄"  # another change of the same row is written
    session.flush()
    case.purpose = "新的\u202e用途"
    with pytest.raises(InvalidInput, match="控制字符"):
        session.flush()
    session.rollback()


def test_repeated_request_statistics_csv_neutralises_formulas(web_app, session, users):
    for name, number in (("甲", "11010519491231002X"), ("乙", "110105198001010016")):
        h.register(session, users, TODAY, name=name, id_number=number,
                   items=[("=cmd|' /C calc'!A0 城区老旧小区改造项目批复文件", "城乡规划")])
    response = logged_in(web_app, "office_head").get(f"/reports/statistics/repeated.csv?year={TODAY.year}")
    rows = list(csv.reader(io.StringIO(_page(response).lstrip("\ufeff"))))
    assert any(row and row[0].startswith("'=cmd") for row in rows[1:]), rows
    assert not any(row and row[0].startswith("=") for row in rows)


def test_the_api_exemption_log_has_the_roles_of_the_web_page(web_app, session, users):
    from engine.services.accounts import create_token

    tokens = {role: create_token(session, users[role]) for role in ("clerk", "legal_reviewer")}
    session.commit()
    client = web_app.test_client()
    denied = client.get("/api/v1/exemptions", headers={"Authorization": f"Bearer {tokens['clerk']}"})
    assert denied.status_code == 403 and denied.get_json()["code"] == "forbidden"
    assert logged_in(web_app, "clerk").get("/exemptions").status_code == 403
    allowed = client.get("/api/v1/exemptions", headers={"Authorization": f"Bearer {tokens['legal_reviewer']}"})
    assert allowed.status_code == 200


def test_a_database_outage_is_503_with_retry_after(tmp_path):
    from webui.app import create_app

    app = create_app({"DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/none", "TESTING": True,
                      "SECRET_KEY": "s", "WTF_CSRF_ENABLED": False, "GONGKAI_TODAY": TODAY})
    client = app.test_client()
    response = client.get("/api/v1/cases", headers={"Authorization": "Bearer gk_whatever"})
    assert response.status_code == 503 and response.headers["Retry-After"].isdigit()
    assert response.get_json()["code"] == "unavailable"
    page = client.post("/login", data={"username": "clerk", "password": "x"})
    assert page.status_code == 503 and page.headers["Retry-After"].isdigit() and "数据库" in _page(page)


def test_the_applicant_row_limits_come_from_the_columns():
    from engine.persistence import limits

    assert limits.APPLICANT_FIELDS["phone"] == Applicant.__table__.c.phone.type.length
    assert limits.MAX_ITEMS == 50
