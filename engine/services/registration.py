"""登记 (条例29、31): registration, confirmation of receipt, the query code and the receipt (登记回执)."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import secrets
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from engine.errors import InvalidInput, PermissionDenied, WorkflowError
from engine.persistence import limits
from engine.persistence.audit import PendingEvent, deferred_events, record_event, utcnow
from engine.persistence.audit_state import new_case_records, patch_case_state
from engine.persistence.direct_insert import insert_new
from engine.persistence.models import Agency, Applicant, AuditEvent, Case, CaseItem, Letter, User
from engine.persistence.numbering import REGISTRATION, format_number, next_number, next_number_and_chain_head
from engine.rules import clocks, contact
from engine.rules.calendar import FIRST_COVERED, PROVISIONAL_UNTIL
from engine.rules.case_clock import clock_settings, refresh_due
from engine.rules.outcomes import APPLICANT_TYPES
from engine.rules.similarity import normalize_id_number, similarity
from engine.rules.text_input import has_control_characters
from engine.rules.vocabulary import CHANNELS
from engine.rules.workflow import advance, authorize
from engine.services import letter_data
from engine.services.case_events import CaseEvent, held_events, prepare, publish
from engine.services.common import (
    ActionResult,
    FieldProblems,
    finish_action,
    load_case,
    not_before,
    not_future,
    optional_text,
    require_text,
    use_case,
)
from engine.services.issuing import LetterRenderer, issue_letter
from engine.services.period_lock import ensure_period_open
from engine.services.search_text import refresh_search_text, search_text_of
from engine.services.uploads import UploadedFile, attach

DUPLICATE_THRESHOLD = 0.5


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
    problem = contact.id_number_problem(id_type, id_number)
    if problem:
        raise InvalidInput(problem, details={"field": "id_number"})


APPLICANT_LABELS = {"name": "申请人姓名或名称", "id_type": "证件类型", "id_number": "证件号码", "phone": "联系电话",
                    "email": "电子邮箱", "address": "通信地址", "postal_code": "邮政编码", "contact_person": "联系人"}


def _applicant_problems(a: ApplicantForm, problems: FieldProblems) -> None:
    """条例29(一): who asks and how to reach them; every field within its column, no control characters."""
    if a.kind not in APPLICANT_TYPES:
        problems.note("applicant_kind", f"申请人类型无效：{a.kind}")
    problems.check("name", require_text, a.name, APPLICANT_LABELS["name"], max_len=limits.APPLICANT_FIELDS["name"],
                   multiline=False, field="name")
    for name, label in APPLICANT_LABELS.items():
        problems.check(name, optional_text, getattr(a, name), label, max_len=limits.APPLICANT_FIELDS[name],
                       multiline=name == "address", field=name)
    if not (a.phone.strip() or a.email.strip() or a.address.strip()):
        problems.note("phone", "请至少填写一种联系方式（电话、电子邮箱或通信地址，条例第二十九条）")
    problems.note("phone", contact.phone_problem(a.phone))
    problems.note("email", contact.email_problem(a.email))
    problems.note("postal_code", contact.postal_code_problem(a.postal_code))
    problems.note("id_number", contact.id_number_problem(a.id_type, a.id_number))


def validate_applicant(a: ApplicantForm) -> None:
    """The applicant's details (条例29(一)), every problem at once."""
    problems = FieldProblems()
    _applicant_problems(a, problems)
    problems.raise_all()


