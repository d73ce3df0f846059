"""Registration, review and handling: 登记、审核、办理 (条例29–35, 42)."""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from engine.errors import InvalidInput, NotFound, PermissionDenied, RuleViolation, StaleCase, WorkflowError
from engine.persistence.audit import jsonable, record_event, utcnow
from engine.persistence.models import (
    Agency,
    Applicant,
    Case,
    CaseItem,
    Consultation,
    Department,
    Fee,
    Letter,
    User,
)
from engine.persistence.numbering import REGISTRATION, format_number, next_number
from engine.rules import clocks, fees
from engine.rules.calendar import default_calendar
from engine.rules.case_clock import refresh_due
from engine.rules.outcomes import APPLICANT_TYPES
from engine.rules.similarity import normalize_id_number, similarity
from engine.rules.vocabulary import CHANNELS
from engine.rules.workflow import advance, check_actor, check_stage
from engine.services.period_lock import ensure_period_open

MAX_TEXT = 5000
SUPPLEMENT_NOTICE_WORKING_DAYS = 7
EXTENSION_MAX_WORKING_DAYS = 20
DUPLICATE_THRESHOLD = 0.5


# ---------------------------------------------------------------- loading and common steps

def use_case(func):
    """Mark a service; a concurrent edit caught at any flush (also autoflush) surfaces as StaleCase."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except StaleDataError as exc:
            raise StaleCase("该申请已被他人同时修改，本次操作未保存，请刷新后重试") from exc

    return wrapper


def load_case(session: Session, case_id: int, actor, *, version: int | None = None, for_update: bool = False) -> Case:
    """The case if it belongs to the actor's agency (another agency's case is simply not found)."""
    stmt = select(Case).where(Case.id == case_id)
    if for_update:
        stmt = stmt.with_for_update()
    case = session.scalar(stmt)
    if case is None or actor is None or case.agency_id != actor.agency_id:
        raise NotFound("没有找到该申请")
    if version is not None and case.version != version:
        raise StaleCase("该申请已被他人修改，请刷新页面后重新操作（您的输入未保存）",
                        details={"current_version": case.version, "your_version": version})
    return case


def _agency(session: Session, case: Case) -> Agency:
    return session.get(Agency, case.agency_id)


def _finish_action(session: Session, case: Case, action: str, actor, before_stage: str, changes: dict,
                   reason: str = "") -> None:
    """Refresh the clock, write the audit event and flush; a concurrent edit surfaces as StaleCase."""
    agency = _agency(session, case)
    due_before = case.due_on
    refresh_due(case, fee_pauses_clock=agency.fee_pauses_clock)
    if case.due_on != due_before:
        changes = {**changes, "due_on": {"before": due_before, "after": case.due_on}}
    case.updated_at = utcnow()
    session.flush()
    record_event(session, agency_id=case.agency_id, case_id=case.id, actor=actor, action=action,
                 stage_before=before_stage, stage_after=case.stage, changes=jsonable(changes), reason=reason)


def _require_text(value: str, label: str, *, max_len: int = MAX_TEXT) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput(f"请填写{label}")
    if len(value) > max_len:
        raise InvalidInput(f"{label}过长（最多 {max_len} 字）")
    return value


def _not_before(day: date, earliest: date | None, what: str, earliest_label: str) -> None:
    if earliest is not None and day < earliest:
        raise InvalidInput(f"{what}（{day.isoformat()}）不能早于{earliest_label}（{earliest.isoformat()}）")


def _not_future(day: date, today: date, what: str) -> None:
    if day > today:
        raise InvalidInput(f"{what}（{day.isoformat()}）不能晚于今天（{today.isoformat()}）")


# ---------------------------------------------------------------- registration (条例29、31)

_ID_CARD = re.compile(r"^\d{17}[\dX]$")
_CREDIT_CODE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")


@dataclass
class ApplicantForm:
    kind: str
    name: str
    id_type: str = ""
    id_number: str = ""
    phone: str = ""
    email: str = ""
    address: str = ""
    postal_code: str = ""
    contact_person: str = ""


@dataclass
class RegistrationForm:
    """条例29: who asks (name, ID, contact), what (one or more items), in what form and by what way."""

    applicant: ApplicantForm
    channel: str
    submitted_on: date
    items: list[tuple[str, str]] = field(default_factory=list)   # (description, topic)
    signed_for_on: date | None = None
    confirmed_on: date | None = None
    requested_form: str = ""
    requested_delivery: str = ""
    purpose: str = ""


def validate_id_number(id_type: str, id_number: str) -> None:
    """居民身份证 18 digits with a valid check digit; 统一社会信用代码 18 characters."""
    number = normalize_id_number(id_number)
    if not number:
        return
    if id_type in ("身份证", "居民身份证"):
        if not _ID_CARD.match(number):
            raise InvalidInput("居民身份证号码应为 18 位（最后一位可为 X）")
        weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
        check = "10X98765432"[sum(int(d) * w for d, w in zip(number[:17], weights, strict=True)) % 11]
        if number[17] != check:
            raise InvalidInput("居民身份证号码校验位不正确")
    elif id_type == "统一社会信用代码" and not _CREDIT_CODE.match(number):
        raise InvalidInput("统一社会信用代码应为 18 位数字或大写字母")


def _validate_registration(form: RegistrationForm, today: date) -> None:
    a = form.applicant
    if a.kind not in APPLICANT_TYPES:
        raise InvalidInput(f"申请人类型无效：{a.kind}")
    _require_text(a.name, "申请人姓名或名称", max_len=200)
    if not (a.phone.strip() or a.email.strip() or a.address.strip()):
        raise InvalidInput("请至少填写一种联系方式（电话、电子邮箱或通信地址，条例第二十九条）")
    validate_id_number(a.id_type, a.id_number)
    if form.channel not in CHANNELS:
        raise InvalidInput(f"申请渠道无效：{form.channel}")
    if not form.items:
        raise InvalidInput("请至少填写一项申请公开的政府信息")
    for n, (desc, _topic) in enumerate(form.items, start=1):
        _require_text(desc, f"第 {n} 项申请内容")
    _not_future(form.submitted_on, today, "提交日期")
    for label, day in (("签收日期", form.signed_for_on), ("确认日期", form.confirmed_on)):
        if day is not None:
            _not_future(day, today, label)
            _not_before(day, form.submitted_on, label, "提交日期")


def _receipt_date(form: RegistrationForm, agency: Agency) -> date | None:
    """条例31; online with no manual-confirmation notice: the system's confirmation day (指导案例26号)."""
    confirmed = form.confirmed_on
    if form.channel == "online" and confirmed is None and not agency.online_manual_confirmation:
        confirmed = form.submitted_on
    try:
        return clocks.receipt_date(form.channel, submitted_on=form.submitted_on,
                                   signed_for_on=form.signed_for_on or (
                                       form.submitted_on if form.channel == "mail" else None),
                                   confirmed_on=confirmed)
    except clocks.ClockError:
        return None


