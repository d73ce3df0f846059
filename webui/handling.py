"""Review and handling forms (审核、办理): supplement, acceptance, consultations, fee, extension, closing,
delivery, review/litigation and archiving. One GET form and one POST per action; each POST is one engine call,
which also issues the letters the law requires."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask import session as session_cookie
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from engine import services
from engine.errors import GongkaiError, InvalidInput, StaleCase
from engine.persistence.models import Agency, Case, Department, LegalChallenge, Letter, User
from engine.rules import fees
from engine.rules.vocabulary import (
    CHALLENGE_KINDS,
    CHALLENGE_RESULTS,
    CONSULTATION_ANSWERS,
    CONSULTATION_KINDS,
    DELIVERY_METHODS,
    LETTER_LABELS,
    REASON_ANSWERS,
    RETENTION_PERIODS,
    delivery_method_for,
)
from engine.rules.workflow import available_actions, objecting_third_parties
from engine.services.archiving import retention_for
from webui import db, drafts
from webui import form_values as fv
from webui.letters_adapter import renderer_for
from webui.localtime import today
from webui.refusals import discard_work, show_next_to_field, status_for

bp = Blueprint("handling", __name__)

@dataclass(frozen=True)
class CaseAction:
    label: str
    allowed: Callable[[Case, object], bool]
    perform: Callable[[Session, Case, Agency, date, int], str]
    context: Callable[[Session, Case, Agency], dict] = lambda session, case, agency: {}
    # What confirming does, shown with the letters' 样稿 before anything is issued; "" = no confirmation step.
    confirm: str = ""


LETTER_CONFIRM = "确认后将编定文号并出具下列文书；文书出具后冻结，不能修改或撤回，只能另行更正。"


def _letters(agency):
    """The letter renderer; during a confirmation's dry run it renders 样稿 without numbers and keeps them."""
    captured = g.get("letter_drafts")
    real = renderer_for(agency)
    return real if captured is None else drafts.capturing(real, captured)


def _workflow(*names: str) -> Callable[[Case, object], bool]:
    def allowed(case: Case, user) -> bool:
        return any(a.name in names for a in available_actions(case, user))

    return allowed


# ---------------------------------------------------------------- the actions: parse, one service call, a message

def confirm_receipt(session, case, agency, on, version):
    services.confirm_receipt(session, case.id, confirmed_on=fv.required_date("confirmed_on", "确认日期"),
                             late_reason=fv.text("late_reason"),
                             renderer=_letters(agency), actor=current_user, today=on, version=version)
    # The code is not put into the flash (a readable cookie); the receipt page shows it once from the receipt.
    session_cookie["show_query_code"] = case.id
    link = url_for("intake.registered", case_id=case.id)
    return Markup('已确认收件并出具登记回执（<a href="{}">查看查询码，只显示这一次</a>），答复期限 {}').format(
        link, case.due_on.isoformat())


def request_supplement(session, case, agency, on, version):
    items = [line.strip() for line in fv.text("items").splitlines() if line.strip()]
    result = services.request_supplement(
        session, case.id, items=items, period_working_days=fv.optional_int("period_working_days", "补正期限"),
        renderer=_letters(agency), actor=current_user, today=on, version=version)
    return (f"已出具补正告知书 {result.letter.doc_number}：申请人自收到之日起 {case.supplement_period_working_days} "
            "个工作日内补正，期限届满日在登记送达后确定，请登记送达")


def receive_supplement(session, case, agency, on, version):
    services.receive_supplement(session, case.id, received_on=fv.required_date("received_on", "收到补正日期"),
                                file=fv.upload("file"), actor=current_user, today=on, version=version)
    return f"已登记补正，答复期限重新计算至 {case.due_on.isoformat()}"


