"""Records that cannot be rewritten: each case keeps the applicant it was registered with, a change of applicant
data is an audited action refused once archived, files are checked against their recorded hash when served, and
the seal lives in the database."""

from __future__ import annotations

import hashlib
import io
from datetime import date

import pytest
from PIL import Image
from sqlalchemy import select, text

from engine import services
from engine.errors import WorkflowError
from engine.persistence.audit_verify import verify_audit
from engine.persistence.models import Agency, AuditEvent, Case, Letter, Upload
from engine.services import ApplicantForm
from engine.services.uploads import UploadedFile, attach
from tests.conftest import TODAY
from tests.integration import helpers_cases as h
from tests.integration import test_web_support as support
from tests.integration.test_archive_export import scan_png
from tests.integration.test_web_support import logged_in, register_via_web

web_app = support.web_app
ID = "11010519491231002X"


def _archived(session, users, name="张三"):
    case, _ = h.register(session, users, TODAY, name=name, id_number=ID)
    h.accept(session, users, case, TODAY)
    h.decide_disclosed(session, users, case, TODAY)
    h.review_and_sign(session, users, case, TODAY)
    services.record_delivery(session, case.id, method="POST", delivered_on=date(2026, 3, 4), tracking_no="EMS1",
                             actor=users["clerk"], today=date(2026, 3, 4))
    services.archive(session, case.id, actor=users["archivist"], today=date(2026, 3, 10))
    session.commit()
    return case


def test_a_new_registration_with_the_same_id_number_leaves_the_archived_case_as_it_was(web_app, session, users):
    archived = _archived(session, users)
    version = archived.version
    clerk = logged_in(web_app, "clerk")
    new_id = register_via_web(clerk, name="李四", id_number=ID, phone="13911112222")
    session.expire_all()
    old = session.get(Case, archived.id)
    assert old.applicant.name == "张三" and old.applicant.phone == "13800000000" and old.version == version
    assert session.get(Case, new_id).applicant.name == "李四"
    assert "张三" in clerk.get(f"/cases/{archived.id}").get_data(as_text=True)
    assert verify_audit(session).problems == []


def test_the_case_file_export_uses_the_case_s_own_applicant(session, users):
    from datetime import UTC, datetime

    from engine.services.casefile_collect import collect_case_file

    archived = _archived(session, users)
    h.register(session, users, TODAY, name="李四", id_number=ID)
    session.expire_all()
    data = collect_case_file(session, session.get(Case, archived.id), exported_at=datetime(2026, 4, 1, tzinfo=UTC))
    assert "张三" in str(data) and "李四" not in str(data)


def test_changing_a_case_s_applicant_is_an_audited_action_on_that_case_only(session, users):
    first, _ = h.register(session, users, TODAY, name="张三", id_number=ID)
    second, _ = h.register(session, users, TODAY, name="张三", id_number=ID)
    form = ApplicantForm(kind="NATURAL", name="张三", id_type="居民身份证", id_number=ID, phone="13700000000",
                         address="测试市解放路9号")
    services.update_applicant(session, second.id, form, actor=users["clerk"], today=TODAY, version=second.version)
    session.commit()
    session.expire_all()
    assert session.get(Case, first.id).applicant.phone == "13800000000"
    assert session.get(Case, second.id).applicant.phone == "13700000000"
    event = session.scalar(select(AuditEvent).where(AuditEvent.case_id == second.id)
                           .order_by(AuditEvent.seq.desc()))
    assert event.action == "update_applicant"
    assert event.changes["applicant"]["phone"] == {"before": "13800000000", "after": "13700000000"}
    assert verify_audit(session).problems == []