def _find_or_create_applicant(session: Session, agency: Agency, a: ApplicantForm) -> Applicant:
    normalized = normalize_id_number(a.id_number)
    if normalized:
        existing = session.scalar(select(Applicant).where(
            Applicant.agency_id == agency.id, Applicant.id_number_normalized == normalized,
            Applicant.kind == a.kind))
        if existing is not None:
            # Keep the latest contact details; the case snapshot lives in the audit trail.
            for attr in ("name", "phone", "email", "address", "postal_code", "contact_person"):
                new = getattr(a, attr).strip()
                if new:
                    setattr(existing, attr, new)
            return existing
    applicant = Applicant(agency_id=agency.id, kind=a.kind, name=a.name.strip(), id_type=a.id_type.strip(),
                          id_number=a.id_number.strip(), id_number_normalized=normalized,
                          phone=a.phone.strip(), email=a.email.strip(), address=a.address.strip(),
                          postal_code=a.postal_code.strip(), contact_person=a.contact_person.strip())
    session.add(applicant)
    session.flush()
    return applicant


def new_query_code() -> str:
    """查询码 printed on the receipt; only its hash is stored."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(8))


def query_code_digest(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


@use_case
def register_request(session: Session, form: RegistrationForm, *, actor: User, today: date) -> tuple[Case, str]:
    """登记 (条例29、31): a numbered case; returns it with the applicant's query code (shown once)."""
    if actor is None or not actor.has_role("clerk"):
        raise PermissionDenied("「登记」只能由登记员执行")
    _validate_registration(form, today)
    agency = session.get(Agency, actor.agency_id)
    topics = agency.topics or []
    unknown = [t for _d, t in form.items if t and topics and t not in topics]
    if unknown:
        raise InvalidInput(f"申请内容分类「{'、'.join(unknown)}」不在本机关的分类目录中：{'、'.join(topics)}")
    received_on = _receipt_date(form, agency)
    ensure_period_open(session, agency.id, received_on or form.submitted_on, actor=actor)
    year = (received_on or form.submitted_on).year
    seq = next_number(session, agency.id, REGISTRATION, year)
    applicant = _find_or_create_applicant(session, agency, form.applicant)
    code = new_query_code()
    now = utcnow()
    case = Case(
        agency_id=agency.id, reg_no=format_number(agency.reg_no_pattern, year=year, n=seq, code=agency.code,
                                                  prefix=agency.letter_no_prefix),
        reg_year=year, reg_seq=seq, applicant_id=applicant.id, applicant=applicant, stage="received",
        channel=form.channel, submitted_on=form.submitted_on, received_on=None,
        requested_form=form.requested_form.strip(), requested_delivery=form.requested_delivery.strip(),
        purpose=form.purpose.strip(), query_code_hash=query_code_digest(code),
        search_text=" ".join([applicant.name, *(d for d, _ in form.items)]),
        created_at=now, updated_at=now, supplement_items=[],
    )
    for n, (desc, topic) in enumerate(form.items, start=1):
        case.items.append(CaseItem(seq=n, description=desc.strip(), topic=(topic or "").strip(), is_primary=n == 1))
    session.add(case)
    session.flush()
    changes = {"reg_no": case.reg_no, "applicant": applicant.name, "channel": form.channel,
               "submitted_on": form.submitted_on, "items": [d for d, _ in form.items]}
    _finish_action(session, case, "register_request", actor, None, changes)
    if received_on is not None:
        _confirm(session, case, received_on, actor)
    return case, code


