"""The case list (filters, search, export) and the case page: header, clock explanation, timeline, documents."""

from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import defer, joinedload

from engine import services
from engine.persistence.models import (
    ArchiveNote,
    AuditEvent,
    Case,
    ConfidentialityReview,
    Delivery,
    Department,
    ExemptionRecord,
    LegalChallenge,
    Letter,
    Upload,
    User,
)
from engine.rules import clocks
from engine.rules.case_clock import clock_settings, compute_due
from engine.rules.outcomes import APPLICANT_TYPES, OUTCOMES
from engine.rules.vocabulary import MESSAGE_CHANNEL_LABELS, MESSAGE_STATE_LABELS, UPLOAD_KINDS_CHOOSABLE
from engine.rules.workflow import STAGE_LABELS, available_actions
from engine.services import downloads, notifications
from engine.services.admin_audit import log_personal_data_export
from webui import db
from webui import form_values as fv
from webui.case_queries import SORTS, CaseFilter, filtered, page_of
from webui.downloads import content_disposition, letter_filename
from webui.localtime import today
from webui.presentation import CHANNEL_LABELS, days_left
from webui.spreadsheet_cells import csv_row, xlsx_row

bp = Blueprint("cases", __name__)
EXPORT_LIMIT = 100_000
EXPORT_HEADER = ("登记编号", "申请人", "申请人类型", "申请渠道", "收到日期", "办理阶段", "承办部门", "答复期限",
                 "剩余工作日", "办理结果", "答复/办结日期", "申请内容")

# Where each workflow action is carried out in the UI (endpoint, kwargs beyond case_id).
ACTION_TARGETS = {
    "confirm_receipt": ("handling.act", {"name": "confirm_receipt"}),
    "request_supplement": ("handling.act", {"name": "request_supplement"}),
    "receive_supplement": ("handling.act", {"name": "receive_supplement"}),
    "close_lapsed_supplement": ("handling.act", {"name": "close_lapsed"}),
    "close_lapsed_fee": ("handling.act", {"name": "close_lapsed"}),
    "accept": ("handling.act", {"name": "accept"}),
    "assign": ("handling.act", {"name": "assign"}),
    "open_consultation": ("handling.act", {"name": "open_consultation"}),
    "record_consultation_answer": ("handling.act", {"name": "record_consultation_answer"}),
    "issue_fee_notice": ("handling.act", {"name": "issue_fee_notice"}),
    "record_payment": ("handling.act", {"name": "record_payment"}),
    "extend": ("handling.act", {"name": "extend"}),
    "withdraw": ("handling.act", {"name": "withdraw"}),
    "record_delivery": ("handling.act", {"name": "record_delivery"}),
    "archive": ("handling.act", {"name": "archive"}),
    "notify_third_party": ("handling.act", {"name": "notify_third_party"}),
    "request_reasons": ("handling.act", {"name": "request_reasons"}),
    "record_reasons": ("handling.act", {"name": "record_reasons"}),
    "set_delayed_reply": ("handling.act", {"name": "set_delayed_reply"}),
    "record_decision": ("drafting.decide", {}),
    "record_confidentiality_review": ("drafting.decide", {}),
    "submit_for_review": ("drafting.decide", {}),
    "review_exemption": ("legal_review.review", {}),
    "return_for_revision": ("legal_review.review", {}),
    "sign": ("legal_review.review", {}),
}


def action_links(case: Case) -> list[dict]:
    """The actions this user may take on this case now, one link per page (several actions share a page)."""
    links: dict[str, dict] = {}
    for action in available_actions(case, current_user):
        endpoint, kwargs = ACTION_TARGETS[action.name]
        url = url_for(endpoint, case_id=case.id, **kwargs)
        if url not in links:
            label = {"drafting.decide": "拟稿（办理结果、理由、保密审查）",
                     "legal_review.review": "法制审核与签发"}.get(endpoint, action.label)
            if action.name.startswith("close_lapsed"):
                label = action.label
            links[url] = {"url": url, "label": label, "name": action.name}
    return list(links.values())


