"""What a case waits for next, and from whom: the 我的待办 line of the dashboard, from plain facts.

One rule per stage (DESIGN §2 "who acts"), reading only dates, codes and the letters not yet delivered, so it is
tested without a database. Each step carries the day it should be done by (its urgency) and the action that
does it, so the page can sort by urgency and link straight to the form.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from engine.rules import clocks
from engine.rules.calendar import WorkingCalendar
from engine.rules.case_clock import REPLY_WORKING_DAYS
from engine.rules.vocabulary import CHANNEL_LABELS, LETTER_LABELS

# The letters whose delivery is the clerk's to record (送达); the 登记回执 is handed over or sent with registration.
LETTERS_TO_DELIVER = tuple(t for t in LETTER_LABELS if t != "receipt")
# The order roles are asked in when a user holds several: the one who acts on the stage answers first.
ROLE_ORDER = ("clerk", "handler", "legal_reviewer", "office_head", "archivist")
EXTENDABLE = ("registered", "in_handling", "consulting", "awaiting_fee", "drafting", "in_review")


@dataclass(frozen=True)
class PendingLetter:
    """An issued letter with no delivery recorded (or only returned ones)."""

    letter_id: int
    letter_type: str
    doc_number: str
    issued_on: date

    @property
    def title(self) -> str:
        label = LETTER_LABELS.get(self.letter_type, "文书")
        return f"{label} {self.doc_number}" if self.doc_number else label


@dataclass(frozen=True)
class OpenConsultation:
    party_name: str
    answer_due_on: date | None       # None until the 征求意见书's delivery is recorded


@dataclass(frozen=True)
class CaseFacts:
    """What the next step depends on, read from one case and its letters, consultations and fee."""

    stage: str
    channel: str
    submitted_on: date
    received_on: date | None = None
    due_on: date | None = None
    supplement_requested_on: date | None = None
    supplement_received_on: date | None = None
    supplement_due_on: date | None = None
    fee_pay_by_on: date | None = None
    extension_working_days: int = 0
    finished_on: date | None = None
    undelivered: tuple[PendingLetter, ...] = ()
    open_consultations: tuple[OpenConsultation, ...] = ()


@dataclass(frozen=True)
class NextStep:
    text: str
    by_on: date | None               # the day it should be done by; None: no deadline
    action: str | None = None        # the workflow action that does it (for the link), None: the case page
    letter_id: int | None = None     # the letter a delivery step is about

    def overdue(self, today: date) -> bool:
        return self.by_on is not None and self.by_on < today


def _md(day: date) -> str:
    return f"{day.month}月{day.day}日"


def supplement_window_end(cal: WorkingCalendar, facts: CaseFacts) -> date | None:
    """Last day a 补正告知书 may be issued (条例30: 7 working days from receipt); None once it no longer applies."""
    if facts.received_on is None or facts.supplement_requested_on is not None:
        return None
    return clocks.supplement_notice_deadline(cal, facts.received_on)


def _deliver(letter: PendingLetter, by_on: date | None) -> NextStep:
    return NextStep(f"登记送达：{letter.title}", by_on, "record_delivery", letter.letter_id)


def _clerk(cal: WorkingCalendar, f: CaseFacts, today: date) -> NextStep | None:
    if f.stage == "received":
        waited = max((today - f.submitted_on).days, 0)
        return NextStep(f"确认收件：{CHANNEL_LABELS.get(f.channel, '')}已等待 {waited} 日",
                        cal.add_working_days(f.submitted_on, REPLY_WORKING_DAYS), "confirm_receipt")
    if f.stage not in ("registered", "awaiting_supplement", "awaiting_fee", "signed"):
        return None
    if f.undelivered:
        by_on = f.due_on if f.stage in ("registered", "signed") else None
        return _deliver(f.undelivered[0], by_on)
    if f.stage == "registered":
        window = supplement_window_end(cal, f)
        if window is not None and today <= window:
            return NextStep(f"审查申请：需补正的于 {_md(window)} 前出具补正告知书，否则受理分办", window, "accept")
        return NextStep("受理分办" + ("（已补正）" if f.supplement_received_on else ""), f.due_on, "accept")
    if f.stage == "awaiting_supplement":
        if f.supplement_due_on is not None and today > f.supplement_due_on:
            return NextStep("补正期限已届满：按逾期不补正办结", f.supplement_due_on, "close_lapsed_supplement")
        until = f"（至 {_md(f.supplement_due_on)}）" if f.supplement_due_on else ""
        return NextStep(f"等待补正{until}：收到补正材料后登记", f.supplement_due_on, "receive_supplement")
    if f.stage == "awaiting_fee":
        if f.fee_pay_by_on is not None and today > f.fee_pay_by_on:
            return NextStep("缴费期限已届满：按逾期未缴费办结", f.fee_pay_by_on, "close_lapsed_fee")
        until = f"（至 {_md(f.fee_pay_by_on)}）" if f.fee_pay_by_on else ""
        return NextStep(f"等待缴费{until}：缴费后登记缴费", f.fee_pay_by_on, "record_payment")
    return None  # signed with its reply delivered moves on to replied; nothing left here


def _handler(f: CaseFacts, today: date) -> NextStep | None:
    if f.stage == "in_handling":
        return NextStep("检索信息，记录各事项的处理决定", f.due_on, "record_decision")
    if f.stage == "drafting":
        return NextStep("拟写答复书，提交法制审核", f.due_on, "submit_for_review")
    if f.stage != "consulting" or not f.open_consultations:
        return None
    waiting = sorted(f.open_consultations, key=lambda c: (c.answer_due_on is None, c.answer_due_on or date.max))
    first = waiting[0]
    if first.answer_due_on is None:
        return NextStep(f"等待登记征求意见书的送达：{first.party_name}", f.due_on, None)
    if today > first.answer_due_on:
        return NextStep(f"登记意见：{first.party_name}逾期未提出意见", first.answer_due_on,
                        "record_consultation_answer")
    return NextStep(f"等待{first.party_name}的意见（至 {_md(first.answer_due_on)}）", first.answer_due_on,
                    "record_consultation_answer")


def next_step(cal: WorkingCalendar, facts: CaseFacts, roles: tuple[str, ...] | list[str], today: date) -> NextStep | None:
    """The next thing a user with `roles` does on the case, or None when it waits for someone else."""
    for role in ROLE_ORDER:
        if role not in roles:
            continue
        step = None
        if role == "clerk":
            step = _clerk(cal, facts, today)
        elif role == "handler":
            step = _handler(facts, today)
        elif role == "legal_reviewer" and facts.stage == "in_review":
            step = NextStep("审核不予公开理由，签发答复书", facts.due_on, "sign")
        elif role == "office_head" and facts.stage in EXTENDABLE and facts.extension_working_days == 0 \
                and facts.due_on is not None:
            step = NextStep(f"如需延期，于 {_md(facts.due_on)} 前审批延期答复", facts.due_on, "extend")
        elif role == "archivist" and facts.stage in ("replied", "closed"):
            done = f"（{'答复' if facts.stage == 'replied' else '办结'}于 {_md(facts.finished_on)}）" \
                if facts.finished_on else ""
            step = NextStep(f"归档{done}", None, "archive")
        if step is not None:
            return step
    return None


def by_urgency(step: NextStep | None) -> tuple:
    """Sort key: the earliest "done by" day first, steps without a deadline last."""
    if step is None or step.by_on is None:
        return (1, date.max)
    return (0, step.by_on)
