"""Cases and records as the API's response models (schemas.py): the clock is computed here, never stored."""

from __future__ import annotations

from datetime import date, datetime

from flask import url_for
from sqlalchemy import bindparam, exists, select
from sqlalchemy.orm import Session, joinedload, lazyload, load_only
from sqlalchemy.orm.attributes import set_committed_value

from engine.errors import NotFound
from engine.persistence.models import Case, Consultation, Delivery, ExemptionRecord, Fee, Letter, User
from engine.rules import clocks
from engine.rules.calendar import default_calendar
from engine.rules.case_clock import clock_settings, compute_due
from engine.rules.outcomes import APPLICANT_TYPES, OUTCOMES
from engine.rules.personal_data import mask_id_number, mask_phone
from engine.rules.vocabulary import CHANNEL_LABELS
from engine.rules.workflow import OPEN_STAGES, STAGE_LABELS, available_actions
from webui.api import schemas as s
from webui.localtime import in_shanghai

DUE_LABELS = {"on_time": "按时", "due_soon": "即将到期", "overdue": "已逾期"}
# The reply clock runs (or is paused) in these stages; awaiting_supplement waits on the applicant instead.
CLOCK_STAGES = tuple(st for st in OPEN_STAGES if st != "awaiting_supplement")


def due_status(case: Case, today: date) -> s.DueStatusOut | None:
    """On time / due soon / overdue (DESIGN §3), only while the reply clock is running or paused."""
    if case.stage not in CLOCK_STAGES or case.due_on is None:
        return None
    status = clocks.due_status(default_calendar(), case.due_on, today)
    return s.DueStatusOut(kind=status.kind, label=DUE_LABELS[status.kind], working_days_left=status.working_days_left)


def due_explanation(case: Case) -> s.DueExplanationOut | None:
    if case.stage not in CLOCK_STAGES:
        return None
    due = compute_due(case, **clock_settings(case.agency))
    if due is None:
        return None
    data = due.to_json()
    return s.DueExplanationOut(
        start=due.start, days=due.days, extension_working_days=due.extension_working_days, due=due.due,
        provisional=due.provisional, calendar_version=due.calendar_version,
        not_counted=[s.NotCountedOut(date=n["date"], kind=n["kind"], reason=n["reason"]) for n in data["not_counted"]],
        pauses=[s.PauseOut(start=p.start, end=p.end, reason=p.reason) for p in due.pauses],
        lines=clocks.explain(due))


def exemption_record(record: ExemptionRecord) -> dict:
    return dict(
        id=record.id, case_id=record.case_id, item_id=record.item_id, version=record.version, current=record.current,
        ground=record.ground, ground_label=OUTCOMES[record.ground].label, article=record.article,
        facts=record.facts, scope=record.scope, whole_item=record.whole_item, severability=record.severability,
        consultation_id=record.consultation_id, no_consultation_reason=record.no_consultation_reason,
        public_interest=record.public_interest, law_citation=record.law_citation,
        classification_basis=record.classification_basis, discretion_reason=record.discretion_reason,
        search_record=record.search_record, review_state=record.review_state, review_comment=record.review_comment,
        department_id=record.department_id, created_at=in_shanghai(record.created_at))


def _letter(letter: Letter) -> s.LetterOut:
    return s.LetterOut(
        id=letter.id, letter_type=letter.letter_type, doc_number=letter.doc_number, issued_on=letter.issued_on,
        sha256=letter.sha256, size_bytes=letter.size_bytes, template_version=letter.template_version,
        supersedes_id=letter.supersedes_id, signed=letter.signed_by_id is not None,
        download_url=relative_to_api(url_for("api.letter_pdf", case_id=letter.case_id, letter_id=letter.id)))


def relative_to_api(path: str) -> str:
    """A path relative to the API base (`/api/v1/`), so it resolves against wherever the API is served."""
    return path.removeprefix(url_for("api.openapi_json").removesuffix("openapi.json"))


def actions_for(case: Case, user: User) -> list[s.ActionOut]:
    names = [(a.name, a.label) for a in available_actions(case, user)]
    if any(name == "record_decision" for name, _ in names):
        names.append(("record_exemption", "登记不予公开理由"))
    return [s.ActionOut(name=name, label=label,
                        url=relative_to_api(url_for("api.perform_action", case_id=case.id, action=name)))
            for name, label in names]