@bp.get("/cases")
def index():
    session = db.get_session()
    f = CaseFilter.from_args(request.args)
    for problem in f.errors:
        flash(problem, "error")
    on = today()
    listed = page_of(session, current_user.agency_id, f, on)
    departments = session.scalars(select(Department).where(Department.agency_id == current_user.agency_id)
                                  .order_by(Department.name)).all()
    return render_template("cases/index.html", rows=listed.rows, listed=listed, f=f, departments=departments,
                           sorts=SORTS, today=on, APPLICANT_TYPES=APPLICANT_TYPES, OUTCOMES=OUTCOMES)


def _export_rows():
    session = db.get_session()
    f = CaseFilter.from_args(request.args)
    on = today()
    stmt = filtered(current_user.agency_id, f, on, session.get_bind().dialect.name).order_by(*SORTS[f.sort][1]()).limit(EXPORT_LIMIT)
    stmt = stmt.options(joinedload(Case.items))
    for case in session.scalars(stmt).unique():
        left = days_left(case.due_on, case.stage, on)
        yield (case.reg_no, case.applicant.name, APPLICANT_TYPES.get(case.applicant.kind, ""),
               CHANNEL_LABELS.get(case.channel, case.channel), case.received_on.isoformat() if case.received_on else "",
               STAGE_LABELS.get(case.stage, case.stage), case.department.name if case.department else "",
               case.due_on.isoformat() if case.due_on else "", left["left"] if left else "",
               OUTCOMES[case.report_outcome].label if case.report_outcome else "",
               case.finished_on.isoformat() if case.finished_on else "",
               "；".join(item.description for item in case.items))


def _attachment(filename: str) -> str:
    return content_disposition(filename)


def _logged_export_rows(export: str) -> list[tuple]:
    """The rows of the case-list export, and the audited record that this user took them (they name applicants:
    个人信息保护法第51条); committed now, since a GET request otherwise rolls back."""
    rows = list(_export_rows())
    log_personal_data_export(db.get_session(), current_user.agency_id, actor=current_user.row, export=export,
                             rows=len(rows), filter=request.query_string.decode("utf-8", "replace"))
    db.commit()
    return rows


