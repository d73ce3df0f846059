"""`gongkai calendar show` and `gongkai calendar check` (DESIGN §7)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from engine.config import PROJECT_ROOT

GONGKAI = str(Path(sys.executable).parent / "gongkai")


def gongkai(*args: str, holidays_dir: Path = PROJECT_ROOT / "holidays") -> subprocess.CompletedProcess:
    env = {**os.environ, "GONGKAI_HOLIDAYS_DIR": str(holidays_dir)}
    return subprocess.run(
        [GONGKAI, *args], capture_output=True, text=True, encoding="utf-8", env=env, timeout=60
    )


def test_show_lists_the_notice_its_amendment_and_each_block():
    result = gongkai("calendar", "show", "2020")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "国办发明电〔2019〕16号" in out and "国办发明电〔2020〕1号" in out
    assert "2020年1月24日（星期五）至2020年1月30日（星期四），共 7 天" in out
    assert "取消补班：2020年2月1日（星期六）" in out
    assert "补班（上班）：2020年9月27日（星期日）、2020年10月10日（星期六）" in out


def test_show_includes_the_previous_december_set_by_the_notice():
    out = gongkai("calendar", "show", "2019").stdout
    assert "2018年12月30日（星期日）至2019年1月1日（星期二）" in out
    assert "补班（上班）：2018年12月29日（星期六）" in out


def test_show_of_a_year_without_a_notice_is_marked_provisional():
    result = gongkai("calendar", "show", "2027")
    assert result.returncode == 0
    assert "临时推算" in result.stdout
    assert "春节：2027年2月5日（星期五）至2027年2月8日（星期一）" in result.stdout


def test_show_outside_the_range_exits_2():
    result = gongkai("calendar", "show", "2001")
    assert result.returncode == 2 and "不在工作日日历范围内" in result.stderr


def test_check_reports_coverage_and_the_last_year():
    result = gongkai("calendar", "check", "--today", "2026-06-01")
    assert result.returncode == 0, result.stderr
    assert "覆盖范围：2008-01-01 至 2026-12-31" in result.stdout
    assert "最后覆盖年份：2026" in result.stdout
    assert result.stderr == ""


def test_check_warns_from_november_when_next_years_notice_is_missing():
    result = gongkai("calendar", "check", "--today", "2026-11-02")
    assert result.returncode == 0
    assert "2027 年的放假通知尚未录入" in result.stderr
    assert gongkai("calendar", "check", "--today", "2026-10-31").stderr == ""


def test_check_exits_1_on_invalid_data_naming_the_file_and_line(tmp_path):
    for path in (PROJECT_ROOT / "holidays").glob("*.toml"):
        (tmp_path / path.name).write_bytes(path.read_bytes())
    text = (
        (tmp_path / "2024.toml")
        .read_text(encoding="utf-8")
        .replace("makeup = [2024-09-14]", "makeup = [2024-09-13]")
    )
    (tmp_path / "2024.toml").write_text(text, encoding="utf-8")
    line = next(n for n, t in enumerate(text.splitlines(), 1) if "2024-09-13" in t)
    result = gongkai("calendar", "check", holidays_dir=tmp_path)
    assert result.returncode == 1
    assert f"2024.toml:{line}" in result.stderr
    assert "补班日只能在周六或周日" in result.stderr
    also = gongkai("calendar", "check", "--dir", str(tmp_path))
    assert also.returncode == 1
