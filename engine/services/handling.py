"""审核、办理 (条例30、32–34、42): supplement, acceptance, consultations, fee and extension — each action with the
letter the law requires."""

from __future__ import annotations

from datetime import date

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from engine.errors import InvalidInput, NotFound, RuleViolation
from engine.persistence.models import Applicant, Case, Consultation, Department, Fee, Letter, User
from engine.rules import clocks, fees
from engine.rules.calendar import default_calendar
from engine.rules.vocabulary import CONSULTATION_ANSWERS, CONSULTATION_KINDS
from engine.rules.workflow import advance, authorize
from engine.services import letter_data
from engine.services.common import (
    ActionResult,
    agency_of,
    finish_action,
    load_case,
    not_before,
    not_future,
    optional_text,
    require_text,
    use_case,
)
from engine.services.issuing import LetterRenderer, issue_letter
from engine.services.notice_periods import lapse_problem
from engine.services.uploads import UploadedFile, attach

EXTENSION_MAX_WORKING_DAYS = 20
DEFAULT_PAYMENT_METHOD = "请持本通知书到本机关办公地点缴纳，或按本机关告知的账户转账缴纳"


# ---------------------------------------------------------------- supplement (条例30)

@use_case
def request_supplement(session: Session, case_id: int, *, items: list[str], period_working_days: int | None = None,
                       renderer: LetterRenderer, actor: User, today: date,
                       version: int | None = None) -> ActionResult:
    """补正告知: once, within 7 working days of receipt, listing the items and a reasonable period that runs from the
    applicant's receipt of the 补正告知书 (its end is fixed when the delivery is recorded); issues the letter."""
    case = load_case(session, case_id, actor, version=version)
    authorize(case, "request_supplement", actor)
    if case.supplement_requested_on is not None:
        raise RuleViolation("补正告知只能一次性作出（条例第三十条），本申请已经告知过补正")
    cal = default_calendar()
    deadline = clocks.supplement_notice_deadline(cal, case.received_on)
    if today > deadline:
        raise RuleViolation(
            f"补正告知应当自收到申请之日起 7 个工作日内作出（条例第三十条）：收到日 {case.received_on.isoformat()}，"
            f"最迟 {deadline.isoformat()}，今天已超过期限。请按现有内容办理。")
    cleaned = [i.strip() for i in items if i and i.strip()]
    if not cleaned:
        raise InvalidInput("请列明需要补正的事项")
    agency = agency_of(session, case)
    period = agency.supplement_period_working_days if period_working_days is None else period_working_days
    if not 1 <= period <= 60:
        raise InvalidInput("补正期限应为 1 至 60 个工作日（自申请人收到补正告知书之日起计算）")
    before = case.stage
    case.supplement_requested_on = today
    case.supplement_items = cleaned
    case.supplement_period_working_days = period
    case.supplement_due_on = None
    advance(case, "request_supplement")
    finish_action(session, case, "request_supplement", actor, before,
                  {"items": cleaned, "period_working_days": period})
    letter = issue_letter(session, case, "supplement_notice",
                          lambda n: letter_data.supplement_notice_data(case, agency, doc_number=n, issued_on=today),
                          renderer=renderer, actor=actor, today=today)
    return ActionResult(case, letters=[letter])


@use_case
def receive_supplement(session: Session, case_id: int, *, received_on: date, file: UploadedFile | None = None,
                       statement: str = "", actor: User, today: date, version: int | None = None) -> ActionResult:
    """收到补正: the 20-working-day clock restarts from the supplement's receipt (条例30). `statement` is what the
    applicant wrote (e.g. submitted online), kept in the audit event with the date."""
    case = load_case(session, case_id, actor, version=version)
    authorize(case, "receive_supplement", actor)
    not_future(received_on, today, "收到补正日期")
    not_before(received_on, case.supplement_requested_on, "收到补正日期", "补正告知日期")
    statement = optional_text(statement, "补正说明", field="statement")
    before = case.stage
    case.supplement_received_on = received_on
    case.clock_start_on = received_on
    advance(case, "receive_supplement")
    changes = {"supplement_received_on": received_on, **({"text": statement} if statement else {})}
    finish_action(session, case, "receive_supplement", actor, before, changes)
    upload = attach(session, case, file, kind="supplement", actor=actor)
    return ActionResult(case, record=upload)


# ---------------------------------------------------------------- acceptance and assignment

