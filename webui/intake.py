"""登记 (条例29、31): the registration form, the live duplicate warning and the receipt with the query code."""

from __future__ import annotations

import logging
from datetime import date

from flask import Blueprint, flash, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user

from engine import services
from engine.errors import GongkaiError, InvalidInput
from engine.persistence.models import Agency
from engine.rules import contact
from engine.rules.outcomes import APPLICANT_TYPES
from engine.rules.vocabulary import CHANNELS
from engine.services import ApplicantForm, RegistrationForm
from engine.services.common import FieldProblems
from webui import db
from webui import form_values as fv
from webui.auth import requires_role
from webui.letters_adapter import render_pending, renderer_for
from webui.localtime import today
from webui.refusals import discard_work, show_next_to_field, status_for

bp = Blueprint("intake", __name__)
log = logging.getLogger("gongkai.web")

ID_TYPES = ("居民身份证", "统一社会信用代码", "护照", "港澳居民来往内地通行证", "台湾居民来往大陆通行证", "其他")
REQUESTED_FORMS = ("纸质", "电子数据", "其他")
REQUESTED_DELIVERIES = ("邮寄", "电子邮件", "网络平台", "当面领取", "传真")
# Channels whose receipt date is a confirmation with the applicant (条例31(二)(三)).
CONFIRMED_CHANNELS = ("plain_letter", "online", "fax")


def _applicant_from_form() -> ApplicantForm:
    return ApplicantForm(kind=fv.text("applicant_kind"), name=fv.text("name"), id_type=fv.text("id_type"),
                         id_number=fv.text("id_number"), phone=fv.text("phone"), email=fv.text("email"),
                         address=fv.text("address"), postal_code=fv.text("postal_code"),
                         contact_person=fv.text("contact_person"))


def _items_from_form() -> list[tuple[str, str]]:
    descriptions = fv.texts("item_description")
    topics = fv.texts("item_topic")
    topics += [""] * (len(descriptions) - len(topics))
    return [(d, t) for d, t in zip(descriptions, topics, strict=False) if d]


def _form_context(agency: Agency, values) -> dict:
    items = [{"description": d, "topic": t} for d, t in zip(values.getlist("item_description"),
                                                           values.getlist("item_topic"), strict=False)
             if d.strip()] if hasattr(values, "getlist") else []
    return {"values": values, "items": items or [{"description": "", "topic": ""}], "agency": agency,
            "APPLICANT_TYPES": APPLICANT_TYPES, "channels": CHANNELS, "id_types": ID_TYPES,
            "PHONE_PATTERN": contact.PHONE_PATTERN, "POSTAL_CODE_PATTERN": contact.POSTAL_CODE_PATTERN,
            "ID_CARD_PATTERN": contact.ID_CARD_PATTERN, "ID_CARD_TYPES": contact.ID_CARD_TYPES,
            "requested_forms": REQUESTED_FORMS, "requested_deliveries": REQUESTED_DELIVERIES,
            "confirmed_channels": CONFIRMED_CHANNELS}


