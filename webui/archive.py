"""归档 (条例45): the archivist's queue of replied and closed cases; archiving itself is a case action."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask_login import current_user
from sqlalchemy import func, select

from engine.persistence.models import Case
from webui import db
from webui import form_values as fv
from webui.auth import requires_role

bp = Blueprint("archive", __name__)
PAGE_SIZE = 100


@bp.get("/archive")
@requires_role("archivist", "admin")
def queue():
    session = db.get_session()
    waiting = (Case.agency_id == current_user.agency_id, Case.stage.in_(("replied", "closed")),
               Case.imported.is_(False))
    page = fv.page_arg()
    rows = session.scalars(select(Case).where(*waiting).order_by(Case.finished_on.asc().nulls_last(), Case.id)
                           .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    total = session.scalar(select(func.count()).where(*waiting))
    recent = session.scalars(select(Case).where(Case.agency_id == current_user.agency_id, Case.stage == "archived")
                             .order_by(Case.archived_on.desc().nulls_last(), Case.id.desc()).limit(20)).all()
    export_endpoint = next((e for e in ("archive_export.index", "archive_export.export_year")
                            if e in current_app.view_functions), None)
    return render_template("archive/queue.html", rows=rows, total=total, page=page, recent=recent,
                           pages=max(1, -(-total // PAGE_SIZE)), export_endpoint=export_endpoint)
