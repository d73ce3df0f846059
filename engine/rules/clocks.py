"""The statutory clocks (DESIGN §3): pure functions on dates, ints and a `WorkingCalendar`.

Every period starts the day after its event (民法典第201条: the first day is not counted).
"""

from __future__ import annotations

import calendar as gregorian
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.rules.calendar import WorkingCalendar

REPLY_WORKING_DAYS = 20  # 条例第33条第2款
MAX_EXTENSION_WORKING_DAYS = 20  # 条例第33条第2款
SUPPLEMENT_NOTICE_WORKING_DAYS = 7  # 条例第30条
CONSULTATION_ANSWER_WORKING_DAYS = 15  # 条例第32条、第34条
FEE_PAYMENT_WORKING_DAYS = 20  # 国办函〔2020〕109号
REVIEW_CALENDAR_DAYS = 60  # 行政复议法第20条
SUIT_MONTHS = 6  # 行政诉讼法第46条

_WEEKDAYS = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")


class ClockError(ValueError):
    """A clock was asked something the statute does not allow (message in Chinese)."""


@dataclass(frozen=True)
class Pause:
    """Time not counted (条例第33条第3款): the working days start..end inclusive do not count."""

    start: date
    end: date
    reason: str  # e.g. "征求第三方意见（某公司）"


@dataclass(frozen=True)
class NotCountedDay:
    day: date
    kind: str  # "weekend" | "holiday" | "pause"
    reason: str  # "周六" / "周日" / festival name / the pause's reason


@dataclass(frozen=True)
class DueDate:
    start: date
    days: int
    extension_working_days: int
    due: date
    provisional: bool  # some day in (start, due] is beyond the last published notice
    calendar_version: str
    not_counted: tuple[NotCountedDay, ...] = field(default=())
    pauses: tuple[Pause, ...] = field(default=())
    delayed_to: date | None = None  # 条例35: a later, reasonable deadline fixed by a 延迟答复告知书

    def to_json(self) -> dict:
        return {
            "start": self.start.isoformat(),
            "days": self.days,
            "extension_working_days": self.extension_working_days,
            "due": self.due.isoformat(),
            "provisional": self.provisional,
            "calendar_version": self.calendar_version,
            "not_counted": [
                {"date": item.day.isoformat(), "kind": item.kind, "reason": item.reason}
                for item in self.not_counted
            ],
            "pauses": [
                {"start": p.start.isoformat(), "end": p.end.isoformat(), "reason": p.reason}
                for p in self.pauses
            ],
            **({"delayed_to": self.delayed_to.isoformat()} if self.delayed_to else {}),
        }


@dataclass(frozen=True)
class DueStatus:
    kind: str  # "on_time" | "due_soon" | "overdue"
    working_days_left: int  # working days in (today, due]; zero or negative once the due date is reached


def _checked_pauses(pauses: Sequence[Pause]) -> tuple[Pause, ...]:
    ordered = tuple(sorted(pauses, key=lambda p: (p.start, p.end)))
    for pause in ordered:
        if pause.end < pause.start:
            raise ClockError(f"暂停期间的结束日 {pause.end} 早于开始日 {pause.start}")
    for earlier, later in zip(ordered, ordered[1:], strict=False):
        if later.start <= earlier.end:
            raise ClockError(
                f"暂停期间重叠：{earlier.start}至{earlier.end}（{earlier.reason}）"
                f"与{later.start}至{later.end}（{later.reason}）"
            )
    return ordered


def _count_with_pauses(cal: WorkingCalendar, start: date, total: int, pauses: tuple[Pause, ...]) -> date:
    """The day `total` working days after `start`, skipping the working days inside each pause."""
    position = start
    remaining = total
    for pause in pauses:
        if remaining == 0:
            break
        pause_start = max(
            pause.start, start + timedelta(days=1)
        )  # a pause before the start only matters after it
        if pause.end < pause_start or pause.end <= position:
            continue
        candidate = cal.add_working_days(position, remaining)
        if candidate < pause_start:
            return candidate
        remaining -= cal.working_days_between(position, pause_start - timedelta(days=1))
        position = pause.end
    return cal.add_working_days(position, remaining)


def reply_due(
    cal: WorkingCalendar,
    start: date,
    *,
    days: int = REPLY_WORKING_DAYS,
    extension_working_days: int = 0,
    pauses: Sequence[Pause] = (),
) -> DueDate:
    """Due date of the reply (条例第30条、第33条): 20 working days, plus an extension, minus paused time."""
    if days < 0:
        raise ClockError(f"期限天数不能为负数（{days}）")
    if not 0 <= extension_working_days <= MAX_EXTENSION_WORKING_DAYS:
        raise ClockError(
            f"延长期限应在 0 至 {MAX_EXTENSION_WORKING_DAYS} 个工作日之间（条例第三十三条第二款），"
            f"实际为 {extension_working_days}"
        )
    ordered = _checked_pauses(pauses)
    due_on = _count_with_pauses(cal, start, days + extension_working_days, ordered)
    not_counted: list[NotCountedDay] = []
    for day, kind in cal.iter_days(start + timedelta(days=1), due_on):
        if kind.kind == "weekend":
            not_counted.append(NotCountedDay(day, "weekend", kind.name))
        elif kind.kind == "holiday":
            not_counted.append(NotCountedDay(day, "holiday", kind.name))
        else:
            for pause in ordered:
                if pause.start <= day <= pause.end:
                    not_counted.append(NotCountedDay(day, "pause", pause.reason))
                    break
    return DueDate(
        start=start,
        days=days,
        extension_working_days=extension_working_days,
        due=due_on,
        provisional=cal.is_provisional(due_on),
        calendar_version=cal.version,
        not_counted=tuple(not_counted),
        pauses=ordered,
    )