def _confirm(session: Session, case: Case, received_on: date, actor) -> None:
    before = case.stage
    case.received_on = received_on
    case.clock_start_on = received_on
    advance(case, "confirm_receipt", actor=actor)
    _finish_action(session, case, "confirm_receipt", actor, before, {"received_on": received_on})


@use_case
def confirm_receipt(session: Session, case_id: int, *, confirmed_on: date, actor: User, today: date,
                    version: int | None = None) -> Case:
    """条例31(二)(三): plain letter, online or fax — the day both sides confirm is the receipt date."""
    case = load_case(session, case_id, actor, version=version)
    check_actor(case, "confirm_receipt", actor)
    check_stage(case, "confirm_receipt")
    _not_future(confirmed_on, today, "确认日期")
    _not_before(confirmed_on, case.submitted_on, "确认日期", "提交日期")
    ensure_period_open(session, case.agency_id, confirmed_on, actor=actor)
    _confirm(session, case, confirmed_on, actor)
    return case


@use_case
def renew_query_code(session: Session, case_id: int, *, actor: User, today: date) -> str:
    """A new 查询码 for the receipt (e.g. issued when a plain letter is confirmed); the old one stops working."""
    case = load_case(session, case_id, actor)
    if actor is None or not actor.has_role("clerk"):
        raise PermissionDenied("只有登记员可以重新生成查询码")
    if case.stage == "archived":
        raise WorkflowError("案件已归档，只读")
    code = new_query_code()
    case.query_code_hash = query_code_digest(code)
    _finish_action(session, case, "renew_query_code", actor, case.stage, {})
    return code


