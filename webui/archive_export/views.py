"""Thin views over engine.services.archive_export and engine.services.archiving: parse, call one service, flash, redirect."""

from __future__ import annotations

import tempfile
from datetime import date
from io import BytesIO
from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select

from engine.errors import GongkaiError
from engine.persistence.models import Agency, ArchiveNote, Case
from engine.rules.vocabulary import RETENTION_LABELS
from engine.services.archive_export import export_case
from engine.services.archiving import append_archive_note
from webui import db
from webui.archive_export import jobs
from webui.archive_export.rendering import renderer_for_agency
from webui.auth import requires_role
from webui.localtime import today

bp = Blueprint("archive_export", __name__, template_folder="templates")
EXPORT_ROLES = ("archivist", "admin")


def _jobs_base() -> Path:
    """Where background exports go: `ARCHIVE_EXPORT_DIR` in the app config, else var/exports."""
    configured = current_app.config.get("ARCHIVE_EXPORT_DIR")
    return Path(configured) if configured else jobs.jobs_dir()


@bp.get("/archive/export")
@requires_role(*EXPORT_ROLES)
def index():
    session = db.get_session()
    recent = session.scalars(select(Case).where(Case.agency_id == current_user.agency_id, Case.stage == "archived")
                             .order_by(Case.archived_on.desc().nulls_last(), Case.id.desc()).limit(30)).all()
    years = sorted({(c.finished_on or c.archived_on or today()).year for c in recent} | {today().year}, reverse=True)
    return render_template("archive_export/index.html", recent=recent, years=years,
                           jobs=jobs.recent_jobs(current_user.agency_id, base=_jobs_base()), RETENTION_LABELS=RETENTION_LABELS)


@bp.post("/archive/export/case")
@requires_role(*EXPORT_ROLES)
def export_one():
    reg_no = request.form.get("reg_no", "").strip()
    case = db.get_session().scalar(select(Case).where(Case.agency_id == current_user.agency_id, Case.reg_no == reg_no))
    if case is None:
        flash(f"没有找到登记编号为「{reg_no}」的申请", "error")
        return redirect(url_for("archive_export.index"), 303)
    return _download(case)


@bp.get("/cases/<int:case_id>/casefile.zip")
@requires_role(*EXPORT_ROLES)
def case_zip(case_id: int):
    case = db.get_session().get(Case, case_id)
    if case is None or case.agency_id != current_user.agency_id:
        abort(404)
    return _download(case)


def _download(case: Case):
    """Export into a private temporary folder, hand the bytes over, leave nothing behind on disk."""
    session = db.get_session()
    agency = session.get(Agency, case.agency_id)
    with tempfile.TemporaryDirectory(prefix="casefile-") as folder:
        try:
            path = export_case(session, agency_id=agency.id, reg_no=case.reg_no, out_dir=Path(folder),
                               renderer=renderer_for_agency(agency))
        except GongkaiError as refusal:
            g.db_rollback = True
            flash(refusal.message, "error")
            return redirect(url_for("archive_export.index"), 303)
        content = path.read_bytes()
        name = path.name
    return send_file(BytesIO(content), mimetype="application/zip", as_attachment=True, download_name=name)


@bp.post("/archive/export/year")
@requires_role(*EXPORT_ROLES)
def export_year():
    year = request.form.get("year", type=int)
    if year is None or not 2008 <= year <= today().year:
        flash("请选择要导出的年度", "error")
        return redirect(url_for("archive_export.index"), 303)
    agency = db.get_session().get(Agency, current_user.agency_id)
    job_id = jobs.start_year_export(db.get_engine().url.render_as_string(hide_password=False),
                                    agency_id=agency.id, agency_code=agency.code,
                                    user_name=current_user.display_name, year=year, base=_jobs_base())
    flash(f"已开始在后台导出 {year} 年度的全部案卷", "success")
    return redirect(url_for("archive_export.job", job_id=job_id), 303)


def _own_job(job_id: str) -> dict:
    job = jobs.load_job(job_id, base=_jobs_base())
    if job is None or job["agency_id"] != current_user.agency_id:
        abort(404)
    return job


@bp.get("/archive/export/jobs/<job_id>")
@requires_role(*EXPORT_ROLES)
def job(job_id: str):
    return render_template("archive_export/job.html", job=_own_job(job_id))


@bp.get("/archive/export/jobs/<job_id>.json")
@requires_role(*EXPORT_ROLES)
def job_status(job_id: str):
    job = _own_job(job_id)
    return jsonify({k: job[k] for k in ("id", "year", "status", "total", "done", "failed", "message")}
                   | {"download": url_for("archive_export.job_download", job_id=job_id) if job["bundle"] else None})


@bp.get("/archive/export/jobs/<job_id>/download")
@requires_role(*EXPORT_ROLES)
def job_download(job_id: str):
    path = jobs.bundle_path(_own_job(job_id), base=_jobs_base())
    if path is None:
        abort(404)
    return send_file(path, mimetype="application/zip", as_attachment=True, download_name=path.name)


@bp.get("/archive/cases/<int:case_id>")
@requires_role(*EXPORT_ROLES, "clerk")
def case_file(case_id: int):
    session = db.get_session()
    case = session.get(Case, case_id)
    if case is None or case.agency_id != current_user.agency_id or case.stage != "archived":
        abort(404)
    notes = session.scalars(select(ArchiveNote).where(ArchiveNote.case_id == case.id)
                            .order_by(ArchiveNote.noted_on, ArchiveNote.id)).all()
    return render_template("archive_export/case.html", case=case, notes=notes, RETENTION_LABELS=RETENTION_LABELS)


@bp.post("/archive/cases/<int:case_id>/notes")
@requires_role("archivist", "clerk")
def add_note(case_id: int):
    try:
        noted_on = date.fromisoformat(request.form.get("noted_on", "") or today().isoformat())
    except ValueError:
        flash("记录日期格式应为 YYYY-MM-DD", "error")
        return redirect(url_for("archive_export.case_file", case_id=case_id), 303)
    try:
        append_archive_note(db.get_session(), case_id, text=request.form.get("text", ""), noted_on=noted_on,
                            actor=current_user, today=today())
    except GongkaiError as refusal:
        g.db_rollback = True
        flash(refusal.message, "error")
        return redirect(url_for("archive_export.case_file", case_id=case_id), 303)
    flash("已追加备考记录", "success")
    return redirect(url_for("archive_export.case_file", case_id=case_id), 303)
