"""拟稿 (条例36–38): an outcome per item, the exemption record of each withheld part with exactly the elements
its ground requires (条例13–16、37), 保密审查, and the letter preview (the real PDF, marked 样稿)."""

from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from engine import services
from engine.errors import GongkaiError, InvalidInput
from engine.persistence.models import Case, CaseItem, ConfidentialityReview, ExemptionRecord
from engine.rules.exemptions import (
    ELEMENTS,
    EXEMPTION_GROUNDS,
    FLAG,
    GROUND_ARTICLES,
    OGI,
    OUTCOMES_NEEDING_RECORDS,
    REF,
    STATUTE_TEXT,
    TEXT_ELEMENTS,
    Element,
    ExemptionDraft,
    missing_by_element,
    missing_elements,
)
from engine.rules.outcomes import OUTCOMES, REPLY_CODES
from engine.rules.vocabulary import CONFIDENTIALITY_CONCLUSIONS
from engine.rules.workflow import available_actions
from engine.services import ItemDecision
from engine.services.decisions import decision_problems
from webui import db
from webui import form_values as fv
from webui.letters_adapter import renderer_for
from webui.localtime import today
from webui.refusals import discard_work, status_for

bp = Blueprint("drafting", __name__)

_FULL_TEXT = "本案所涉文件中的具体内容经逐页核对确属该情形，详见卷内材料说明"


def required_fields(ground: str, item_outcome: str, *, whole_item: bool) -> list[str]:
    """The fields `missing_elements` demands for this ground: each one blanked on a complete draft is missed."""
    if ground not in GROUND_ARTICLES:
        return []
    complete = ExemptionDraft(ground=ground, whole_item=whole_item, consultation_answered=False,
                              **{e.name: _FULL_TEXT for e in TEXT_ELEMENTS})
    baseline = len(missing_elements(complete, item_outcome))
    return [e.name for e in TEXT_ELEMENTS
            if len(missing_elements(replace(complete, **{e.name: ""}), item_outcome)) > baseline]


def grounds_for(item: CaseItem) -> list[str]:
    return list(EXEMPTION_GROUNDS) if item.outcome == "PARTIAL" else [item.outcome]


def _allowed(case: Case, *names: str) -> bool:
    return any(a.name in names for a in available_actions(case, current_user))


@bp.get("/cases/<int:case_id>/decide")
def decide(case_id: int):
    session = db.get_session()
    case = services.load_case(session, case_id, current_user)
    if not _allowed(case, "record_decision", "record_confidentiality_review", "submit_for_review"):
        abort(403)
    return _render_decide(case, request.form)


def _render_decide(case: Case, values, status: int = 200):
    session = db.get_session()
    records = session.scalars(select(ExemptionRecord).where(ExemptionRecord.case_id == case.id,
                                                            ExemptionRecord.current.is_(True))
                              .order_by(ExemptionRecord.id)).all()
    item_ids = [i.id for i in case.items]
    reviews = {}
    for review in session.scalars(select(ConfidentialityReview).where(ConfidentialityReview.item_id.in_(item_ids))
                                  .order_by(ConfidentialityReview.id)):
        reviews[review.item_id] = review
    problems = decision_problems(session, case, require_confirmed=False)
    return render_template(
        "drafting/decide.html", case=case, values=values, records=records, reviews=reviews, problems=problems,
        reply_codes=REPLY_CODES, OUTCOMES=OUTCOMES, needs_records=OUTCOMES_NEEDING_RECORDS,
        conclusions=CONFIDENTIALITY_CONCLUSIONS, today=today(),
        can_decide=_allowed(case, "record_decision"), can_review=_allowed(case, "record_confidentiality_review"),
        can_submit=_allowed(case, "submit_for_review"),
        previewable=all(i.outcome for i in case.items)), status


def _refused(case_id: int, refusal: GongkaiError, render):
    """Undo the request's work, say why, and show the page again (`render`) with the case as it now is."""
    session = db.get_session()
    discard_work(session)
    flash(refusal.message, "error")
    return render(services.load_case(session, case_id, current_user), status_for(refusal))