def updated_at(case: Case) -> datetime:
    """When the case last changed (any action), in Asia/Shanghai with its offset."""
    return in_shanghai(case.updated_at)


# What the case JSON shows of a letter: not its PDF bytes or data snapshot (the download serves the PDF).
LETTER_COLUMNS = (Letter.id, Letter.case_id, Letter.letter_type, Letter.doc_number, Letter.issued_on, Letter.sha256,
                  Letter.size_bytes, Letter.template_version, Letter.supersedes_id, Letter.signed_by_id)
# The case's records that a case often does not have yet (none at all for a new case): asked for in one query,
# and only those that exist are then loaded.
RECORDS = ("exemption_records", "letters", "deliveries", "consultations", "fees")


def _records_exist(case_id):
    """One EXISTS column per kind of record in RECORDS, in that order, correlated to `case_id` (a value or column)."""
    return (
        exists().where(ExemptionRecord.case_id == case_id, ExemptionRecord.current.is_(True)),
        exists().where(Letter.case_id == case_id),
        exists().where(Delivery.case_id == case_id),
        exists().where(Consultation.case_id == case_id),
        exists().where(Fee.case_id == case_id),
    )


# The two statements of every API case read, built once (building them cost as much CPU as running them).
_CASE_FOR_VIEW = (
    select(Case, *(e.label(name) for e, name in zip(_records_exist(Case.id), RECORDS, strict=True)))
    .options(joinedload(Case.department), joinedload(Case.items),
             # the handler as the JSON names them: not their login data (the password hash) nor their agency
             joinedload(Case.handler).options(load_only(User.id, User.display_name), lazyload(User.agency)))
    .where(Case.id == bindparam("case_id"), Case.agency_id == bindparam("agency_id")))
_LETTERS_SHOWN = (select(Letter).options(load_only(*LETTER_COLUMNS)).where(Letter.case_id == bindparam("case_id"))
                  .order_by(Letter.id))


def case_for_view(session: Session, case_id: int, user: User) -> tuple[Case, dict[str, bool]]:
    """The case of the user's agency for `case_out` in one query: with its applicant, department, handler and
    items, and which of its other records exist (another agency's case is not found, as in `load_case`)."""
    row = session.execute(_CASE_FOR_VIEW, {"case_id": case_id, "agency_id": user.agency_id}).unique().first()
    if row is None:
        raise NotFound("没有找到该申请")
    return row[0], dict(zip(RECORDS, row[1:], strict=True))


def registered_case_records(letters: list[Letter]) -> tuple[dict[str, bool], list[Letter]]:
    """`present` and `letters` for `case_out` of a case registered by this request: it has no records but the
    letters registration issued (the receipt, once there is a receipt date), so nothing needs to be read."""
    return {name: name == "letters" and bool(letters) for name in RECORDS}, sorted(letters, key=lambda x: x.id)