def close_lapsed(session, case, agency, on, version):
    result = services.close_lapsed(session, case.id, renderer=_letters(agency), actor=current_user, today=on,
                                   version=version)
    return f"已结案（{case.closed_reason}），出具终止办理告知书 {result.letter.doc_number}"


def withdraw(session, case, agency, on, version):
    result = services.withdraw(session, case.id, reason=fv.text("reason"), issue_notice=fv.flag("issue_notice"),
                               file=fv.upload("file"), renderer=_letters(agency), actor=current_user, today=on,
                               version=version)
    if result.letter:
        return f"申请人已撤回，已结案并出具终止办理告知书 {result.letter.doc_number}"
    return "申请人已撤回，已结案"


def _assignment() -> tuple[int, int | None]:
    department_id = fv.optional_int("department_id", "承办部门")
    if not department_id:
        raise InvalidInput("请选择承办部门")
    return department_id, fv.optional_int("handler_id", "承办人")


def accept(session, case, agency, on, version):
    department_id, handler_id = _assignment()
    services.accept(session, case.id, department_id=department_id, handler_id=handler_id, actor=current_user,
                    today=on, version=version)
    return f"已受理并分办至{case.department.name}"


def assign(session, case, agency, on, version):
    department_id, handler_id = _assignment()
    services.assign(session, case.id, department_id=department_id, handler_id=handler_id, actor=current_user,
                    today=on, version=version)
    return "已改派承办"


def _assignment_context(session, case, agency):
    departments = session.scalars(select(Department).where(Department.agency_id == agency.id)
                                  .order_by(Department.name)).all()
    handlers = [u for u in session.scalars(select(User).where(User.agency_id == agency.id, User.active.is_(True))
                                           .order_by(User.display_name)) if u.has_role("handler")]
    return {"departments": departments, "handlers": handlers}


def open_consultation(session, case, agency, on, version):
    result = services.open_consultation(
        session, case.id, kind=fv.choice("kind", "征求意见对象", CONSULTATION_KINDS),
        party_name=fv.text("party_name"), party_contact=fv.text("party_contact"), subject=fv.text("subject"),
        sent_on=fv.required_date("sent_on", "发出日期"), item_seqs=fv.int_list("item_seqs", "涉及的申请事项"),
        party_is_person=fv.flag("party_is_person"), file=fv.upload("file"),
        renderer=_letters(agency), actor=current_user, today=on, version=version)
    consultation_letter, notice = result.letters
    return (f"已出具征求意见书 {consultation_letter.doc_number}（对方自收到之日起 15 个工作日内提出意见，请登记送达）"
            f"和给申请人的征求意见告知书 {notice.doc_number}；期间答复期限暂停计算")


def record_consultation_answer(session, case, agency, on, version):
    consultation_id = fv.optional_int("consultation_id", "征求意见记录")
    if not consultation_id:
        raise InvalidInput("请选择征求意见记录")
    services.record_consultation_answer(
        session, case.id, consultation_id=consultation_id,
        answer=fv.choice("answer", "意见", CONSULTATION_ANSWERS),
        answered_on=fv.required_date("answered_on", "收到意见日期"), summary=fv.text("summary"),
        file=fv.upload("file"), actor=current_user, today=on, version=version)
    return "已登记意见"


def _consultation_context(session, case, agency):
    return {"open_consultations": [c for c in case.consultations if c.is_open]}


def _fee_quote(earlier: int):
    mode = request.form.get("mode") or request.args.get("mode")
    try:
        units = int(request.form.get("units") or request.args.get("units") or 0)
    except ValueError:
        return None, "件数或页数应为整数"
    if not units:
        return None, None
    try:
        if mode == fees.PER_APPLICATION:
            return fees.quote_per_application(earlier, units), None
        if mode == fees.PER_PAGE:
            return fees.quote_per_page(units), None
    except ValueError as exc:
        return None, str(exc)
    return None, "请选择计费方式"