@bp.route("/register", methods=["GET", "POST"])
@requires_role("clerk")
def register():
    session_db = db.get_session()
    agency = session_db.get(Agency, current_user.agency_id)
    if request.method == "GET":
        defaults = {"submitted_on": today().isoformat(), "channel": "in_person", "applicant_kind": "NATURAL"}
        return render_template("intake/register.html", **_form_context(agency, _Defaults(defaults)))
    on = today()
    try:
        # Every problem of the form at once, beside its field: unreadable dates first, then the engine's checks.
        problems = FieldProblems()
        dates = {name: _read_date(problems, name, label, required=name == "submitted_on")
                 for name, label in (("submitted_on", "提交日期"), ("signed_for_on", "签收日期"),
                                     ("confirmed_on", "确认日期"))}
        form = RegistrationForm(
            applicant=_applicant_from_form(), channel=fv.text("channel"), items=_items_from_form(),
            requested_form=fv.text("requested_form"), requested_delivery=fv.text("requested_delivery"),
            purpose=fv.text("purpose"), **dates)
        for name, message in services.registration_problems(form, on).items():
            problems.note(name, message)
        problems.raise_all()
        # The receipt is fixed in the registration's transaction and rendered right after its commit, outside the
        # number counter's and the audit chain's locks: the clerk still hands it over at once, and the other
        # clerks' registrations do not queue behind this PDF.
        result = services.register_request(session_db, form, renderer=renderer_for(agency), actor=current_user,
                                           today=on, application_file=fv.upload("application_file"),
                                           render_later=True)
    except GongkaiError as refusal:
        discard_work(session_db)
        flash(refusal.message, "error")
        show_next_to_field(refusal)
        return render_template("intake/register.html", **_form_context(agency, request.form)), status_for(refusal)
    case = result.case
    db.commit()
    _render_now([letter.id for letter in result.letters])
    # Only the case id goes into the (signed, readable) cookie; the code is read from the frozen receipt once.
    session["show_query_code"] = case.id
    flash(f"已登记：{case.reg_no}", "success")
    if case.channel == "mail" and form.signed_for_on is None:
        flash(f"邮寄申请未填写签收日期：已以提交日期 {case.submitted_on.isoformat()} 作为收到申请之日（条例第三十一条）。"
              "如签收日期不同，请在案件页核对。", "warning")
    return redirect(url_for("intake.registered", case_id=case.id))


def _render_now(letter_ids: list[int]) -> None:
    """Render the letters just committed, each in its own transaction; one that fails is left to its
    `render_letter` job (the case page shows it 正在生成 until then)."""
    session_db = db.get_session()
    for letter_id in letter_ids:
        try:
            render_pending(session_db, letter_id)
            session_db.commit()
        except Exception:  # noqa: BLE001 - the registration stands; the background job renders it
            session_db.rollback()
            log.warning("receipt %s not rendered at the counter; left to its job", letter_id, exc_info=True)
            flash("登记回执正在生成，稍后可在案件页下载。", "warning")


def _read_date(problems: FieldProblems, name: str, label: str, *, required: bool) -> date | None:
    try:
        return fv.required_date(name, label) if required else fv.optional_date(name, label)
    except InvalidInput as problem:
        problems.note(name, problem.message)
        return None


class _Defaults(dict):
    """Initial form values with the `getlist` the template expects of posted data."""

    def getlist(self, key):
        value = self.get(key)
        return [] if value is None else [value]


@bp.get("/cases/<int:case_id>/registered")
@requires_role("clerk")
def registered(case_id: int):
    """The query code is shown exactly once, right after registration; only its hash is stored."""
    session_db = db.get_session()
    case = services.load_case(session_db, case_id, current_user)
    show = session.pop("show_query_code", None) == case.id
    from sqlalchemy import select
    from sqlalchemy.orm import defer

    from engine.persistence.models import Letter

    receipt = session_db.scalar(select(Letter).options(defer(Letter.pdf)).where(
        Letter.case_id == case.id, Letter.letter_type == "receipt").order_by(Letter.id.desc()))
    code = (receipt.data_snapshot or {}).get("query_code") if show and receipt is not None else None
    return render_template("intake/registered.html", case=case, code=code, receipt=receipt)


@bp.post("/register/duplicates")
@requires_role("clerk")
def duplicates():
    """Earlier similar requests of the same applicant (条例36(六)), for the live warning on the form."""
    data = request.get_json(silent=True) or {}
    applicant = ApplicantForm(kind=str(data.get("applicant_kind", "")), name=str(data.get("name", ""))[:200],
                              id_number=str(data.get("id_number", ""))[:60], phone=str(data.get("phone", ""))[:60],
                              email=str(data.get("email", ""))[:120])
    texts = [str(t)[:2000] for t in (data.get("items") or []) if isinstance(t, str)][:20]
    found = services.find_possible_duplicates(db.get_session(), current_user.agency_id, applicant, texts)
    for row in found:
        row["received_on"] = row["received_on"].isoformat() if row["received_on"] else None
        row["url"] = url_for("cases.show", case_id=row["case_id"])
    return jsonify({"duplicates": found})
