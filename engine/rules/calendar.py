"""The working-day calendar (DESIGN §3): the State Council's holiday notices, 调休, and provisional years.

Data lives in `holidays/<year>.toml`, one file per notice year (format in `holidays/README.md`). The
loader validates every file and refuses bad data with the file and line (`CalendarDataError`).
`WorkingCalendar` answers every question in O(1) from arrays precomputed over the whole range: the
published years, then provisional years (weekends plus the statutory holidays of the 2024 放假办法,
no 调休 guessed) through `PROVISIONAL_UNTIL`.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path

FIRST_COVERED = date(
    2008, 1, 1
)  # the regulation took effect on 2008-05-01; the 2008 notice is the first we need
PROVISIONAL_UNTIL = date(2060, 12, 31)

WORKING = "working"
WEEKEND = "weekend"
HOLIDAY = "holiday"
MAKEUP = "makeup"

WEEKDAY_NAMES = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
WEEKDAY_LONG_NAMES = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")


class CalendarDataError(ValueError):
    """A holiday data file is malformed or contradicts itself; names the file and the line."""

    def __init__(self, path: Path | str, line: int, message: str) -> None:
        self.path = Path(path)
        self.line = line
        self.message = message
        where = f"{self.path}:{line}" if line else f"{self.path}"
        super().__init__(f"{where}：{message}")


class OutsideCalendarError(ValueError):
    """A date before 2008-01-01 or past the precomputed provisional range."""


@dataclass(frozen=True)
class Notice:
    number: str  # 文号, e.g. "国办发明电〔2019〕16号"
    title: str
    published_on: date
    year: int  # the year whose holidays it arranges (its file)
    amends: str | None = None  # 文号 of the notice it changes


@dataclass(frozen=True)
class HolidayBlock:
    name: str  # festival name as the notice writes it, e.g. "国庆节、中秋节"
    notice: str  # 文号 of the notice that set these days
    year: int
    rest: tuple[date, ...]
    makeup: tuple[date, ...]
    cancel_makeup: tuple[date, ...] = ()
    cancel_rest: tuple[date, ...] = ()


@dataclass(frozen=True)
class DayKind:
    kind: str  # "working" | "weekend" | "holiday" | "makeup"
    name: str  # festival name for holiday/makeup, "周六"/"周日" for weekends, "" for plain working days
    provisional: bool


@dataclass(frozen=True)
class PrefixArrays:
    """The raw arrays behind `WorkingCalendar`, for bulk loops that cannot afford a method call per day."""

    first_ordinal: int  # date.toordinal() of index 0
    prefix: list[int]  # prefix[i] = working days among indexes < i  (len = days + 1)
    working_indexes: list[int]  # index of the k-th working day (0-based k), ascending
    last_covered_index: int  # index of the last day of the last published year


# ---------------------------------------------------------------------------------------------------
# Loading and validation


def _line_of(lines: list[str], needle: str, start: int) -> int:
    """1-based number of the first line at or after `start` (1-based) that contains `needle`."""
    for number in range(max(start, 1), len(lines) + 1):
        if needle in lines[number - 1]:
            return number
    return start


def _table_header_lines(lines: list[str], header: str) -> list[int]:
    return [i for i, text in enumerate(lines, 1) if text.strip().split("#")[0].strip() == header]


class _FileReader:
    """Reads one year file and turns every problem into a CalendarDataError with its line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.raw = path.read_bytes()
        try:
            self.text = self.raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CalendarDataError(path, 0, f"文件不是 UTF-8 编码（{exc}）") from None
        self.lines = self.text.splitlines()
        self.notice_lines = _table_header_lines(self.lines, "[[notices]]")
        self.block_lines = _table_header_lines(self.lines, "[[blocks]]")

    def fail(self, line: int, message: str) -> CalendarDataError:
        return CalendarDataError(self.path, line, message)

    def parse(self) -> tuple[int, list[Notice], list[tuple[HolidayBlock, int]]]:
        try:
            data = tomllib.loads(self.text)
        except tomllib.TOMLDecodeError as exc:
            match = re.search(r"line (\d+)", str(exc))
            raise self.fail(int(match.group(1)) if match else 0, f"TOML 语法错误：{exc}") from None
        stem = self.path.stem
        if not re.fullmatch(r"\d{4}", stem):
            raise self.fail(0, "文件名应为四位年份，例如 2026.toml")
        year = data.get("year")
        if year != int(stem):
            raise self.fail(
                _line_of(self.lines, "year", 1), f"year 应为 {stem}（与文件名一致），实际为 {year!r}"
            )
        if year < FIRST_COVERED.year:
            raise self.fail(_line_of(self.lines, "year", 1), f"年份 {year} 早于覆盖起点 {FIRST_COVERED.year}")
        notices = self._notices(data, year)
        blocks = self._blocks(data, year, notices)
        return year, notices, blocks

    def _header_line(self, headers: list[int], index: int) -> int:
        return headers[index] if index < len(headers) else 1

    def _notices(self, data: dict, year: int) -> list[Notice]:
        raw_notices = data.get("notices")
        if not isinstance(raw_notices, list) or not raw_notices:
            raise self.fail(1, "缺少 [[notices]]：每个年度文件至少要有一份通知（文号、标题、发布日期）")
        notices: list[Notice] = []
        seen: dict[str, int] = {}
        for index, raw in enumerate(raw_notices):
            line = self._header_line(self.notice_lines, index)
            number = raw.get("number")
            title = raw.get("title")
            published_on = raw.get("published_on")
            amends = raw.get("amends")
            if not isinstance(number, str) or not number.strip():
                raise self.fail(line, "通知缺少文号（number）")
            if number in seen:
                raise self.fail(_line_of(self.lines, number, line), f"文号重复：{number}")
            if not isinstance(title, str) or not title.strip():
                raise self.fail(line, f"通知 {number} 缺少标题（title）")
            if not isinstance(published_on, date) or isinstance(published_on, datetime):
                raise self.fail(line, f"通知 {number} 的发布日期（published_on）应为日期，例如 2025-11-04")
            if published_on.year not in (year - 1, year):
                raise self.fail(
                    _line_of(self.lines, "published_on", line),
                    f"通知 {number} 的发布日期 {published_on} 不在 {year - 1} 年或 {year} 年",
                )
            if amends is not None and amends not in seen:
                raise self.fail(
                    _line_of(self.lines, "amends", line),
                    f"通知 {number} 所修改的通知 {amends} 不在本文件中且须列在其前",
                )
            if notices and amends is None:
                raise self.fail(line, f"通知 {number} 不是本年第一份通知，须用 amends 写明所修改的通知")
            seen[number] = index
            notices.append(
                Notice(number=number, title=title, published_on=published_on, year=year, amends=amends)
            )
        return notices

    def _dates(self, raw: dict, key: str, year: int, line: int, name: str) -> tuple[date, ...]:
        values = raw.get(key, [])
        if not isinstance(values, list):
            raise self.fail(_line_of(self.lines, key, line), f"{name}：{key} 应为日期列表")
        earliest = date(year - 1, 12, 1)
        latest = date(year, 12, 31)
        result: list[date] = []
        for value in values:
            if not isinstance(value, date) or isinstance(value, datetime):
                raise self.fail(_line_of(self.lines, key, line), f"{name}：{key} 中的 {value!r} 不是日期")
            where = _line_of(self.lines, value.isoformat(), line)
            if not earliest <= value <= latest:
                raise self.fail(
                    where,
                    f"{name}：{value} 不在 {year} 年或上一年 12 月内（通知只安排本年及上年 12 月的日期）",
                )
            if value in result:
                raise self.fail(where, f"{name}：{value} 在 {key} 中重复")
            result.append(value)
        if result != sorted(result):
            raise self.fail(_line_of(self.lines, key, line), f"{name}：{key} 的日期应按先后排列")
        return tuple(result)

    def _blocks(self, data: dict, year: int, notices: list[Notice]) -> list[tuple[HolidayBlock, int]]:
        raw_blocks = data.get("blocks")
        if not isinstance(raw_blocks, list) or not raw_blocks:
            raise self.fail(1, "缺少 [[blocks]]：每个节日一块，写明休息日与补班日")
        numbers = {notice.number for notice in notices}
        used_by_notice: dict[str, dict[date, tuple[str, str]]] = {number: {} for number in numbers}
        blocks: list[tuple[HolidayBlock, int]] = []
        for index, raw in enumerate(raw_blocks):
            line = self._header_line(self.block_lines, index)
            name = raw.get("name")
            if not isinstance(name, str) or not name.strip():
                raise self.fail(line, "节日块缺少名称（name）")
            notice = raw.get("notice")
            if notice not in numbers:
                raise self.fail(
                    _line_of(self.lines, "notice", line),
                    f"{name}：notice 应为本文件中某份通知的文号，实际为 {notice!r}",
                )
            rest = self._dates(raw, "rest", year, line, name)
            makeup = self._dates(raw, "makeup", year, line, name)
            cancel_makeup = self._dates(raw, "cancel_makeup", year, line, name)
            cancel_rest = self._dates(raw, "cancel_rest", year, line, name)
            unknown = set(raw) - {"name", "notice", "rest", "makeup", "cancel_makeup", "cancel_rest"}
            if unknown:
                raise self.fail(line, f"{name}：未知字段 {', '.join(sorted(unknown))}")
            if not (rest or makeup or cancel_makeup or cancel_rest):
                raise self.fail(line, f"{name}：节日块没有任何日期")
            for earlier, later in zip(rest, rest[1:], strict=False):
                if later - earlier != timedelta(days=1):
                    raise self.fail(
                        _line_of(self.lines, later.isoformat(), line),
                        f"{name}：休息日应连续，{earlier} 与 {later} 之间有间断",
                    )
            for day in makeup:
                if day.weekday() < 5:
                    raise self.fail(
                        _line_of(self.lines, day.isoformat(), _line_of(self.lines, "makeup", line)),
                        f"{name}：补班日 {day} 是{WEEKDAY_LONG_NAMES[day.weekday()]}，补班日只能在周六或周日",
                    )
            for day in cancel_rest:
                if day.weekday() >= 5:
                    raise self.fail(
                        _line_of(self.lines, day.isoformat(), line),
                        f"{name}：取消的休息日 {day} 是周末，周末本就休息",
                    )
            # An amendment may turn a make-up day into a rest day: listed in both cancel_makeup and rest.
            roles = [
                *((day, "rest") for day in rest),
                *((day, "makeup") for day in makeup),
                *((day, "cancel") for day in cancel_rest),
                *((day, "cancel") for day in cancel_makeup if day not in rest),
            ]
            taken = used_by_notice[notice]
            for day, role in roles:
                if day in taken:
                    other_role, other_name = taken[day]
                    if {role, other_role} == {"rest", "makeup"}:
                        message = f"{name}：{day} 既是休息日又是补班日（同一通知的{other_name}）"
                    else:
                        message = f"{name}：{day} 在通知 {notice} 中重复出现（已见于{other_name}）"
                    raise self.fail(_line_of(self.lines, day.isoformat(), line), message)
                taken[day] = (role, name)
            blocks.append(
                (
                    HolidayBlock(
                        name=name,
                        notice=notice,
                        year=year,
                        rest=rest,
                        makeup=makeup,
                        cancel_makeup=cancel_makeup,
                        cancel_rest=cancel_rest,
                    ),
                    line,
                )
            )
        # An amendment's blocks apply after the notice it amends, whatever their order in the file.
        order = {notice.number: position for position, notice in enumerate(notices)}
        blocks.sort(key=lambda item: order[item[0].notice])
        return blocks