def supplement_notice_deadline(cal: WorkingCalendar, received_on: date) -> date:
    """Last day to ask for a supplement (条例第30条): 7 working days after receipt."""
    return cal.add_working_days(received_on, SUPPLEMENT_NOTICE_WORKING_DAYS)


def consultation_answer_due(cal: WorkingCalendar, letter_received_on: date) -> date:
    """Last day for a consulted party to answer (条例第32条、第34条): 15 working days after it got the letter."""
    return cal.add_working_days(letter_received_on, CONSULTATION_ANSWER_WORKING_DAYS)


def fee_payment_due(cal: WorkingCalendar, notice_received_on: date) -> date:
    """Last day to pay the fee (国办函〔2020〕109号): 20 working days counted from the day after receipt."""
    return cal.add_working_days(notice_received_on, FEE_PAYMENT_WORKING_DAYS)


def _roll_forward(last_day: date, cal: WorkingCalendar | None) -> date:
    # 民事诉讼法第85条、行诉解释第48条: a period ending on a holiday ends on the first day after it.
    if cal is None or cal.is_working_day(last_day):
        return last_day
    return cal.add_working_days(last_day, 1)


def review_deadline(reply_received_on: date, cal: WorkingCalendar | None = None) -> date:
    """Last day to apply for administrative review (行政复议法第20条): 60 calendar days, holiday end rolled forward."""
    return _roll_forward(reply_received_on + timedelta(days=REVIEW_CALENDAR_DAYS), cal)


def add_months(start: date, months: int) -> date:
    """The corresponding day `months` later, or that month's last day when there is none (民法典第202条)."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, gregorian.monthrange(year, month)[1]))


def suit_deadline(reply_received_on: date, cal: WorkingCalendar | None = None) -> date:
    """Last day to sue directly (行政诉讼法第46条): 6 months, month-end clamped, holiday end rolled forward."""
    return _roll_forward(add_months(reply_received_on, SUIT_MONTHS), cal)


def due_status(cal: WorkingCalendar, due_on: date, today: date, *, soon_working_days: int = 3) -> DueStatus:
    """On time, due soon (≤ 3 working days left) or overdue, as of `today` (DESIGN §3)."""
    left = cal.working_days_between(today, due_on)
    if today > due_on:
        return DueStatus("overdue", left)
    if left <= soon_working_days:
        return DueStatus("due_soon", left)
    return DueStatus("on_time", left)


CHANNELS = {
    "in_person": ("当面提交", "submitted_on", "提交日期"),
    "mail": ("邮寄", "signed_for_on", "签收日期"),
    "plain_letter": ("平常信函", "confirmed_on", "与申请人确认的日期"),
    "online": ("互联网渠道", "confirmed_on", "双方确认的日期"),
    "fax": ("传真", "confirmed_on", "双方确认的日期"),
}


def receipt_date(
    channel: str,
    *,
    submitted_on: date | None = None,
    signed_for_on: date | None = None,
    confirmed_on: date | None = None,
) -> date:
    """The day the request counts as received (条例第31条), by channel."""
    if channel not in CHANNELS:
        raise ClockError(f"未知的申请渠道：{channel!r}（应为 {'、'.join(CHANNELS)} 之一）")
    label, needed, needed_label = CHANNELS[channel]
    value = {"submitted_on": submitted_on, "signed_for_on": signed_for_on, "confirmed_on": confirmed_on}[
        needed
    ]
    if value is None:
        raise ClockError(f"{label}的申请须有{needed_label}才能确定收到申请之日（条例第三十一条）")
    return value


def _cn_date(day: date) -> str:
    return f"{day.isoformat()}（{_WEEKDAYS[day.weekday()]}）"


def explain(due: DueDate) -> list[str]:
    """Why the due date falls where it does: start, each day not counted, extension, calendar version."""
    lines = [f"起算日：{_cn_date(due.start)}，当日不计入，自次日起算（民法典第二百零一条）"]
    lines.append(f"期限：{due.days}个工作日")
    if due.extension_working_days:
        lines.append(f"延长：{due.extension_working_days}个工作日（条例第三十三条第二款）")
    for pause in due.pauses:
        lines.append(
            f"暂停：{pause.start}至{pause.end}，{pause.reason}（期间的工作日不计入，条例第三十三条第三款）"
        )
    kinds = {"weekend": "周末", "holiday": "节假日", "pause": "暂停"}
    for item in due.not_counted:
        lines.append(f"不计入：{_cn_date(item.day)} {kinds.get(item.kind, item.kind)}（{item.reason}）")
    if due.delayed_to is not None:
        lines.append(f"延迟答复：申请人说明的理由合理但无法按期答复，确定延迟答复的期限至{_cn_date(due.delayed_to)}"
                     "（条例第三十五条）")
    lines.append(f"届满日：{_cn_date(due.due)}")
    lines.append(f"日历版本：{due.calendar_version}")
    if due.provisional:
        lines.append(
            "临时推算：是（期间超出已发布的国务院放假通知，按《全国年节及纪念日放假办法》推算，未含调休；新通知发布后须重新计算）"
        )
    else:
        lines.append("临时推算：否（全部日期均有国务院放假通知）")
    return lines
