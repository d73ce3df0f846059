"""Periods that run from the addressee's receipt of a notice (条例30、32、34、35; 国办函〔2020〕109号).

A notice states its period as "自收到本告知书之日起N个工作日内"; the day it ends is known only once the notice's
delivery (送达) is recorded. `start_period` fixes that day when the delivery is recorded; `lapse_problem` is what
stops a consequence (视为放弃补正 / 视为放弃缴费 / 逾期未提出意见 / 逾期未说明理由) while the period has not run
or its delivery is unknown.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.persistence.models import Case, Consultation, Delivery, Fee, Letter
from engine.rules import clocks
from engine.rules.calendar import default_calendar
from engine.rules.vocabulary import LETTER_LABELS

# Letter types whose delivery starts a period the addressee must act in.
NOTICES_WITH_PERIODS = ("supplement_notice", "fee_notice", "third_party_consultation", "agency_consultation",
                        "reason_request")


def delivered_on(session: Session, letter: Letter | None) -> date | None:
    """The day the addressee received `letter`: its first delivery that did not come back."""
    if letter is None:
        return None
    return session.scalar(select(Delivery.delivered_on).where(
        Delivery.letter_id == letter.id, Delivery.returned.is_(False)).order_by(Delivery.delivered_on).limit(1))


def latest_letter(session: Session, case: Case, letter_type: str) -> Letter | None:
    return session.scalar(select(Letter).where(Letter.case_id == case.id, Letter.letter_type == letter_type)
                          .order_by(Letter.id.desc()).limit(1))


def consultation_of(case: Case, letter: Letter) -> Consultation | None:
    return next((c for c in case.consultations if c.letter_id == letter.id), None)


def start_period(session: Session, case: Case, letter: Letter, received_on: date) -> dict:
    """The notice `letter` reached its addressee on `received_on`: fix the end of the period it gives.
    Returns what changed (for the audit event); a later delivery of the same notice changes nothing."""
    if letter.letter_type not in NOTICES_WITH_PERIODS:
        return {}
    first = delivered_on(session, letter)
    if first is not None and first < received_on:
        return {}
    cal = default_calendar()
    if letter.letter_type == "supplement_notice":
        # Requests made before periods were kept per case fall back to the agency's default period.
        period = case.supplement_period_working_days or case.agency.supplement_period_working_days
        case.supplement_due_on = cal.add_working_days(received_on, period)
        return {"supplement_due_on": case.supplement_due_on}
    if letter.letter_type == "reason_request":
        case.reason_due_on = cal.add_working_days(received_on, case.reason_period_working_days)
        return {"reason_due_on": case.reason_due_on}
    if letter.letter_type == "fee_notice":
        fee: Fee = case.fees[-1]
        fee.notice_received_on = received_on
        fee.pay_by_on = clocks.fee_payment_due(cal, received_on)
        return {"pay_by_on": fee.pay_by_on}
    consultation = consultation_of(case, letter)
    if consultation is None:
        return {}
    consultation.received_by_party_on = received_on
    consultation.answer_due_on = clocks.consultation_answer_due(cal, received_on)
    return {"consultation_id": consultation.id, "answer_due_on": consultation.answer_due_on}


def lapse_problem(session: Session, letter: Letter | None, due_on: date | None, today: date, what: str) -> str | None:
    """Why the consequence of `what` lapsing cannot be drawn today, or None when the period has run."""
    title = LETTER_LABELS.get(letter.letter_type, "告知书") if letter else "告知书"
    number = f"（{letter.doc_number}）" if letter is not None and letter.doc_number else ""
    if letter is None or delivered_on(session, letter) is None or due_on is None:
        return (f"{title}{number}尚未登记送达：{what}的期限自对方收到之日起计算，"
                "请先登记送达（方式、日期、送达回证），期限届满后才能按逾期处理")
    if today <= due_on:
        return f"{what}的期限尚未届满（自送达之日起计算，至 {due_on.isoformat()}），不能按逾期处理"
    return None