def _resolve(
    reader: _FileReader,
    blocks: list[tuple[HolidayBlock, int]],
    rest_days: dict[date, str],
    makeup_days: dict[date, str],
) -> None:
    """Apply one file's blocks, in notice order, to the days set so far; refuse contradictions."""
    for block, line in blocks:
        for day in block.cancel_makeup:
            if day not in makeup_days:
                raise reader.fail(
                    _line_of(reader.lines, day.isoformat(), line),
                    f"{block.name}：要取消的补班日 {day} 并不是补班日",
                )
            del makeup_days[day]
        for day in block.cancel_rest:
            if day not in rest_days:
                raise reader.fail(
                    _line_of(reader.lines, day.isoformat(), line),
                    f"{block.name}：要取消的休息日 {day} 并不是休息日",
                )
            del rest_days[day]
        for day in block.rest:
            if day in makeup_days:
                raise reader.fail(
                    _line_of(reader.lines, day.isoformat(), line),
                    f"{block.name}：{day} 既是休息日又是补班日（{makeup_days[day]}）；修改通知须用 cancel_makeup 先取消补班",
                )
            rest_days[day] = block.name
        for day in block.makeup:
            if day in rest_days:
                raise reader.fail(
                    _line_of(reader.lines, day.isoformat(), line),
                    f"{block.name}：{day} 既是补班日又是休息日（{rest_days[day]}）",
                )
            makeup_days[day] = block.name