def issue_fee_notice(session, case, agency, on, version):
    result = services.issue_fee_notice(
        session, case.id, mode=fv.choice("mode", "计费方式", (fees.PER_APPLICATION, fees.PER_PAGE)),
        units=fv.required_int("units", "件数或页数"),
        renderer=_letters(agency), actor=current_user, today=on, version=version)
    fee = result.record
    return (f"已出具收费通知书 {result.letter.doc_number}：{fee.amount_yuan} 元；申请人自收到通知书之日起 20 个工作日内"
            "缴纳，请登记送达")


def _fee_context(session, case, agency):
    earlier = services.earlier_applications_this_month(session, case)
    quote, problem = _fee_quote(earlier)
    unit = "页" if (request.values.get("mode") == fees.PER_PAGE) else "件"
    return {"quote": quote, "quote_problem": problem, "unit": unit, "earlier_this_month": earlier}


def record_payment(session, case, agency, on, version):
    fee = services.record_payment(
        session, case.id, paid_on=fv.required_date("paid_on", "缴费日期"), receipt_no=fv.text("receipt_no"),
        amount_yuan=fv.optional_int("amount_yuan", "实缴金额"), actor=current_user, today=on, version=version).record
    return f"已登记缴费 {fee.paid_amount_yuan} 元（票据号 {fee.payment_receipt_no}），答复期限恢复计算"


def extend(session, case, agency, on, version):
    result = services.extend(session, case.id, working_days=fv.required_int("working_days", "延长的工作日数"),
                             reason=fv.text("reason"), renderer=_letters(agency), actor=current_user, today=on,
                             version=version)
    return f"已批准延期至 {case.due_on.isoformat()}，出具延期答复告知书 {result.letter.doc_number}"


def request_reasons(session, case, agency, on, version):
    result = services.request_reasons(
        session, case.id, volume_description=fv.text("volume_description"),
        period_working_days=fv.optional_int("period_working_days", "说明理由的期限") or 10,
        renderer=_letters(agency), actor=current_user, today=on, version=version)
    return (f"已出具说明理由告知书 {result.letter.doc_number}：申请人自收到之日起 {case.reason_period_working_days} "
            "个工作日内说明理由，请登记送达")


def record_reasons(session, case, agency, on, version):
    services.record_reasons(session, case.id, answer=fv.choice("answer", "说明理由情况", REASON_ANSWERS),
                            answered_on=fv.required_date("answered_on", "日期"), summary=fv.text("summary"),
                            actor=current_user, today=on, version=version)
    return "已登记说明理由情况"


def set_delayed_reply(session, case, agency, on, version):
    result = services.set_delayed_reply(
        session, case.id, new_due_on=fv.required_date("new_due_on", "延迟答复的期限"), reason=fv.text("reason"),
        renderer=_letters(agency), actor=current_user, today=on, version=version)
    return f"已确定延迟答复期限至 {case.delay_due_on.isoformat()}，出具延迟答复告知书 {result.letter.doc_number}"


def record_delivery(session, case, agency, on, version):
    services.record_delivery(
        session, case.id, method=fv.choice("method", "送达方式", DELIVERY_METHODS),
        delivered_on=fv.required_date("delivered_on", "送达日期"), tracking_no=fv.text("tracking_no"),
        letter_id=fv.optional_int("letter_id", "文书"), proof=fv.upload("proof"),
        returned=fv.flag("returned"), note=fv.text("note"), actor=current_user, today=on, version=version)
    return "已登记送达" + ("，答复已完成" if case.stage == "replied" else "")


def _delivery_allowed(case: Case, user) -> bool:
    return services.may_record_delivery(case, user)


def _delivery_context(session, case, agency):
    letters = session.scalars(select(Letter).options(defer(Letter.pdf)).where(Letter.case_id == case.id)
                              .order_by(Letter.id.desc())).all()
    return {"letters": letters, "default_method": delivery_method_for(case.requested_delivery)}


