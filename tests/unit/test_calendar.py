"""WorkingCalendar: working days under the notices, O(1) arithmetic, provisional years (DESIGN §3)."""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.config import PROJECT_ROOT, load_settings
from engine.rules.calendar import (
    OutsideCalendarError,
    default_calendar,
    load_calendar,
    reload_default_calendar,
)

CAL = load_calendar(PROJECT_ROOT / "holidays")
COVERED = st.dates(min_value=date(2008, 1, 1), max_value=date(2026, 9, 30))  # + 60 WD stays in 2026
ANYWHERE = st.dates(min_value=date(2009, 6, 1), max_value=date(2059, 12, 31))  # ± 200 WD stays in range


def _slow_add(start: date, n: int) -> date:
    """Day-by-day reference: the n-th working day after start (n > 0)."""
    day = start
    while n:
        day += timedelta(days=1)
        if chinese_calendar.is_workday(day):
            n -= 1
    return day


@pytest.mark.parametrize(
    ("start", "n", "due"),
    [
        # Received the Friday that is 中秋 2026: 国庆 and the 10-10 make-up Saturday (counts).
        (date(2026, 9, 25), 20, date(2026, 10, 29)),
        # A holiday on day zero is not counted, and nothing is counted twice.
        (date(2026, 10, 1), 1, date(2026, 10, 8)),
        (date(2026, 10, 1), 3, date(2026, 10, 10)),
        # Starting on a make-up Saturday: the next working day is Monday.
        (date(2026, 10, 10), 1, date(2026, 10, 12)),
        # The 2020 extension: February 1 was no longer a make-up day.
        (date(2020, 1, 23), 1, date(2020, 2, 3)),
        (date(2020, 1, 20), 20, date(2020, 2, 25)),
        # Year boundary set by the next year's notice (2018-12-29 make-up, 2018-12-31 rest).
        (date(2018, 12, 28), 1, date(2018, 12, 29)),
        (date(2018, 12, 29), 1, date(2019, 1, 2)),
        # Zero days: the start itself.
        (date(2026, 10, 3), 0, date(2026, 10, 3)),
    ],
)
def test_known_real_cases(start, n, due):
    assert CAL.add_working_days(start, n) == due


@pytest.mark.parametrize(
    ("day", "kind", "name"),
    [
        (date(2026, 10, 1), "holiday", "国庆节"),
        (date(2026, 10, 10), "makeup", "国庆节"),
        (date(2026, 10, 11), "weekend", "周日"),
        (date(2026, 10, 12), "working", ""),
        (date(2026, 2, 14), "makeup", "春节"),
        (date(2015, 9, 3), "holiday", "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日"),
    ],
)
def test_day_kind_names_the_festival_or_the_weekend(day, kind, name):
    result = CAL.day_kind(day)
    assert (result.kind, result.name, result.provisional) == (kind, name, False)


def test_a_holiday_on_day_zero_is_not_counted():
    # 2026-10-01..07 rest: counting from any of those days gives the same first working day.
    assert {CAL.add_working_days(date(2026, 10, d), 1) for d in range(1, 8)} == {date(2026, 10, 8)}


def test_going_back_finds_the_working_days_before_the_start():
    assert CAL.add_working_days(date(2026, 10, 8), -1) == date(2026, 9, 30)
    assert CAL.add_working_days(date(2026, 10, 11), -1) == date(
        2026, 10, 10
    )  # Sunday back to make-up Saturday
    assert CAL.add_working_days(date(2026, 10, 29), -20) == date(2026, 9, 24)


def test_working_days_between_counts_the_half_open_interval_and_is_signed():
    assert CAL.working_days_between(date(2026, 9, 25), date(2026, 10, 29)) == 20
    assert CAL.working_days_between(date(2026, 10, 29), date(2026, 9, 25)) == -20
    assert CAL.working_days_between(date(2026, 10, 1), date(2026, 10, 7)) == 0
    assert CAL.working_days_between(date(2026, 10, 9), date(2026, 10, 10)) == 1


@settings(max_examples=300, deadline=None)
@given(COVERED, st.integers(min_value=1, max_value=60))
def test_adding_agrees_with_counting_day_by_day_in_chinesecalendar(start, n):
    assert CAL.add_working_days(start, n) == _slow_add(start, n)


@settings(max_examples=300, deadline=None)
@given(ANYWHERE, st.integers(min_value=0, max_value=200))
def test_working_days_between_is_consistent_with_add_working_days(start, n):
    due = CAL.add_working_days(start, n)
    assert CAL.working_days_between(start, due) == n
    if n:
        assert CAL.is_working_day(due)
        assert CAL.working_days_between(start, due - timedelta(days=1)) == n - 1


@settings(max_examples=300, deadline=None)
@given(ANYWHERE, st.integers(min_value=-200, max_value=200))
def test_adding_then_subtracting_returns_to_a_working_start(start, n):
    start = CAL.add_working_days(start, 1)  # a working day
    assert CAL.add_working_days(CAL.add_working_days(start, n), -n) == start


