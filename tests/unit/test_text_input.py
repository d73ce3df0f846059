"""Which characters text input refuses (engine.rules.text_input): besides the control characters, the invisible
bidirectional embeddings, overrides and isolates that make stored text show in another order."""

from __future__ import annotations

import re

import pytest

from engine.rules.text_input import has_control_characters, text_problem
from webui.api.schemas import PRINTABLE

BIDI_CONTROLS = [chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))]


@pytest.mark.parametrize("control", BIDI_CONTROLS, ids=[f"U+{ord(c):04X}" for c in BIDI_CONTROLS])
@pytest.mark.parametrize("multiline", [True, False])
def test_a_bidirectional_embedding_override_or_isolate_is_refused(control, multiline):
    value = f"不予{control}公开"
    assert has_control_characters(value, multiline=multiline)
    problem = text_problem(value, "申请内容", 100, multiline=multiline)
    assert problem is not None and problem.startswith("申请内容含有不允许的控制字符") and "方向" in problem
    assert re.match(PRINTABLE, value) is None  # the API's published pattern refuses it too


@pytest.mark.parametrize("value", [
    "مرحبا 张三",            # right-to-left letters themselves
    "\u200e张三\u200f",       # the left-to-right and right-to-left marks
    "עברית (123)",
    "〔2026〕第1号\t附件",
    "第一行\n第二行",
])
def test_right_to_left_text_and_the_direction_marks_are_kept(value):
    assert not has_control_characters(value)
    assert text_problem(value, "申请内容", 100) is None
    assert re.match(PRINTABLE, value) is not None


def test_the_neighbours_of_the_refused_ranges_are_kept():
    for code in (0x2029, 0x202F, 0x2065, 0x206A):
        assert not has_control_characters(f"甲{chr(code)}乙", multiline=False), f"U+{code:04X}"
