"""Reply, letters, delivery and what comes after: 答复 (条例36–39), frozen letters, 送达, 复议/诉讼."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import GongkaiError, InvalidInput, NotFound, PermissionDenied, RuleViolation, WorkflowError
from engine.persistence.audit import record_event, utcnow
from engine.persistence.models import ArchiveNote, AuditEvent, Case, Delivery, LegalChallenge, Letter, User
from engine.rules.outcomes import case_report_outcome
from engine.rules.vocabulary import (
    ACTION_LABELS,
    CHALLENGE_KINDS,
    CHALLENGE_LABELS,
    CHALLENGE_RESULTS,
    DELIVERY_METHODS,
)
from engine.rules.workflow import ACTIONS, advance, authorize, authorize_role, refuse_read_only
from engine.services import archiving, letter_data
from engine.services.common import (
    ActionResult,
    finish_action,
    load_case,
    not_before,
    not_future,
    use_case,
)
from engine.services.decisions import signing_problems
from engine.services.issuing import LetterRenderer, current_reply, issue_letter, render, renderer_problems
from engine.services.letter_wording import with_active_wording
from engine.services.notice_periods import start_period
from engine.services.period_lock import ensure_period_open
from engine.services.uploads import UploadedFile, attach


def preview_reply(session: Session, case_id: int, *, renderer: LetterRenderer, actor: User, today: date):
    """The reply as it would be signed today, marked 样稿; nothing is numbered or stored."""
    case = load_case(session, case_id, actor)
    if any(item.outcome is None for item in case.items):
        raise RuleViolation("尚有申请事项未拟定办理结果，无法预览答复书")
    # No number is made up for a draft: the 文号 is taken only when the reply is signed.
    data = letter_data.reply_data(session, case, doc_number=None, issued_on=today)
    return render(renderer, "reply", with_active_wording(session, case.agency_id, "reply", data), draft=True)


@use_case
def sign_reply(session: Session, case_id: int, *, renderer: LetterRenderer, actor: User, today: date,
               version: int | None = None) -> ActionResult:
    """签发: only a legal reviewer, only with every item decided, every exemption confirmed and a letter that
    renders; the PDF is frozen with its SHA-256, template version and data snapshot."""
    case = load_case(session, case_id, actor, version=version)
    authorize(case, "sign", actor)
    waived = _separation_of_duties(session, case, actor)
    problems = signing_problems(session, case, renderer)
    if problems:
        raise RuleViolation("尚不能签发：" + "；".join(problems), details=problems)
    letter = issue_letter(session, case, "reply",
                          lambda number: letter_data.reply_data(session, case, doc_number=number, issued_on=today),
                          renderer=renderer, actor=actor, today=today, signed=True)
    before = case.stage
    advance(case, "sign")
    changes = {"letter_id": letter.id, "doc_number": letter.doc_number, "sha256": letter.sha256}
    if waived:
        changes["separation_of_duties_waived"] = True
    finish_action(session, case, "sign", actor, before, changes)
    return ActionResult(case, letters=[letter])


def _separation_of_duties(session: Session, case: Case, actor) -> bool:
    """Whoever decided an item or submitted the case for review does not sign its reply, whatever roles they hold;
    an agency with `settings.one_person_office` allows it, and the signature is then marked in the audit trail.
    Returns whether the rule was waived for this signature."""
    deciders = {item.decided_by_id for item in case.items if item.decided_by_id is not None}
    submitters = set(session.scalars(select(AuditEvent.actor_id).where(
        AuditEvent.case_id == case.id, AuditEvent.action == "submit_for_review")))
    if actor.id not in deciders | submitters:
        return False
    if (case.agency.settings or {}).get("one_person_office"):
        return True
    raise PermissionDenied("您拟定了本案的办理结果或提交了法制审核，不能再签发同一案件的答复书（职责分离）；"
                           "请由另一位法制审核人员签发")


NOT_CORRECTABLE = frozenset({"doc_number", "issued_on"})


def authorize_signature(case: Case, actor) -> None:
    """Correcting a signed letter is the legal reviewer's, in any stage but the read-only ones."""
    authorize_role(case, actor, ACTIONS["sign"].roles, ACTION_LABELS["supersede_letter"])
    refuse_read_only(case)


def authorize_delivery(case: Case, actor) -> None:
    """送达 of any letter is recorded by a clerk from registration until the case is archived (a return after that
    is a 备考 note)."""
    authorize_role(case, actor, ACTIONS["record_delivery"].roles, ACTION_LABELS["record_delivery"])
    if case.stage == "archived":
        raise RuleViolation("案件已归档：送达情况（如退件）请作为备考记录追加")
    refuse_read_only(case)
    if case.stage == "received":
        raise WorkflowError("申请尚未确认收件，还没有可以送达的文书")