def find_possible_duplicates(session: Session, agency_id: int, applicant: ApplicantForm, texts: list[str],
                             *, exclude_case_id: int | None = None, limit: int = 10) -> list[dict]:
    """Earlier requests of the same applicant with similar content (条例36(六) 重复申请), best first."""
    normalized = normalize_id_number(applicant.id_number)
    conds = []
    if normalized:
        conds.append(Applicant.id_number_normalized == normalized)
    if applicant.name.strip() and (applicant.phone.strip() or applicant.email.strip()):
        same_contact = Applicant.name == applicant.name.strip()
        if applicant.phone.strip():
            conds.append(same_contact & (Applicant.phone == applicant.phone.strip()))
        if applicant.email.strip():
            conds.append(same_contact & (Applicant.email == applicant.email.strip()))
    if not conds or not any(t.strip() for t in texts):
        return []
    from sqlalchemy import or_

    rows = session.execute(
        select(Case, CaseItem)
        .join(Applicant, Case.applicant_id == Applicant.id)
        .join(CaseItem, CaseItem.case_id == Case.id)
        .where(Case.agency_id == agency_id, or_(*conds))
        .order_by(Case.id.desc())
        .limit(500)
    ).all()
    found: dict[int, dict] = {}
    for case, item in rows:
        if case.id == exclude_case_id:
            continue
        score = max(similarity(t, item.description) for t in texts if t.strip())
        if score >= DUPLICATE_THRESHOLD and score > found.get(case.id, {}).get("similarity", 0):
            found[case.id] = {"case_id": case.id, "reg_no": case.reg_no, "received_on": case.received_on,
                              "item": item.description, "similarity": round(score, 2), "stage": case.stage,
                              "reply_number": None}
    if found:
        letters = session.execute(
            select(Letter.case_id, Letter.doc_number)
            .where(Letter.case_id.in_(found), Letter.letter_type == "reply", Letter.supersedes_id.is_(None))
        ).all()
        for case_id, number in letters:
            found[case_id]["reply_number"] = number
    return sorted(found.values(), key=lambda d: -d["similarity"])[:limit]


# ---------------------------------------------------------------- supplement (条例30)

@use_case
def request_supplement(session: Session, case_id: int, *, items: list[str], period_working_days: int | None = None,
                       actor: User, today: date, version: int | None = None) -> Case:
    """补正告知: once, within 7 working days of receipt, listing the items and a reasonable period."""
    case = load_case(session, case_id, actor, version=version)
    check_actor(case, "request_supplement", actor)
    check_stage(case, "request_supplement")
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
    agency = _agency(session, case)
    period = period_working_days or agency.supplement_period_working_days
    if not 1 <= period <= 60:
        raise InvalidInput("补正期限应为 1 至 60 个工作日")
    before = case.stage
    case.supplement_requested_on = today
    case.supplement_items = cleaned
    case.supplement_period_working_days = period
    case.supplement_due_on = cal.add_working_days(today, period)
    advance(case, "request_supplement", actor=actor)
    _finish_action(session, case, "request_supplement", actor, before,
                   {"items": cleaned, "period_working_days": period, "supplement_due_on": case.supplement_due_on})
    return case


@use_case
def receive_supplement(session: Session, case_id: int, *, received_on: date, actor: User, today: date,
                       version: int | None = None) -> Case:
    """收到补正: the 20-working-day clock restarts from the supplement's receipt (条例30)."""
    case = load_case(session, case_id, actor, version=version)
    check_actor(case, "receive_supplement", actor)
    check_stage(case, "receive_supplement")
    _not_future(received_on, today, "收到补正日期")
    _not_before(received_on, case.supplement_requested_on, "收到补正日期", "补正告知日期")
    before = case.stage
    case.supplement_received_on = received_on
    case.clock_start_on = received_on
    advance(case, "receive_supplement", actor=actor)
    _finish_action(session, case, "receive_supplement", actor, before, {"supplement_received_on": received_on})
    return case


