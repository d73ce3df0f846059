"""The reply clock of one case, from its stored facts (条例30、31、33): start, pauses, extension.

Consultations pause the clock from the day the letter is sent to the day the answer arrives (条例33③;
while open, to the day the answer is due — counted from the party's receipt of the letter, or, until that
delivery is recorded, estimated from the day it was sent and marked so). Fee time pauses it from the notice to
the payment when the agency's policy says so (109号办法, 未核验 → agency setting `fee_pauses_clock`, default on).
Whether a 条例35 request for reasons pauses it is not settled (未核验 → agency setting
`reason_request_pauses_clock`, default off: 条例35 itself says nothing of a pause). A 条例35 延迟答复 fixes a later,
reasonable deadline that replaces the computed one when later.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from engine.rules import clocks
from engine.rules.calendar import default_calendar

REPLY_WORKING_DAYS = 20


ESTIMATED = "（送达日期未登记，暂按发出日估算）"


def clock_settings(agency) -> dict:
    """The agency's choices on the points the law leaves open (keyword arguments of `compute_due`)."""
    return {"fee_pauses_clock": bool(agency.fee_pauses_clock),
            "reason_pauses_clock": bool((agency.settings or {}).get("reason_request_pauses_clock"))}


def case_pauses(case, *, fee_pauses_clock: bool, reason_pauses_clock: bool = False, cal=None) -> list[clocks.Pause]:
    cal = cal or default_calendar()
    spans: list[tuple[date, date, str]] = []
    for c in case.consultations:
        who = "第三方" if c.kind == "THIRD_PARTY" else "共同制作机关"
        reason = f"征求{who}意见（{c.party_name}）"
        end = c.answered_on or c.answer_due_on
        if end is None:
            end, reason = clocks.consultation_answer_due(cal, c.sent_on), reason + ESTIMATED
        spans.append((c.sent_on, end, reason))
    if fee_pauses_clock:
        for f in case.fees:
            end, reason = f.paid_on or f.pay_by_on, "收费通知至缴费"
            if end is None:
                end, reason = clocks.fee_payment_due(cal, f.notice_issued_on), reason + ESTIMATED
            spans.append((f.notice_issued_on, end, reason))
    if reason_pauses_clock and case.reason_requested_on is not None:
        end, reason = case.reason_answered_on or case.reason_due_on, "要求说明理由（条例第三十五条）"
        if end is None:
            end = cal.add_working_days(case.reason_requested_on, case.reason_period_working_days or 1)
            reason += ESTIMATED
        spans.append((case.reason_requested_on, end, reason))
    return merge_spans(spans)


def merge_spans(spans: list[tuple[date, date, str]]) -> list[clocks.Pause]:
    """Overlapping or adjacent pauses become one (the clock cannot be paused twice)."""
    merged: list[list] = []
    for start, end, reason in sorted(spans):
        if end < start:
            end = start
        if merged and start <= merged[-1][1] + timedelta(days=1):
            last = merged[-1]
            last[1] = max(last[1], end)
            if reason not in last[2]:
                last[2] = f"{last[2]}；{reason}"
        else:
            merged.append([start, end, reason])
    return [clocks.Pause(s, e, r) for s, e, r in merged]


def compute_due(case, *, fee_pauses_clock: bool, reason_pauses_clock: bool = False,
                cal=None) -> clocks.DueDate | None:
    """The reply due date with its explanation, or None before the clock starts (unconfirmed / in 补正)."""
    if case.clock_start_on is None or case.stage in ("received", "awaiting_supplement"):
        return None
    cal = cal or default_calendar()
    due = clocks.reply_due(
        cal, case.clock_start_on, days=REPLY_WORKING_DAYS,
        extension_working_days=case.extension_working_days or 0,
        pauses=case_pauses(case, fee_pauses_clock=fee_pauses_clock, reason_pauses_clock=reason_pauses_clock,
                           cal=cal),
    )
    delayed = getattr(case, "delay_due_on", None)
    if delayed is not None and delayed > due.due:
        due = replace(due, due=delayed, provisional=cal.is_provisional(delayed), delayed_to=delayed)
    return due


def refresh_due(case, *, fee_pauses_clock: bool, reason_pauses_clock: bool = False, cal=None) -> None:
    """Keep the stored due date current (lists filter on it); finished cases keep theirs."""
    if case.stage in ("replied", "closed", "archived"):
        return
    if case.stage == "awaiting_supplement":
        # The reply clock is stopped and restarts at 0 on the supplement (条例30): no reply due date meanwhile;
        # the applicant's own deadline is `supplement_due_on`.
        case.due_on = None
        case.due_provisional = False
        case.clock_paused = True
        return
    due = compute_due(case, fee_pauses_clock=fee_pauses_clock, reason_pauses_clock=reason_pauses_clock, cal=cal)
    case.due_on = due.due if due else None
    case.due_provisional = bool(due and due.provisional)
    case.clock_paused = case.stage in ("consulting",) or (case.stage == "awaiting_fee" and fee_pauses_clock)
