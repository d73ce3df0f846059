"""The public pages' views: parse the form, make the one engine call (taken by the agency's system user), present."""

from __future__ import annotations

from datetime import datetime

from flask import abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from engine.errors import GongkaiError, InvalidInput, StaleCase
from engine.persistence.models import Agency, Case
from engine.rules.outcomes import APPLICANT_TYPES
from engine.rules.workflow import stages_allowing
from engine.services import ApplicantForm, RegistrationForm, find_possible_duplicates, register_request
from engine.services import portal as public
from engine.services.registration import validate_registration
from engine.services.uploads import MAX_UPLOAD_BYTES, UploadedFile
from webui import db
from webui import form_values as fv
from webui.downloads import content_disposition, letter_filename
from webui.intake import ID_TYPES
from webui.letters_adapter import renderer_for
from webui.localtime import SHANGHAI, today
from webui.portal import bp, guards
from webui.refusals import discard_work, show_next_to_field, status_for

REQUESTED_FORMS = ("电子数据", "纸质", "其他")
# Stored values are the clerk form's vocabulary (webui.intake); the labels say what each means to the applicant.
DELIVERY_CHOICES = {
    "网络平台": "电子送达：在本网站“办件进度查询”中下载",
    "电子邮件": "电子送达：以电子邮件通知，凭邮件中的链接在本网站下载",
    "邮寄": "邮寄",
    "当面领取": "当面领取",
}
STAGE_WORDS = {
    "received": "已提交，等待本机关确认收件",
    "registered": "已收到申请，正在审核",
    "awaiting_supplement": "需要您补正申请",
    "in_handling": "正在办理",
    "consulting": "正在征求有关方面意见（征求意见时间不计入答复期限）",
    "awaiting_fee": "等待缴纳信息处理费（缴费期间不计入答复期限）",
    "drafting": "正在办理，拟定答复",
    "in_review": "正在办理，答复审核中",
    "signed": "已作出答复，正在送达",
    "replied": "已答复",
    "closed": "已终止办理",
    "archived": "已办结",
}
CLOCK_STAGES = ("registered", "in_handling", "consulting", "awaiting_fee", "drafting", "in_review", "signed")
WITHDRAWABLE = frozenset(stages_allowing("withdraw"))
BAD_LOOKUP = "登记编号或查询码不正确，请核对登记回执"


def _now() -> datetime:
    return datetime.now(SHANGHAI)


# ---------------------------------------------------------------- 网上申请

def _agencies() -> list[Agency]:
    return list(db.get_session().scalars(select(Agency).order_by(Agency.id)))


def _chosen_agency(code: str | None) -> Agency | None:
    """The agency named by `?agency=`/the form, or the only one; None when the applicant must choose."""
    agencies = _agencies()
    if code:
        found = next((a for a in agencies if a.code == code), None)
        if found is None:
            abort(404)
        return found
    return agencies[0] if len(agencies) == 1 else None


def _items() -> list[str]:
    return [d for d in fv.texts("item_description") if d]


def _applicant() -> ApplicantForm:
    return ApplicantForm(kind=fv.text("applicant_kind"), name=fv.text("name"), id_type=fv.text("id_type"),
                         id_number=fv.text("id_number"), phone=fv.text("phone"), email=fv.text("email"),
                         address=fv.text("address"), postal_code=fv.text("postal_code"),
                         contact_person=fv.text("contact_person"))


def _registration() -> RegistrationForm:
    return RegistrationForm(applicant=_applicant(), channel="online", submitted_on=today(),
                            items=[(d, "") for d in _items()], requested_form=fv.text("requested_form"),
                            requested_delivery=fv.text("requested_delivery"), purpose=fv.text("purpose"))


def _form_page(agency: Agency, values, *, status: int = 200, extra_item: bool = False, token: str | None = None):
    items = [d for d in values.getlist("item_description") if d.strip()] or [""]
    if extra_item:
        items.append("")
    return render_template("portal/apply.html", agency=agency, values=values, items=items,
                           token=token or guards.form_started_token(), applicant_types=APPLICANT_TYPES,
                           id_types=ID_TYPES, requested_forms=REQUESTED_FORMS, deliveries=DELIVERY_CHOICES,
                           honeypot=guards.HONEYPOT_FIELD), status


def _review_page(agency: Agency, *, duplicates=(), status: int = 200, error: str = "", headers=None):
    form = _registration()
    page = render_template("portal/review.html", agency=agency, form=form, values=request.form,
                           items=_items(), duplicates=duplicates, error=error, applicant_types=APPLICANT_TYPES,
                           deliveries=DELIVERY_CHOICES, token=request.form.get("started", ""),
                           manual=agency.online_manual_confirmation)
    return page, status, headers or {}