def case_out(session: Session, case: Case, user: User, today: date, *, personal_data: bool = False,
             present: dict[str, bool] | None = None, letters: list[Letter] | None = None) -> s.CaseOut:
    """The case as the API shows it; ID number and phone masked unless `personal_data` (an audited reveal).
    `present` says which records exist (`case_for_view`); without it one query finds out. `letters`: the case's
    letters when the caller has them all (`registered_case_records`), else they are read."""
    if present is None:
        present = dict(zip(RECORDS, session.execute(select(*_records_exist(case.id))).one(), strict=True))
    for name in ("consultations", "fees"):
        if not present[name] and name not in case.__dict__:
            set_committed_value(case, name, [])  # known empty: no lazy load
    applicant = case.applicant
    records = session.scalars(select(ExemptionRecord).where(
        ExemptionRecord.case_id == case.id, ExemptionRecord.current.is_(True)).order_by(ExemptionRecord.id)).all() \
        if present["exemption_records"] else []
    if letters is None:
        letters = session.scalars(_LETTERS_SHOWN, {"case_id": case.id}).all() if present["letters"] else []
    deliveries = session.scalars(select(Delivery).where(Delivery.case_id == case.id).order_by(Delivery.id)).all() \
        if present["deliveries"] else []
    handler = case.handler
    return s.CaseOut(
        id=case.id, reg_no=case.reg_no, version=case.version, updated_at=updated_at(case), stage=case.stage,
        stage_label=STAGE_LABELS[case.stage], channel=case.channel, channel_label=CHANNEL_LABELS[case.channel],
        submitted_on=case.submitted_on, received_on=case.received_on, clock_start_on=case.clock_start_on,
        due_on=case.due_on, due_provisional=case.due_provisional, clock_paused=case.clock_paused,
        due_status=due_status(case, today), due_explanation=due_explanation(case),
        extension_working_days=case.extension_working_days or 0, extension_reason=case.extension_reason or "",
        supplement=s.SupplementOut(requested_on=case.supplement_requested_on, items=list(case.supplement_items or []),
                                   due_on=case.supplement_due_on, received_on=case.supplement_received_on),
        applicant=s.ApplicantOut(kind=applicant.kind, kind_label=APPLICANT_TYPES[applicant.kind], name=applicant.name,
                                 id_type=applicant.id_type,
                                 id_number=applicant.id_number if personal_data else mask_id_number(applicant.id_number),
                                 phone=applicant.phone if personal_data else mask_phone(applicant.phone),
                                 email=applicant.email, address=applicant.address,
                                 postal_code=applicant.postal_code, contact_person=applicant.contact_person),
        department=s.NamedRef(id=case.department.id, name=case.department.name) if case.department else None,
        handler=s.NamedRef(id=handler.id, name=handler.display_name) if handler else None,
        requested_form=case.requested_form, requested_delivery=case.requested_delivery, purpose=case.purpose,
        items=[s.ItemOut(id=i.id, seq=i.seq, description=i.description, topic=i.topic, outcome=i.outcome,
                         outcome_label=OUTCOMES[i.outcome].label if i.outcome else None, reason=i.reason,
                         how_to_obtain=i.how_to_obtain, referral_agency=i.referral_agency,
                         referral_contact=i.referral_contact,
                         referral_unknown_reason=i.referral_unknown_reason, earlier_reply_number=i.earlier_reply_number,
                         is_primary=i.is_primary) for i in case.items],
        exemption_records=[s.ExemptionRecordOut(**exemption_record(r)) for r in records],
        consultations=[s.ConsultationOut(
            id=c.id, kind=c.kind, party_name=c.party_name, party_contact=c.party_contact, subject=c.subject,
            sent_on=c.sent_on, received_by_party_on=c.received_by_party_on, answer_due_on=c.answer_due_on,
            answered_on=c.answered_on, answer=c.answer, answer_summary=c.answer_summary) for c in case.consultations],
        fees=[s.FeeOut(id=f.id, mode=f.mode, units=f.units, amount_yuan=f.amount_yuan,
                       notice_issued_on=f.notice_issued_on, notice_received_on=f.notice_received_on,
                       pay_by_on=f.pay_by_on, paid_on=f.paid_on) for f in case.fees],
        letters=[_letter(letter) for letter in letters],
        deliveries=[s.DeliveryOut(id=d.id, letter_id=d.letter_id, method=d.method, delivered_on=d.delivered_on,
                                  tracking_no=d.tracking_no, returned=d.returned, note=d.note) for d in deliveries],
        report_outcome=case.report_outcome,
        report_outcome_label=OUTCOMES[case.report_outcome].label if case.report_outcome else None,
        finished_on=case.finished_on, closed_reason=case.closed_reason or "", archive_no=case.archive_no,
        retention=case.retention, imported=case.imported, available_actions=actions_for(case, user))


def case_summary(case: Case, today: date) -> s.CaseSummaryOut:
    return s.CaseSummaryOut(
        id=case.id, reg_no=case.reg_no, version=case.version, updated_at=updated_at(case), stage=case.stage,
        stage_label=STAGE_LABELS[case.stage], channel=case.channel, applicant_name=case.applicant.name, applicant_kind=case.applicant.kind,
        submitted_on=case.submitted_on, received_on=case.received_on, due_on=case.due_on,
        due_provisional=case.due_provisional, due_status=due_status(case, today), report_outcome=case.report_outcome,
        finished_on=case.finished_on, department_id=case.department_id, handler_id=case.handler_id)