def _close(session: Session, case: Case, action: str, outcome: str, actor, today: date, reason: str) -> None:
    ensure_period_open(session, case.agency_id, today, actor=actor)
    before = case.stage
    advance(case, action, actor=actor)
    case.report_outcome = outcome
    case.finished_on = today
    case.closed_reason = reason
    for item in case.items:
        item.outcome = outcome
    _finish_action(session, case, action, actor, before, {"report_outcome": outcome, "finished_on": today}, reason)


@use_case
def close_lapsed(session: Session, case_id: int, *, actor: User, today: date, version: int | None = None) -> Case:
    """逾期不补正 (条例30) or 逾期未缴费 (109号): the case is closed, not processed further (年报(六)1/2)."""
    case = load_case(session, case_id, actor, version=version)
    if case.stage == "awaiting_supplement":
        check_actor(case, "close_lapsed_supplement", actor)
        if case.supplement_due_on is None or today <= case.supplement_due_on:
            raise RuleViolation(f"补正期限尚未届满（{case.supplement_due_on}），不能按逾期不补正结案")
        _close(session, case, "close_lapsed_supplement", "LAPSED_SUPPLEMENT", actor, today,
               "申请人无正当理由逾期不补正，视为放弃申请（条例第三十条）")
        return case
    if case.stage == "awaiting_fee":
        check_actor(case, "close_lapsed_fee", actor)
        fee = case.fees[-1]
        if today <= fee.pay_by_on:
            raise RuleViolation(f"缴费期限尚未届满（{fee.pay_by_on}），不能按逾期未缴费结案")
        _close(session, case, "close_lapsed_fee", "LAPSED_FEE", actor, today,
               "申请人逾期未缴纳信息处理费，视为放弃申请（国办函〔2020〕109号）")
        return case
    check_actor(case, "close_lapsed_supplement", actor)
    check_stage(case, "close_lapsed_supplement")
    return case  # pragma: no cover - check_stage raised


@use_case
def withdraw(session: Session, case_id: int, *, reason: str, actor: User, today: date,
             version: int | None = None) -> Case:
    """申请人撤回: closed without a reply letter, counted as 其他 (年报(六)3)."""
    case = load_case(session, case_id, actor, version=version)
    check_actor(case, "withdraw", actor)
    check_stage(case, "withdraw")
    reason = _require_text(reason, "撤回说明（如申请人书面撤回的日期和方式）")
    # A request withdrawn before its receipt was ever confirmed keeps no receipt date: the annual report
    # counts only confirmed requests (DESIGN §6).
    _close(session, case, "withdraw", "OTHER", actor, today, reason)
    return case


# ---------------------------------------------------------------- handling

@use_case
def accept(session: Session, case_id: int, *, department_id: int, handler_id: int | None = None, actor: User,
           today: date, version: int | None = None) -> Case:
    """受理并分办: assign the department (and handler) that searches for the information."""
    case = load_case(session, case_id, actor, version=version)
    check_actor(case, "accept", actor)
    check_stage(case, "accept")
    dept, handler = _check_assignment(session, case, department_id, handler_id)
    before = case.stage
    case.department_id, case.handler_id = dept.id, handler.id if handler else None
    advance(case, "accept", actor=actor)
    _finish_action(session, case, "accept", actor, before,
                   {"department": dept.name, "handler": handler.display_name if handler else None})
    return case


def _check_assignment(session: Session, case: Case, department_id: int, handler_id: int | None):
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
def assign(session: Session, case_id: int, *, department_id: int, handler_id: int | None = None, actor: User,
           today: date, version: int | None = None) -> Case:
    case = load_case(session, case_id, actor, version=version)
    check_actor(case, "assign", actor)
    check_stage(case, "assign")
    dept, handler = _check_assignment(session, case, department_id, handler_id)
    before_vals = {"department_id": case.department_id, "handler_id": case.handler_id}
    case.department_id, case.handler_id = dept.id, handler.id if handler else None
    advance(case, "assign", actor=actor)
    _finish_action(session, case, "assign", actor, case.stage,
                   {"before": before_vals, "after": {"department_id": dept.id, "handler_id": case.handler_id}})
    return case


