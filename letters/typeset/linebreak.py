"""Line breaking: wrapping text to a width in points by the rules of Chinese typesetting (禁则)."""

from __future__ import annotations

import re
from collections.abc import Callable

from letters.typeset.fonts import Style

# Line-breaking rules (禁则): no line starts with closing punctuation, none ends with opening punctuation.
NO_LINE_START = frozenset("，。、；：？！）》」』”’〕】〉…—·,.;:?!)]}%")
NO_LINE_END = frozenset("（《「『“‘〔【〈([{")
# Characters that stay together as one word (numbers, Latin words, hashes, URLs); break inside only if too long.
_WORD = re.compile(r"[0-9A-Za-z_\-./:@#%&+=~]+|.", re.DOTALL)


def wrap(text: str, style: Style, width: float) -> list[str]:
    """Lines of at most `width` points: CJK breaks between any two characters, Latin words and numbers stay
    whole unless longer than a line, and punctuation obeys 禁则: a closing mark never starts a line (it takes the
    word it closes down with it, and hangs past the edge only when there is no other place to break), an opening
    mark never ends one."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        lines.extend(_wrap_paragraph(paragraph, style, width))
    return lines


def _wrap_paragraph(text: str, style: Style, width: float) -> list[str]:
    if not text:
        return [""]
    size, spacing, stack_width = style.size, style.spacing, style.stack.width
    limit = width + 0.01

    def measure(word: str) -> float:
        return stack_width(word, size, spacing)

    lines: list[str] = []
    line: list[str] = []
    for word in _WORD.findall(text):
        # A number, hash or URL longer than a line goes in character by character, so it may break anywhere.
        for token in (word if len(word) > 1 and measure(word) > limit else (word,)):
            if token == " " and not line and lines:
                continue  # the spaces at a break go with it
            line.append(token)
            # Trailing spaces never overflow a line: the break waits for the next token, because only then is
            # it known whether a closing mark follows (and must not start the next line).
            while measure("".join(line).rstrip(" ")) > limit:
                line = _break(line, lines, measure, limit)
    if line or not lines:
        lines.append("".join(line).rstrip(" "))
    return lines


def _rank(head: str, tail: list[str]) -> int:
    """How good a break is between `head` (the line it ends) and `tail` (the tokens that move down): 0 obeys 禁则;
    1 is what 禁则 tolerate when nothing else fits, a break inside a run of closing marks or after a line of a
    single character; 2 leaves only the paragraph's indent on the line; 3 breaks 禁则."""
    if not head:
        return 2
    end, start = head[-1], tail[0][0]
    if end not in NO_LINE_END and start not in NO_LINE_START:
        return 0
    if len(head) == 1 or (end in NO_LINE_START and start in NO_LINE_START):
        return 1
    return 3


def _break(line: list[str], lines: list[str], measure: Callable[[str], float], limit: float) -> list[str]:
    """Ends the line in `line`, whose last token overflowed it (everything before that token fits), at the
    last of its best places to break; appends it to `lines` and returns the tokens that move down. So a closing
    mark takes the word it closes down with it, and an opening mark moves down with what it opens."""
    places = []  # (the line, what moves down), last place first; spaces at a break go with it
    for i in range(len(line) - 1, 0, -1):
        tail = line[i:]
        while tail[0] == " ":
            tail = tail[1:]
        places.append(("".join(line[:i]).rstrip(" "), tail))
    best = min(places, key=lambda place: _rank(*place), default=None)  # min keeps the first of equals
    rank = _rank(*best) if best else 4

    # Where 禁则 allow no break, a closing mark hangs past the edge; a word it begins (".pdf") moves down without
    # it. A break 禁则 tolerate comes first if the hang would drop the spaces before the mark (the line would no
    # longer be a piece of the text); the indent's own line too if it would split a word.
    last, before = line[-1], "".join(line[:-1])
    keeps_spaces = measure(before) <= limit
    if last[0] in NO_LINE_START and rank > (2 if len(last) > 1 else 0 if keeps_spaces else 1):
        lines.append((before if keeps_spaces else before.rstrip(" ")) + last[0])
        return [last[1:]] if len(last) > 1 else []
    if best is None:  # nothing to break at: a single character wider than the line
        lines.append("".join(line))
        return []
    lines.append(best[0])
    return best[1]