def _decide_again(fresh: Case, status: int):
    """The decide page after a refusal, with what was posted still in the form."""
    return _render_decide(fresh, request.form, status)


@bp.post("/cases/<int:case_id>/decide")
def save_decisions(case_id: int):
    session = db.get_session()
    case = services.load_case(session, case_id, current_user)
    primary = fv.optional_int("primary_item", "主要事项")
    decisions = []
    for item in case.items:
        outcome = fv.text(f"outcome_{item.id}")
        if not outcome:
            continue
        decisions.append(ItemDecision(
            item_id=item.id, outcome=outcome, reason=fv.text(f"reason_{item.id}"),
            how_to_obtain=fv.text(f"how_to_obtain_{item.id}"), referral_agency=fv.text(f"referral_agency_{item.id}"),
            referral_contact=fv.text(f"referral_contact_{item.id}"),
            referral_unknown_reason=fv.text(f"referral_unknown_reason_{item.id}"),
            earlier_reply_number=fv.text(f"earlier_reply_number_{item.id}"),
            is_primary=primary == item.id if primary else False))
    try:
        services.record_decision(session, case.id, decisions=decisions, actor=current_user, today=today(),
                                 version=fv.case_version())
    except GongkaiError as refusal:
        return _refused(case_id, refusal, _decide_again)
    flash("办理结果已保存", "success")
    return redirect(url_for("drafting.decide", case_id=case.id), 303)


@bp.route("/cases/<int:case_id>/items/<int:item_id>/exemption", methods=["GET", "POST"])
def exemption(case_id: int, item_id: int):
    session = db.get_session()
    case = services.load_case(session, case_id, current_user)
    item = next((i for i in case.items if i.id == item_id), None)
    if item is None:
        abort(404)
    if not _allowed(case, "record_decision"):
        abort(403)
    if item.outcome not in OUTCOMES_NEEDING_RECORDS:
        flash("该事项的办理结果不需要不予公开理由记录", "error")
        return redirect(url_for("drafting.decide", case_id=case.id), 303)
    replaces = request.values.get("replaces", type=int)
    old = session.get(ExemptionRecord, replaces) if replaces else None
    if old is not None and (old.item_id != item.id or not old.current):
        abort(404)
    if request.method == "GET":
        values = {e.name: getattr(old, e.name) for e in ELEMENTS} if old else {}
        return _render_exemption(case, item, values, old)
    if "switch_ground" in request.form:
        # Another ground chosen: the page shows that ground's fields with everything typed so far kept.
        return _render_exemption(case, item, request.form, old)
    posted = {e.name: _posted(e) for e in ELEMENTS}
    if not posted["ground"] and len(grounds_for(item)) == 1:
        posted["ground"] = item.outcome
    form = ExemptionDraft(**posted, replaces_id=old.id if old else None)
    try:
        if not form.ground:
            raise InvalidInput("请先选择不公开部分的理由", details={"field": "ground"})
        services.record_exemption(session, case.id, item_id=item.id, form=form, actor=current_user, today=today(),
                                  version=fv.case_version())
    except GongkaiError as refusal:
        missing = refusal.details
        # Each missing element beside its field (the form's posted ground decides which fields there are).
        g.field_errors = missing_by_element(replace(form, consultation_answered=bool(form.consultation_id)),
                                            item.outcome) if form.ground else {"ground": refusal.message}

        def again(fresh, status):
            fresh_item = next(i for i in fresh.items if i.id == item_id)
            return _render_exemption(fresh, fresh_item, request.form, old, status, missing)

        return _refused(case_id, refusal, again)
    flash(f"第 {item.seq} 项的{'检索记录' if item.outcome == 'NOT_HELD' else '不予公开理由记录'}已保存", "success")
    return redirect(url_for("drafting.decide", case_id=case.id), 303)


def _posted(element: Element):
    """One element of the posted exemption form, read by its kind."""
    if element.kind == FLAG:
        return fv.flag(element.name)
    if element.kind == REF:
        return fv.optional_int(element.name, element.label)
    return fv.text(element.name)