def registration_problems(form: RegistrationForm, today: date) -> dict[str, str]:
    """Every problem of a registration form, field name → message (empty when it can be registered)."""
    problems = FieldProblems()
    _applicant_problems(form.applicant, problems)
    if form.channel not in CHANNELS:
        problems.note("channel", f"申请渠道无效：{form.channel}")
    if not form.items:
        problems.note("item_description", "请至少填写一项申请公开的政府信息")
    if len(form.items) > limits.MAX_ITEMS:
        problems.note("item_description", f"一件申请最多 {limits.MAX_ITEMS} 项申请内容（现有 {len(form.items)} 项），请分件登记")
    for n, (desc, topic) in enumerate(form.items, start=1):
        problems.check("item_description", require_text, desc, f"第 {n} 项申请内容", field="item_description")
        problems.check("item_topic", optional_text, topic, f"第 {n} 项的主题分类", max_len=limits.ITEM_TOPIC,
                       multiline=False, field="item_topic")
    problems.check("requested_form", optional_text, form.requested_form, "指定的提供形式",
                   max_len=limits.REQUESTED_FORM, multiline=False, field="requested_form")
    problems.check("requested_delivery", optional_text, form.requested_delivery, "获取信息的方式",
                   max_len=limits.REQUESTED_DELIVERY, multiline=False, field="requested_delivery")
    problems.check("purpose", optional_text, form.purpose, "申请用途", field="purpose")
    for label, field_name, day in (("提交日期", "submitted_on", form.submitted_on),
                                   ("签收日期", "signed_for_on", form.signed_for_on),
                                   ("确认日期", "confirmed_on", form.confirmed_on)):
        if day is not None and not FIRST_COVERED <= day <= PROVISIONAL_UNTIL:
            problems.note(field_name, f"{label}（{day.isoformat()}）不在工作日日历的范围内（{FIRST_COVERED.isoformat()} 至 "
                                      f"{PROVISIONAL_UNTIL.isoformat()}），请核对")
    if form.submitted_on is not None:
        problems.check("submitted_on", not_future, form.submitted_on, today, "提交日期")
        for label, field_name, day in (("签收日期", "signed_for_on", form.signed_for_on),
                                       ("确认日期", "confirmed_on", form.confirmed_on)):
            if day is not None:
                problems.check(field_name, not_future, day, today, label)
                problems.check(field_name, not_before, day, form.submitted_on, label, "提交日期")
    return dict(problems)


def validate_registration(form: RegistrationForm, today: date) -> None:
    """Every check `register_request` makes of the form itself (条例29), all problems at once — also for a page that
    shows what will be submitted before anything is registered (网上申请's confirmation page)."""
    problems = FieldProblems(registration_problems(form, today))
    problems.raise_all()


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


def _new_applicant(agency: Agency, a: ApplicantForm) -> Applicant:
    """The applicant as stated in this application: a row of this case's own, never shared with or copied over
    an earlier case (an archived case keeps the name and contact details it was registered with). The same
    person's cases are found by `id_number_normalized`. Not yet in the session: it is inserted with the case that
    refers to it, not on its own."""
    return Applicant(agency_id=agency.id, kind=a.kind, name=a.name.strip(), id_type=a.id_type.strip(),
                     id_number=a.id_number.strip(), id_number_normalized=normalize_id_number(a.id_number),
                     phone=a.phone.strip(), email=a.email.strip(), address=a.address.strip(),
                     postal_code=a.postal_code.strip(), contact_person=a.contact_person.strip())