def _robot_refusal(agency: Agency):
    """A honeypot caught something: nothing is registered, and the page does not say why."""
    flash("提交未被接受，请刷新页面后重新填写", "error")
    return _form_page(agency, MultiDict(), status=400)


def _checked(agency: Agency):
    """The form's own problems as the page to show (None when it may go on): the robot checks, the notice, then
    every rule `register_request` would apply."""
    if guards.honeypot_filled():
        return _robot_refusal(agency)
    timing = guards.fill_time_problem(request.form.get("started", ""))
    if timing:
        flash(timing, "error")
        return _form_page(agency, request.form, status=400)
    if not fv.flag("notice_read"):
        g.field_errors = {"notice_read": "请阅读申请须知并勾选确认"}
        return _form_page(agency, request.form, status=400, token=request.form.get("started"))
    if fv.text("requested_delivery") not in DELIVERY_CHOICES:
        g.field_errors = {"requested_delivery": "请选择获取信息的方式"}
        return _form_page(agency, request.form, status=400, token=request.form.get("started"))
    try:
        validate_registration(_registration(), today())
    except InvalidInput as refusal:
        flash(refusal.message, "error")
        show_next_to_field(refusal)
        return _form_page(agency, request.form, status=400, token=request.form.get("started"))
    return None


@bp.get("/apply")
def apply():
    agency = _chosen_agency(request.args.get("agency"))
    if agency is None:
        return render_template("portal/choose_agency.html", agencies=_agencies())
    return _form_page(agency, MultiDict({"applicant_kind": "NATURAL", "requested_form": "电子数据",
                                         "requested_delivery": "网络平台"}))


@bp.post("/apply")
def review():
    """Back to the form (增加一项, 返回修改), or on to the confirmation page showing what will be submitted."""
    agency = _chosen_agency(fv.text("agency") or None) or abort(404)
    if request.form.get("step") in ("add_item", "edit"):
        if guards.honeypot_filled():
            return _robot_refusal(agency)
        return _form_page(agency, request.form, extra_item=request.form.get("step") == "add_item",
                          token=request.form.get("started"))
    problem = _checked(agency)
    if problem is not None:
        return problem
    wait = guards.review_limit_wait()  # it shows earlier requests of an ID number: not for enumerating them
    if wait is not None:
        flash(f"操作过于频繁，请 {wait} 秒后再试（填写的内容已保留）", "error")
        page, status = _form_page(agency, request.form, status=429, token=request.form.get("started"))
        return page, status, {"Retry-After": str(wait)}
    duplicates = find_possible_duplicates(db.get_session(), agency.id, _applicant(), _items())
    return _review_page(agency, duplicates=duplicates)


@bp.post("/apply/submit")
def submit():
    """Registration (条例29、31) through `register_request`, channel 网络; then the receipt, 查询码 shown once."""
    agency = _chosen_agency(fv.text("agency") or None) or abort(404)
    problem = _checked(agency)
    if problem is not None:
        return problem
    session_db = db.get_session()
    duplicates = find_possible_duplicates(session_db, agency.id, _applicant(), _items())
    if duplicates and not fv.flag("confirm_new"):
        return _review_page(agency, duplicates=duplicates, status=409,
                            error="您此前提交过内容相似的申请。如确属新的申请，请勾选确认后再提交；否则请查询原申请的办理进度。")
    wait = guards.apply_limit_wait(fv.text("id_number"))
    if wait is not None:
        return _review_page(agency, duplicates=duplicates, status=429, headers={"Retry-After": str(wait)},
                            error=f"提交次数过多，请 {max(1, (wait + 59) // 60)} 分钟后再试（填写的内容已保留）")
    actor = public.portal_actor(session_db, agency)
    try:
        result = register_request(session_db, _registration(), renderer=renderer_for(agency), actor=actor,
                                  today=today(), query_code_shown=True)
    except GongkaiError as refusal:
        discard_work(session_db)
        flash(refusal.message, "error")
        show_next_to_field(refusal)
        return _form_page(agency, request.form, status=status_for(refusal), token=request.form.get("started"))
    case = result.case
    guards.sign_in_to_case(case)
    # Answered here rather than redirected: the 查询码 is in this answer only, never in a cookie or a URL.
    return render_template("portal/receipt.html", case=case, agency=agency, code=result.query_code,
                           receipt=result.letter)


# ---------------------------------------------------------------- 办件进度查询

def _lookup_page(values, *, status: int = 200, headers=None):
    return render_template("portal/lookup.html", values=values, signed_in=guards.signed_in_case_id()), status, \
        headers or {}