def _render_exemption(case, item, values, old, status: int = 200, missing=None):
    grounds = grounds_for(item)
    # A part withheld (部分公开) may rest on any ground of 条例14–16: none is preselected, the handler chooses.
    ground = (values.get("ground") if hasattr(values, "get") else None) or request.args.get("ground") or \
        (grounds[0] if len(grounds) == 1 else None)
    if ground not in grounds:
        ground = grounds[0] if len(grounds) == 1 else None
    whole_default = item.outcome != "PARTIAL"
    if not whole_default:
        whole_item = False
    elif hasattr(values, "get") and values.get("version"):
        whole_item = values.get("whole_item") in ("1", "on")
    elif request.args.get("whole") in ("0", "1"):
        whole_item = request.args.get("whole") == "1"
    elif values and "whole_item" in values:
        whole_item = bool(values["whole_item"])
    else:
        whole_item = True
    fields_needed = required_fields(ground, item.outcome, whole_item=whole_item) if ground else []
    if ground and ground != "NOT_HELD" and "article" not in fields_needed:
        fields_needed.insert(0, "article")
    # Typed text of fields this ground does not ask for stays in the form (hidden), in case the ground changes back.
    kept = [(e.name, values.get(e.name)) for e in TEXT_ELEMENTS
            if e.name not in fields_needed and hasattr(values, "get") and values.get(e.name)]
    answered = [c for c in case.consultations if c.kind == "THIRD_PARTY" and not c.is_open]
    return render_template(
        "drafting/exemption.html", case=case, item=item, values=values, old=old, grounds=grounds, ground=ground,
        fields_needed=fields_needed, elements={e.name: e for e in ELEMENTS}, statute=STATUTE_TEXT.get(ground, ""),
        default_article=GROUND_ARTICLES.get(ground, ""), whole_item=whole_item, whole_default=whole_default,
        answered_consultations=answered, missing=missing if isinstance(missing, list) else None, kept=kept,
        ground_articles={code: GROUND_ARTICLES[code].replace(OGI, "条例") for code in grounds},
        OUTCOMES=OUTCOMES), status


@bp.post("/cases/<int:case_id>/items/<int:item_id>/confidentiality")
def confidentiality(case_id: int, item_id: int):
    session = db.get_session()
    case = services.load_case(session, case_id, current_user)
    try:
        services.record_confidentiality_review(
            session, case.id, item_id=item_id, conclusion=fv.text("conclusion"), basis=fv.text("basis"),
            reviewed_on=fv.required_date("reviewed_on", "审查日期"), actor=current_user, today=today(),
            version=fv.case_version())
    except GongkaiError as refusal:
        return _refused(case_id, refusal, _decide_again)
    flash("保密审查结论已记录", "success")
    return redirect(request.form.get("back") == "review" and url_for("legal_review.review", case_id=case.id)
                    or url_for("drafting.decide", case_id=case.id), 303)


@bp.post("/cases/<int:case_id>/submit")
def submit(case_id: int):
    session = db.get_session()
    case = services.load_case(session, case_id, current_user)
    try:
        services.submit_for_review(session, case.id, actor=current_user, today=today(), version=fv.case_version())
    except GongkaiError as refusal:
        return _refused(case_id, refusal, _decide_again)
    flash("已提交法制审核", "success")
    return redirect(url_for("cases.show", case_id=case.id), 303)


@bp.get("/cases/<int:case_id>/preview.pdf")
def preview(case_id: int):
    """The reply as it would be signed today, marked 样稿; framable by this site only."""
    session = db.get_session()
    case = services.load_case(session, case_id, current_user)
    if not current_user.has_any_role("handler", "legal_reviewer", "office_head", "clerk"):
        abort(403)
    rendered = services.preview_reply(session, case.id, renderer=renderer_for(case.agency), actor=current_user,
                                      today=today())
    g.framable = True
    return Response(rendered.pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": "inline; filename=preview.pdf"})
