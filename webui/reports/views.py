"""Thin views: parse the request, call one engine function, render or redirect."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path

from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from engine.errors import GongkaiError
from engine.persistence.models import Agency
from engine.rules.outcomes import REPORT_COLUMNS, REPORT_ROWS
from engine.services.report_text import (
    FIGURE_EDITOR_ROLES,
    PROACTIVE_CELLS,
    TEXT_EDITOR_ROLES,
    TEXT_PARTS,
    cell_field,
    save_report_content,
)
from engine.services.reports import (
    COLUMN_LABELS,
    ROW_LABELS,
    cell_cases,
    full_report,
    publish_report,
    published_report,
)
from webui import db
from webui.downloads import content_disposition
from webui.kept import kept
from webui.letters_adapter import assets_for
from webui.localtime import today
from webui.refusals import discard_work, status_for
from webui.reports import bp
from webui.reports.exports import labels, render_pdf, tables_draft, write_xlsx
from webui.spreadsheet_cells import csv_row

PUBLISHER_ROLES = ("admin", "office_head")
IMPORTER_ROLES = ("admin", "clerk")
STATISTICS = ("by_month", "outcomes", "timeliness", "exemptions", "due_status", "topics", "repeated")


def _agency() -> Agency:
    return db.get_session().get(Agency, current_user.agency_id)


def _year() -> int:
    try:
        year = int(request.args.get("year", today().year - 1))
    except ValueError:
        abort(400)
    return _known_year(year)


def _known_year(year: int) -> int:
    """A report year the regulation covers and that has begun (2008 … this year); anything else is not found."""
    if not 2008 <= year <= today().year:
        abort(404)
    return year


def _may(*roles: str) -> bool:
    return any(current_user.has_role(role) for role in roles)


@bp.get("/")
@login_required
def index():
    return redirect(url_for("reports.annual", year=_year()))


def _report_page(year: int, values=None):
    """The whole report of the year: parts 一 to 六 in order, the forms for what the user may enter."""
    session = db.get_session()
    agency = _agency()
    full = full_report(session, year, agency, as_published=False)  # live tables: their cells link to cases

    def cell_url(row: str, column: str) -> str:
        return url_for("reports.cell", year=year, row=row, column=column)

    published = published_report(session, agency.id, year)
    return render_template(
        "reports/annual.html", full=full, report=full.tables, content=full.content, agency=agency, year=year,
        L=labels(), cell_url=cell_url, published=published, may_publish=_may(*PUBLISHER_ROLES),
        may_edit_text=published is None and _may(*TEXT_EDITOR_ROLES),
        may_edit_figures=published is None and _may(*FIGURE_EDITOR_ROLES), values=values or {},
        text_parts=TEXT_PARTS, years=range(today().year, 2007, -1), is_over=year < today().year)


@bp.get("/annual")
@login_required
def annual():
    return _report_page(_year())


@bp.post("/annual/<int:year>/content")
@login_required
def save_content(year: int):
    if not 2008 <= year <= today().year:
        abort(404)
    form = request.form
    texts = {key: form.get(key, "") for key in TEXT_PARTS} if any(key in form for key in TEXT_PARTS) else None
    fields = [cell_field(row, column) for row, column in PROACTIVE_CELLS]
    figures = {name: form.get(name, "") for name in fields} if any(name in form for name in fields) else None
    version = form.get("version", "")
    session = db.get_session()
    try:
        changes = save_report_content(session, _agency(), year, texts=texts, figures=figures,
                                      actor=current_user.row,
                                      expected_version=int(version) if version.isdigit() else None)
    except GongkaiError as refusal:
        discard_work(session)
        flash(refusal.message, "error")
        return _report_page(year, values=form), status_for(refusal)
    flash(f"已保存{year}年度报告内容（{len(changes)} 处修改）" if changes else "内容没有变化，未作修改", "success")
    return redirect(url_for("reports.annual", year=year), 303)


@bp.get("/annual/<int:year>/cell/<row>/<column>")
@login_required
def cell(year: int, row: str, column: str):
    _known_year(year)
    if row not in REPORT_ROWS or column not in REPORT_COLUMNS:
        abort(404)
    cases = cell_cases(db.get_session(), year, row, column, current_user.agency_id, limit=2000)
    return render_template("reports/cell.html", year=year, cases=cases, row_label=ROW_LABELS[row],
                           column_label=COLUMN_LABELS[column])


def _title(agency, year: int, draft: bool) -> str:
    return f"{agency.name}{year}年政府信息公开工作年度报告{'（草稿）' if draft else ''}"


@bp.get("/annual/<int:year>.<fmt>")
@login_required
def download(year: int, fmt: str):
    _known_year(year)
    agency = _agency()
    full = full_report(db.get_session(), year, agency)
    report = full.tables
    if fmt == "json":
        stem = f"{agency.code}-{year}-annual-report{'-draft' if not report.reconciles else ''}"
        return Response(json.dumps(report.as_json(), ensure_ascii=False), mimetype="application/json",
                        headers={"Content-Disposition": content_disposition(
                            _title(agency, year, not report.reconciles) + ".json", fallback=f"{stem}.json")})
    # An incomplete report (a part not entered, table 三 unreconciled) is only ever handed out marked 草稿.
    draft = tables_draft(full) if fmt == "xlsx" else not full.complete
    stem = f"{agency.code}-{year}-annual-report{'-draft' if draft else ''}"
    if fmt == "xlsx":
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "report.xlsx"
            write_xlsx(full, path, draft=draft)
            data = path.read_bytes()
        return Response(data, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": content_disposition(_title(agency, year, draft) + ".xlsx",
                                                                            fallback=f"{stem}.xlsx")})
    if fmt == "pdf":
        return Response(render_pdf(full, draft=draft, assets=assets_for(agency)), mimetype="application/pdf",
                        headers={"Content-Disposition": content_disposition(_title(agency, year, draft) + ".pdf",
                                                                            fallback=f"{stem}.pdf")})
    abort(404)


@bp.post("/annual/<int:year>/publish")
@login_required
def publish(year: int):
    if not _may(*PUBLISHER_ROLES):
        abort(403)
    if request.form.get("confirmed") != "1":  # publishing locks the year: first say so, then ask
        agency = _agency()
        full = full_report(db.get_session(), year, agency)
        return render_template("reports/confirm_publish.html", year=year, agency=agency, complete=full.complete)
    try:
        publish_report(db.get_session(), _agency(), year, current_user.row, today())
    except GongkaiError as refusal:
        g.db_rollback = True
        flash(refusal.message, "error")
    else:
        flash(f"{year}年度报告已发布，{year}年度数据已锁定", "success")
    return redirect(url_for("reports.annual", year=year))


@bp.route("/ledger", methods=["GET", "POST"])
@login_required
def ledger():
    from engine.services.ledger import LedgerRejected, import_ledger, read_ledger

    if not _may(*IMPORTER_ROLES):
        abort(403)
    if request.method == "GET":
        return render_template("reports/ledger.html", problems=None)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash("请选择要导入的台账文件（.xlsx 或 .csv）", "error")
        return render_template("reports/ledger.html", problems=None), 400
    suffix = Path(upload.filename).suffix.lower()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"ledger{suffix}"
            upload.save(path)
            ledger_file = read_ledger(path, filename=upload.filename)
        summary = import_ledger(db.get_session(), _agency(), ledger_file, actor=current_user.row, today=today())
    except LedgerRejected as rejected:
        g.db_rollback = True
        return render_template("reports/ledger.html", problems=rejected.problems, filename=upload.filename), 422
    except GongkaiError as refusal:
        g.db_rollback = True
        flash(refusal.message, "error")
        return render_template("reports/ledger.html", problems=None), 409
    flash(str(summary), "success")
    return redirect(url_for("reports.ledger"))


def _statistic(key: str, year: int):
    from engine.rules.calendar import default_calendar
    from engine.services import statistics as st

    session, agency_id = db.get_session(), current_user.agency_id
    builders = {
        "by_month": lambda: st.applications_by_month(session, agency_id, year),
        "outcomes": lambda: st.outcomes_by_row(session, agency_id, year),
        "timeliness": lambda: st.reply_timeliness(session, agency_id, year, default_calendar()),
        "exemptions": lambda: st.exemptions_by_department(session, agency_id, year),
        "due_status": lambda: st.open_cases_by_due_status(session, agency_id, today(), default_calendar()),
        "topics": lambda: st.requests_by_topic(session, agency_id, year),
        "repeated": lambda: st.repeated_requests_table(session, agency_id, year),
    }
    if key not in builders:
        abort(404)
    return builders[key]()


# The statistics page's tables by database, agency, year and day (the due status depends on the day), kept while the
# agency's audit chain head and the calendar the working days were counted with stay the same (webui.kept).
_statistics_pages: dict[tuple, tuple[tuple[int, str], object, list]] = {}
_STATISTICS_PAGES_KEPT = 64


def _statistics_tables(year: int) -> list:
    from sqlalchemy import select

    from engine.rules.calendar import default_calendar

    session, agency_id = db.get_session(), current_user.agency_id
    # Read before the tables are computed: tables stored under a head are at least as new as it.
    head = tuple(session.execute(select(Agency.audit_seq, Agency.audit_head_hash)
                                 .where(Agency.id == agency_id)).one())
    calendar = default_calendar()
    where = (session.get_bind().url.render_as_string(hide_password=True), agency_id, year, today())
    return kept(_statistics_pages, where, head, lambda: [_statistic(key, year) for key in STATISTICS],
                also=calendar, limit=_STATISTICS_PAGES_KEPT)


@bp.get("/statistics")
@login_required
def statistics():
    from webui.reports.charts import chart_for

    year = _year()
    tables = _statistics_tables(year)
    return render_template("reports/statistics.html", year=year, tables=tables,
                           charts={t.key: chart_for(t) for t in tables}, years=range(today().year, 2007, -1))


@bp.get("/statistics/<key>.csv")
@login_required
def statistic_csv(key: str):
    year = _year()
    table = _statistic(key, year)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(csv_row(table.header))
    writer.writerows(csv_row(row) for row in table.rows)
    for note in table.notes:
        writer.writerow(csv_row([note]))
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={key}-{year}.csv"})