@bp.get("/progress")
def progress():
    return _lookup_page({"reg_no": (request.args.get("reg_no") or "")[:80]})


@bp.post("/progress")
def lookup():
    wait = guards.lookup_limit_wait()
    if wait is not None:
        flash(f"查询次数过多，请 {wait} 秒后再试", "error")
        return _lookup_page(request.form, status=429, headers={"Retry-After": str(wait)})
    case = public.find_case_by_query_code(db.get_session(), fv.text("reg_no"), fv.text("query_code"))
    if case is None:
        g.field_errors = {"query_code": BAD_LOOKUP}
        return _lookup_page(request.form, status=404)
    guards.sign_in_to_case(case)
    return redirect(url_for("portal.case_page"), code=303)


def _signed_in_case() -> Case:
    """The case this browser looked up (session), or back to the lookup form."""
    case_id = guards.signed_in_case_id()
    case = db.get_session().get(Case, case_id) if case_id else None
    if case is None or not guards.still_valid_for(case):
        guards.sign_out()
        abort(redirect(url_for("portal.progress"), code=303))
    return case


def _actor(case: Case):
    return public.portal_actor(db.get_session(), db.get_session().get(Agency, case.agency_id))


@bp.get("/progress/case")
def case_page():
    case = _signed_in_case()
    session_db = db.get_session()
    letters = public.applicant_letters(session_db, case)
    return render_template(
        "portal/case.html", case=case, agency=case.agency, stage_words=STAGE_WORDS[case.stage],
        timeline=public.public_timeline(session_db, case), letters=letters,
        due_on=case.due_on if case.stage in CLOCK_STAGES else None, withdrawable=case.stage in WITHDRAWABLE,
        electronic=public.wants_electronic_delivery(case), values=request.form, deliveries=DELIVERY_CHOICES,
        first_download={letter.id for letter in letters if public.needs_electronic_delivery(session_db, case, letter)})


@bp.post("/progress/letters/<int:letter_id>")
def download(letter_id: int):
    """A letter as a PDF; the first download of an electronically delivered reply records its 送达."""
    case = _signed_in_case()
    session_db = db.get_session()
    try:
        letter, _delivery = public.download_letter(session_db, case.id, letter_id, actor=_actor(case), today=today(),
                                                  now=_now())
    except StaleCase:  # the same reply downloaded twice at once: the other download recorded the delivery
        discard_work(session_db)
        letter, _delivery = public.download_letter(session_db, case.id, letter_id, actor=_actor(case), today=today(),
                                                  now=_now())
    name = letter_filename(letter, case.reg_no)
    return letter.pdf, 200, {"Content-Type": "application/pdf",
                             "Content-Disposition": content_disposition(name, fallback=f"letter-{letter.id}.pdf")}


@bp.post("/progress/supplement")
def supplement():
    case = _signed_in_case()
    session_db = db.get_session()
    files = [UploadedFile(filename=f.filename, content=f.read(MAX_UPLOAD_BYTES + 1))
             for f in request.files.getlist("files") if f and f.filename]
    try:
        public.submit_supplement(session_db, case.id, statement=fv.text("statement"), files=files,
                                 actor=_actor(case), today=today(), version=fv.case_version())
    except GongkaiError as refusal:
        discard_work(session_db)
        flash(refusal.message, "error")
        show_next_to_field(refusal)
        return case_page(), status_for(refusal)
    flash("补正已提交，答复期限自今日起重新计算", "success")
    return redirect(url_for("portal.case_page"), code=303)


@bp.route("/progress/withdraw", methods=["GET", "POST"])
def withdraw():
    """撤回申请: a confirmation page first; only the confirming POST acts."""
    case = _signed_in_case()
    if request.method == "GET" or not fv.flag("confirmed"):
        return render_template("portal/withdraw.html", case=case, values=request.form)
    session_db = db.get_session()
    try:
        public.withdraw_online(session_db, case.id, explanation=fv.text("explanation"),
                               renderer=renderer_for(case.agency), actor=_actor(case), today=today(), now=_now(),
                               version=fv.case_version())
    except GongkaiError as refusal:
        discard_work(session_db)
        flash(refusal.message, "error")
        show_next_to_field(refusal)
        return render_template("portal/withdraw.html", case=case, values=request.form), status_for(refusal)
    flash("申请已撤回，本机关出具的终止办理告知书可在下方下载", "success")
    return redirect(url_for("portal.case_page"), code=303)


@bp.post("/progress/end")
def end():
    guards.sign_out()
    flash("已退出查询", "success")
    return redirect(url_for("portal.progress"), code=303)
