"""Decisions per item, exemption records, confidentiality review and legal review (条例13–16、36–39)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import InvalidInput, NotFound, RuleViolation
from engine.persistence.audit import utcnow
from engine.persistence.models import (
    CaseItem,
    ConfidentialityReview,
    Consultation,
    ExemptionRecord,
    Letter,
    User,
)
from engine.rules.exemptions import (
    GROUND_ARTICLES,
    OUTCOMES_NEEDING_RECORDS,
    ExemptionDraft,
    element_values,
    missing_elements,
    overlong_elements,
)
from engine.rules.outcomes import OUTCOMES, REPLY_CODES
from engine.rules.vocabulary import CONFIDENTIALITY_CONCLUSIONS
from engine.rules.workflow import advance, authorize, objecting_third_parties
from engine.services.agency_admin import seal_problem
from engine.services.common import finish_action, load_case, not_future, use_case
from engine.services.handling import same_person
from engine.services.issuing import LetterRenderer, renderer_problems
from engine.services.reasons import excessive_problem

# Outcomes that give information and so need a 保密审查 first (保守国家秘密法; 条例17).
DISCLOSING_OUTCOMES = frozenset({"DISCLOSED", "PARTIAL"})


@dataclass
class ItemDecision:
    item_id: int
    outcome: str
    reason: str = ""
    how_to_obtain: str = ""
    referral_agency: str = ""
    referral_contact: str = ""
    referral_unknown_reason: str = ""
    earlier_reply_number: str = ""
    is_primary: bool = False


def _decision_problems(d: ItemDecision) -> list[str]:
    problems = []
    if d.outcome not in REPLY_CODES:
        return [f"办理结果「{d.outcome}」无效（逾期不补正、逾期未缴费、撤回通过结案操作处理）"]
    gives = OUTCOMES[d.outcome].gives_information or d.outcome in ("PARTIAL", "PUBLICATION")
    if gives and not d.how_to_obtain.strip():
        problems.append("获取信息的方式、途径（和时间）")
    if d.outcome not in ("DISCLOSED",) and not d.reason.strip():
        problems.append("答复理由")
    if d.outcome == "NOT_RESPONSIBLE":
        # 条例36(五): name the responsible agency and its contact, or say why it cannot be determined.
        if d.referral_agency.strip() and not d.referral_contact.strip():
            problems.append("负责公开机关的联系方式（条例第三十六条第（五）项）")
        elif not d.referral_agency.strip() and not d.referral_unknown_reason.strip():
            problems.append("负责公开该信息的机关名称和联系方式，或者无法确定负责机关的理由（条例第三十六条第（五）项）")
    if d.outcome == "REPEAT" and not d.earlier_reply_number.strip():
        problems.append("此前答复的文号")
    return problems


def outcome_requirements(outcome: str) -> list[str]:
    """What a decision with `outcome` must state besides the outcome itself (for the API document)."""
    return _decision_problems(ItemDecision(item_id=0, outcome=outcome))


def missing_in_decision(decision: ItemDecision) -> list[str]:
    """What this one decision lacks (every problem, so a caller can report them all at once)."""
    return _decision_problems(decision)


@use_case
def record_decision(session: Session, case_id: int, *, decisions: list[ItemDecision], actor: User, today: date,
                    version: int | None = None):
    """拟定办理结果 item by item; a changed outcome retires exemption records that no longer fit."""
    case = load_case(session, case_id, actor, version=version)
    authorize(case, "record_decision", actor)
    by_id = {item.id: item for item in case.items}
    if not decisions:
        raise InvalidInput("请至少为一个申请事项拟定办理结果")
    errors = []
    for d in decisions:
        item = by_id.get(d.item_id)
        if item is None:
            raise NotFound(f"申请事项 {d.item_id} 不属于本申请")
        missing = _decision_problems(d)
        if missing:
            errors.append(f"第 {item.seq} 项缺少：{'、'.join(missing)}")
        if d.outcome == "EXCESSIVE" and excessive_problem(case):
            errors.append(f"第 {item.seq} 项：{excessive_problem(case)}")
    if errors:
        raise InvalidInput("；".join(errors), details=errors)
    changes = []
    primary_given = any(d.is_primary for d in decisions)
    for d in decisions:
        item = by_id[d.item_id]
        before = item.outcome
        item.outcome = d.outcome
        item.reason = d.reason.strip()
        item.how_to_obtain = d.how_to_obtain.strip()
        item.referral_agency = d.referral_agency.strip()
        item.referral_contact = d.referral_contact.strip()
        item.referral_unknown_reason = d.referral_unknown_reason.strip() if d.outcome == "NOT_RESPONSIBLE" else ""
        item.earlier_reply_number = d.earlier_reply_number.strip()
        item.decided_by_id = actor.id
        if primary_given:
            item.is_primary = d.is_primary
        if before != d.outcome:
            _retire_unfitting_records(session, item)
        changes.append({"item": item.seq, "outcome": {"before": before, "after": d.outcome}})
    before_stage = case.stage
    advance(case, "record_decision")
    finish_action(session, case, "record_decision", actor, before_stage, {"items": changes})
    return case


def _retire_unfitting_records(session: Session, item: CaseItem) -> None:
    for record in _current_records(session, item.id):
        fits = (item.outcome == "PARTIAL" and record.ground not in ("SPECIAL_REGIME", "NOT_HELD")) or (
            record.ground == item.outcome)
        if not fits:
            record.current = False


def _current_records(session: Session, item_id: int) -> list[ExemptionRecord]:
    return list(session.scalars(select(ExemptionRecord).where(
        ExemptionRecord.item_id == item_id, ExemptionRecord.current.is_(True)).order_by(ExemptionRecord.id)))


# The service takes the rule's own draft: the record's elements are defined once, in engine.rules.exemptions.
ExemptionForm = ExemptionDraft


@use_case
def record_exemption(session: Session, case_id: int, *, item_id: int, form: ExemptionForm, actor: User,
                     today: date, version: int | None = None) -> ExemptionRecord:
    """Add (or re-version) the exemption record of a withheld part; refused naming what is missing."""
    case = load_case(session, case_id, actor, version=version)
    authorize(case, "record_decision", actor)
    item = next((i for i in case.items if i.id == item_id), None)
    if item is None:
        raise NotFound("申请事项不属于本申请")
    if item.outcome not in OUTCOMES_NEEDING_RECORDS:
        raise RuleViolation("该事项的办理结果不需要不予公开理由记录；请先拟定为不予公开、部分公开或信息不存在")
    consultation_answered = False
    if form.consultation_id is not None:
        consultation = next((c for c in case.consultations if c.id == form.consultation_id), None)
        if consultation is None:
            raise NotFound("所选征求意见记录不属于本申请")
        consultation_answered = consultation.answered_on is not None
        if form.ground == "WITHHELD_THIRD_PARTY" and same_person(consultation.party_name, case.applicant.name):
            raise RuleViolation("申请人不是其自身信息的第三方：不能以申请人本人的意见为由，对其申请公开的自身信息"
                                "不予公开（条例第十五条、第三十二条）")
    draft = replace(form, article=form.article.strip() or GROUND_ARTICLES.get(form.ground, ""),
                    whole_item=form.whole_item if item.outcome != "PARTIAL" else False,
                    consultation_answered=consultation_answered)
    overlong = overlong_elements(draft)
    if overlong:
        raise InvalidInput("；".join(overlong), details=overlong)
    missing = missing_elements(draft, item.outcome)
    if missing:
        raise RuleViolation("不予公开理由记录不完整，缺少：" + "；".join(missing), details=missing)
    version_no = 1
    if form.replaces_id is not None:
        old = session.get(ExemptionRecord, form.replaces_id)
        if old is None or old.item_id != item.id or not old.current:
            raise NotFound("要修改的理由记录不存在或已被替换")
        old.current = False
        version_no = old.version + 1
    record = ExemptionRecord(
        case_id=case.id, item_id=item.id, version=version_no, current=True, **element_values(draft),
        review_state="pending", department_id=case.department_id, created_by_id=actor.id, created_at=utcnow())
    session.add(record)
    session.flush()
    before_stage = case.stage
    advance(case, "record_decision")
    finish_action(session, case, "record_exemption", actor, before_stage,
                   {"item": item.seq, "record_id": record.id, "version": version_no, "ground": form.ground,
                    "replaces": form.replaces_id})
    return record


@use_case
def record_confidentiality_review(session: Session, case_id: int, *, item_id: int, conclusion: str, basis: str = "",
                                  reviewed_on: date, actor: User, today: date, version: int | None = None):
    """保密审查 of an item before it is disclosed: 不涉密 / 经区分处理后可公开 / 涉密 (with the basis)."""
    case = load_case(session, case_id, actor, version=version)
    authorize(case, "record_confidentiality_review", actor)
    item = next((i for i in case.items if i.id == item_id), None)
    if item is None:
        raise NotFound("申请事项不属于本申请")
    if conclusion not in CONFIDENTIALITY_CONCLUSIONS:
        raise InvalidInput("保密审查结论无效")
    if conclusion != "NOT_SECRET" and not basis.strip():
        raise InvalidInput("涉密或需区分处理的结论须写明依据")
    not_future(reviewed_on, today, "审查日期")
    session.add(ConfidentialityReview(item_id=item.id, reviewer_id=actor.id, reviewed_on=reviewed_on,
                                      conclusion=conclusion, basis=basis.strip(), created_at=utcnow()))
    advance(case, "record_confidentiality_review")
    finish_action(session, case, "record_confidentiality_review", actor, case.stage,
                   {"item": item.seq, "conclusion": conclusion})
    return case


def _latest_reviews(session: Session, item_ids: list[int]) -> dict[int, ConfidentialityReview]:
    latest: dict[int, ConfidentialityReview] = {}
    for review in session.scalars(select(ConfidentialityReview).where(
            ConfidentialityReview.item_id.in_(item_ids)).order_by(ConfidentialityReview.id)):
        latest[review.item_id] = review
    return latest


def decision_problems(session: Session, case, *, require_confirmed: bool) -> list[str]:
    """Everything that stops a reply: undecided items, incomplete or unconfirmed records, missing 保密审查."""
    problems: list[str] = []
    items = list(case.items)
    reviews = _latest_reviews(session, [i.id for i in items])
    for item in items:
        label = f"第 {item.seq} 项"
        if item.outcome is None:
            problems.append(f"{label}尚未拟定办理结果")
            continue
        if item.outcome in OUTCOMES_NEEDING_RECORDS:
            records = _current_records(session, item.id)
            if not records:
                what = "检索记录" if item.outcome == "NOT_HELD" else "不予公开理由记录"
                problems.append(f"{label}（{OUTCOMES[item.outcome].label}）缺少{what}")
            for record in records:
                draft = ExemptionDraft(
                    ground=record.ground, article=record.article, facts=record.facts, scope=record.scope,
                    whole_item=record.whole_item, severability=record.severability,
                    consultation_answered=record.consultation_id is not None,
                    no_consultation_reason=record.no_consultation_reason, public_interest=record.public_interest,
                    law_citation=record.law_citation, classification_basis=record.classification_basis,
                    discretion_reason=record.discretion_reason, search_record=record.search_record)
                for missing in missing_elements(draft, item.outcome):
                    problems.append(f"{label}“{OUTCOMES[record.ground].label}”理由记录缺少：{missing}")
                if record.review_state == "rejected":
                    problems.append(f"{label}“{OUTCOMES[record.ground].label}”理由记录已被法制审核退回，须修改后重新提交")
                elif require_confirmed and record.review_state != "confirmed":
                    problems.append(f"{label}“{OUTCOMES[record.ground].label}”理由记录尚未经法制审核确认")
        if item.outcome in DISCLOSING_OUTCOMES:
            review = reviews.get(item.id)
            if review is None:
                problems.append(f"{label}拟公开，但尚未进行保密审查")
            elif review.conclusion == "SECRET":
                problems.append(f"{label}保密审查结论为涉密，不得公开")
    return problems


@use_case
def submit_for_review(session: Session, case_id: int, *, actor: User, today: date, version: int | None = None):
    """提交法制审核: every item decided and every record complete (confirmation comes in review)."""
    case = load_case(session, case_id, actor, version=version)
    authorize(case, "submit_for_review", actor)
    problems = [p for p in decision_problems(session, case, require_confirmed=False) if "保密审查" not in p]
    if problems:
        raise RuleViolation("尚不能提交法制审核：" + "；".join(problems), details=problems)
    before = case.stage
    advance(case, "submit_for_review")
    finish_action(session, case, "submit_for_review", actor, before, {})
    return case


@use_case
def review_exemption(session: Session, case_id: int, *, record_id: int, confirm: bool, comment: str = "",
                     actor: User, today: date, version: int | None = None):
    """The legal reviewer confirms or rejects one exemption record; a rejection returns the case to drafting."""
    case = load_case(session, case_id, actor, version=version)
    authorize(case, "review_exemption", actor)
    record = session.get(ExemptionRecord, record_id)
    if record is None or record.case_id != case.id or not record.current:
        raise NotFound("没有找到该理由记录（或已被新版本替换）")
    if not confirm and not comment.strip():
        raise InvalidInput("退回理由记录时须写明审核意见")
    record.review_state = "confirmed" if confirm else "rejected"
    record.reviewed_by_id = actor.id
    record.review_comment = comment.strip()
    record.reviewed_at = utcnow()
    before = case.stage
    if confirm:
        advance(case, "review_exemption")
    else:
        advance(case, "return_for_revision")
    finish_action(session, case, "review_exemption", actor, before,
                   {"record_id": record.id, "state": record.review_state}, comment)
    return case


@use_case
def return_for_revision(session: Session, case_id: int, *, comment: str, actor: User, today: date,
                        version: int | None = None):
    case = load_case(session, case_id, actor, version=version)
    authorize(case, "return_for_revision", actor)
    if not comment.strip():
        raise InvalidInput("退回修改须写明审核意见")
    before = case.stage
    advance(case, "return_for_revision")
    finish_action(session, case, "return_for_revision", actor, before, {}, comment.strip())
    return case


def third_parties_awaiting_notice(session: Session, case) -> list[Consultation]:
    """Third parties that objected, whose objection no exemption record upholds, in a case that discloses
    information, and that have not yet been told in writing (条例32: 决定公开的，书面告知第三方内容和理由)."""
    objecting = objecting_third_parties(case)
    if not objecting or not any(item.outcome in DISCLOSING_OUTCOMES for item in case.items):
        return []
    upheld = set(session.scalars(select(ExemptionRecord.consultation_id).where(
        ExemptionRecord.case_id == case.id, ExemptionRecord.current.is_(True),
        ExemptionRecord.ground == "WITHHELD_THIRD_PARTY", ExemptionRecord.consultation_id.is_not(None))))
    told = {letter.data_snapshot.get("recipient") for letter in session.scalars(select(Letter).where(
        Letter.case_id == case.id, Letter.letter_type == "third_party_disclosure_notice"))}
    return [c for c in objecting if c.id not in upheld and c.party_name not in told]


def signing_problems(session: Session, case, renderer: LetterRenderer | None = None) -> list[str]:
    """What still stops the legal reviewer from signing (DESIGN §2: items, exemptions, 保密审查, remedies, the seal),
    and, given the renderer, what it lacks to set an issued letter (a font, the seal image: `issue_problems`)."""
    problems = decision_problems(session, case, require_confirmed=True)
    for consultation in third_parties_awaiting_notice(session, case):
        problems.append(f"第三方「{consultation.party_name}」不同意公开而本机关决定公开，须先书面告知其决定公开的内容和理由"
                        "（条例第三十二条）")
    agency = case.agency
    if not agency.review_body.strip():
        problems.append("机关设置缺少行政复议机关（答复书救济途径必备）")
    if not agency.court.strip():
        problems.append("机关设置缺少管辖法院（答复书救济途径必备）")
    seal = seal_problem(agency)
    if seal:
        problems.append(seal)
    problems.extend(renderer_problems(renderer))
    return problems
