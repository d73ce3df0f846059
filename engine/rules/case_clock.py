"""The reply clock of one case, from its stored facts (条例30、31、33): start, pauses, extension.

Consultations pause the clock from the day the letter is sent to the day the answer arrives (条例33③;
while open, to the day the answer is due). Fee time pauses it from the notice to the payment when the
agency's policy says so (109号办法, 未核验 → agency setting `fee_pauses_clock`, default on).
"""

from __future__ import annotations

from datetime import date, timedelta

from engine.rules import clocks
from engine.rules.calendar import default_calendar

REPLY_WORKING_DAYS = 20


def case_pauses(case, *, fee_pauses_clock: bool) -> list[clocks.Pause]:
    spans: list[tuple[date, date, str]] = []
    for c in case.consultations:
        end = c.answered_on or c.answer_due_on or c.sent_on
        who = "第三方" if c.kind == "THIRD_PARTY" else "共同制作机关"
        spans.append((c.sent_on, end, f"征求{who}意见（{c.party_name}）"))
    if fee_pauses_clock:
        for f in case.fees:
            spans.append((f.notice_issued_on, f.paid_on or f.pay_by_on, "收费通知至缴费"))
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


def compute_due(case, *, fee_pauses_clock: bool, cal=None) -> clocks.DueDate | None:
    """The reply due date with its explanation, or None before the clock starts (unconfirmed / in 补正)."""
    if case.clock_start_on is None or case.stage in ("received", "awaiting_supplement"):
        return None
    cal = cal or default_calendar()
    return clocks.reply_due(
        cal, case.clock_start_on, days=REPLY_WORKING_DAYS,
        extension_working_days=case.extension_working_days or 0,
        pauses=case_pauses(case, fee_pauses_clock=fee_pauses_clock),
    )


def refresh_due(case, *, fee_pauses_clock: bool, cal=None) -> None:
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
    due = compute_due(case, fee_pauses_clock=fee_pauses_clock, cal=cal)
    case.due_on = due.due if due else None
    case.due_provisional = bool(due and due.provisional)
    case.clock_paused = case.stage in ("consulting",) or (case.stage == "awaiting_fee" and fee_pauses_clock)
