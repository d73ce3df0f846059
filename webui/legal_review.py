"""法制审核: the decision and the letter preview side by side, each exemption record confirmed or rejected with a
comment, return for revision, and 签发 (signing freezes the letter: PDF bytes, SHA-256, template, data)."""

from __future__ import annotations

import csv
import io
from datetime import date

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from engine import services
from engine.errors import GongkaiError, RuleViolation
from engine.persistence.models import Case, ConfidentialityReview, Department, ExemptionRecord, Letter
from engine.rules.exemptions import GROUND_ARTICLES
from engine.rules.outcomes import OUTCOMES
from engine.rules.vocabulary import CONFIDENTIALITY_CONCLUSIONS
from engine.rules.workflow import available_actions
from engine.services.decisions import signing_problems
from engine.services.exemption_log import EXEMPTION_LOG_ROLES, ExemptionLogFilter, exemption_log
from webui import db
from webui import form_values as fv
from webui.auth import requires_role
from webui.downloads import content_disposition
from webui.letters_adapter import renderer_for
from webui.localtime import today
from webui.presentation import local_time
from webui.refusals import discard_work, status_for
from webui.spreadsheet_cells import csv_row, xlsx_row

bp = Blueprint("legal_review", __name__)


def _may_review(case: Case) -> bool:
    return any(a.name in ("review_exemption", "return_for_revision", "sign") for a in available_actions(case, current_user))


@bp.get("/cases/<int:case_id>/review")
def review(case_id: int):
    session = db.get_session()
    case = services.load_case(session, case_id, current_user)
    if not _may_review(case):
        abort(403)
    return _render(case, {})


def _render(case: Case, values, status: int = 200):
    session = db.get_session()
    records = session.scalars(select(ExemptionRecord).where(ExemptionRecord.case_id == case.id,
                                                            ExemptionRecord.current.is_(True))
                              .order_by(ExemptionRecord.item_id, ExemptionRecord.id)).all()
    item_ids = [i.id for i in case.items]
    reviews = {}
    for row in session.scalars(select(ConfidentialityReview).where(ConfidentialityReview.item_id.in_(item_ids))
                               .order_by(ConfidentialityReview.id)):
        reviews[row.item_id] = row
    return render_template("legal_review/review.html", case=case, records=records, reviews=reviews,
                           problems=signing_problems(session, case, renderer_for(case.agency)), values=values, OUTCOMES=OUTCOMES,
                           conclusions=CONFIDENTIALITY_CONCLUSIONS, today=today()), status


def _refused(case_id: int, refusal: GongkaiError):
    session = db.get_session()
    discard_work(session)
    flash(refusal.message, "error")
    fresh = services.load_case(session, case_id, current_user)
    return _render(fresh, request.form, status_for(refusal))


@bp.post("/cases/<int:case_id>/review/exemptions/<int:record_id>")
def review_exemption(case_id: int, record_id: int):
    session = db.get_session()
    case = services.load_case(session, case_id, current_user)
    confirm = request.form.get("decision") == "confirm"
    try:
        services.review_exemption(session, case.id, record_id=record_id, confirm=confirm,
                                  comment=fv.text("comment"), actor=current_user, today=today(),
                                  version=fv.case_version())
    except GongkaiError as refusal:
        return _refused(case_id, refusal)
    record = session.get(ExemptionRecord, record_id)
    item = next(i for i in case.items if i.id == record.item_id)
    what = f"第 {item.seq} 项的“{OUTCOMES[record.ground].label}”理由记录"
    if confirm:
        flash(f"{what}已确认", "success")
        return redirect(url_for("legal_review.review", case_id=case.id), 303)
    flash(f"{what}已退回，案件回到拟稿", "success")
    return redirect(url_for("cases.show", case_id=case.id), 303)


@bp.post("/cases/<int:case_id>/review/return")
def return_for_revision(case_id: int):
    session = db.get_session()
    case = services.load_case(session, case_id, current_user)
    try:
        services.return_for_revision(session, case.id, comment=fv.text("comment"), actor=current_user, today=today(),
                                     version=fv.case_version())
    except GongkaiError as refusal:
        return _refused(case_id, refusal)
    flash("已退回修改", "success")
    return redirect(url_for("cases.show", case_id=case.id), 303)


def _confirm_signing(session, case: Case):
    """签发 is irreversible: first the reply as it will be signed (样稿, number pending) and what signing does."""
    if not any(a.name == "sign" for a in available_actions(case, current_user)):
        abort(403)
    problems = signing_problems(session, case)
    if problems:
        return _refused(case.id, RuleViolation("尚不能签发：" + "；".join(problems)))
    return render_template("legal_review/confirm_sign.html", case=case, version_value=fv.text("version"))


@bp.post("/cases/<int:case_id>/sign")
def sign(case_id: int):
    session = db.get_session()
    case = services.load_case(session, case_id, current_user)
    if request.form.get("confirmed") != "1":
        return _confirm_signing(session, case)
    try:
        letter = services.sign_reply(session, case.id, renderer=renderer_for(case.agency), actor=current_user,
                                     today=today(), version=fv.case_version()).letter
    except GongkaiError as refusal:
        return _refused(case_id, refusal)
    flash(f"答复书已签发：{letter.doc_number}（SHA-256 {letter.sha256[:16]}…）", "success")
    return redirect(url_for("cases.show", case_id=case.id), 303)