def load_calendar(directory: Path | str) -> WorkingCalendar:
    """Load and validate every `YYYY.toml` in `directory`; the years must run from 2008 without a gap."""
    directory = Path(directory)
    paths = sorted(directory.glob("*.toml"))
    if not paths:
        raise CalendarDataError(directory, 0, "目录中没有节假日数据文件（YYYY.toml）")
    digest = hashlib.sha256()
    rest_days: dict[date, str] = {}
    makeup_days: dict[date, str] = {}
    notices: dict[int, tuple[Notice, ...]] = {}
    blocks: dict[int, tuple[HolidayBlock, ...]] = {}
    for path in paths:
        reader = _FileReader(path)
        digest.update(path.name.encode("utf-8") + b"\0" + reader.raw + b"\0")
        year, year_notices, year_blocks = reader.parse()
        _resolve(reader, year_blocks, rest_days, makeup_days)
        notices[year] = tuple(year_notices)
        blocks[year] = tuple(block for block, _line in year_blocks)
    years = sorted(notices)
    if years[0] != FIRST_COVERED.year:
        raise CalendarDataError(
            directory, 0, f"缺少 {FIRST_COVERED.year}.toml：覆盖范围必须从 {FIRST_COVERED.year} 年开始"
        )
    missing = sorted(set(range(years[0], years[-1] + 1)) - set(years))
    if missing:
        raise CalendarDataError(
            directory, 0, f"缺少年度文件：{'、'.join(f'{y}.toml' for y in missing)}（覆盖范围不能有缺口）"
        )
    version = f"{years[-1]}+{digest.hexdigest()[:12]}"
    return WorkingCalendar(
        rest_days=rest_days, makeup_days=makeup_days, notices=notices, blocks=blocks, version=version
    )