def _check_assignment(session: Session, case, department_id: int, handler_id: int | None):
    dept = session.get(Department, department_id) if department_id else None
    if dept is None or dept.agency_id != case.agency_id:
        raise InvalidInput("请选择本机关的承办部门")
    handler = None
    if handler_id:
        handler = session.get(User, handler_id)
        if handler is None or handler.agency_id != case.agency_id or not handler.has_role("handler"):
            raise InvalidInput("承办人必须是本机关具有承办人角色的用户")
    return dept, handler


@use_case
def accept(session: Session, case_id: int, *, department_id: int, handler_id: int | None = None, actor: User,
           today: date, version: int | None = None) -> ActionResult:
    """受理并分办: assign the department (and handler) that searches for the information."""
    case = load_case(session, case_id, actor, version=version)
    authorize(case, "accept", actor)
    dept, handler = _check_assignment(session, case, department_id, handler_id)
    before = case.stage
    case.department_id, case.handler_id = dept.id, handler.id if handler else None
    advance(case, "accept")
    finish_action(session, case, "accept", actor, before,
                  {"department": dept.name, "handler": handler.display_name if handler else None})
    return ActionResult(case)


@use_case
def assign(session: Session, case_id: int, *, department_id: int, handler_id: int | None = None, actor: User,
           today: date, version: int | None = None) -> ActionResult:
    """改派承办: another department or handler; the stage stays."""
    case = load_case(session, case_id, actor, version=version)
    authorize(case, "assign", actor)
    dept, handler = _check_assignment(session, case, department_id, handler_id)
    before_vals = {"department_id": case.department_id, "handler_id": case.handler_id}
    case.department_id, case.handler_id = dept.id, handler.id if handler else None
    advance(case, "assign")
    finish_action(session, case, "assign", actor, case.stage,
                  {"before": before_vals, "after": {"department_id": dept.id, "handler_id": case.handler_id}})
    return ActionResult(case)


# ---------------------------------------------------------------- consultations (条例32、34)

@use_case
def open_consultation(session: Session, case_id: int, *, kind: str, party_name: str, party_contact: str = "",
                      subject: str = "", sent_on: date, item_seqs: list[int] | None = None,
                      party_is_person: bool = False, file: UploadedFile | None = None, renderer: LetterRenderer,
                      actor: User, today: date, version: int | None = None) -> ActionResult:
    """征求意见 (条例32 third party / 条例34 co-author agency): issues the 征求意见书 to the consulted party (its 15
    working days run from its receipt, fixed when the delivery is recorded) and tells the applicant, in the
    征求意见告知书, that the time is not counted (条例33③); the reply clock pauses."""
    case = load_case(session, case_id, actor, version=version)
    authorize(case, "open_consultation", actor)
    if kind not in CONSULTATION_KINDS:
        raise InvalidInput("征求意见对象类型无效")
    party_name = require_text(party_name, "被征求意见方名称", max_len=200)
    if kind == "THIRD_PARTY" and same_person(party_name, case.applicant.name):
        raise RuleViolation("申请人本人不是第三方：申请人申请公开与其自身相关的信息，不需要、也不能征求其本人作为第三方的意见"
                            "（条例第三十二条）")
    not_future(sent_on, today, "发出日期")
    not_before(sent_on, case.clock_start_on, "发出日期", "答复期限起算日")
    seqs = _concerned_items(case, item_seqs)
    consultation = Consultation(case_id=case.id, kind=kind, party_name=party_name, party_contact=party_contact,
                                subject=subject.strip(), sent_on=sent_on, item_seqs=seqs,
                                party_is_person=bool(party_is_person) and kind == "THIRD_PARTY")
    case.consultations.append(consultation)
    before = case.stage
    advance(case, "open_consultation")
    finish_action(session, case, "open_consultation", actor, before,
                  {"kind": kind, "party": party_name, "sent_on": sent_on, "items": seqs})
    attach(session, case, file, kind="consultation", actor=actor)
    agency = agency_of(session, case)
    letter = issue_letter(session, case, letter_data.consultation_letter_type(consultation),
                          lambda n: letter_data.consultation_data(case, agency, consultation, doc_number=n,
                                                                  issued_on=today),
                          renderer=renderer, actor=actor, today=today)
    consultation.letter_id = letter.id
    notice = issue_letter(session, case, "consultation_notice",
                          lambda n: letter_data.consultation_notice_data(case, agency, consultation, doc_number=n,
                                                                         issued_on=today),
                          renderer=renderer, actor=actor, today=today)
    return ActionResult(case, letters=[letter, notice], record=consultation)


def same_person(party: str, applicant: str) -> bool:
    def key(name: str) -> str:
        return "".join(name.split()).replace("（", "(").replace("）", ")")
    return key(party) == key(applicant)