def may_record_delivery(case: Case, actor) -> bool:
    try:
        authorize_delivery(case, actor)
    except GongkaiError:
        return False
    return True


@use_case
def supersede_letter(session: Session, case_id: int, *, letter_id: int, reason: str, renderer: LetterRenderer,
                     actor: User, today: date, corrections: dict | None = None,
                     version: int | None = None) -> ActionResult:
    """A correction: a new signed letter, rendered from the old letter's data with `corrections` applied, that
    supersedes it with the reason; the old letter is kept as signed and never re-rendered."""
    case = load_case(session, case_id, actor, version=version)
    authorize_signature(case, actor)
    old = session.get(Letter, letter_id)
    if old is None or old.case_id != case.id:
        raise NotFound("没有找到该文书")
    if any(letter.supersedes_id == old.id for letter in session.scalars(
            select(Letter).where(Letter.case_id == case.id, Letter.supersedes_id.is_not(None)))):
        raise RuleViolation("该文书已被更正过，请更正最新的文书")
    if not reason.strip():
        raise InvalidInput("更正文书须写明更正理由")
    lacking = renderer_problems(renderer)  # a correction is signed: never in a fallback font, even without a 文号
    if lacking:
        raise RuleViolation("尚不能签发更正文书：" + "；".join(lacking), details=lacking)
    corrections = {k: v for k, v in (corrections or {}).items() if old.data_snapshot.get(k) != v}
    unknown = [k for k in corrections if k not in old.data_snapshot or k in NOT_CORRECTABLE]
    if unknown:
        raise InvalidInput(f"不能更正的字段：{'、'.join(unknown)}")
    new = issue_letter(session, case, old.letter_type,
                       lambda number: {**old.data_snapshot, **corrections, "doc_number": number,
                                       "issued_on": today.isoformat()},
                       renderer=renderer, actor=actor, today=today, numbered=bool(old.doc_number), signed=True)
    new.supersedes_id = old.id
    new.supersede_reason = reason.strip()
    session.flush()
    finish_action(session, case, "supersede_letter", actor, case.stage,
                   {"old_letter_id": old.id, "new_letter_id": new.id, "corrections": corrections}, reason.strip())
    return ActionResult(case, letters=[new])


@use_case
def notify_third_party_of_disclosure(session: Session, case_id: int, *, consultation_id: int, information: str,
                                     reason: str, disclosure_on: date | None = None, renderer: LetterRenderer,
                                     actor: User, today: date, version: int | None = None) -> ActionResult:
    """条例32末句: the agency decides to disclose despite a third party's objection (public interest) and tells
    the third party in writing what will be disclosed and why, before the reply is signed."""
    case = load_case(session, case_id, actor, version=version)
    authorize(case, "notify_third_party", actor)
    consultation = next((c for c in case.consultations if c.id == consultation_id), None)
    if consultation is None:
        raise NotFound("没有找到该征求意见记录")
    if consultation.kind != "THIRD_PARTY" or consultation.answer != "OBJECTION":
        raise RuleViolation("只有对不同意公开的第三方，才需要书面告知决定公开的内容和理由（条例第三十二条）")
    information = information.strip()
    reason = reason.strip()
    if not information or not reason:
        raise InvalidInput("请写明决定公开的信息内容和理由（如不公开可能对公共利益造成的重大影响）")
    if disclosure_on is not None and disclosure_on < today:
        raise InvalidInput("拟公开日期不能早于今天")
    letter = issue_letter(session, case, "third_party_disclosure_notice",
                          lambda number: letter_data.third_party_disclosure_notice_data(
                              case, case.agency, consultation, information=information, reason=reason,
                              disclosure_on=disclosure_on, doc_number=number, issued_on=today),
                          renderer=renderer, actor=actor, today=today)
    advance(case, "notify_third_party")
    finish_action(session, case, "notify_third_party", actor, case.stage,
                   {"consultation_id": consultation.id, "party": consultation.party_name, "letter_id": letter.id},
                   reason)
    return ActionResult(case, letters=[letter])