def test_a_shared_applicant_row_from_before_is_copied_before_it_is_changed(session, users):
    first, _ = h.register(session, users, TODAY, name="张三", id_number=ID)
    second, _ = h.register(session, users, TODAY, name="张三", id_number=ID)
    # A database written before snapshots: two cases on one row (and their audit baselines accepted that).
    session.execute(text("UPDATE cases SET applicant_id = :a WHERE id = :c"), {"a": first.applicant_id,
                                                                                 "c": second.id})
    session.commit()
    session.expire_all()
    form = ApplicantForm(kind="NATURAL", name="张三丰", id_type="居民身份证", id_number=ID, phone="13800000000")
    services.update_applicant(session, second.id, form, actor=users["clerk"], today=TODAY)
    session.commit()
    session.expire_all()
    assert session.get(Case, first.id).applicant.name == "张三"
    assert session.get(Case, second.id).applicant.name == "张三丰"


def test_changing_an_archived_case_s_applicant_is_refused(session, users):
    archived = _archived(session, users)
    form = ApplicantForm(kind="NATURAL", name="王五", phone="13800000000")
    with pytest.raises(WorkflowError, match="已归档"):
        services.update_applicant(session, archived.id, form, actor=users["clerk"], today=TODAY)


def _with_upload(session, users):
    case, _ = h.register(session, users, TODAY)
    attach(session, case, UploadedFile("scan.png", scan_png()), kind="application", actor=users["clerk"])
    session.commit()
    return case


def test_a_letter_or_upload_whose_bytes_changed_is_refused_when_served_and_not_given_the_old_hash(web_app, session,
                                                                                                   users, caplog):
    from engine.services.accounts import create_token

    case = _with_upload(session, users)
    receipt = session.scalar(select(Letter).where(Letter.case_id == case.id))
    upload = session.scalar(select(Upload).where(Upload.case_id == case.id))
    token = create_token(session, users["clerk"])
    session.commit()
    clerk = logged_in(web_app, "clerk")
    assert clerk.get(f"/letters/{receipt.id}.pdf").status_code == 200
    api = web_app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    assert api.get(f"/api/v1/cases/{case.id}/letters/{receipt.id}.pdf", headers=headers).status_code == 200
    assert clerk.get(f"/uploads/{upload.id}").status_code == 200
    forged = receipt.pdf.replace(b"%%EOF", b"%%EOF\n% edited")
    session.execute(text("UPDATE letters SET pdf = :p WHERE id = :i"), {"p": forged, "i": receipt.id})
    # The row's hash rewritten to match: the audit event's hash still tells.
    session.execute(text("UPDATE uploads SET content = :c, sha256 = :s WHERE id = :i"),
                    {"c": b"\x89PNG\r\n\x1a\nforged", "s": hashlib.sha256(b"\x89PNG\r\n\x1a\nforged").hexdigest(),
                     "i": upload.id})
    session.commit()
    for response in (clerk.get(f"/letters/{receipt.id}.pdf"), clerk.get(f"/uploads/{upload.id}")):
        assert response.status_code == 409 and "哈希不符" in response.get_data(as_text=True)
        assert response.mimetype == "text/html"
    refused = api.get(f"/api/v1/cases/{case.id}/letters/{receipt.id}.pdf", headers=headers)
    assert refused.status_code == 409 and "X-Content-SHA256" not in refused.headers
    assert refused.get_json()["code"] == "integrity" and "哈希不符" in refused.get_json()["detail"]
    assert any("integrity" in r.getMessage() for r in caplog.records if r.name == "gongkai.integrity")


def test_a_letter_asked_for_by_another_agency_s_user_or_by_an_absurd_id_is_not_found(session, users):
    from engine.errors import NotFound
    from engine.services.downloads import letter_for_download

    case = _with_upload(session, users)
    receipt = session.scalar(select(Letter).where(Letter.case_id == case.id))
    stranger = type("Stranger", (), {"agency_id": -1})()
    for letter_id, actor in ((receipt.id, stranger), (2**31, users["clerk"]), (10**30, users["clerk"])):
        with pytest.raises(NotFound):
            letter_for_download(session, letter_id, actor)