def record_challenge(session, case, agency, on, version):
    services.record_review_or_litigation(
        session, case.id, kind=fv.choice("kind", "类型", CHALLENGE_KINDS), filed_on=fv.required_date("filed_on", "立案（申请）日期"),
        result=fv.choice("result", "结果", CHALLENGE_RESULTS), decided_on=fv.optional_date("decided_on", "审结日期"),
        note=fv.text("note"), challenge_id=fv.optional_int("challenge_id", "复议、诉讼记录"), actor=current_user,
        today=on)
    return "已登记复议、诉讼情况"


def _challenge_allowed(case: Case, user) -> bool:
    return (user.agency_id == case.agency_id and case.stage in ("replied", "closed", "archived")
            and any(user.has_role(r) for r in ("clerk", "legal_reviewer", "archivist", "office_head")))


def _challenge_context(session, case, agency):
    pending = session.scalars(select(LegalChallenge).where(LegalChallenge.case_id == case.id,
                                                           LegalChallenge.result == "PENDING")).all()
    return {"pending_challenges": pending}


def notify_third_party(session, case, agency, on, version):
    result = services.notify_third_party_of_disclosure(
        session, case.id, consultation_id=fv.optional_int("consultation_id", "征求意见记录") or 0,
        information=fv.text("information"), reason=fv.text("reason"),
        disclosure_on=fv.optional_date("disclosure_on", "拟公开日期"), renderer=_letters(agency),
        actor=current_user, today=on, version=version)
    return f"已出具公开决定告知书 {result.letter.doc_number}（送第三方）"


def _notify_context(session, case, agency):
    return {"objecting": objecting_third_parties(case)}


def archive(session, case, agency, on, version):
    retention = fv.text("retention") or None
    services.archive(session, case.id, retention=retention, retention_reason=fv.text("retention_reason"),
                     actor=current_user, today=on, version=version)
    return f"已归档，档号 {case.archive_no}"


def _archive_context(session, case, agency):
    challenged = session.scalar(select(LegalChallenge.id).where(LegalChallenge.case_id == case.id).limit(1))
    return {"ruled_retention": retention_for(agency, case.report_outcome, challenged=challenged is not None),
            "retention_periods": RETENTION_PERIODS}


ACTIONS: dict[str, CaseAction] = {
    "confirm_receipt": CaseAction("确认收件", _workflow("confirm_receipt"), confirm_receipt),
    "request_supplement": CaseAction("补正告知", _workflow("request_supplement"), request_supplement,
                                     confirm=LETTER_CONFIRM),
    "receive_supplement": CaseAction("收到补正", _workflow("receive_supplement"), receive_supplement),
    "close_lapsed": CaseAction("逾期结案", _workflow("close_lapsed_supplement", "close_lapsed_fee"), close_lapsed,
                               confirm="确认后案件结案（不能恢复办理）。" + LETTER_CONFIRM),
    "withdraw": CaseAction("申请人撤回", _workflow("withdraw"), withdraw,
                           confirm="确认后案件结案（不能恢复办理）；选择出具告知书的，" + LETTER_CONFIRM),
    "accept": CaseAction("受理并分办", _workflow("accept"), accept, _assignment_context),
    "assign": CaseAction("改派承办", _workflow("assign"), assign, _assignment_context),
    "open_consultation": CaseAction("征求意见", _workflow("open_consultation"), open_consultation,
                                    confirm=LETTER_CONFIRM),
    "record_consultation_answer": CaseAction("登记意见", _workflow("record_consultation_answer"),
                                             record_consultation_answer, _consultation_context),
    "issue_fee_notice": CaseAction("收费通知", _workflow("issue_fee_notice"), issue_fee_notice, _fee_context,
                                   confirm=LETTER_CONFIRM),
    "record_payment": CaseAction("登记缴费", _workflow("record_payment"), record_payment),
    "extend": CaseAction("批准延期答复", _workflow("extend"), extend,
                         confirm="延期只能批准一次。" + LETTER_CONFIRM),
    "request_reasons": CaseAction("要求说明理由", _workflow("request_reasons"), request_reasons,
                                  confirm=LETTER_CONFIRM),
    "record_reasons": CaseAction("登记说明理由情况", _workflow("record_reasons"), record_reasons),
    "set_delayed_reply": CaseAction("确定延迟答复期限", _workflow("set_delayed_reply"), set_delayed_reply,
                                    confirm=LETTER_CONFIRM),
    "record_delivery": CaseAction("登记送达", _delivery_allowed, record_delivery, _delivery_context),
    "record_challenge": CaseAction("登记复议、诉讼", _challenge_allowed, record_challenge, _challenge_context),
    "archive": CaseAction("归档", _workflow("archive"), archive, _archive_context,
                          confirm="归档后案件材料冻结，取得档号，不能再办理或修改；保管期限按所选确定。"),
    "notify_third_party": CaseAction("告知第三方公开决定", _workflow("notify_third_party"), notify_third_party,
                                     _notify_context, confirm=LETTER_CONFIRM),
}