@use_case
def record_delivery(session: Session, case_id: int, *, method: str, delivered_on: date, tracking_no: str = "",
                    letter_id: int | None = None, proof: UploadedFile | None = None, returned: bool = False,
                    note: str = "", actor: User, today: date, version: int | None = None) -> ActionResult:
    """送达 of any letter, with its proof (送达回证). Delivering the signed reply fixes the reply date (年报: finished
    in that year) and stops the clock."""
    case = load_case(session, case_id, actor, version=version)
    authorize_delivery(case, actor)
    if method not in DELIVERY_METHODS:
        raise InvalidInput("送达方式无效")
    not_future(delivered_on, today, "送达日期")
    letter = session.get(Letter, letter_id) if letter_id else (current_reply(session, case) if case.stage == "signed" else None)
    if letter_id and (letter is None or letter.case_id != case.id):
        raise NotFound("没有找到该文书")
    if letter is not None:
        not_before(delivered_on, letter.issued_on, "送达日期", "成文日期")
    upload = attach(session, case, proof, kind="delivery_proof", actor=actor)
    delivery = Delivery(case_id=case.id, letter_id=letter.id if letter else None, method=method,
                        delivered_on=delivered_on, tracking_no=tracking_no.strip(),
                        proof_upload_id=upload.id if upload else None, returned=returned, note=note.strip(),
                        created_at=utcnow())
    # A notice's delivery starts the period it gives its addressee (条例30、32、34、35; 109号).
    started = start_period(session, case, letter, delivered_on) if letter is not None and not returned else {}
    if letter is not None and not returned:
        letter.awaiting_delivery = False    # off the dashboard's list of letters waiting for delivery
    session.add(delivery)
    before = case.stage
    if case.stage == "signed" and letter is not None and letter.letter_type == "reply" and not returned:
        ensure_period_open(session, case.agency_id, delivered_on, actor=actor)
        primary = next((i for i, item in enumerate(case.items) if item.is_primary), 0)
        case.report_outcome = case_report_outcome([item.outcome for item in case.items], primary)
        case.finished_on = delivered_on
        advance(case, "record_delivery")
    session.flush()
    finish_action(session, case, "record_delivery", actor, before,
                   {"method": method, "delivered_on": delivered_on, "tracking_no": tracking_no,
                    "letter_id": delivery.letter_id, "returned": returned, **started})
    return ActionResult(case, record=delivery)


@use_case
def record_review_or_litigation(session: Session, case_id: int, *, kind: str, filed_on: date, result: str = "PENDING",
                                decided_on: date | None = None, note: str = "", challenge_id: int | None = None,
                                actor: User, today: date) -> LegalChallenge:
    """行政复议 / 行政诉讼 over the reply (年报表四). On an archived case the result is appended as a 备考 note."""
    case = load_case(session, case_id, actor)
    if actor.agency_id != case.agency_id or not any(
            actor.has_role(r) for r in ("clerk", "legal_reviewer", "archivist", "office_head")):
        raise PermissionDenied("只有登记员、法制审核、档案员或负责人可以登记复议、诉讼情况")
    if case.stage not in ("replied", "closed", "archived"):
        raise RuleViolation("只有已答复或已办结的申请才能登记复议、诉讼情况")
    if kind not in CHALLENGE_KINDS or result not in CHALLENGE_RESULTS:
        raise InvalidInput("复议、诉讼类型或结果无效")
    not_future(filed_on, today, "立案（申请）日期")
    if case.finished_on:
        not_before(filed_on, case.finished_on, "立案（申请）日期", "答复日期")
    if result != "PENDING" and decided_on is None:
        raise InvalidInput("已审结的须填写审结日期")
    if decided_on is not None:
        not_before(decided_on, filed_on, "审结日期", "立案日期")
        not_future(decided_on, today, "审结日期")
    if challenge_id is not None:
        challenge = session.get(LegalChallenge, challenge_id)
        if challenge is None or challenge.case_id != case.id:
            raise NotFound("没有找到该复议、诉讼记录")
        if challenge.result != "PENDING":
            raise RuleViolation("该复议、诉讼已审结，结果不能修改；如有新的程序请另行登记")
        challenge.result, challenge.decided_on = result, decided_on
        challenge.note = "；".join(p for p in (challenge.note, note.strip()) if p)
    else:
        challenge = LegalChallenge(case_id=case.id, kind=kind, filed_on=filed_on, result=result, decided_on=decided_on,
                                   note=note.strip(), created_at=utcnow())
        session.add(challenge)
    session.flush()
    if case.stage == "archived":
        session.add(ArchiveNote(case_id=case.id, noted_on=today, author_id=actor.id, created_at=utcnow(),
                                text=f"{CHALLENGE_LABELS[kind]}：{filed_on.isoformat()} 提起，"
                                     f"结果 {CHALLENGE_LABELS[result]}"
                                     f"{'（' + decided_on.isoformat() + ' 审结）' if decided_on else ''}"
                                     f"{'；' + note.strip() if note.strip() else ''}"))
    record_event(session, agency_id=case.agency_id, case_id=case.id, actor=actor, action="record_review_or_litigation",
                 stage_before=case.stage, stage_after=case.stage,
                 changes={"challenge_id": challenge.id, "kind": kind, "filed_on": filed_on.isoformat(),
                          "result": result, "decided_on": decided_on.isoformat() if decided_on else None})
    return challenge


@use_case
def archive(session: Session, case_id: int, *, actor: User, today: date, version: int | None = None,
            **kwargs: Any) -> Case:
    """归档 (条例45). The archive module adds retention and the archive number when it is present."""
    return ActionResult(archiving.archive_case(session, case_id, actor=actor, today=today, version=version,
                                                **kwargs))