def _concerned_items(case, item_seqs: list[int] | None) -> list[int]:
    """The items a consultation is about (the letter quotes only these); all items when none are named."""
    known = [item.seq for item in case.items]
    if not item_seqs:
        return known
    unknown = sorted(set(item_seqs) - set(known))
    if unknown:
        raise InvalidInput(f"申请事项 {'、'.join(map(str, unknown))} 不属于本申请")
    return sorted(set(item_seqs))


@use_case
def record_consultation_answer(session: Session, case_id: int, *, consultation_id: int, answer: str,
                               answered_on: date, summary: str = "", file: UploadedFile | None = None, actor: User,
                               today: date, version: int | None = None) -> ActionResult:
    """The answer, or its lapse (NO_ANSWER: only once the 15 working days counted from the party's receipt of the
    征求意见书 have run — for agencies silence is consent, 条例34; for third parties the agency decides, 条例32)."""
    case = load_case(session, case_id, actor, version=version)
    authorize(case, "record_consultation_answer", actor)
    consultation = next((c for c in case.consultations if c.id == consultation_id), None)
    if consultation is None:
        raise NotFound("没有找到该征求意见记录")
    if not consultation.is_open:
        raise RuleViolation("该征求意见已登记答复")
    if answer not in CONSULTATION_ANSWERS:
        raise InvalidInput("意见类型无效")
    not_future(answered_on, today, "收到意见日期")
    not_before(answered_on, consultation.sent_on, "收到意见日期", "发出日期")
    if answer == "NO_ANSWER":
        letter = session.get(Letter, consultation.letter_id) if consultation.letter_id else None
        problem = lapse_problem(session, letter, consultation.answer_due_on, answered_on, "对方提出意见")
        if problem:
            raise RuleViolation(problem)
    consultation.answer = answer
    consultation.answered_on = answered_on
    consultation.answer_summary = summary
    before = case.stage
    advance(case, "record_consultation_answer",
            no_consultation_left_open=not any(c.is_open for c in case.consultations))
    finish_action(session, case, "record_consultation_answer", actor, before,
                  {"consultation_id": consultation.id, "answer": answer, "answered_on": answered_on})
    attach(session, case, file, kind="consultation", actor=actor)
    return ActionResult(case, record=consultation)


# ---------------------------------------------------------------- fee (条例42、国办函〔2020〕109号)

@use_case
def issue_fee_notice(session: Session, case_id: int, *, mode: str, units: int, renderer: LetterRenderer, actor: User,
                     today: date, version: int | None = None) -> ActionResult:
    """收费通知 (条例42、109号): per application or per page, never both. Per application, the tier is that of this
    application among the applicant's applications to this agency in the same natural month, counted from the
    database (109号第四条). The 20 working days to pay run from the applicant's receipt of the notice (fixed when
    its delivery is recorded). Issues the 收费通知书."""
    case = load_case(session, case_id, actor, version=version)
    authorize(case, "issue_fee_notice", actor)
    if case.fees:
        raise RuleViolation("本申请已发出过收费通知；同一申请不得重复计收（109号办法第三条）")
    earlier = earlier_applications_this_month(session, case) if mode == fees.PER_APPLICATION else 0
    try:
        quote = (fees.quote_per_application(earlier, units) if mode == fees.PER_APPLICATION
                 else fees.quote_per_page(units) if mode == fees.PER_PAGE else None)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    if quote is None:
        raise InvalidInput("计费方式只能是按件或按量之一")
    if quote.amount_yuan == 0:
        raise RuleViolation(f"按该计费方式本申请不收费（本月此前已有 {earlier} 件申请），不应发出收费通知"
                            if mode == fees.PER_APPLICATION else "按该计费方式本申请不收费，不应发出收费通知")
    fee = Fee(case_id=case.id, mode=mode, units=units, amount_yuan=quote.amount_yuan,
              breakdown=[{"first": b.first, "last": b.last, "unit_price_yuan": b.unit_price_yuan,
                          "amount_yuan": b.amount_yuan} for b in quote.bands],
              notice_issued_on=today, notice_received_on=None, pay_by_on=None)
    case.fees.append(fee)
    before = case.stage
    advance(case, "issue_fee_notice")
    finish_action(session, case, "issue_fee_notice", actor, before,
                  {"mode": mode, "units": units, "amount_yuan": quote.amount_yuan,
                   "earlier_this_month": earlier})
    agency = agency_of(session, case)
    method = (agency.settings or {}).get("fee_payment_method") or DEFAULT_PAYMENT_METHOD
    letter = issue_letter(session, case, "fee_notice",
                          lambda n: letter_data.fee_notice_data(case, agency, doc_number=n, issued_on=today,
                                                                payment_method=method, earlier_this_month=earlier),
                          renderer=renderer, actor=actor, today=today)
    return ActionResult(case, letters=[letter], record=fee)