def _render(case: Case, agency: Agency, name: str, values, status: int = 200):
    action = ACTIONS[name]
    session = db.get_session()
    context = action.context(session, case, agency)
    return render_template(f"handling/{name}.html", case=case, agency=agency, action=action, name=name,
                           values=values, today=today(), **context), status


def _confirmation(case_id: int, name: str, action: CaseAction):
    """After a dry run that succeeded: nothing is kept; the page shows what confirming will produce (the 样稿 of
    each letter, without its number) and posts the same values again with confirmed=1."""
    session = db.get_session()
    captured = g.pop("letter_drafts")
    discard_work(session)
    case = services.load_case(session, case_id, current_user)
    previews = [(LETTER_LABELS.get(letter_type, letter_type), drafts.keep(pdf)) for letter_type, pdf in captured]
    hidden = [(k, v) for k, values in request.form.lists() if k not in ("csrf_token", "confirmed", "quote")
              for v in values]
    return render_template("handling/confirm.html", case=case, action=action, name=name, previews=previews,
                           hidden=hidden, file_fields=[k for k, f in request.files.items() if f.filename])


@bp.route("/cases/<int:case_id>/do/<name>", methods=["GET", "POST"])
def act(case_id: int, name: str):
    action = ACTIONS.get(name)
    if action is None:
        abort(404)
    session = db.get_session()
    case = services.load_case(session, case_id, current_user)
    agency = case.agency
    if not action.allowed(case, current_user):
        abort(403)
    if request.method == "GET" or "quote" in request.form:
        # On GET the query string may preselect (the dashboard links a delivery to its letter); a MultiDict either
        # way (checkbox lists read it with getlist).
        values = request.form if request.method == "POST" else request.args
        return _render(case, agency, name, values)
    on = today()
    dry_run = bool(action.confirm) and request.form.get("confirmed") != "1"
    if dry_run:
        g.letter_drafts = []
    try:
        message = action.perform(session, case, agency, on, fv.case_version())
        if dry_run:
            return _confirmation(case_id, name, action)
    except GongkaiError as refusal:
        discard_work(session)
        fresh = services.load_case(session, case_id, current_user)
        text = refusal.message
        if isinstance(refusal, StaleCase):
            text += "。下方保留了您填写的内容，已更新为最新版本，请核对案件最新情况后再提交。"
        flash(text, "error")
        show_next_to_field(refusal)
        values = request.form.copy()  # a MultiDict: checkbox lists keep every ticked value
        if isinstance(refusal, StaleCase):
            values["version"] = str(fresh.version)
        return _render(fresh, fresh.agency, name, values, status_for(refusal))
    flash(message, "success")
    return redirect(url_for("cases.show", case_id=case.id), 303)
