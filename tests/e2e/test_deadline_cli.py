"""`gongkai deadline` as other tools call it (DESIGN §7): the real console script in a subprocess."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from engine.config import PROJECT_ROOT
from engine.rules.calendar import load_calendar

GONGKAI = str(Path(sys.executable).parent / "gongkai")
CAL = load_calendar(PROJECT_ROOT / "holidays")


def gongkai(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "GONGKAI_HOLIDAYS_DIR": str(PROJECT_ROOT / "holidays")}
    return subprocess.run(
        [GONGKAI, *args], input=stdin, capture_output=True, text=True, encoding="utf-8", env=env, timeout=60
    )


def test_the_due_date_is_the_last_line():
    result = gongkai("deadline", "2026-09-25", "--days", "20")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "2026-10-29"


def test_explain_prints_the_reasons_before_the_due_date():
    result = gongkai("deadline", "2026-09-25", "--days", "20", "--explain", "--extend", "3")
    lines = result.stdout.splitlines()
    assert result.returncode == 0, result.stderr
    assert lines[-1] == "2026-11-03"
    assert lines[0].startswith("起算日：2026-09-25")
    assert any("国庆节" in line for line in lines)
    assert any(line.startswith("延长：3个工作日") for line in lines)
    assert any(line.startswith("日历版本：2026+") for line in lines)


def test_json_has_the_contract_keys():
    result = gongkai(
        "deadline", "2026-09-25", "--days", "20", "--json", "--pause", "2026-10-12:2026-10-13:征求第三方意见"
    )
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout.splitlines()[-1])
    assert payload["start"] == "2026-09-25"
    assert payload["days"] == 20
    assert payload["due"] == "2026-11-02"
    assert payload["provisional"] is False
    assert payload["calendar_version"] == CAL.version
    assert {"date": "2026-10-12", "kind": "pause", "reason": "征求第三方意见"} in payload["not_counted"]
    assert {"date": "2026-10-01", "kind": "holiday", "reason": "国庆节"} in payload["not_counted"]


def test_a_provisional_due_date_exits_2_unless_allowed():
    refused = gongkai("deadline", "2026-12-20", "--days", "20")
    assert refused.returncode == 2
    assert refused.stdout == ""
    assert "--allow-provisional" in refused.stderr and "临时推算" in refused.stderr
    allowed = gongkai("deadline", "2026-12-20", "--days", "20", "--allow-provisional", "--json")
    assert allowed.returncode == 0, allowed.stderr
    payload = json.loads(allowed.stdout)
    assert payload["provisional"] is True and payload["due"] == "2027-01-18"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["2007-12-20", "--days", "20"], "早于工作日日历的起点"),
        (["2026-02-30", "--days", "20"], "不是有效日期"),
        (["2026-03-02", "--days", "-3"], "不能为负数"),
        (["2026-03-02", "--days", "abc"], "不是整数"),
        (["2026-03-02", "--days", "20", "--extend", "21"], "0 至 20"),
        (
            [
                "2026-03-02",
                "--days",
                "20",
                "--pause",
                "2026-03-09:2026-03-12",
                "--pause",
                "2026-03-11:2026-03-13",
            ],
            "重叠",
        ),
        (["2026-03-02", "--days", "20", "--pause", "2026-03-09"], "格式"),
        (["2026-03-02"], "缺少 --days"),
    ],
)
def test_bad_input_exits_2_with_a_chinese_message(args, message):
    result = gongkai("deadline", *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stderr.startswith("错误：")
    assert result.stdout == ""


def test_batch_prints_one_due_date_per_line_in_order():
    rng = random.Random(20260925)
    starts = [date(2008, 1, 1) + timedelta(days=rng.randrange(0, 6850)) for _ in range(2000)]  # due within 2026
    days = [rng.randrange(0, 61) for _ in starts]
    lines = "".join(f"{s.isoformat()} {n}\n" for s, n in zip(starts, days, strict=True))
    result = gongkai("deadline", "--batch", stdin=lines)
    assert result.returncode == 0, result.stderr
    expected = [CAL.add_working_days(s, n).isoformat() for s, n in zip(starts, days, strict=True)]
    assert result.stdout.splitlines() == expected


def test_batch_refuses_a_bad_line_naming_its_number():
    result = gongkai("deadline", "--batch", stdin="2026-03-02 20\n2026-03-02 20\n2026-3-x 5\n")
    assert result.returncode == 2
    assert "第 3 行" in result.stderr
    assert result.stdout == ""


def test_batch_refuses_provisional_dates_unless_allowed():
    refused = gongkai("deadline", "--batch", stdin="2026-03-02 20\n2026-12-20 20\n")
    assert refused.returncode == 2 and "第 2 行" in refused.stderr
    allowed = gongkai("deadline", "--batch", "--allow-provisional", stdin="2026-03-02 20\n2026-12-20 20\n")
    assert allowed.stdout.splitlines() == ["2026-03-30", "2027-01-18"]


def test_batch_refuses_negative_days_and_dates_before_2008():
    assert "不能为负数" in gongkai("deadline", "--batch", stdin="2026-03-02 -1\n").stderr
    before = gongkai("deadline", "--batch", stdin="2026-03-02 1\n2007-06-01 1\n")
    assert before.returncode == 2 and "第 2 行" in before.stderr


def test_batch_ignores_blank_lines_at_the_end_and_accepts_windows_line_ends():
    result = gongkai("deadline", "--batch", stdin="2026-03-02 20\r\n2026-01-01 5\r\n\n\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["2026-03-30", "2026-01-08"]
    inner = gongkai("deadline", "--batch", stdin="2026-03-02 20\n\n2026-01-01 5\n")
    assert inner.returncode == 2 and "第 2 行" in inner.stderr
