"""Thin views over engine.services.archiving and the export jobs: parse, call one service, flash, redirect.

Exports run as background jobs (`webui.background.kinds`); their progress page and download are `webui.jobs`."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from engine.errors import GongkaiError
from engine.persistence.models import ArchiveNote, Case
from engine.rules.vocabulary import JOB_STATE_LABELS, RETENTION_LABELS
from engine.services import jobs
from engine.services.admin_audit import log_personal_data_export
from engine.services.archive_export import request_case_export, request_year_export
from engine.services.archiving import append_archive_note
from webui import db
from webui.auth import requires_role
from webui.localtime import today

bp = Blueprint("archive_export", __name__, template_folder="templates")
EXPORT_ROLES = ("archivist", "admin")


@bp.get("/archive/export")
@requires_role(*EXPORT_ROLES)
def index():
    session = db.get_session()
    recent = session.scalars(select(Case).where(Case.agency_id == current_user.agency_id, Case.stage == "archived")
                             .order_by(Case.archived_on.desc().nulls_last(), Case.id.desc()).limit(30)).all()
    years = sorted({(c.finished_on or c.archived_on or today()).year for c in recent} | {today().year}, reverse=True)
    exports = jobs.recent_jobs(session, agency_id=current_user.agency_id,
                               kinds=("archive_export_year", "archive_export_case"), limit=10)
    return render_template("archive_export/index.html", recent=recent, years=years, jobs=exports,
                           RETENTION_LABELS=RETENTION_LABELS, JOB_STATE_LABELS=JOB_STATE_LABELS)


@bp.post("/archive/export/case")
@requires_role(*EXPORT_ROLES)
def export_one():
    reg_no = request.form.get("reg_no", "").strip()
    case = db.get_session().scalar(select(Case).where(Case.agency_id == current_user.agency_id, Case.reg_no == reg_no))
    if case is None:
        flash(f"没有找到登记编号为「{reg_no}」的申请", "error")
        return redirect(url_for("archive_export.index"), 303)
    return _start_case_export(case)


@bp.post("/cases/<int:case_id>/casefile")
@requires_role(*EXPORT_ROLES)
def export_case(case_id: int):
    case = db.get_session().get(Case, case_id)
    if case is None or case.agency_id != current_user.agency_id:
        abort(404)
    return _start_case_export(case)


def _start_case_export(case: Case):
    """Queue the export (refused at once, with the reason, if the case is not archived)."""
    try:
        job = request_case_export(db.get_session(), agency_id=case.agency_id, reg_no=case.reg_no,
                                  requested_by=current_user.display_name)
        # The case file is the archival record: it keeps the applicant's ID number and contacts in full.
        log_personal_data_export(db.get_session(), case.agency_id, actor=current_user.row, export="案卷导出",
                                 reg_no=case.reg_no)
    except GongkaiError as refusal:
        g.db_rollback = True
        flash(refusal.message, "error")
        return redirect(url_for("archive_export.index"), 303)
    flash(f"已开始导出 {case.reg_no} 的案卷，完成后可在本页下载", "success")
    return redirect(url_for("jobs.show", job_id=job.id), 303)


@bp.post("/archive/export/year")
@requires_role(*EXPORT_ROLES)
def export_year():
    year = request.form.get("year", type=int)
    if year is None:
        flash("请选择要导出的年度", "error")
        return redirect(url_for("archive_export.index"), 303)
    try:
        job = request_year_export(db.get_session(), agency_id=current_user.agency_id, year=year,
                                  requested_by=current_user.display_name, today=today())
        log_personal_data_export(db.get_session(), current_user.agency_id, actor=current_user.row,
                                 export=f"{year}年度案卷批量导出", filter=f"year={year}")
    except GongkaiError as refusal:
        g.db_rollback = True
        flash(refusal.message, "error")
        return redirect(url_for("archive_export.index"), 303)
    flash(f"已开始在后台导出 {year} 年度的全部案卷", "success")
    return redirect(url_for("jobs.show", job_id=job.id), 303)


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
