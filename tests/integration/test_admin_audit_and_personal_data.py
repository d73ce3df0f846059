"""Issue 17, the rest: a one-person office's signatures marked in the exemption log (page and exports) and on the
case page; the admin audit page (who changed what, when — admin only, filterable, paginated, in Chinese);
ID numbers and phones masked in every list, page and export, and personal-data exports audited."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from engine.persistence.models import Agency, AuditEvent, Case
from engine.services import accounts, agency_admin
from tests.conftest import PASSWORD

from .helpers_cases import accept, decide_partial, register, review_and_sign

ID_NUMBER = "11010519491231002X"
PHONE = "13800000000"


@pytest.fixture
def web(db_url, users):
    from webui.app import create_app
    from webui.db import get_engine

    app = create_app({"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "t", "WTF_CSRF_ENABLED": False,
                      "GONGKAI_TODAY": date(2026, 3, 20)})

    def signed_in(username: str):
        client = app.test_client()
        assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302
        return client

    yield signed_in
    with app.app_context():
        get_engine().dispose()


def one_person_signature(session, agency, users, password_hash, monkeypatch, today):
    """A case whose handler is also its signer, in an agency set up as a one-person office."""
    monkeypatch.setattr(accounts, "hash_password", lambda _pw: password_hash)
    both = accounts.add_user(session, session.get(Agency, agency.id), "both", PASSWORD,
                             ["handler", "legal_reviewer"], display_name="兼任人")
    row = session.get(Agency, agency.id)
    row.settings = {**(row.settings or {}), "one_person_office": True}
    session.commit()
    alone = {**users, "handler": both, "legal_reviewer": both}
    case, _ = register(session, users, today)
    accept(session, alone, case, today)
    decide_partial(session, alone, case, today)
    letter = review_and_sign(session, alone, case, today)
    return case, letter


def test_a_one_person_office_signature_is_marked_in_the_exemption_log_its_exports_and_the_case_page(
        session, agency, users, password_hash, monkeypatch, today, web):
    waived_case, letter = one_person_signature(session, agency, users, password_hash, monkeypatch, today)
    normal, _ = register(session, users, today, name="李四", id_number="110105195001010012")
    accept(session, users, normal, today)
    decide_partial(session, users, normal, today)
    review_and_sign(session, users, normal, today)
    client = web("legal_reviewer")

    page = client.get("/exemptions").get_data(as_text=True)
    rows = {chunk.split("</a>")[0].rsplit(">", 1)[-1]: chunk for chunk in page.split("<tr>")[1:] if "</a>" in chunk}
    assert "职责分离已豁免（一人办公室）" in rows[waived_case.reg_no]
    assert "职责分离已豁免" not in rows[normal.reg_no]

    exported = client.get("/exemptions.csv")
    assert exported.status_code == 200
    table = list(csv.reader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    assert table[0][-1] == "签发职责分离"
    marks = {line[0]: line[-1] for line in table[1:]}
    assert marks == {waived_case.reg_no: "已豁免（一人办公室）", normal.reg_no: ""}

    book = client.get("/exemptions.xlsx")
    assert book.status_code == 200
    sheet = load_workbook(io.BytesIO(book.data)).active
    values = {r[0]: r[-1] for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert values == {waived_case.reg_no: "已豁免（一人办公室）", normal.reg_no: None}
    assert web("clerk").get("/exemptions.csv").status_code == 403

    shown = client.get(f"/cases/{waived_case.id}").get_data(as_text=True)
    assert "职责分离已豁免（一人办公室）" in shown
    assert "职责分离已豁免" not in client.get(f"/cases/{normal.id}").get_data(as_text=True)
    sign = session.scalar(select(AuditEvent).where(AuditEvent.case_id == waived_case.id, AuditEvent.action == "sign"))
    assert sign.changes["letter_id"] == letter.id and sign.changes["separation_of_duties_waived"] is True


def test_the_one_person_office_setting_is_on_the_agency_page_and_its_change_is_audited(session, agency, web):
    client = web("admin")
    page = client.get("/admin/agency").get_data(as_text=True)
    assert 'name="one_person_office"' in page
    row = session.get(Agency, agency.id)
    form = {name: getattr(row, name) or "" for name in agency_admin.AGENCY_TEXT_FIELDS}
    form.update(supplement_period_working_days="15", one_person_office="1", seal_placeholder="1")
    assert client.post("/admin/agency", data=form).status_code == 303
    session.expire_all()
    assert session.get(Agency, agency.id).settings["one_person_office"] is True
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "update_agency_settings")
                           .order_by(AuditEvent.id.desc()).limit(1))
    assert event.changes["one_person_office"] == {"before": None, "after": True}
    audit = client.get("/admin/audit?action=update_agency_settings").get_data(as_text=True)
    assert "修改机关设置" in audit and "一人办公室（豁免职责分离）：（空） → 是" in audit


def test_the_admin_audit_page_shows_who_changed_what_and_when_in_chinese(session, agency, users, web, today):
    client = web("admin")
    assert client.post("/admin/users", data={"username": "zhao", "password": "a-long-password-9",
                                             "roles": ["clerk"], "display_name": "赵六"}).status_code == 303
    zhao = session.scalar(select(accounts.User).where(accounts.User.username == "zhao"))
    assert client.post(f"/admin/users/{zhao.id}/roles", data={"roles": ["clerk", "handler"]}).status_code == 303
    assert client.post(f"/admin/users/{zhao.id}/reset_password",
                       data={"password": "another-long-password-7"}).status_code == 303
    assert client.post(f"/admin/users/{zhao.id}/deactivate").status_code == 303
    assert client.post("/admin/tokens", data={"user_id": users["clerk"].id, "name": "门户对接"}).status_code == 200
    register(session, users, today)  # a case event: not administration, not on this page

    page = client.get("/admin/audit")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for label in ("新增用户", "修改角色", "重置密码", "停用用户", "创建 API 令牌"):
        assert label in html
    assert "角色：登记员 → 登记员、承办人" in html  # what changed, with readable role names
    assert "admin用户" in html  # who
    assert "登记申请" not in html and "register_request" not in html

    roles_only = client.get("/admin/audit?action=user_roles").get_data(as_text=True)
    assert "修改角色" in roles_only and "重置密码" not in roles_only.split('id="admin-audit"')[1]
    assert "共 1 条" in roles_only
    by_actor = client.get("/admin/audit?actor=nobody").get_data(as_text=True)
    assert "共 0 条" in by_actor
    future = client.get("/admin/audit?from=2099-01-01").get_data(as_text=True)
    assert "共 0 条" in future
    bad_date = client.get("/admin/audit?from=2026-13-45")
    assert bad_date.status_code == 200 and "格式应为 YYYY-MM-DD" in bad_date.get_data(as_text=True)
    for role in ("clerk", "handler", "legal_reviewer", "office_head", "archivist"):
        assert web(role).get("/admin/audit").status_code == 403


def test_the_admin_audit_page_is_paginated_and_shows_only_its_own_agency(session, agency, users, web):
    for n in range(55):
        agency_admin.create_department(session, f"部门{n:02d}", actor=users["admin"])
    other = accounts.add_agency(session, "OTHER", "另一机关")
    accounts.add_user(session, other, "otheradmin", "a-long-password-x", ["admin"])
    session.commit()
    client = web("admin")
    first = client.get("/admin/audit?action=add_department").get_data(as_text=True)
    assert "共 55 条" in first and "第 1 / 2 页" in first and "部门54" in first and "部门00" not in first
    second = client.get("/admin/audit?action=add_department&page=2").get_data(as_text=True)
    assert "部门00" in second and "部门54" not in second
    assert "另一机关" not in client.get("/admin/audit?page=99999999999").get_data(as_text=True)


def test_id_numbers_and_phones_are_masked_in_every_list_page_and_export(session, agency, users, web, today):
    case, _ = register(session, users, today)
    client = web("admin")
    pages = ["/cases", f"/cases?q={case.reg_no}", "/cases?q=%E5%BC%A0%E4%B8%89", "/",
             f"/cases/{case.id}", "/reports/statistics", "/reports/statistics/repeated.csv",
             "/cases/export.csv", "/exemptions"]
    for url in pages:
        response = client.get(url, follow_redirects=True)
        assert response.status_code == 200, url
        text = response.get_data(as_text=True)
        assert ID_NUMBER not in text and PHONE not in text, url
    shown = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "110105********002X" in shown and "138****0000" in shown
    workbook = client.get("/cases/export.xlsx")
    assert workbook.status_code == 200
    cells = " ".join(str(v) for row in load_workbook(io.BytesIO(workbook.data)).active.iter_rows(values_only=True)
                     for v in row)
    assert "张三" in cells and ID_NUMBER not in cells and PHONE not in cells


def test_exports_with_personal_data_and_full_views_are_audited_and_shown_to_the_admin(session, agency, users, web,
                                                                                     today):
    case, _ = register(session, users, today)
    clerk = web("clerk")
    assert clerk.get("/cases/export.csv?stage=registered").status_code == 200
    assert clerk.get("/cases/export.xlsx").status_code == 200
    revealed = clerk.post(f"/cases/{case.id}/reveal").get_data(as_text=True)
    assert ID_NUMBER in revealed
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "export_personal_data")
                             .order_by(AuditEvent.seq)).all()
    assert [(e.actor_id, e.changes["export"], e.changes["rows"]) for e in events] == [
        (users["clerk"].id, "申请列表（CSV）", 1), (users["clerk"].id, "申请列表（Excel）", 1)]
    assert events[0].changes["filter"] == "stage=registered"
    page = web("admin").get("/admin/audit").get_data(as_text=True)
    assert page.count("导出含个人信息的数据") >= 2 + 1  # two rows and the filter's option
    assert "导出：申请列表（CSV）" in page and "筛选条件：stage=registered" in page
    assert "查看完整个人信息" in page and "clerk用户" in page


def test_a_case_file_export_is_audited_as_a_personal_data_export(session, agency, users, web, today):
    case, _ = register(session, users, today)
    session.execute(Case.__table__.update().where(Case.id == case.id).values(stage="archived", archive_no="2026-WS10-0001"))
    session.commit()
    web("archivist").post(f"/cases/{case.id}/casefile")
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "export_personal_data"))
    assert event is not None and event.changes == {"export": "案卷导出", "reg_no": case.reg_no}
    assert event.actor_id == users["archivist"].id