@settings(max_examples=200, deadline=None)
@given(ANYWHERE, ANYWHERE)
def test_working_days_between_is_antisymmetric_and_matches_a_day_count(a, b):
    assert CAL.working_days_between(a, b) == -CAL.working_days_between(b, a)
    low, high = min(a, b), max(a, b)
    if (high - low).days <= 120:
        counted = sum(CAL.is_working_day(low + timedelta(days=i)) for i in range(1, (high - low).days + 1))
        assert abs(CAL.working_days_between(a, b)) == counted


def test_dates_after_the_last_notice_are_provisional():
    assert CAL.is_provisional(date(2027, 1, 1))
    assert not CAL.is_provisional(date(2026, 12, 31))
    assert CAL.day_kind(date(2027, 1, 4)).provisional


def test_provisional_years_rest_on_the_statutory_holidays_only():
    # 2027: 除夕 is 2027-02-05, 清明 2027-04-05, 端午 06-09, 中秋 09-15; no 调休 guessed.
    rest = {
        d
        for d in (date(2027, 1, 1) + timedelta(days=i) for i in range(365))
        if CAL.day_kind(d).kind == "holiday"
    }
    assert rest == {
        date(2027, 1, 1),
        date(2027, 2, 5),
        date(2027, 2, 6),
        date(2027, 2, 7),
        date(2027, 2, 8),
        date(2027, 4, 5),
        date(2027, 5, 1),
        date(2027, 5, 2),
        date(2027, 6, 9),
        date(2027, 9, 15),
        date(2027, 10, 1),
        date(2027, 10, 2),
        date(2027, 10, 3),
    }
    assert not any(CAL.day_kind(date(2027, 1, 1) + timedelta(days=i)).kind == "makeup" for i in range(365))


def test_two_festivals_on_one_provisional_day_are_both_named():
    # 2031: 中秋 (8/15 lunar) falls on 10-01.
    assert CAL.day_kind(date(2031, 10, 1)).name == "国庆节、中秋节"


@pytest.mark.parametrize("day", [date(2007, 12, 31), date(2061, 1, 1), date(1990, 5, 1)])
def test_dates_outside_the_calendar_raise_a_chinese_error(day):
    with pytest.raises(OutsideCalendarError, match="日历"):
        CAL.is_working_day(day)


def test_arithmetic_leaving_the_range_raises():
    with pytest.raises(OutsideCalendarError):
        CAL.add_working_days(date(2008, 1, 2), -5)
    with pytest.raises(OutsideCalendarError):
        CAL.add_working_days(date(2060, 12, 20), 20)


def test_a_new_years_file_is_a_data_change_only(tmp_path):
    for path in (PROJECT_ROOT / "holidays").glob("*.toml"):
        (tmp_path / path.name).write_bytes(path.read_bytes())
    (tmp_path / "2027.toml").write_text(
        'year = 2027\n\n[[notices]]\nnumber = "国办发明电〔2026〕9号"\n'
        'title = "国务院办公厅关于2027年部分节假日安排的通知"\npublished_on = 2026-11-10\n\n'
        '[[blocks]]\nname = "元旦"\nnotice = "国办发明电〔2026〕9号"\nrest = [2027-01-01, 2027-01-02, 2027-01-03]\n'
        "makeup = [2026-12-26]\n",
        encoding="utf-8",
    )
    newer = load_calendar(tmp_path)
    assert newer.last_covered == date(2027, 12, 31)
    assert newer.version.startswith("2027+") and newer.version != CAL.version
    assert not newer.is_provisional(date(2027, 6, 1))
    assert newer.day_kind(date(2026, 12, 26)).kind == "makeup"  # the new notice changes last December
    assert CAL.day_kind(date(2026, 12, 26)).kind == "weekend"


def test_the_version_changes_when_any_file_changes(tmp_path):
    for path in (PROJECT_ROOT / "holidays").glob("*.toml"):
        (tmp_path / path.name).write_bytes(path.read_bytes())
    same = load_calendar(tmp_path)
    assert same.version == CAL.version
    assert len(same.version) == len("2026+") + 12
    with (tmp_path / "2010.toml").open("a", encoding="utf-8") as fh:
        fh.write("# a comment changes the bytes\n")
    assert load_calendar(tmp_path).version != CAL.version


def test_the_default_calendar_comes_from_the_configured_directory_and_reloads(tmp_path, monkeypatch):
    for path in (PROJECT_ROOT / "holidays").glob("*.toml"):
        (tmp_path / path.name).write_bytes(path.read_bytes())
    monkeypatch.setenv("GONGKAI_HOLIDAYS_DIR", str(tmp_path))
    load_settings.cache_clear()
    try:
        first = reload_default_calendar()
        assert default_calendar() is first
        assert first.version == CAL.version
        (tmp_path / "2026.toml").write_text(
            (tmp_path / "2026.toml").read_text(encoding="utf-8") + "\n", encoding="utf-8"
        )
        assert default_calendar() is first  # cached per process
        assert reload_default_calendar().version != first.version
    finally:
        monkeypatch.delenv("GONGKAI_HOLIDAYS_DIR")
        load_settings.cache_clear()
        default_calendar.cache_clear()


def test_notices_for_a_provisional_year_are_empty():
    assert CAL.notices_for(2027) == ()
    assert len(CAL.provisional_holidays(2027)) == 13
    assert CAL.provisional_holidays(2026) == {}
