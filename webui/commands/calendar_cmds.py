"""`gongkai deadline` and `gongkai calendar` (DESIGN §7): the statutory clocks from the command line.

Only click is imported at module level; the calendar is loaded when a command runs, so that
`gongkai deadline --batch` spends its time on the arithmetic, not on imports.
"""

from __future__ import annotations

import json
import sys
from datetime import date

import click

EXIT_INPUT = 2  # bad input or a date outside the calendar (DESIGN §7)
EXIT_INVALID_DATA = 1  # `calendar check` found invalid holiday data


def _fail(message: str, code: int = EXIT_INPUT) -> None:
    click.echo(f"错误：{message}", err=True)
    sys.exit(code)


def _parse_date(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        _fail(f"{what}“{text}”不是有效日期，应为 YYYY-MM-DD，例如 2026-09-25")
        raise  # unreachable: _fail exits


def _parse_int(text: str, what: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        _fail(f"{what}“{text}”不是整数")
        raise


def _parse_pause(text: str):
    from engine.rules.clocks import Pause

    parts = text.split(":", 2)
    if len(parts) < 2:
        _fail(f"暂停期间“{text}”格式应为 开始日:结束日[:原因]，例如 2026-10-09:2026-10-20:征求第三方意见")
    start = _parse_date(parts[0], "暂停开始日")
    end = _parse_date(parts[1], "暂停结束日")
    reason = parts[2].strip() if len(parts) == 3 and parts[2].strip() else "暂停计算"
    return Pause(start=start, end=end, reason=reason)


def _load_calendar():
    from engine.rules.calendar import CalendarDataError, default_calendar

    try:
        return default_calendar()
    except CalendarDataError as exc:
        _fail(f"节假日数据无效：{exc}")


def _provisional_message(cal, day: date) -> str:
    return (
        f"{day} 超出已发布的国务院放假通知（最后覆盖 {cal.last_covered.year} 年），只能临时推算；"
        "如确需使用，请加 --allow-provisional"
    )


@click.command("deadline")
@click.argument("start", required=False)
@click.option("--days", "days_text", metavar="N", help="工作日数，例如 20（条例第三十三条）。")
@click.option(
    "--pause",
    "pause_texts",
    multiple=True,
    metavar="A:B[:原因]",
    help="暂停期间，其中的工作日不计入；可重复。",
)
@click.option("--extend", "extend_text", metavar="M", help="延长的工作日数（不超过 20）。")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON。")
@click.option("--explain", "with_explanation", is_flag=True, help="先逐行说明计算过程，最后一行为届满日。")
@click.option(
    "--allow-provisional", is_flag=True, help="允许使用超出已发布通知、临时推算的日期（结果会标明）。"
)
@click.option("--batch", is_flag=True, help="从标准输入逐行读取“起算日 天数”，逐行输出届满日。")
def deadline(
    start: str | None,
    days_text: str | None,
    pause_texts: tuple[str, ...],
    extend_text: str | None,
    as_json: bool,
    with_explanation: bool,
    allow_provisional: bool,
    batch: bool,
) -> None:
    """计算以工作日计的届满日（起算日当日不计入）。最后一行输出 YYYY-MM-DD。"""
    if batch:
        if start is not None or days_text is not None or pause_texts or extend_text is not None:
            _fail("--batch 从标准输入读取“起算日 天数”，不能同时给出起算日、--days、--pause 或 --extend")
        _run_batch(allow_provisional)
        return
    if start is None:
        _fail("缺少起算日，例如：gongkai deadline 2026-09-25 --days 20")
    if days_text is None:
        _fail("缺少 --days（工作日数），例如 --days 20")
    start_on = _parse_date(start, "起算日")
    days = _parse_int(days_text, "--days")
    if days < 0:
        _fail(f"--days 不能为负数（{days}）")
    extension = _parse_int(extend_text, "--extend") if extend_text is not None else 0
    if not 0 <= extension <= 20:
        _fail(f"--extend 应在 0 至 20 个工作日之间（条例第三十三条第二款），实际为 {extension}")
    pauses = [_parse_pause(text) for text in pause_texts]

    from engine.rules.calendar import OutsideCalendarError
    from engine.rules.clocks import ClockError, explain, reply_due

    cal = _load_calendar()
    try:
        due = reply_due(cal, start_on, days=days, extension_working_days=extension, pauses=pauses)
    except (ClockError, OutsideCalendarError) as exc:
        _fail(str(exc))
    if due.provisional and not allow_provisional:
        _fail(_provisional_message(cal, due.due))
    if with_explanation:
        for line in explain(due):
            click.echo(line)
    if as_json:
        click.echo(json.dumps(due.to_json(), ensure_ascii=False))
    else:
        click.echo(due.due.isoformat())


def _run_batch(allow_provisional: bool) -> None:
    """One due date per input line `START DAYS`; all or nothing (a bad line stops before any output)."""
    cal = _load_calendar()
    arrays = cal.arrays
    first = arrays.first_ordinal
    prefix = arrays.prefix
    working = arrays.working_indexes
    size = len(prefix) - 1
    last_working = len(working) - 1
    limit = size if allow_provisional else arrays.last_covered_index + 1
    # ISO text of every working day, computed once: each answer is then a list lookup.
    iso = [date.fromordinal(first + index).isoformat() for index in working]
    from_iso = date.fromisoformat

    data = sys.stdin.buffer.read().decode("utf-8", errors="replace")
    out: list[str] = []
    append = out.append
    lines = data.splitlines()
    while lines and not lines[-1].strip():  # blank lines at the very end are not requests
        lines.pop()
    for number, line in enumerate(lines, 1):
        try:
            start_text, days_text = line.split()
            index = from_iso(start_text).toordinal() - first
            days = int(days_text)
        except ValueError:
            _fail(f"第 {number} 行“{line.strip()}”格式应为“YYYY-MM-DD 天数”，例如“2026-09-25 20”")
        if days < 0:
            _fail(f"第 {number} 行：天数不能为负数（{days}）")
        if not 0 <= index < size:
            _fail(
                f"第 {number} 行：起算日 {start_text} 超出工作日日历范围（{cal.first_covered} 至 {cal.provisional_until}）"
            )
        if days == 0:
            due_index = index
            if due_index >= limit:
                _fail(f"第 {number} 行：" + _provisional_message(cal, from_iso(start_text)))
            append(start_text)
            continue
        k = prefix[index + 1] + days - 1
        if k > last_working:
            _fail(f"第 {number} 行：结果超出工作日日历的推算范围（至 {cal.provisional_until}）")
        if working[k] >= limit:
            _fail(f"第 {number} 行：" + _provisional_message(cal, date.fromisoformat(iso[k])))
        append(iso[k])
    if out:
        sys.stdout.write("\n".join(out))
        sys.stdout.write("\n")
    sys.stdout.flush()


@click.group("calendar")
def calendar() -> None:
    """工作日日历：查看某年的放假安排，校验节假日数据。"""


def _ranges(days: tuple[date, ...] | list[date]) -> str:
    """ "2月15日至23日" style runs, joined with 、."""
    runs: list[tuple[date, date]] = []
    for day in sorted(days):
        if runs and (day - runs[-1][1]).days == 1:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    weekdays = "一二三四五六日"

    def one(day: date) -> str:
        return f"{day.year}年{day.month}月{day.day}日（星期{weekdays[day.weekday()]}）"

    parts = []
    for first, last in runs:
        parts.append(one(first) if first == last else f"{one(first)}至{one(last)}")
    return "、".join(parts)


@calendar.command("show")
@click.argument("year", type=int)
def show(year: int) -> None:
    """显示某年的国务院放假通知、各节日的休息日与补班日。"""
    from engine.rules.calendar import FIRST_COVERED

    cal = _load_calendar()
    if year < FIRST_COVERED.year or year > cal.provisional_until.year:
        _fail(f"{year} 年不在工作日日历范围内（{FIRST_COVERED.year} 至 {cal.provisional_until.year} 年）")
    notices = cal.notices_for(year)
    if not notices:
        click.echo(
            f"{year} 年：尚无国务院放假通知，以下为按《全国年节及纪念日放假办法》（2024）临时推算，未含调休。"
        )
        by_name: dict[str, list[date]] = {}
        for day, name in cal.provisional_holidays(year).items():
            by_name.setdefault(name, []).append(day)
        for name, days in by_name.items():
            click.echo(f"  {name}：{_ranges(days)} 休息")
        click.echo(f"日历版本：{cal.version}")
        return
    click.echo(f"{year} 年放假安排")
    for notice in notices:
        amended = f"，修改 {notice.amends}" if notice.amends else ""
        click.echo(f"通知：{notice.title}（{notice.number}，{notice.published_on} 发布{amended}）")
    for block in cal.blocks_for(year):
        click.echo(f"  {block.name}〔{block.notice}〕")
        if block.rest:
            click.echo(f"    休息：{_ranges(block.rest)}，共 {len(block.rest)} 天")
        if block.makeup:
            click.echo(f"    补班（上班）：{_ranges(block.makeup)}")
        if block.cancel_makeup:
            click.echo(f"    取消补班：{_ranges(block.cancel_makeup)}")
        if block.cancel_rest:
            click.echo(f"    取消休息：{_ranges(block.cancel_rest)}")
    click.echo(f"日历版本：{cal.version}")


@calendar.command("check")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False),
    help="节假日数据目录（默认取配置中的 holidays_dir）。",
)
@click.option(
    "--today", "today_text", metavar="YYYY-MM-DD", help="以该日为“今天”检查下一年通知（默认北京时间今天）。"
)
def check(directory: str | None, today_text: str | None) -> None:
    """校验全部节假日数据文件，显示覆盖范围；11 月起提示下一年通知是否缺失。"""
    from engine.config import load_settings
    from engine.rules.calendar import CalendarDataError, load_calendar

    source = directory or load_settings().holidays_dir
    try:
        cal = load_calendar(source)
    except CalendarDataError as exc:
        click.echo(f"错误：节假日数据无效：{exc}", err=True)
        sys.exit(EXIT_INVALID_DATA)
    if today_text is not None:
        today = _parse_date(today_text, "--today")
    else:
        from datetime import datetime
        from zoneinfo import ZoneInfo

        today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    years = cal.covered_years
    notice_count = sum(len(cal.notices_for(year)) for year in years)
    click.echo(f"节假日数据有效：{len(years)} 个年度文件，{notice_count} 份通知（{source}）")
    click.echo(f"覆盖范围：{cal.first_covered} 至 {cal.last_covered}")
    click.echo(f"最后覆盖年份：{years[-1]}")
    click.echo(
        f"临时推算范围：{cal.last_covered.year + 1}-01-01 至 {cal.provisional_until}（仅周末与法定节日，未含调休）"
    )
    click.echo(f"日历版本：{cal.version}")
    if today.year > years[-1]:
        click.echo(
            f"警告：今天（{today}）所在的 {today.year} 年尚无放假通知数据，期限均为临时推算，请尽快补充 {today.year}.toml",
            err=True,
        )
    elif today.month >= 11 and today.year + 1 > years[-1]:
        click.echo(
            f"警告：{today.year + 1} 年的放假通知尚未录入（{today.year + 1}.toml）；通知发布后请尽快补充，"
            "否则跨年期限为临时推算",
            err=True,
        )


@calendar.command("recompute")
def calendar_recompute() -> None:
    """载入新的节假日文件后，重新计算所有在办申请的答复期限，并把每处变化记入审计记录。"""
    from engine.persistence.db import transaction
    from engine.services.recalc import count_open_cases, recompute_open_due_dates

    with transaction() as session:
        total = count_open_cases(session)
        with click.progressbar(length=total, label="重新计算答复期限", file=sys.stderr) as bar:
            changes = recompute_open_due_dates(session, on_batch=bar.update)
    for c in changes:
        flag = "（临时推算）" if c.provisional_after else ""
        click.echo(f"{c.reg_no}：{c.before} → {c.after}{flag}")
    click.echo(f"已重新计算在办申请的答复期限：{len(changes)} 件有变化")
