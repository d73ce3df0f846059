"""The holiday data against the notices and two independent references (DESIGN §3).

Every day of 2008–2026 is compared with `chinesecalendar` and with `holidays.China`. Where a reference
disagrees with the notice, the day goes into the allow-list below with the 文号 that settles it; an
allow-list entry that no longer disagrees fails too, so the list stays exact.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import chinese_calendar
import pytest

import holidays as holidays_package
from engine.config import PROJECT_ROOT
from engine.rules.calendar import load_calendar, qingming_day, statutory_holidays

FIRST_YEAR = 2008
LAST_YEAR = 2026

# date -> 文号 of the notice that settles a disagreement with `chinesecalendar` (is_workday).
# Empty: on 2008-01-01..2026-12-31 the package agrees with every notice, day by day.
CHINESECALENDAR_DISAGREEMENTS: dict[date, str] = {}

# date -> 文号 for `holidays.China`: its weekday rest days, and its make-up days (read from
# "substituted from MM/DD/YYYY"). Empty: it agrees with every notice on every weekday.
HOLIDAYS_PACKAGE_DISAGREEMENTS: dict[date, str] = {}


@pytest.fixture(scope="module")
def cal():
    return load_calendar(PROJECT_ROOT / "holidays")


def _every_day(first: date, last: date):
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def test_the_data_covers_every_year_from_2008_through_2026(cal):
    assert cal.covered_years == tuple(range(FIRST_YEAR, LAST_YEAR + 1))
    assert cal.first_covered == date(2008, 1, 1)
    assert cal.last_covered == date(2026, 12, 31)
    for year in cal.covered_years:
        first_notice = cal.notices_for(year)[0]
        assert re.fullmatch(r"国办发明电〔\d{4}〕\d+号", first_notice.number)
        assert first_notice.title == f"国务院办公厅关于{year}年部分节假日安排的通知"
        assert first_notice.published_on.year in (year - 1, year)


def test_every_day_agrees_with_chinesecalendar_or_is_settled_by_a_notice(cal):
    disagreements = {
        day
        for day in _every_day(date(FIRST_YEAR, 1, 1), date(LAST_YEAR, 12, 31))
        if cal.is_working_day(day) != chinese_calendar.is_workday(day)
    }
    assert disagreements == set(CHINESECALENDAR_DISAGREEMENTS)


def test_every_holiday_name_agrees_with_chinesecalendar(cal):
    mismatched = []
    for day in _every_day(date(FIRST_YEAR, 1, 1), date(LAST_YEAR, 12, 31)):
        kind = cal.day_kind(day)
        if kind.kind != "holiday" or day.weekday() >= 5 or day in CHINESECALENDAR_DISAGREEMENTS:
            continue
        _on_holiday, english = chinese_calendar.get_holiday_detail(day)
        if chinese_calendar.Holiday(english).chinese not in kind.name:
            mismatched.append((day, kind.name, english))
    assert mismatched == []


def test_every_weekday_rest_day_and_make_up_day_agrees_with_the_holidays_package(cal):
    reference = holidays_package.China(years=range(FIRST_YEAR, LAST_YEAR + 1))
    their_makeup = {
        date(int(y), int(m), int(d))
        for name in reference.values()
        for m, d, y in re.findall(r"substituted from (\d\d)/(\d\d)/(\d{4})", name)
    }
    disagreements = set()
    for day in _every_day(date(FIRST_YEAR, 1, 1), date(LAST_YEAR, 12, 31)):
        kind = cal.day_kind(day).kind
        if day.weekday() < 5 and (kind == "holiday") != (day in reference):
            disagreements.add(day)
        if day.weekday() >= 5 and (kind == "makeup") != (day in their_makeup):
            disagreements.add(day)
    assert disagreements == set(HOLIDAYS_PACKAGE_DISAGREEMENTS)


def test_the_2020_spring_festival_extension_rests_until_february_2(cal):
    amendment = cal.notices_for(2020)[1]
    assert amendment.number == "国办发明电〔2020〕1号"
    assert amendment.amends == "国办发明电〔2019〕16号"
    for day in _every_day(date(2020, 1, 24), date(2020, 2, 2)):
        assert cal.day_kind(day).kind in ("holiday", "weekend"), day
    # The Saturday make-up day of the original notice was cancelled by the extension.
    assert cal.day_kind(date(2020, 2, 1)).kind == "holiday"
    assert cal.is_working_day(date(2020, 1, 19))
    assert cal.is_working_day(date(2020, 2, 3))


def test_the_2019_may_day_change_rests_four_days_with_two_sunday_make_ups(cal):
    amendment = cal.notices_for(2019)[1]
    assert amendment.number == "国办发明电〔2019〕3号"
    assert [cal.is_working_day(date(2019, 5, d)) for d in range(1, 6)] == [False, False, False, False, True]
    assert cal.day_kind(date(2019, 4, 28)).kind == "makeup"
    assert cal.day_kind(date(2019, 5, 5)).kind == "makeup"


def test_the_2015_victory_day_holiday_has_its_own_notice(cal):
    amendment = cal.notices_for(2015)[1]
    assert amendment.number == "国发明电〔2015〕1号"
    assert cal.day_kind(date(2015, 9, 3)).name.startswith("中国人民抗日战争")
    assert not cal.is_working_day(date(2015, 9, 4))
    assert cal.day_kind(date(2015, 9, 6)).kind == "makeup"


@pytest.mark.parametrize(
    ("day", "kind", "year_of_notice"),
    [
        (date(2011, 12, 31), "makeup", 2012),
        (date(2018, 12, 29), "makeup", 2019),
        (date(2018, 12, 31), "holiday", 2019),
        (date(2022, 12, 31), "holiday", 2023),
    ],
)
def test_a_notice_may_set_days_of_the_previous_december(cal, day, kind, year_of_notice):
    assert cal.day_kind(day).kind == kind
    in_notice = [b for b in cal.blocks_for(year_of_notice) if day in b.rest or day in b.makeup]
    assert in_notice and in_notice[0].name == "元旦"
    assert not [b for b in cal.blocks_for(day.year) if day in b.rest or day in b.makeup]


def test_every_make_up_day_is_a_weekend_and_every_rest_block_is_consecutive(cal):
    for year in cal.covered_years:
        for block in cal.blocks_for(year):
            assert all(day.weekday() >= 5 for day in block.makeup), block
            assert all((b - a).days == 1 for a, b in zip(block.rest, block.rest[1:], strict=False)), block


@pytest.mark.parametrize("year", range(LAST_YEAR + 1, 2061))
def test_provisional_statutory_holidays_match_the_holidays_package(year):
    # Its base holidays (without "observed"/"substituted") follow the 2024 放假办法 from 2025 on.
    reference = {
        day
        for day, name in holidays_package.China(years=year).items()
        if "observed" not in name and "substituted" not in name.lower()
    }
    assert set(statutory_holidays(year)) == reference


@pytest.mark.parametrize("year", range(2008, 2061))
def test_the_computed_qingming_is_the_solar_term_in_chinesecalendar(year):
    terms = chinese_calendar.get_solar_terms(date(year, 4, 1), date(year, 4, 10))
    (qingming,) = [day for day, name in terms if name.startswith("清明")]
    assert qingming_day(year) == qingming