def earlier_applications_this_month(session: Session, case) -> int:
    """The applicant's applications to this agency received earlier in the same natural month (109号第四条
    counts 同一申请人一个自然月内); the same person is recognised by ID number, else by the applicant record."""
    received = case.received_on or case.submitted_on
    first = received.replace(day=1)
    applicant = case.applicant
    same_person = (Applicant.id_number_normalized == applicant.id_number_normalized
                   if applicant.id_number_normalized else Applicant.id == applicant.id)
    day = func.coalesce(Case.received_on, Case.submitted_on)
    return session.scalar(
        select(func.count(Case.id)).join(Applicant, Applicant.id == Case.applicant_id).where(
            Case.agency_id == case.agency_id, same_person, Case.id != case.id, Case.imported.is_(False),
            day >= first, or_(day < received, and_(day == received, Case.id < case.id)))) or 0


@use_case
def record_payment(session: Session, case_id: int, *, paid_on: date, receipt_no: str, amount_yuan: int | None = None,
                   actor: User, today: date, version: int | None = None) -> ActionResult:
    """登记缴费 with the amount and the receipt's number (票据号): the clock resumes (109号). The amount is the
    notice's; another amount is refused (the notice would have to be corrected first)."""
    case = load_case(session, case_id, actor, version=version)
    authorize(case, "record_payment", actor)
    fee = case.fees[-1]
    receipt_no = require_text(receipt_no, "缴费票据号", max_len=100, multiline=False, field="receipt_no")
    if amount_yuan is not None and amount_yuan != fee.amount_yuan:
        raise InvalidInput(f"实缴金额（{amount_yuan} 元）与收费通知书的金额（{fee.amount_yuan} 元）不一致，请核对",
                           details={"field": "amount_yuan"})
    not_future(paid_on, today, "缴费日期")
    not_before(paid_on, fee.notice_issued_on, "缴费日期", "收费通知日期")
    if fee.pay_by_on is not None and paid_on > fee.pay_by_on:
        raise RuleViolation(f"缴费日期晚于缴费期限（{fee.pay_by_on}），应按逾期未缴费处理")
    fee.paid_on, fee.paid_amount_yuan, fee.payment_receipt_no = paid_on, fee.amount_yuan, receipt_no
    before = case.stage
    advance(case, "record_payment")
    finish_action(session, case, "record_payment", actor, before,
                  {"paid_on": paid_on, "amount_yuan": fee.amount_yuan, "receipt_no": receipt_no})
    return ActionResult(case, record=fee)


# ---------------------------------------------------------------- extension (条例33②)

@use_case
def extend(session: Session, case_id: int, *, working_days: int, reason: str, renderer: LetterRenderer, actor: User,
           today: date, version: int | None = None) -> ActionResult:
    """延期答复 (条例33②): once, ≤ 20 WD, approved by the office head before the current due date; issues the
    延期答复告知书."""
    case = load_case(session, case_id, actor, version=version)
    authorize(case, "extend", actor)
    if case.extension_working_days:
        raise RuleViolation("答复期限只能延长一次（条例第三十三条），本申请已经延期")
    if case.delay_due_on is not None:
        raise RuleViolation(f"本申请已按条例第三十五条确定延迟答复期限（{case.delay_due_on}），不再适用延期答复")
    if not 1 <= working_days <= EXTENSION_MAX_WORKING_DAYS:
        raise RuleViolation("延长的期限最长不得超过 20 个工作日（条例第三十三条）")
    reason = require_text(reason, "延期理由")
    if case.due_on is None or today > case.due_on:
        raise RuleViolation(
            f"延期须在答复期限届满前批准并告知申请人；原期限 {case.due_on}，今天 {today.isoformat()} 已超过，不能再延期")
    before_due = case.due_on
    case.extension_working_days = working_days
    case.extension_reason = reason
    case.extension_approved_by_id = actor.id
    case.extension_approved_on = today
    advance(case, "extend")
    finish_action(session, case, "extend", actor, case.stage,
                  {"working_days": working_days, "original_due_on": before_due}, reason)
    agency = agency_of(session, case)
    letter = issue_letter(session, case, "extension_notice",
                          lambda n: letter_data.extension_notice_data(case, agency, original_due_on=before_due,
                                                                      doc_number=n, issued_on=today),
                          renderer=renderer, actor=actor, today=today)
    return ActionResult(case, letters=[letter])
