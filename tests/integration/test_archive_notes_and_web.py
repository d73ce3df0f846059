"""备考 notes appended to archived case files, and the archivist's export pages (one case, a year in the background)."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest
from sqlalchemy import select

from engine.errors import InvalidInput, PermissionDenied, RuleViolation
from engine.persistence.audit import verify_chain
from engine.persistence.models import ArchiveNote, AuditEvent
from engine.services.archiving import append_archive_note
from tests.conftest import PASSWORD
from webui.archive_export.verify import verify_case_zip

from .helpers_cases import register
from .test_archive_export import make_archived_case

LATER = date(2026, 4, 21)


def test_a_note_is_appended_to_an_archived_case_with_an_audit_event(session, agency, users):
    case = make_archived_case(session, users)
    note = append_archive_note(session, case.id, text="2026年4月15日邮寄的答复书被退回，已改为当面送达。",
                               noted_on=date(2026, 4, 16), actor=users["clerk"], today=LATER)
    session.commit()
    notes = session.scalars(select(ArchiveNote).where(ArchiveNote.case_id == case.id).order_by(ArchiveNote.id)).all()
    assert [n.text for n in notes][-1].startswith("2026年4月15日邮寄的答复书被退回")
    assert note.author_id == users["clerk"].id
    last = session.scalar(select(AuditEvent).where(AuditEvent.case_id == case.id).order_by(AuditEvent.seq.desc()))
    assert last.action == "append_archive_note" and last.stage_before == last.stage_after == "archived"
    assert verify_chain(session, agency) is None


def test_a_note_on_a_case_that_is_not_archived_is_refused(session, agency, users):
    case, _ = register(session, users, date(2026, 3, 2))
    with pytest.raises(RuleViolation, match="只有已归档的案卷才能追加备考记录"):
        append_archive_note(session, case.id, text="复议结果维持", noted_on=LATER, actor=users["archivist"],
                            today=LATER)


def test_only_archivists_and_clerks_append_notes_and_only_dated_from_archiving_to_today(session, agency, users):
    case = make_archived_case(session, users)
    with pytest.raises(PermissionDenied):
        append_archive_note(session, case.id, text="复议结果维持", noted_on=LATER, actor=users["handler"], today=LATER)
    with pytest.raises(InvalidInput, match="不能早于归档日期"):
        append_archive_note(session, case.id, text="复议结果维持", noted_on=date(2026, 3, 9),
                            actor=users["archivist"], today=LATER)
    with pytest.raises(InvalidInput, match="不能晚于今天"):
        append_archive_note(session, case.id, text="复议结果维持", noted_on=date(2026, 4, 22),
                            actor=users["archivist"], today=LATER)
    with pytest.raises(InvalidInput, match="请填写备考记录的内容"):
        append_archive_note(session, case.id, text="  ", noted_on=LATER, actor=users["archivist"], today=LATER)


# ---------------------------------------------------------------- web pages

@pytest.fixture
def archive_app(db_url, agency, users, tmp_path):
    from webui.app import create_app
    from webui.db import get_engine

    app = create_app({"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "test-secret",
                      "WTF_CSRF_ENABLED": False, "GONGKAI_TODAY": LATER})
    yield app
    with app.app_context():
        get_engine().dispose()


def signed_in(app, username: str):
    client = app.test_client()
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302
    return client


def run_queued_jobs(app) -> int:
    """What the embedded runner (or a worker) does: claim and run every queued job."""
    from webui.background.runner import work_pending
    from webui.db import get_engine

    with app.app_context():
        return work_pending(get_engine())


def test_the_archivist_exports_one_case_file_in_the_background_and_downloads_it(archive_app, session, users,
                                                                                 tmp_path):
    case = make_archived_case(session, users)
    archivist = signed_in(archive_app, "archivist")
    page = archivist.get("/archive/export").get_data(as_text=True)
    assert case.archive_no in page and "导出案卷" in page
    response = archivist.post(f"/cases/{case.id}/casefile")
    assert response.status_code == 303
    job_url = response.headers["Location"]
    assert archivist.get(job_url + ".json").get_json()["state"] == "queued"
    assert run_queued_jobs(archive_app) == 1
    status = archivist.get(job_url + ".json").get_json()
    assert status["state"] == "done" and status["percent"] == 100, status
    download = archivist.get(status["download"])
    assert download.status_code == 200 and download.mimetype == "application/zip"
    assert case.archive_no in download.headers["Content-Disposition"]
    (tmp_path / "case.zip").write_bytes(download.get_data())
    assert verify_case_zip(tmp_path / "case.zip") == []
    handler = signed_in(archive_app, "handler")
    assert handler.post(f"/cases/{case.id}/casefile").status_code == 403
    assert handler.get(status["download"]).status_code == 403


def test_exporting_an_unarchived_case_from_the_page_flashes_the_reason(archive_app, session, users):
    case, _ = register(session, users, date(2026, 3, 2))
    archivist = signed_in(archive_app, "archivist")
    response = archivist.post("/archive/export/case", data={"reg_no": case.reg_no}, follow_redirects=True)
    assert "尚未归档" in response.get_data(as_text=True)


def test_a_note_is_added_from_the_case_file_page(archive_app, session, users):
    case = make_archived_case(session, users)
    archivist = signed_in(archive_app, "archivist")
    response = archivist.post(f"/archive/cases/{case.id}/notes", data={"noted_on": "2026-04-20",
                                                                       "text": "行政复议决定维持原答复。"})
    assert response.status_code == 303
    assert "行政复议决定维持原答复" in archivist.get(f"/archive/cases/{case.id}").get_data(as_text=True)


def test_a_year_is_exported_in_the_background_with_progress_and_a_download(archive_app, session, users):
    first = make_archived_case(session, users, name="张三")
    second = make_archived_case(session, users, name="李四")
    archivist = signed_in(archive_app, "archivist")
    response = archivist.post("/archive/export/year", data={"year": "2026"})
    assert response.status_code == 303
    job_url = response.headers["Location"]
    page = archivist.get(job_url).get_data(as_text=True)
    assert "年度案卷批量导出" in page and "排队中" in page
    assert run_queued_jobs(archive_app) == 1
    status = archivist.get(job_url + ".json").get_json()
    assert status["state"] == "done", status
    assert (status["total"], status["done"], status["percent"]) == (2, 2, 100)
    assert status["message"] == "已导出 2 件"
    assert "下载" in archivist.get(job_url).get_data(as_text=True)
    bundle = archivist.get(status["download"])
    assert bundle.status_code == 200
    content = bundle.get_data()
    with zipfile.ZipFile(io.BytesIO(content)) as outer:
        assert sorted(outer.namelist()) == sorted([first.archive_no + ".zip", second.archive_no + ".zip"])
    assert signed_in(archive_app, "clerk").get(job_url).status_code == 403
    assert "2026 年度全部案卷" in archivist.get("/archive/export").get_data(as_text=True)
