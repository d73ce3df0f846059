"""GONGKAI_WORKER_NICE is read as an integer from 0 to 19; anything else is refused in Chinese, naming the value."""

from __future__ import annotations

import pytest

from engine.config import _worker_nice


@pytest.mark.parametrize(("value", "expected"), [("0", 0), (" 5 ", 5), (10, 10), ("19", 19), ("１０", 10)])
def test_a_niceness_from_0_to_19_is_read(value, expected):
    assert _worker_nice(value) == expected


@pytest.mark.parametrize("value", ["20", "-1", str(2**63), "abc", "", "²", "1.5", "5\x00"])
def test_anything_else_is_refused_in_chinese_naming_the_value(value):
    with pytest.raises(ValueError, match="GONGKAI_WORKER_NICE（worker_nice）应为 0 至 19 的整数") as refused:
        _worker_nice(value)
    assert f"现为「{value}」" in str(refused.value)