def _png() -> bytes:
    image = Image.new("RGB", (120, 120), "red")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def test_the_seal_is_kept_in_the_database_and_signs_letters_after_the_file_is_gone(session, users, tmp_path,
                                                                                      monkeypatch):
    from engine.config import load_settings
    from engine.services.agency_admin import set_seal_image
    from webui.letters_adapter import renderer_for, seal_file

    monkeypatch.setenv("GONGKAI_VAR_DIR", str(tmp_path / "var"))
    load_settings.cache_clear()
    try:
        png = _png()
        set_seal_image(session, png, actor=users["admin"])
        session.commit()
        agency = session.get(Agency, users["admin"].agency_id)
        agency.settings = {k: v for k, v in (agency.settings or {}).items() if k != "seal_placeholder"}
        session.commit()
        assert agency.seal_image_data == png
        path = seal_file(agency)
        path.unlink()  # a database-only restore: no file under var/
        rendered = renderer_for(agency)("receipt", _receipt_data(session, users))
        assert b"/Subtype /Image" in rendered.pdf or b"/Subtype/Image" in rendered.pdf
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "upload_seal"))
        assert event.changes["sha256"] == hashlib.sha256(png).hexdigest()
    finally:
        load_settings.cache_clear()


def _receipt_data(session, users) -> dict:
    case, _ = h.register(session, users, TODAY)
    return session.scalar(select(Letter.data_snapshot).where(Letter.case_id == case.id))


def test_a_seal_file_path_from_an_older_database_is_read_into_the_database_by_the_migration(tmp_path):
    from engine.persistence import db as dbmod

    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    dbmod.upgrade(url, "annual_report_contents")
    seal = tmp_path / "seal.png"
    png = _png()
    seal.write_bytes(png)
    engine = dbmod.make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO agencies (code, name, reg_no_pattern, letter_no_prefix, letter_no_pattern, "
                          "archive_no_pattern, review_body, court, contact, address, online_review_channel, "
                          "seal_image, supplement_period_working_days, fee_pauses_clock, online_manual_confirmation, "
                          "topics, settings, audit_seq, audit_head_hash, created_at) VALUES ('OLD', '旧机关', "
                          "'{n}', '', '{n}', '{n}', '', '', '', '', '', :p, 15, 1, 0, '[]', '{}', 0, :h, "
                          "'2026-01-01 00:00:00')"), {"p": str(seal), "h": "0" * 64})
    engine.dispose()
    dbmod.upgrade(url)
    engine = dbmod.make_engine(url)
    with engine.connect() as conn:
        data, digest = conn.execute(text("SELECT seal_image_data, seal_image_sha256 FROM agencies")).one()
    engine.dispose()
    assert bytes(data) == png and digest == hashlib.sha256(png).hexdigest()


def test_id_numbers_and_phones_are_masked_and_showing_them_in_full_is_logged(web_app, session, users):
    from engine.rules.personal_data import mask_id_number, mask_phone
    from engine.services.accounts import create_token

    assert mask_id_number("11010519491231002X") == "110105********002X"
    assert mask_phone("13800000000") == "138****0000"
    case, _ = h.register(session, users, TODAY, id_number=ID)
    token = create_token(session, users["clerk"])
    session.commit()
    clerk = logged_in(web_app, "clerk")
    page = clerk.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "110105********002X" in page and ID not in page and "13800000000" not in page
    shown = clerk.post(f"/cases/{case.id}/reveal")
    assert shown.status_code == 200 and ID in shown.get_data(as_text=True)
    session.expire_all()
    event = session.scalar(select(AuditEvent).where(AuditEvent.case_id == case.id).order_by(AuditEvent.seq.desc()))
    assert event.action == "reveal_personal_data" and event.actor_id == users["clerk"].id
    assert ID not in clerk.get(f"/cases/{case.id}").get_data(as_text=True)  # only for that one page
    api = web_app.test_client().get(f"/api/v1/cases/{case.id}", headers={"Authorization": f"Bearer {token}"})
    assert api.get_json()["applicant"]["id_number"] == "110105********002X"
    assert verify_audit(session).problems == []