@bp.get("/cases/export.csv")
def export_csv():
    buffer = io.StringIO()
    buffer.write("\ufeff")  # Excel opens UTF-8 CSV correctly only with a BOM
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_HEADER)
    for row in _logged_export_rows("申请列表（CSV）"):
        writer.writerow(csv_row(row))
    return Response(buffer.getvalue(), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": _attachment(f"申请列表-{today().isoformat()}.csv")})


@bp.get("/cases/export.xlsx")
def export_xlsx():
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("申请列表")
    sheet.append(EXPORT_HEADER)
    for row in _logged_export_rows("申请列表（Excel）"):
        sheet.append(xlsx_row(sheet, row))
    buffer = io.BytesIO()
    book.save(buffer)
    return Response(buffer.getvalue(),
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": _attachment(f"申请列表-{today().isoformat()}.xlsx")})


@bp.get("/cases/<int:case_id>")
def show(case_id: int):
    session = db.get_session()
    case = services.load_case(session, case_id, current_user)
    on = today()
    agency = case.agency
    due = compute_due(case, **clock_settings(agency)) if case.stage not in (
        "replied", "closed", "archived") else None
    explanation = clocks.explain(due) if due else []
    events = session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id).order_by(AuditEvent.seq)).all()
    letters = session.scalars(select(Letter).options(defer(Letter.pdf)).where(Letter.case_id == case.id)
                              .order_by(Letter.id)).all()
    uploads = session.scalars(select(Upload).options(defer(Upload.content)).where(Upload.case_id == case.id)
                              .order_by(Upload.id)).all()
    deliveries = session.scalars(select(Delivery).where(Delivery.case_id == case.id).order_by(Delivery.id)).all()
    challenges = session.scalars(select(LegalChallenge).where(LegalChallenge.case_id == case.id)
                                 .order_by(LegalChallenge.id)).all()
    records = session.scalars(select(ExemptionRecord).where(ExemptionRecord.case_id == case.id)
                              .order_by(ExemptionRecord.item_id, ExemptionRecord.id)).all()
    item_ids = [item.id for item in case.items]
    reviews = session.scalars(select(ConfidentialityReview).where(ConfidentialityReview.item_id.in_(item_ids))
                              .order_by(ConfidentialityReview.id)).all() if item_ids else []
    notes = session.scalars(select(ArchiveNote).where(ArchiveNote.case_id == case.id).order_by(ArchiveNote.id)).all()
    user_ids = {r.created_by_id for r in records} | {r.reviewer_id for r in reviews}
    names = dict(session.execute(select(User.id, User.display_name).where(User.id.in_(user_ids))).all()) \
        if user_ids else {}
    superseded = {letter.supersedes_id for letter in letters if letter.supersedes_id}
    # Replies signed by the person who decided or submitted them (allowed only in a one-person office).
    waived = {event.changes.get("letter_id") for event in events
              if event.action == "sign" and (event.changes or {}).get("separation_of_duties_waived")}
    return render_template(
        "cases/show.html", case=case, agency=agency, due=due, explanation=explanation, events=events,
        letters=letters, superseded=superseded, waived=waived, uploads=uploads, deliveries=deliveries, challenges=challenges,
        records=records, reviews=reviews, notes=notes, names=names, actions=action_links(case),
        case_messages=notifications.case_messages(session, case.id),
        MESSAGE_KIND_LABELS=notifications.KIND_LABELS, MESSAGE_CHANNEL_LABELS=MESSAGE_CHANNEL_LABELS,
        MESSAGE_STATE_LABELS=MESSAGE_STATE_LABELS,
        left=days_left(case.due_on, case.stage, on), today=on, upload_kinds=UPLOAD_KINDS_CHOOSABLE,
        can_upload=case.stage != "archived" and not case.imported and current_user.has_any_role("clerk", "handler"))


@bp.post("/cases/<int:case_id>/reveal")
def reveal(case_id: int):
    """The applicant's ID number and phone in full, for this one page: the engine logs who looked, and when."""
    services.reveal_applicant(db.get_session(), case_id, actor=current_user, today=today())
    g.revealed_case = case_id
    return show(case_id)


@bp.get("/letters/<int:letter_id>.pdf")
def letter_pdf(letter_id: int):
    """A frozen letter, served only to users of its case's agency (another agency's is not found)."""
    session = db.get_session()
    letter = downloads.letter_for_download(session, letter_id, current_user)
    reg_no = session.get(Case, letter.case_id).reg_no
    disposition = content_disposition(letter_filename(letter, reg_no), fallback=f"letter-{letter.id}.pdf")
    return Response(letter.pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": disposition, "X-Letter-SHA256": letter.sha256})


@bp.get("/uploads/<int:upload_id>")
def upload_file(upload_id: int):
    """An uploaded file, served only to its agency and only while its bytes match the recorded hash."""
    upload = downloads.upload_for_download(db.get_session(), upload_id, current_user)
    return Response(upload.content, mimetype=upload.content_type,
                    headers={"Content-Disposition": content_disposition(upload.filename,
                                                                        fallback=f"upload-{upload.id}")})


@bp.post("/cases/<int:case_id>/uploads")
def add_upload(case_id: int):
    upload = services.upload_file(db.get_session(), case_id, file=fv.upload("file"),
                                  kind=request.form.get("kind", "attachment"), actor=current_user, today=today())
    flash(f"已上传：{upload.filename}", "success")
    return redirect(url_for("cases.show", case_id=case_id) + "#documents")
