"""Text as people may type it: which characters are refused at input (pure; used by every channel)."""

from __future__ import annotations

import re

# C0 controls except tab/newline/carriage return, DEL, C1 controls, and lone surrogates: none belongs in a name, a
# reason or a letter; PostgreSQL refuses NUL outright and a BEL breaks every xlsx export. And the bidirectional
# embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069): invisible, they make the text that follows
# them show in another order than it is stored and read (「U+202E」 turns 「不予公开」 into 「开公予不」 on screen and in a
# letter's PDF) — text the applicant, the reviewer and a court would read differently. The marks U+200E/U+200F
# and right-to-left letters themselves are kept.
# As regular-expression ranges (escapes, not the characters): the API publishes them in its schema's pattern.
CONTROL_RANGES = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
BIDI_CONTROLS = r"\u202a-\u202e\u2066-\u2069"
_SURROGATES = r"\ud800-\udfff"
_CONTROLS = CONTROL_RANGES + _SURROGATES
_CONTROLS_SINGLE_LINE = r"\x00-\x1f\x7f-\x9f" + _SURROGATES  # single-line fields refuse line breaks and tabs too
_REFUSED = {  # (multiline, bidi) → the pattern
    (True, True): re.compile(f"[{_CONTROLS}{BIDI_CONTROLS}]"),
    (False, True): re.compile(f"[{_CONTROLS_SINGLE_LINE}{BIDI_CONTROLS}]"),
    (True, False): re.compile(f"[{_CONTROLS}]"),
    (False, False): re.compile(f"[{_CONTROLS_SINGLE_LINE}]"),
}


def has_control_characters(value: str, *, multiline: bool = True, bidi: bool = True) -> bool:
    """Whether `value` holds a character refused at input. `bidi=False`: the control characters only, not the
    bidirectional controls (for a value stored before they were refused, `engine.persistence.guards`)."""
    return bool(_REFUSED[multiline, bidi].search(value or ""))


def control_characters_message(label: str) -> str:
    return f"{label}含有不允许的控制字符（如空字符、改变文字显示方向的控制符），请删除后重新填写"


def text_problem(value: str, label: str, max_len: int, *, multiline: bool = True) -> str | None:
    """The Chinese reason `value` cannot be stored in a field of `max_len` characters, or None."""
    if has_control_characters(value, multiline=multiline):
        return control_characters_message(label)
    if len(value or "") > max_len:
        return f"{label}过长（最多 {max_len} 字，现有 {len(value)} 字）"
    return None
