"""The holiday-data loader refuses bad files with the file and the line (CalendarDataError)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from engine.config import PROJECT_ROOT
from engine.rules.calendar import CalendarDataError, load_calendar

GOOD_2026 = (PROJECT_ROOT / "holidays" / "2026.toml").read_text(encoding="utf-8")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    for path in (PROJECT_ROOT / "holidays").glob("*.toml"):
        (tmp_path / path.name).write_bytes(path.read_bytes())
    return tmp_path


def _line_containing(text: str, needle: str, nth: int = 1) -> int:
    hits = [number for number, line in enumerate(text.splitlines(), 1) if needle in line]
    return hits[nth - 1]


def _refused(data_dir: Path, year: int, text: str) -> CalendarDataError:
    (data_dir / f"{year}.toml").write_text(text, encoding="utf-8")
    with pytest.raises(CalendarDataError) as caught:
        load_calendar(data_dir)
    assert caught.value.path.name == f"{year}.toml"
    return caught.value


def test_the_real_data_loads():
    cal = load_calendar(PROJECT_ROOT / "holidays")
    assert cal.covered_years[-1] == 2026


def test_a_make_up_day_on_a_weekday_is_refused_with_its_line(data_dir):
    text = GOOD_2026.replace("makeup = [2026-05-09]", "makeup = [2026-05-08]")
    error = _refused(data_dir, 2026, text)
    assert error.line == _line_containing(text, "2026-05-08")
    assert "补班日只能在周六或周日" in str(error)
    assert f"2026.toml:{error.line}" in str(error)


def test_a_date_both_rest_and_make_up_is_refused(data_dir):
    text = GOOD_2026.replace(
        "makeup = [2026-05-09]",
        'makeup = [2026-05-09]\n\n[[blocks]]\nname = "测试"\nnotice = "国办发明电〔2025〕7号"\nrest = [2026-10-10]',
    )
    error = _refused(data_dir, 2026, text)
    assert "既是休息日又是补班日" in error.message
    assert "2026-10-10" in text.splitlines()[error.line - 1]


def test_a_gap_inside_a_rest_block_is_refused(data_dir):
    text = GOOD_2026.replace("rest = [2026-06-19, 2026-06-20, 2026-06-21]", "rest = [2026-06-19, 2026-06-21]")
    error = _refused(data_dir, 2026, text)
    assert "休息日应连续" in error.message
    assert error.line == _line_containing(text, "rest = [2026-06-19, 2026-06-21]")


def test_a_block_without_a_name_is_refused(data_dir):
    text = GOOD_2026.replace('name = "端午节"\n', "")
    error = _refused(data_dir, 2026, text)
    assert "缺少名称" in error.message
    assert error.line == _line_containing(text, "[[blocks]]", 5)


def test_a_duplicate_date_in_one_notice_is_refused(data_dir):
    text = GOOD_2026.replace(
        "rest = [2026-06-19, 2026-06-20, 2026-06-21]",
        'rest = [2026-06-19, 2026-06-20, 2026-06-21]\n\n[[blocks]]\nname = "重复"\nnotice = "国办发明电〔2025〕7号"\nrest = [2026-06-19]',
    )
    error = _refused(data_dir, 2026, text)
    assert "重复" in error.message


def test_a_date_outside_the_notice_year_or_previous_december_is_refused(data_dir):
    text = GOOD_2026.replace("makeup = [2026-01-04]", "makeup = [2025-11-29]")
    error = _refused(data_dir, 2026, text)
    assert "上一年 12 月" in error.message
    assert error.line == _line_containing(text, "2025-11-29")


def test_a_previous_december_date_is_accepted(data_dir):
    text = GOOD_2026.replace("makeup = [2026-01-04]", "makeup = [2025-12-27, 2026-01-04]")
    (data_dir / "2026.toml").write_text(text, encoding="utf-8")
    assert load_calendar(data_dir).day_kind(date(2025, 12, 27)).kind == "makeup"


def test_a_notice_without_its_number_is_refused(data_dir):
    text = GOOD_2026.replace('number = "国办发明电〔2025〕7号"\n', "")
    error = _refused(data_dir, 2026, text)
    assert "文号" in error.message
    assert error.line == _line_containing(text, "[[notices]]")


def test_a_block_naming_an_unknown_notice_is_refused(data_dir):
    text = GOOD_2026.replace('notice = "国办发明电〔2025〕7号"', 'notice = "国办发明电〔2025〕99号"', 1)
    error = _refused(data_dir, 2026, text)
    assert "国办发明电〔2025〕99号" in error.message
    assert error.line == _line_containing(text, "99号")


def test_an_amendment_must_name_the_notice_it_amends(data_dir):
    text = (PROJECT_ROOT / "holidays" / "2020.toml").read_text(encoding="utf-8")
    text = text.replace('amends = "国办发明电〔2019〕16号"\n', "")
    error = _refused(data_dir, 2020, text)
    assert "amends" in error.message


def test_resting_on_a_make_up_day_needs_an_explicit_cancellation(data_dir):
    text = (PROJECT_ROOT / "holidays" / "2020.toml").read_text(encoding="utf-8")
    text = text.replace("cancel_makeup = [2020-02-01]\n", "")
    error = _refused(data_dir, 2020, text)
    assert "cancel_makeup" in error.message
    assert error.line == _line_containing(text, "rest = [2020-01-31")


def test_cancelling_a_day_that_is_not_a_make_up_day_is_refused(data_dir):
    text = (PROJECT_ROOT / "holidays" / "2020.toml").read_text(encoding="utf-8")
    text = text.replace("cancel_makeup = [2020-02-01]", "cancel_makeup = [2020-02-01, 2020-02-08]")
    error = _refused(data_dir, 2020, text)
    assert "并不是补班日" in error.message


def test_a_toml_syntax_error_names_its_line(data_dir):
    text = GOOD_2026.replace("rest = [2026-06-19,", "rest = [2026-06-19,,", 1)
    error = _refused(data_dir, 2026, text)
    assert error.line == _line_containing(text, ",,")
    assert "TOML" in error.message


def test_a_year_that_does_not_match_the_file_name_is_refused(data_dir):
    error = _refused(data_dir, 2026, GOOD_2026.replace("year = 2026", "year = 2025"))
    assert error.line == 2


def test_a_missing_year_in_the_middle_is_refused(data_dir):
    (data_dir / "2013.toml").unlink()
    with pytest.raises(CalendarDataError, match="2013.toml"):
        load_calendar(data_dir)


def test_an_empty_directory_is_refused(tmp_path):
    with pytest.raises(CalendarDataError, match="没有节假日数据文件"):
        load_calendar(tmp_path)


def test_a_date_typed_as_text_is_refused(data_dir):
    text = GOOD_2026.replace("makeup = [2026-05-09]", 'makeup = ["2026-05-09"]')
    error = _refused(data_dir, 2026, text)
    assert "不是日期" in error.message