def _exemption_filter() -> tuple[ExemptionLogFilter, dict, list[str]]:
    ground = request.args.get("ground", "")
    ground = ground if ground in GROUND_ARTICLES else ""
    department_id = fv.id_arg("department_id")
    errors = []
    dates = {}
    for name, label in (("created_from", "记录日期（起）"), ("created_to", "记录日期（止）")):
        raw = (request.args.get(name) or "").strip()
        try:
            dates[name] = date.fromisoformat(raw) if raw else None
        except ValueError:
            dates[name] = None
            errors.append(f"{label}格式不正确，已忽略")
    return ExemptionLogFilter(ground=ground or None, department_id=department_id, **dates), dates, errors


@bp.get("/exemptions")
@requires_role(*EXEMPTION_LOG_ROLES)
def exemption_log_page():
    """不予公开理由台账: every current exemption record across cases, by ground, department and period, so that
    over-use of a ground shows (以公开为常态、不公开为例外)."""
    session = db.get_session()
    flt, dates, errors = _exemption_filter()
    page = fv.page_arg()
    found = exemption_log(session, current_user.agency_id, flt, page=page, per_page=50)
    departments = session.scalars(select(Department).where(Department.agency_id == current_user.agency_id)
                                  .order_by(Department.name)).all()
    for message in errors:
        flash(message, "error")
    return render_template("legal_review/exemptions.html", found=found, page=page, pages=-(-found.total // 50),
                           ground=flt.ground or "", department_id=flt.department_id, dates=dates,
                           departments=departments, grounds=GROUND_ARTICLES, OUTCOMES=OUTCOMES)


EXEMPTION_EXPORT_HEADER = ("登记编号", "事项", "理由", "依据", "事实和理由", "范围或检索记录", "承办部门", "法制审核",
                           "记录时间", "签发职责分离")
EXEMPTION_EXPORT_LIMIT = 20000
REVIEW_STATE_LABELS = {"pending": "待审核", "confirmed": "已确认", "rejected": "已退回"}


@bp.get("/exemptions.<fmt>")
@requires_role(*EXEMPTION_LOG_ROLES)
def exemption_log_export(fmt: str):
    """The log as CSV or xlsx, with the same filter and the same marks as the page (one-person-office signatures)."""
    if fmt not in ("csv", "xlsx"):
        abort(404)
    flt, _dates, _errors = _exemption_filter()
    found = exemption_log(db.get_session(), current_user.agency_id, flt, page=1, per_page=EXEMPTION_EXPORT_LIMIT)
    rows = [(reg_no, f"第 {seq} 项", OUTCOMES[record.ground].label, record.article, record.facts,
             record.scope or record.search_record, department or "", REVIEW_STATE_LABELS.get(record.review_state, ""),
             local_time(record.created_at),
             "已豁免（一人办公室）" if record.case_id in found.waived_cases else "")
            for record, reg_no, seq, department in found.rows]
    name = f"不予公开理由台账-{today().isoformat()}.{fmt}"
    if fmt == "csv":
        buffer = io.StringIO()
        buffer.write("\ufeff")  # Excel opens UTF-8 CSV correctly only with a BOM
        writer = csv.writer(buffer)
        writer.writerow(EXEMPTION_EXPORT_HEADER)
        writer.writerows(csv_row(row) for row in rows)
        return Response(buffer.getvalue(), mimetype="text/csv; charset=utf-8",
                        headers={"Content-Disposition": content_disposition(name)})
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("不予公开理由台账")
    sheet.append(EXEMPTION_EXPORT_HEADER)
    for row in rows:
        sheet.append(xlsx_row(sheet, row))
    buffer = io.BytesIO()
    book.save(buffer)
    return Response(buffer.getvalue(), mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": content_disposition(name)})


# Top-level text fields of a letter's data that a correction may change, with their labels.
CORRECTABLE_LABELS = {
    "recipient": "主送（收文人）", "agency_name": "发文机关署名", "contact": "联系方式（附注）",
    "request_summary": "申请内容", "registration_number": "登记编号", "received_on": "收到申请日期",
    "information": "所涉信息", "reason": "理由", "detail": "说明", "payment_method": "缴纳方式",
}


def _correctable_fields(letter: Letter) -> list[tuple[str, str, str]]:
    return [(key, CORRECTABLE_LABELS.get(key, key), value) for key, value in letter.data_snapshot.items()
            if isinstance(value, str) and key in CORRECTABLE_LABELS]


@bp.route("/cases/<int:case_id>/letters/<int:letter_id>/correct", methods=["GET", "POST"])
@requires_role("legal_reviewer")
def correct_letter(case_id: int, letter_id: int):
    """更正文书: a new signed letter supersedes the frozen one, with the reason; the old one is kept as signed."""
    session = db.get_session()
    case = services.load_case(session, case_id, current_user)
    letter = session.get(Letter, letter_id)
    if letter is None or letter.case_id != case.id:
        abort(404)
    fields = _correctable_fields(letter)
    if request.method == "GET":
        return render_template("legal_review/correct.html", case=case, letter=letter, fields=fields, values={})
    corrections = {key: fv.text(key) for key, _label, _value in fields if fv.text(key)}
    try:
        new = services.supersede_letter(session, case.id, letter_id=letter.id, reason=fv.text("reason"),
                                        corrections=corrections, renderer=renderer_for(case.agency),
                                        actor=current_user, today=today(), version=fv.case_version()).letter
    except GongkaiError as refusal:
        discard_work(session)
        flash(refusal.message, "error")
        return render_template("legal_review/correct.html", case=case, letter=letter, fields=fields,
                               values=request.form), status_for(refusal)
    flash(f"已出具更正后的文书 {new.doc_number or ''}，原文书保留并标注为已被更正", "success")
    return redirect(url_for("cases.show", case_id=case.id), 303)