@use_case
def open_consultation(session: Session, case_id: int, *, kind: str, party_name: str, party_contact: str = "",
                      subject: str = "", sent_on: date, received_by_party_on: date | None = None, actor: User,
                      today: date, version: int | None = None) -> Consultation:
    """征求意见 (条例32 third party / 条例34 co-author agency): 15 WD to answer; the reply clock pauses."""
    case = load_case(session, case_id, actor, version=version)
    check_actor(case, "open_consultation", actor)
    check_stage(case, "open_consultation")
    if kind not in ("THIRD_PARTY", "AGENCY"):
        raise InvalidInput("征求意见对象类型无效")
    party_name = _require_text(party_name, "被征求意见方名称", max_len=200)
    _not_future(sent_on, today, "发出日期")
    _not_before(sent_on, case.clock_start_on, "发出日期", "答复期限起算日")
    if received_by_party_on is not None:
        _not_before(received_by_party_on, sent_on, "对方收到日期", "发出日期")
    cal = default_calendar()
    answer_due = clocks.consultation_answer_due(cal, received_by_party_on or sent_on)
    consultation = Consultation(case_id=case.id, kind=kind, party_name=party_name, party_contact=party_contact,
                                subject=subject, sent_on=sent_on, received_by_party_on=received_by_party_on,
                                answer_due_on=answer_due)
    case.consultations.append(consultation)
    before = case.stage
    advance(case, "open_consultation", actor=actor)
    _finish_action(session, case, "open_consultation", actor, before,
                   {"kind": kind, "party": party_name, "sent_on": sent_on, "answer_due_on": answer_due})
    return consultation


@use_case
def record_consultation_answer(session: Session, case_id: int, *, consultation_id: int, answer: str,
                               answered_on: date, summary: str = "", received_by_party_on: date | None = None,
                               actor: User, today: date, version: int | None = None) -> Case:
    """The answer (or lapse: NO_ANSWER after 15 WD — for agencies silence is consent, 条例34)."""
    case = load_case(session, case_id, actor, version=version)
    check_actor(case, "record_consultation_answer", actor)
    check_stage(case, "record_consultation_answer")
    consultation = next((c for c in case.consultations if c.id == consultation_id), None)
    if consultation is None:
        raise NotFound("没有找到该征求意见记录")
    if not consultation.is_open:
        raise RuleViolation("该征求意见已登记答复")
    if answer not in ("CONSENT", "OBJECTION", "NO_ANSWER"):
        raise InvalidInput("意见类型无效")
    _not_future(answered_on, today, "收到意见日期")
    _not_before(answered_on, consultation.sent_on, "收到意见日期", "发出日期")
    if received_by_party_on is not None:
        consultation.received_by_party_on = received_by_party_on
        consultation.answer_due_on = clocks.consultation_answer_due(default_calendar(), received_by_party_on)
    if answer == "NO_ANSWER" and answered_on <= consultation.answer_due_on:
        raise RuleViolation(f"对方的提出意见期限（{consultation.answer_due_on}）尚未届满，不能登记为逾期未提出意见")
    consultation.answer = answer
    consultation.answered_on = answered_on
    consultation.answer_summary = summary
    before = case.stage
    advance(case, "record_consultation_answer", actor=actor,
            no_consultation_left_open=not any(c.is_open for c in case.consultations))
    _finish_action(session, case, "record_consultation_answer", actor, before,
                   {"consultation_id": consultation.id, "answer": answer, "answered_on": answered_on})
    return case


