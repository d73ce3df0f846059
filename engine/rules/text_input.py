"""Text as people may type it: which characters are refused at input (pure; used by every channel)."""

from __future__ import annotations

import re

# C0 controls except tab/newline/carriage return, DEL, C1 controls, and lone surrogates: none belongs in a name, a
# reason or a letter; PostgreSQL refuses NUL outright and a BEL breaks every xlsx export.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# Single-line fields (names, numbers, phone…) refuse line breaks and tabs too.
_CONTROL_SINGLE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def has_control_characters(value: str, *, multiline: bool = True) -> bool:
    """Whether `value` holds a character refused at input."""
    return bool((_CONTROL if multiline else _CONTROL_SINGLE_LINE).search(value or ""))


def text_problem(value: str, label: str, max_len: int, *, multiline: bool = True) -> str | None:
    """The Chinese reason `value` cannot be stored in a field of `max_len` characters, or None."""
    if has_control_characters(value, multiline=multiline):
        return f"{label}含有不允许的控制字符（如空字符），请删除后重新填写"
    if len(value or "") > max_len:
        return f"{label}过长（最多 {max_len} 字，现有 {len(value)} 字）"
    return None
