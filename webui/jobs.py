"""Background jobs in the web application: a job's live progress page (and its JSON), the download of its
result from the database (so any node serves it), the administrators' list of jobs with their errors, and
the button that recomputes every open case's due date after a calendar update."""

from __future__ import annotations

from urllib.parse import quote

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    stream_with_context,
    url_for,
)
from flask_login import current_user
from sqlalchemy import or_, select

from engine.persistence.db import session_factory
from engine.persistence.models import Job
from engine.rules.vocabulary import JOB_STATE_LABELS
from engine.services import jobs
from engine.services.recalc import request_recompute
from webui import db
from webui.auth import requires_role
from webui.background.kinds import VIEW_ROLES

bp = Blueprint("jobs", __name__)


def _visible(job: Job | None) -> Job:
    """A job of the user's agency (or a system-wide one, for administrators) of a kind their role may see."""
    if job is None:
        abort(404)
    if job.agency_id is not None and job.agency_id != current_user.agency_id:
        abort(404)
    roles = VIEW_ROLES.get(job.kind, ("admin",))
    if not current_user.has_any_role(*roles) or (job.agency_id is None and not current_user.has_role("admin")):
        abort(403)
    return job


def status_of(job: Job) -> dict:
    progress = jobs.progress_of(job)
    summary = job.result or {}
    return {"id": job.id, "kind": job.kind, "label": jobs.kind_label(job.kind), "state": job.state,
            "state_label": JOB_STATE_LABELS[job.state], "percent": progress.percent, "done": progress.done,
            "total": progress.total, "seconds_left": progress.seconds_left, "note": job.progress_note,
            "attempts": job.attempts, "error": job.error, "message": summary.get("message", ""),
            "failed": summary.get("failed", []), "summary": summary,
            "download": url_for("jobs.download", job_id=job.id) if job.state == "done" and job.result_name else None,
            "result_name": job.result_name}


@bp.get("/jobs/<int:job_id>")
@requires_role(*{role for roles in VIEW_ROLES.values() for role in roles})
def show(job_id: int):
    job = _visible(jobs.get_job(db.get_session(), job_id))
    return render_template("jobs/show.html", job=job, status=status_of(job))


@bp.get("/jobs/<int:job_id>.json")
@requires_role(*{role for roles in VIEW_ROLES.values() for role in roles})
def status(job_id: int):
    return jsonify(status_of(_visible(jobs.get_job(db.get_session(), job_id))))


@bp.get("/jobs/<int:job_id>/download")
@requires_role(*{role for roles in VIEW_ROLES.values() for role in roles})
def download(job_id: int):
    job = _visible(jobs.get_job(db.get_session(), job_id))
    if job.state != "done" or not job.result_name:
        abort(404)
    engine, job_id = db.get_engine(), job.id

    def chunks():
        # Its own session: the request's is closed when the view returns, before the body is streamed.
        with session_factory(engine)() as session:
            yield from jobs.result_chunks(session, job_id)

    response = Response(stream_with_context(chunks()), mimetype="application/zip" if job.result_name.endswith(".zip")
                        else "application/octet-stream")
    response.headers["Content-Length"] = str(job.result_size or 0)
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(job.result_name)}"
    return response


@bp.get("/admin/jobs")
@requires_role("admin")
def admin_list():
    session = db.get_session()
    rows = session.scalars(select(Job).where(or_(Job.agency_id == current_user.agency_id, Job.agency_id.is_(None)))
                           .order_by(Job.id.desc()).limit(100)).all()
    return render_template("jobs/admin.html", jobs=[(job, status_of(job)) for job in rows])


@bp.post("/admin/calendar/recompute")
@requires_role("admin")
def recompute():
    job = request_recompute(db.get_session(), requested_by=current_user.display_name)
    flash("已开始在后台重新计算在办申请的答复期限", "success")
    return redirect(url_for("jobs.show", job_id=job.id), 303)