def new_query_code() -> str:
    """查询码 printed on the receipt; only its hash is stored."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(8))


def query_code_digest(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


@use_case
def register_request(session: Session, form: RegistrationForm, *, renderer: LetterRenderer, actor: User,
                     today: date, application_file: UploadedFile | None = None,
                     query_code_shown: bool = False, render_later: bool = False,
                     answer: Callable[[ActionResult], object] | None = None) -> ActionResult:
    """登记 (条例29、31): a numbered case, its application file, and — once there is a receipt date — the
    登记回执 with the applicant's query code (shown once; only its hash is kept). `query_code_shown`: the caller
    shows the applicant the code even before the receipt (网上申请), so a later confirmation keeps it.
    `render_later`: the receipt is fixed here and rendered after the commit (`issuing.issue_letter`), so the
    agency's registrations do not queue behind its PDF on the number counter's lock. `answer`: what the caller
    will answer, made of the result (plain data: the API's JSON), in `result.answer` — made before the number is
    taken when it is taken last, with the provisional number then replaced by the real one wherever it occurs, so
    that building it does not hold the counter either; an event it records (a personal-data reveal) is chained
    with the registration's."""
    if actor is None or not actor.has_role("clerk"):
        raise PermissionDenied("「登记」只能由登记员执行")
    validate_registration(form, today)
    agency = session.get(Agency, actor.agency_id)
    topics = agency.topics or []
    unknown = [t for _d, t in form.items if t and topics and t not in topics]
    if unknown:
        raise InvalidInput(f"申请内容分类「{'、'.join(unknown)}」不在本机关的分类目录中：{'、'.join(topics)}")
    received_on = _receipt_date(form, agency)
    ensure_period_open(session, agency.id, received_on or form.submitted_on, actor=actor)
    year = (received_on or form.submitted_on).year
    applicant = _new_applicant(agency, form.applicant)
    code = new_query_code()
    # The counter's row lock is held from the number to the commit, and every registration of the agency queues
    # on it: the number is taken last, after everything that does not need it, unless the receipt is rendered
    # here (its PDF prints the number).
    number_last = received_on is None or (render_later and getattr(renderer, "prepare", None) is not None)
    if number_last:
        seq, reg_no = _provisional_number()
    else:
        seq = next_number(session, agency.id, REGISTRATION, year)
        reg_no = _reg_no(agency, year, seq)
    now = utcnow()
    case = Case(
        agency_id=agency.id, reg_no=reg_no, reg_year=year, reg_seq=seq, applicant=applicant,
        applicant_kind=applicant.kind, stage="received",
        channel=form.channel, submitted_on=form.submitted_on, received_on=None,
        requested_form=form.requested_form.strip(), requested_delivery=form.requested_delivery.strip(),
        purpose=form.purpose.strip(), query_code_hash=query_code_digest(code),
        created_at=now, updated_at=now, supplement_items=[],
        consultations=[], fees=[],  # a new case has none: its clock need not look them up
    )
    for n, (desc, topic) in enumerate(form.items, start=1):
        case.items.append(CaseItem(seq=n, description=desc.strip(), topic=(topic or "").strip(), is_primary=n == 1))
    refresh_search_text(session, case)
    refresh_due(case, **clock_settings(agency))  # inserted with its clock: `finish_action(…, inserted=True)`
    insert_new(session, [[applicant], [case], case.items])  # three INSERTs, without a flush's bookkeeping
    # Registration adds only items, the application file and the receipt to its new case: the state digests of
    # its events need not read the other kinds of records.
    changes = {"reg_no": case.reg_no, "applicant": applicant.name, "channel": form.channel,
               "submitted_on": form.submitted_on, "items": [d for d, _ in form.items]}
    if query_code_shown:
        changes["query_code_shown"] = True
    result = ActionResult(case, query_code=code)
    unwritten: dict = {}  # the confirmation's changes to the row, written with the number (`_number_case`)
    with ExitStack() as later:
        kept: list[PendingEvent | CaseEvent] = []  # the events and their reactions, in order, wait for the number
        if number_last:
            later.enter_context(deferred_events(session, case.id, into=kept))
            later.enter_context(held_events(session, case.id, into=kept))
        # The case went in with its items in the flush above: they are all it holds yet, not read back.
        with new_case_records(session, case.id, may_hold=("items", "uploads", "letters"), holding={"items": case.items}):
            finish_action(session, case, "register_request", actor, None, changes, inserted=True)
            attach(session, case, application_file, kind="application", actor=actor)
            if received_on is not None:
                result.letters.append(_confirm(session, case, received_on, code, renderer=renderer, actor=actor,
                                               today=today, render_later=render_later,
                                               unwritten=unwritten if number_last else None))
            if answer is not None:  # an event it records takes the case's state from the session too
                result.answer = answer(result)
    if number_last:
        provisional = case.reg_no
        _number_case(session, case, agency, result.letters, kept, unwritten)
        result.answer = _with_number(result.answer, provisional, case.reg_no)
    return result


# A registration's number until it takes the real one, at the end of its transaction: unique (the case row is
# inserted before the number exists) and never committed. A negative sequence number cannot be a real one.
PROVISIONAL_REG_NO = "待编号-"


def _provisional_number() -> tuple[int, str]:
    return -1 - secrets.randbelow(2**31 - 1), PROVISIONAL_REG_NO + uuid.uuid4().hex


def _reg_no(agency: Agency, year: int, seq: int) -> str:
    return format_number(agency.reg_no_pattern, year=year, n=seq, code=agency.code, prefix=agency.letter_no_prefix)


def _number_case(session: Session, case: Case, agency: Agency, letters: list[Letter],
                 kept: list[PendingEvent | CaseEvent], unwritten: dict) -> None:
    """Take the registration number and put it where the provisional one stood: the case row, its search text, the
    pending receipt's data snapshot, the kept events (their changes, and their states, which become the states a
    read after this gives); chain the events; then tell each kept reaction, naming the event it follows (a
    notification's key does). The case row's `unwritten` values (the confirmation's) are written with the number.

    Every registration of the agency queues on the number counter's lock from here to the commit, so what is
    done under it is short: everything else is written first; the counter and the chain head are locked and read
    together, and the number's writes, the events and the new head are written together (on PostgreSQL one
    statement each, `next_number_and_chain_head`, `ChainHead.write`), without the session's unit of work. The
    counter row is locked before the chain head, as every action that takes a number and records does."""
    provisional = case.reg_no
    prepare(session, kept)  # what the reactions read (the webhook endpoints), read before the counter is locked
    session.flush()
    seq, head = next_number_and_chain_head(session, agency.id, REGISTRATION, case.reg_year)
    reg_no = _reg_no(agency, case.reg_year, seq)
    # The session's copies are told what the rows will say (`set_committed_value`): none of them is left dirty for
    # the commit's flush to look at again.
    set_committed_value(case, "reg_no", reg_no)
    set_committed_value(case, "reg_seq", seq)
    # The number bumps no version: no other transaction can see the case yet, so nobody holds an earlier version (and
    # a caller's answer made before the number, `register_request(answer=…)`, names the version the case keeps). The
    # confirmation's bump, held back with its other changes, is among `unwritten`.
    numbered = {"reg_no": reg_no, "reg_seq": seq,
                "search_text": search_text_of(session, case, letters=letters)}  # its only letters: what it issued
    row = {**unwritten, **numbered}
    writes = [(_case_update(tuple(sorted(row))),
               {"numbered_case_id": case.id, **{f"numbered_{k}": v for k, v in row.items()}})]
    snapshots = {}
    for n, letter in enumerate(letters):
        snapshots[letter] = _with_number(letter.data_snapshot, provisional, reg_no)
        writes.append((_number_letter(n), {f"letter_{n}_id": letter.id, f"letter_{n}_snapshot": snapshots[letter]}))
    events, told = [], []
    for entry in kept:
        if isinstance(entry, PendingEvent):
            entry.changes = _with_number(entry.changes, provisional, reg_no)
            if entry.state is not None:
                entry.state = patch_case_state(entry.state, reg_no=reg_no, reg_seq=seq)
            events.append(head.chain(entry))
        else:
            told.append((len(events) - 1, dataclasses.replace(entry, changes=_with_number(entry.changes, provisional,
                                                                                           reg_no))))
    ids = head.write(events, also=writes)
    for name, value in numbered.items():
        set_committed_value(case, name, value)
    for letter, snapshot in snapshots.items():
        set_committed_value(letter, "data_snapshot", snapshot)
    for index, event in told:
        publish(session, dataclasses.replace(event, audit_event_id=ids[index] if index >= 0 else None))


@functools.cache
def _case_update(names: tuple[str, ...]):
    """The UPDATE of the new case's row that writes `names` (its parameters named apart from the columns)."""
    return update(Case).where(Case.id == bindparam("numbered_case_id")).values(
        **{name: bindparam(f"numbered_{name}") for name in names})


@functools.cache
def _number_letter(n: int):
    """The UPDATE of the registration's `n`-th letter's snapshot (its own parameter names: they share a statement)."""
    return update(Letter).where(Letter.id == bindparam(f"letter_{n}_id")).values(
        data_snapshot=bindparam(f"letter_{n}_snapshot"))


def _with_number(value, provisional: str, reg_no: str):
    """`value` (plain data) with the provisional registration number replaced by the real one wherever it occurs."""
    if isinstance(value, str):
        return value.replace(provisional, reg_no)
    if isinstance(value, dict):
        return {k: _with_number(v, provisional, reg_no) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_with_number(v, provisional, reg_no) for v in value)
    return value


def _confirm(session: Session, case: Case, received_on: date, code: str, *, renderer: LetterRenderer, actor,
             today: date, reason: str = "", render_later: bool = False, unwritten: dict | None = None) -> Letter:
    """The receipt date is fixed, the reply clock starts, and the 登记回执 carrying `code` is issued. `unwritten`:
    the case is being registered, and the row's changes are left to be written with its number
    (`finish_action`)."""
    before = case.stage
    case.received_on = received_on
    case.clock_start_on = received_on
    advance(case, "confirm_receipt")
    finish_action(session, case, "confirm_receipt", actor, before, {"received_on": received_on}, reason,
                  unwritten=unwritten)
    agency = case.agency
    return issue_letter(session, case, "receipt",
                        lambda _n: letter_data.receipt_data(case, agency, query_code=code, issued_on=today),
                        renderer=renderer, actor=actor, today=today, numbered=False, render_later=render_later)


@use_case
def confirm_receipt(session: Session, case_id: int, *, confirmed_on: date, renderer: LetterRenderer, actor: User,
                    today: date, late_reason: str = "", version: int | None = None,
                    render_later: bool = False) -> ActionResult:
    """条例31(二)(三): plain letter, online or fax — the day both sides confirm is the receipt date; the receipt
    is issued then, with a fresh query code (the applicant has none yet). A confirmation later than the day the
    request arrived moves the applicant's receipt date back by that much, so it needs a recorded reason."""
    case = load_case(session, case_id, actor, version=version)
    authorize(case, "confirm_receipt", actor)
    not_future(confirmed_on, today, "确认日期")
    not_before(confirmed_on, case.submitted_on, "确认日期", "提交日期")
    late_reason = (late_reason or "").strip()
    if confirmed_on > case.submitted_on and not late_reason:
        waited = (confirmed_on - case.submitted_on).days
        raise InvalidInput(f"确认日期晚于申请到达日期（{case.submitted_on.isoformat()}）{waited} 日，请写明未能当日确认的原因"
                           "（如：节假日到达、需与申请人核实身份），原因将记入办理记录")
    ensure_period_open(session, case.agency_id, confirmed_on, actor=actor)
    if _query_code_shown(session, case):  # applied online: the applicant holds a code already, it stays valid
        receipt = _confirm(session, case, confirmed_on, QUERY_CODE_KEPT, renderer=renderer, actor=actor,
                           today=today, reason=late_reason, render_later=render_later)
        return ActionResult(case, letters=[receipt])
    code = _new_code_for(session, case, actor)
    receipt = _confirm(session, case, confirmed_on, code, renderer=renderer, actor=actor, today=today,
                       reason=late_reason, render_later=render_later)
    return ActionResult(case, letters=[receipt], query_code=code)


# What the receipt says in place of a new code when the applicant was shown one on applying.
QUERY_CODE_KEPT = "网上申请时已告知，继续有效"


def _query_code_shown(session: Session, case: Case) -> bool:
    """Whether the applicant was shown the case's current 查询码 when registering (and it was not renewed since)."""
    events = session.execute(select(AuditEvent.action, AuditEvent.changes).where(
        AuditEvent.case_id == case.id, AuditEvent.action.in_(("register_request", "renew_query_code")))
        .order_by(AuditEvent.seq)).all()
    return bool(events) and events[-1].action == "register_request" and isinstance(events[-1].changes, dict) \
        and events[-1].changes.get("query_code_shown") is True


def _new_code_for(session: Session, case: Case, actor) -> str:
    code = new_query_code()
    case.query_code_hash = query_code_digest(code)
    finish_action(session, case, "renew_query_code", actor, case.stage, {})
    return code


@use_case
def renew_query_code(session: Session, case_id: int, *, actor: User, today: date) -> str:
    """A new 查询码 for the receipt (e.g. issued when a plain letter is confirmed); the old one stops working."""
    case = load_case(session, case_id, actor)
    if actor is None or not actor.has_role("clerk"):
        raise PermissionDenied("只有登记员可以重新生成查询码")
    if case.stage == "archived":
        raise WorkflowError("案件已归档，只读")
    return _new_code_for(session, case, actor)


def find_possible_duplicates(session: Session, agency_id: int, applicant: ApplicantForm, texts: list[str],
                             *, exclude_case_id: int | None = None, limit: int = 10) -> list[dict]:
    """Earlier requests of the same applicant with similar content (条例36(六) 重复申请), best first."""
    if any(has_control_characters(v) for v in (applicant.id_number, applicant.name, applicant.phone,
                                                applicant.email, *texts)):
        return []  # registration will refuse such input; it is never sent to the database
    name = applicant.name.strip()
    values = {"same_id_number": normalize_id_number(applicant.id_number),
              "same_phone": applicant.phone.strip() if name else "",
              "same_email": applicant.email.strip() if name else ""}
    values = {key: value for key, value in values.items() if value}
    if not values or not any(t.strip() for t in texts):
        return []
    rows = session.execute(_earlier_requests(tuple(values)), {**values, "same_agency": agency_id,
                                                              "same_name": name}).all()
    found: dict[int, dict] = {}
    for case_id, reg_no, received_on, stage, description in rows:
        if case_id == exclude_case_id:
            continue
        score = max(similarity(t, description) for t in texts if t.strip())
        if score >= DUPLICATE_THRESHOLD and score > found.get(case_id, {}).get("similarity", 0):
            found[case_id] = {"case_id": case_id, "reg_no": reg_no, "received_on": received_on,
                              "item": description, "similarity": round(score, 2), "stage": stage,
                              "reply_number": None}
    if found:
        letters = session.execute(
            select(Letter.case_id, Letter.doc_number)
            .where(Letter.case_id.in_(found), Letter.letter_type == "reply", Letter.supersedes_id.is_(None))
        ).all()
        for case_id, number in letters:
            found[case_id]["reply_number"] = number
    return sorted(found.values(), key=lambda d: -d["similarity"])[:limit]




@functools.cache
def _earlier_requests(same: tuple[str, ...]):
    """The items of the agency's cases whose applicant has the same ID number, or the same name and phone, or the
    same name and e-mail (those of `same` given), newest first: the columns compared and shown, not whole cases (a
    returning applicant may have hundreds of items). Built once for each combination (every registration runs it)."""
    conds = {"same_id_number": Applicant.id_number_normalized == bindparam("same_id_number"),
             "same_phone": (Applicant.name == bindparam("same_name")) & (Applicant.phone == bindparam("same_phone")),
             "same_email": (Applicant.name == bindparam("same_name")) & (Applicant.email == bindparam("same_email"))}
    return (select(Case.id, Case.reg_no, Case.received_on, Case.stage, CaseItem.description)
            .join(Applicant, Case.applicant_id == Applicant.id)
            .join(CaseItem, CaseItem.case_id == Case.id)
            .where(Case.agency_id == bindparam("same_agency"), or_(*(conds[key] for key in same)))
            .order_by(Case.id.desc())
            .limit(500))


@use_case
def update_applicant(session: Session, case_id: int, applicant: ApplicantForm, *, actor: User, today: date,
                     version: int | None = None) -> ActionResult:
    """Correct the applicant data of one case (a clerk's audited action on that case only; refused once archived).
    Other cases, even of the same person, keep what they were registered with."""
    case = load_case(session, case_id, actor, version=version)
    if actor is None or not actor.has_role("clerk"):
        raise PermissionDenied("只有登记员可以更正申请人信息")
    if case.stage == "archived":
        raise WorkflowError("案件已归档，只读，不能更正申请人信息")
    validate_applicant(applicant)
    current = case.applicant
    if applicant.kind != current.kind:
        ensure_period_open(session, case.agency_id, case.received_on or case.submitted_on, actor=actor)
    fields = ("kind", *APPLICANT_LABELS)
    before = {name: getattr(current, name) for name in fields}
    after = {name: getattr(applicant, name).strip() for name in fields}
    changed = {name: {"before": before[name], "after": after[name]} for name in fields if before[name] != after[name]}
    if not changed:
        raise InvalidInput("申请人信息没有变化")
    shared = session.scalar(select(Case.id).where(Case.applicant_id == current.id, Case.id != case.id).limit(1))
    if shared is not None:  # rows written before per-case snapshots may be shared: copy before changing
        current = _new_applicant(session.get(Agency, case.agency_id), applicant)
        session.add(current)
        case.applicant = current
    else:
        for name, value in after.items():
            setattr(current, name, value)
        current.id_number_normalized = normalize_id_number(applicant.id_number)
    case.applicant_kind = current.kind
    refresh_search_text(session, case)  # the new name, ID number and phone, with the number and the 文号 kept
    finish_action(session, case, "update_applicant", actor, case.stage, {"applicant": changed})
    return ActionResult(case)


@use_case
def reveal_applicant(session: Session, case_id: int, *, actor: User, today: date) -> Applicant:
    """Show one case's applicant ID number and phone in full: allowed to the agency's staff, and logged (who, when)
    in the case's audit trail (个人信息保护法第51条)."""
    case = load_case(session, case_id, actor)
    record_event(session, agency_id=case.agency_id, case_id=case.id, actor=actor, action="reveal_personal_data",
                 stage_before=case.stage, stage_after=case.stage, changes={"fields": ["id_number", "phone"]})
    return case.applicant