@use_case
def issue_fee_notice(session: Session, case_id: int, *, mode: str, units: int, earlier_this_month: int = 0,
                     notice_received_on: date | None = None, actor: User, today: date,
                     version: int | None = None) -> Fee:
    """收费通知 (条例42、109号): per application or per page, never both; 20 WD to pay from the day after receipt."""
    case = load_case(session, case_id, actor, version=version)
    check_actor(case, "issue_fee_notice", actor)
    check_stage(case, "issue_fee_notice")
    if case.fees:
        raise RuleViolation("本申请已发出过收费通知；同一申请不得重复计收（109号办法第三条）")
    try:
        quote = (fees.quote_per_application(earlier_this_month, units) if mode == fees.PER_APPLICATION
                 else fees.quote_per_page(units) if mode == fees.PER_PAGE else None)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    if quote is None:
        raise InvalidInput("计费方式只能是按件或按量之一")
    if quote.amount_yuan == 0:
        raise RuleViolation("按该计费方式本申请不收费，不应发出收费通知")
    received = notice_received_on or today
    _not_before(received, today, "申请人收到通知日期", "发出日期")
    pay_by = clocks.fee_payment_due(default_calendar(), received)
    fee = Fee(case_id=case.id, mode=mode, units=units, amount_yuan=quote.amount_yuan,
              breakdown=[{"first": b.first, "last": b.last, "unit_price_yuan": b.unit_price_yuan,
                          "amount_yuan": b.amount_yuan} for b in quote.bands],
              notice_issued_on=today, notice_received_on=received, pay_by_on=pay_by)
    case.fees.append(fee)
    before = case.stage
    advance(case, "issue_fee_notice", actor=actor)
    _finish_action(session, case, "issue_fee_notice", actor, before,
                   {"mode": mode, "units": units, "amount_yuan": quote.amount_yuan, "pay_by_on": pay_by})
    return fee


@use_case
def record_payment(session: Session, case_id: int, *, paid_on: date, actor: User, today: date,
                   version: int | None = None) -> Case:
    case = load_case(session, case_id, actor, version=version)
    check_actor(case, "record_payment", actor)
    check_stage(case, "record_payment")
    fee = case.fees[-1]
    _not_future(paid_on, today, "缴费日期")
    _not_before(paid_on, fee.notice_issued_on, "缴费日期", "收费通知日期")
    if paid_on > fee.pay_by_on:
        raise RuleViolation(f"缴费日期晚于缴费期限（{fee.pay_by_on}），应按逾期未缴费处理")
    fee.paid_on = paid_on
    before = case.stage
    advance(case, "record_payment", actor=actor)
    _finish_action(session, case, "record_payment", actor, before, {"paid_on": paid_on, "amount_yuan": fee.amount_yuan})
    return case


@use_case
def extend(session: Session, case_id: int, *, working_days: int, reason: str, actor: User, today: date,
           version: int | None = None) -> Case:
    """延期答复 (条例33②): once, ≤ 20 WD, approved by the office head before the current due date."""
    case = load_case(session, case_id, actor, version=version)
    check_actor(case, "extend", actor)
    check_stage(case, "extend")
    if case.extension_working_days:
        raise RuleViolation("答复期限只能延长一次（条例第三十三条），本申请已经延期")
    if not 1 <= working_days <= EXTENSION_MAX_WORKING_DAYS:
        raise RuleViolation("延长的期限最长不得超过 20 个工作日（条例第三十三条）")
    reason = _require_text(reason, "延期理由")
    if case.due_on is None or today > case.due_on:
        raise RuleViolation(
            f"延期须在答复期限届满前批准并告知申请人；原期限 {case.due_on}，今天 {today.isoformat()} 已超过，不能再延期")
    before_due = case.due_on
    case.extension_working_days = working_days
    case.extension_reason = reason
    case.extension_approved_by_id = actor.id
    case.extension_approved_on = today
    advance(case, "extend", actor=actor)
    _finish_action(session, case, "extend", actor, case.stage,
                   {"working_days": working_days, "original_due_on": before_due}, reason)
    return case