# ---------------------------------------------------------------------------------------------------
# Provisional years: the 2024 放假办法 (全国年节及纪念日放假办法 第2条), computed, never typed in


def qingming_day(year: int) -> date:
    """清明 (the solar term) for 2000–2099 by the standard term formula: [Y·0.2422 + 4.81] − [Y/4]."""
    if not 2000 <= year <= 2099:
        raise OutsideCalendarError(f"清明日期只能推算 2000—2099 年，{year} 年超出范围")
    y = year - 2000
    return date(year, 4, int(y * 0.2422 + 4.81) - y // 4)


def statutory_holidays(year: int) -> dict[date, str]:
    """The 13 statutory holiday days of 全国年节及纪念日放假办法（2024）第2条 for `year`, by festival name."""
    from lunardate import LunarDate

    new_year_of_lunar = LunarDate(year, 1, 1).to_solar_date()
    days: dict[date, list[str]] = {}

    def add(day: date, name: str) -> None:
        days.setdefault(day, [])
        if name not in days[day]:
            days[day].append(name)

    add(date(year, 1, 1), "元旦")
    for offset in range(-1, 3):  # 除夕 and 正月初一至初三
        add(new_year_of_lunar + timedelta(days=offset), "春节")
    add(qingming_day(year), "清明节")
    add(date(year, 5, 1), "劳动节")
    add(date(year, 5, 2), "劳动节")
    add(LunarDate(year, 5, 5).to_solar_date(), "端午节")
    for day in (1, 2, 3):
        add(date(year, 10, day), "国庆节")
    # After 国庆 so that a shared day reads "国庆节、中秋节", as the 2020 notice wrote it.
    add(LunarDate(year, 8, 15).to_solar_date(), "中秋节")
    return {day: "、".join(names) for day, names in sorted(days.items())}


# ---------------------------------------------------------------------------------------------------
# The calendar

_KIND_CODES = (WORKING, WEEKEND, HOLIDAY, MAKEUP)


class WorkingCalendar:
    """Working days under the State Council's notices (DESIGN §3); O(1) arithmetic over precomputed arrays."""

    def __init__(
        self,
        *,
        rest_days: dict[date, str],
        makeup_days: dict[date, str],
        notices: dict[int, tuple[Notice, ...]],
        blocks: dict[int, tuple[HolidayBlock, ...]],
        version: str,
        provisional_until: date = PROVISIONAL_UNTIL,
    ) -> None:
        self.version = version
        self.covered_years: tuple[int, ...] = tuple(sorted(notices))
        self.first_covered = FIRST_COVERED
        self.last_covered = date(self.covered_years[-1], 12, 31)
        self.provisional_until = provisional_until
        self._notices = notices
        self._blocks = blocks

        first = self.first_covered.toordinal()
        size = provisional_until.toordinal() - first + 1
        provisional: dict[date, str] = {}
        for year in range(self.covered_years[-1] + 1, provisional_until.year + 1):
            provisional.update(statutory_holidays(year))

        kinds = bytearray(size)  # index into _KIND_CODES
        names: dict[int, str] = {}
        prefix = [0] * (size + 1)
        working_indexes: list[int] = []
        count = 0
        for index in range(size):
            day = date.fromordinal(first + index)
            if day <= self.last_covered:
                if day in makeup_days:
                    kind, name = MAKEUP, makeup_days[day]
                elif day in rest_days:
                    kind, name = HOLIDAY, rest_days[day]
                elif day.weekday() >= 5:
                    kind, name = WEEKEND, WEEKDAY_NAMES[day.weekday()]
                else:
                    kind, name = WORKING, ""
            elif day in provisional:
                kind, name = HOLIDAY, provisional[day]
            elif day.weekday() >= 5:
                kind, name = WEEKEND, WEEKDAY_NAMES[day.weekday()]
            else:
                kind, name = WORKING, ""
            kinds[index] = _KIND_CODES.index(kind)
            if name:
                names[index] = name
            if kind in (WORKING, MAKEUP):
                count += 1
                working_indexes.append(index)
            prefix[index + 1] = count
        self._first = first
        self._size = size
        self._kinds = bytes(kinds)
        self._names = names
        self._prefix = prefix
        self._working = working_indexes
        self._last_covered_index = self.last_covered.toordinal() - first

    # -- helpers -------------------------------------------------------------------------------

    def _index(self, day: date) -> int:
        index = day.toordinal() - self._first
        if not 0 <= index < self._size:
            raise OutsideCalendarError(self._outside_message(day))
        return index

    def _outside_message(self, day: date) -> str:
        if day < self.first_covered:
            return f"{day} 早于工作日日历的起点 {self.first_covered}（条例施行的 2008 年），无法计算"
        return f"{day} 超出工作日日历的推算范围（至 {self.provisional_until}），无法计算"

    # -- questions -----------------------------------------------------------------------------

    def is_working_day(self, day: date) -> bool:
        """Whether `day` is a working day: Monday–Friday minus rest days, plus make-up days (调休补班)."""
        return _KIND_CODES[self._kinds[self._index(day)]] in (WORKING, MAKEUP)

    def day_kind(self, day: date) -> DayKind:
        """What `day` is (working / weekend / holiday / makeup) with the festival name, and if provisional."""
        index = self._index(day)
        return DayKind(
            kind=_KIND_CODES[self._kinds[index]],
            name=self._names.get(index, ""),
            provisional=index > self._last_covered_index,
        )

    def is_provisional(self, day: date) -> bool:
        """Whether `day` is beyond the last published notice (computed from the 放假办法 only)."""
        return day > self.last_covered

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after `start` (start not counted; 民法典第201条), or before it when n < 0."""
        # Inlined index arithmetic: this is the hot path of bulk recomputation.
        index = start.toordinal() - self._first
        if not 0 <= index < self._size:
            raise OutsideCalendarError(self._outside_message(start))
        if n > 0:
            k = self._prefix[index + 1] + n - 1
            if k >= len(self._working):
                raise OutsideCalendarError(
                    f"结果超出工作日日历的推算范围（至 {self.provisional_until}），无法计算"
                )
        elif n < 0:
            k = self._prefix[index] + n
            if k < 0:
                raise OutsideCalendarError(f"结果早于工作日日历的起点 {self.first_covered}，无法计算")
        else:
            return start
        return date.fromordinal(self._first + self._working[k])

    def working_days_between(self, a: date, b: date) -> int:
        """Working days in (a, b]; negative (the days in (b, a]) when b < a."""
        return self._prefix[self._index(b) + 1] - self._prefix[self._index(a) + 1]

    def notices_for(self, year: int) -> tuple[Notice, ...]:
        """The notice and its amendments for `year`; empty for a provisional year."""
        return self._notices.get(year, ())

    def blocks_for(self, year: int) -> tuple[HolidayBlock, ...]:
        """The holiday blocks of `year`'s notices, in notice order."""
        return self._blocks.get(year, ())

    def provisional_holidays(self, year: int) -> dict[date, str]:
        """The rest days assumed for a year without a notice (放假办法 第2条 only, no 调休)."""
        if year in self._notices:
            return {}
        return statutory_holidays(year)

    def iter_days(self, a: date, b: date) -> Iterable[tuple[date, DayKind]]:
        """Every day in [a, b] with its kind, for explanations and listings (not for arithmetic)."""
        day = a
        while day <= b:
            yield day, self.day_kind(day)
            day += timedelta(days=1)

    @property
    def arrays(self) -> PrefixArrays:
        return PrefixArrays(
            first_ordinal=self._first,
            prefix=self._prefix,
            working_indexes=self._working,
            last_covered_index=self._last_covered_index,
        )


@lru_cache(maxsize=1)
def default_calendar() -> WorkingCalendar:
    """The calendar from the configured holidays directory, loaded once per process."""
    from engine.config import load_settings

    return load_calendar(load_settings().holidays_dir)


def reload_default_calendar() -> WorkingCalendar:
    """Forget the cached calendar (a new year's file was added) and load it again."""
    default_calendar.cache_clear()
    return default_calendar()
