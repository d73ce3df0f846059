"""The statutory clocks (条例30–34, 复议法20, 行诉法46, 条例31) on the real calendar."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.config import PROJECT_ROOT
from engine.rules.calendar import load_calendar
from engine.rules.clocks import (
    ClockError,
    Pause,
    add_months,
    consultation_answer_due,
    due_status,
    explain,
    fee_payment_due,
    receipt_date,
    reply_due,
    review_deadline,
    suit_deadline,
    supplement_notice_deadline,
)

CAL = load_calendar(PROJECT_ROOT / "holidays")


def test_a_reply_received_on_mid_autumn_2026_is_due_after_national_day():
    due = reply_due(CAL, date(2026, 9, 25))
    assert due.due == date(2026, 10, 29)
    assert not due.provisional
    assert due.calendar_version == CAL.version
    holidays = [item for item in due.not_counted if item.kind == "holiday"]
    assert [item.day for item in holidays] == [date(2026, 9, 26), date(2026, 9, 27)] + [
        date(2026, 10, d) for d in range(1, 8)
    ]
    assert {item.reason for item in holidays} == {"中秋节", "国庆节"}
    # The make-up Saturday 10-10 counted, so it is not listed.
    assert date(2026, 10, 10) not in {item.day for item in due.not_counted}


def test_not_counted_lists_every_day_in_the_period_that_did_not_count():
    due = reply_due(CAL, date(2026, 3, 2), days=20, extension_working_days=5)
    span = (due.due - due.start).days
    assert span == len(due.not_counted) + 25
    assert due.due == CAL.add_working_days(date(2026, 3, 2), 25)


@pytest.mark.parametrize(
    ("start", "pauses", "due"),
    [
        # A pause of 3 working days pushes the due date by 3 working days.
        (date(2026, 3, 2), [Pause(date(2026, 3, 10), date(2026, 3, 12), "征求第三方意见")], date(2026, 4, 2)),
        # A pause across 清明 (4/4–4/6) only removes its working days: 4/1, 4/2, 4/3, 4/7.
        (date(2026, 3, 20), [Pause(date(2026, 4, 1), date(2026, 4, 7), "征求意见")], date(2026, 4, 24)),
        # A pause only on weekend days changes nothing.
        (date(2026, 3, 2), [Pause(date(2026, 3, 7), date(2026, 3, 8), "周末")], date(2026, 3, 30)),
        # A pause starting before the start only removes its days after it.
        (date(2026, 3, 2), [Pause(date(2026, 2, 25), date(2026, 3, 4), "早先的征求意见")], date(2026, 4, 1)),
        # A pause that begins after the due date changes nothing.
        (date(2026, 3, 2), [Pause(date(2026, 4, 1), date(2026, 4, 10), "晚了")], date(2026, 3, 30)),
        # A pause starting exactly on the would-be due date moves it past the pause.
        (date(2026, 3, 2), [Pause(date(2026, 3, 30), date(2026, 3, 31), "征求意见")], date(2026, 4, 1)),
        # Two pauses add up.
        (
            date(2026, 3, 2),
            [
                Pause(date(2026, 3, 16), date(2026, 3, 16), "一"),
                Pause(date(2026, 3, 9), date(2026, 3, 10), "二"),
            ],
            date(2026, 3, 31) + timedelta(days=2),
        ),
    ],
)
def test_pauses_do_not_count_their_working_days(start, pauses, due):
    assert reply_due(CAL, start, pauses=pauses).due == due


def test_paused_working_days_are_listed_with_the_pause_reason():
    due = reply_due(
        CAL, date(2026, 3, 20), pauses=[Pause(date(2026, 4, 1), date(2026, 4, 7), "征求第三方意见（某公司）")]
    )
    kinds = {item.day: (item.kind, item.reason) for item in due.not_counted}
    assert kinds[date(2026, 4, 1)] == ("pause", "征求第三方意见（某公司）")
    assert kinds[date(2026, 4, 5)] == ("holiday", "清明节")
    assert kinds[date(2026, 4, 7)] == ("pause", "征求第三方意见（某公司）")


@settings(max_examples=200, deadline=None)
@given(
    st.dates(min_value=date(2009, 1, 1), max_value=date(2026, 6, 30)),
    st.integers(min_value=0, max_value=20),
    st.integers(min_value=0, max_value=40),
    st.integers(min_value=0, max_value=30),
)
def test_a_pause_moves_the_due_date_by_exactly_its_working_days_inside_the_period(start, ext, offset, length):
    pause = Pause(start + timedelta(days=offset), start + timedelta(days=offset + length), "暂停")
    due = reply_due(CAL, start, extension_working_days=ext, pauses=[pause]).due
    counted = CAL.working_days_between(start, due) - (
        CAL.working_days_between(max(pause.start - timedelta(days=1), start), min(pause.end, due))
        if pause.end > start and pause.start <= due
        else 0
    )
    assert counted == 20 + ext
    assert CAL.is_working_day(due) and not pause.start <= due <= pause.end


def test_overlapping_pauses_are_refused_in_chinese():
    with pytest.raises(ClockError, match="暂停期间重叠"):
        reply_due(
            CAL,
            date(2026, 3, 2),
            pauses=[
                Pause(date(2026, 3, 9), date(2026, 3, 12), "甲"),
                Pause(date(2026, 3, 12), date(2026, 3, 13), "乙"),
            ],
        )


def test_a_pause_ending_before_it_starts_is_refused():
    with pytest.raises(ClockError, match="早于开始日"):
        reply_due(CAL, date(2026, 3, 2), pauses=[Pause(date(2026, 3, 9), date(2026, 3, 8), "甲")])


@pytest.mark.parametrize("extension", [-1, 21])
def test_an_extension_beyond_twenty_working_days_is_refused(extension):
    with pytest.raises(ClockError, match="条例第三十三条"):
        reply_due(CAL, date(2026, 3, 2), extension_working_days=extension)


def test_negative_days_are_refused():
    with pytest.raises(ClockError, match="负数"):
        reply_due(CAL, date(2026, 3, 2), days=-1)


def test_a_due_date_past_the_last_notice_is_provisional():
    due = reply_due(CAL, date(2026, 12, 20))
    assert due.provisional
    assert due.due == date(2027, 1, 18)
    assert reply_due(CAL, date(2026, 11, 20)).provisional is False


def test_to_json_has_the_contract_keys():
    payload = reply_due(
        CAL, date(2026, 9, 25), pauses=[Pause(date(2026, 10, 12), date(2026, 10, 12), "征求意见")]
    ).to_json()
    assert {
        "start",
        "days",
        "due",
        "provisional",
        "calendar_version",
        "not_counted",
        "extension_working_days",
    } <= set(payload)
    assert payload["start"] == "2026-09-25" and payload["due"] == "2026-10-30"
    assert payload["not_counted"][0] == {"date": "2026-09-26", "kind": "holiday", "reason": "中秋节"}
    assert {"date": "2026-10-12", "kind": "pause", "reason": "征求意见"} in payload["not_counted"]


def test_explain_names_the_start_each_day_not_counted_the_extension_and_the_version():
    due = reply_due(CAL, date(2026, 9, 25), extension_working_days=2)
    lines = explain(due)
    assert lines[0].startswith("起算日：2026-09-25（星期五）")
    assert any("2026-10-01（星期四）" in line and "国庆节" in line for line in lines)
    assert any(line.startswith("延长：2个工作日") for line in lines)
    assert any(line == f"日历版本：{CAL.version}" for line in lines)
    assert lines[-1].startswith("临时推算：否")
    assert sum(line.startswith("不计入：") for line in lines) == len(due.not_counted)
    assert explain(reply_due(CAL, date(2026, 12, 20)))[-1].startswith("临时推算：是")


@pytest.mark.parametrize(
    ("function", "start", "due"),
    [
        (supplement_notice_deadline, date(2026, 9, 25), date(2026, 10, 12)),  # 7 WD across 国庆, 10-10 counts
        (consultation_answer_due, date(2026, 9, 25), date(2026, 10, 22)),
        (fee_payment_due, date(2026, 9, 25), date(2026, 10, 29)),
        (supplement_notice_deadline, date(2020, 1, 22), date(2020, 2, 10)),  # across the 2020 extension
    ],
)
def test_working_day_clocks(function, start, due):
    assert function(CAL, start) == due


def test_the_review_deadline_is_sixty_calendar_days():
    assert review_deadline(date(2026, 3, 2)) == date(2026, 5, 1)


def test_the_review_deadline_rolls_past_a_holiday_to_the_next_working_day():
    # 2026-03-02 + 60 = 05-01 (劳动节, rest until 05-05): the period ends on 05-06.
    assert review_deadline(date(2026, 3, 2), CAL) == date(2026, 5, 6)
    # Ending on a make-up Saturday (2026-10-10): that is a working day, no roll.
    assert review_deadline(date(2026, 8, 11), CAL) == date(2026, 10, 10)


@pytest.mark.parametrize(
    ("received", "last_day"),
    [
        (date(2026, 3, 2), date(2026, 9, 2)),
        (date(2025, 8, 31), date(2026, 2, 28)),  # no 31 February: the month's last day (民法典202)
        (date(2023, 8, 31), date(2024, 2, 29)),
        (date(2026, 1, 31), date(2026, 7, 31)),
    ],
)
def test_the_suit_deadline_is_six_months_with_month_end_clamped(received, last_day):
    assert suit_deadline(received) == last_day


def test_the_suit_deadline_rolls_past_a_holiday():
    # 2026-04-04 + 6 months = 10-04 (国庆): the first working day after is 10-08.
    assert suit_deadline(date(2026, 4, 4), CAL) == date(2026, 10, 8)
    assert suit_deadline(date(2026, 4, 4)) == date(2026, 10, 4)


@settings(max_examples=200, deadline=None)
@given(
    st.dates(min_value=date(2008, 1, 1), max_value=date(2050, 12, 31)),
    st.integers(min_value=0, max_value=240),
)
def test_add_months_keeps_the_day_or_clamps_to_the_month_end(start, months):
    result = add_months(start, months)
    assert (result.year * 12 + result.month) - (start.year * 12 + start.month) == months
    assert result.day == start.day or (result.day < start.day and (result + timedelta(days=1)).day == 1)


@pytest.mark.parametrize(
    ("due_on", "today", "kind", "left"),
    [
        (date(2026, 10, 29), date(2026, 9, 25), "on_time", 20),
        (date(2026, 10, 29), date(2026, 10, 26), "due_soon", 3),
        (date(2026, 10, 29), date(2026, 10, 23), "on_time", 4),
        (date(2026, 10, 29), date(2026, 10, 29), "due_soon", 0),
        (date(2026, 10, 29), date(2026, 10, 30), "overdue", -1),
        (date(2026, 10, 9), date(2026, 9, 30), "due_soon", 2),  # 国庆 days are not left days
    ],
)
def test_due_status_counts_working_days_left(due_on, today, kind, left):
    status = due_status(CAL, due_on, today)
    assert (status.kind, status.working_days_left) == (kind, left)


def test_due_status_threshold_is_configurable():
    assert due_status(CAL, date(2026, 10, 29), date(2026, 10, 23), soon_working_days=5).kind == "due_soon"


@pytest.mark.parametrize(
    ("channel", "kwargs", "received"),
    [
        ("in_person", {"submitted_on": date(2026, 3, 2)}, date(2026, 3, 2)),
        ("mail", {"signed_for_on": date(2026, 3, 3), "submitted_on": date(2026, 2, 27)}, date(2026, 3, 3)),
        ("plain_letter", {"confirmed_on": date(2026, 3, 4)}, date(2026, 3, 4)),
        ("online", {"submitted_on": date(2026, 3, 1), "confirmed_on": date(2026, 3, 2)}, date(2026, 3, 2)),
        ("fax", {"confirmed_on": date(2026, 3, 5)}, date(2026, 3, 5)),
    ],
)
def test_receipt_date_follows_article_31_by_channel(channel, kwargs, received):
    assert receipt_date(channel, **kwargs) == received


@pytest.mark.parametrize(
    ("channel", "kwargs", "message"),
    [
        ("mail", {"submitted_on": date(2026, 3, 2)}, "签收日期"),
        ("plain_letter", {}, "确认"),
        ("online", {"submitted_on": date(2026, 3, 2)}, "双方确认"),
        ("pigeon", {"submitted_on": date(2026, 3, 2)}, "未知的申请渠道"),
    ],
)
def test_receipt_date_refuses_a_missing_date_in_chinese(channel, kwargs, message):
    with pytest.raises(ClockError, match=message):
        receipt_date(channel, **kwargs)
