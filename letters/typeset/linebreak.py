"""Line breaking: wrapping text to a width in points by the rules of Chinese typesetting (禁则)."""

from __future__ import annotations

import re

from letters.typeset.fonts import Style

# Line-breaking rules (禁则): no line starts with closing punctuation, none ends with opening punctuation.
NO_LINE_START = frozenset("，。、；：？！）》」』”’〕】〉…—·,.;:?!)]}%")
NO_LINE_END = frozenset("（《「『“‘〔【〈([{")
# Characters that stay together as one word (numbers, Latin words, hashes, URLs); break inside only if too long.
_WORD = re.compile(r"[0-9A-Za-z_\-./:@#%&+=~]+|.", re.DOTALL)


def wrap(text: str, style: Style, width: float) -> list[str]:
    """Lines of at most `width` points: CJK breaks between any two characters, Latin words and numbers stay
    whole unless longer than a line, and punctuation obeys 禁则: a closing mark never starts a line (it takes the
    word it closes down with it, and hangs past the edge only when that would empty the line), an opening mark
    never ends one."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        lines.extend(_wrap_paragraph(paragraph, style, width))
    return lines


def _wrap_paragraph(text: str, style: Style, width: float) -> list[str]:
    if not text:
        return [""]
    size, spacing, glyph = style.size, style.spacing, style.stack.glyph

    def measure(word: str) -> float:
        return sum(glyph(c).advance for c in word) * size / 1000 + spacing * len(word)

    lines: list[str] = []
    words: list[str] = []
    used = 0.0
    for word in _WORD.findall(text):
        word_width = measure(word)
        if used + word_width <= width + 0.01:
            words.append(word)
            used += word_width
            continue
        if len(word) > 1 and word_width > width:  # a long number, hash or URL: break it anywhere
            for char in word:
                char_width = measure(char)
                if used + char_width > width + 0.01 and words:
                    lines.append("".join(words).rstrip(" "))
                    words, used = [], 0.0
                words.append(char)
                used += char_width
            continue
        carried: list[str] = []
        while words and words[-1] == " ":
            words.pop()
        if word in NO_LINE_START:
            # The closing mark takes the word it closes (and any marks between) to the next line ...
            attached = len(words) - 1
            while attached > 0 and words[attached] in NO_LINE_START:
                attached -= 1
            if attached < 1:  # ... unless that would empty this line: then the mark hangs past the edge
                lines.append("".join([*words, word]))
                words, used = [], 0.0
                continue
            carried = words[attached:]
            del words[attached:]
        while len(words) > 1 and words[-1] in NO_LINE_END:  # an opening mark moves down with what it opens
            carried.insert(0, words.pop())
        if words:
            lines.append("".join(words))
        words = carried + ([] if word == " " else [word])
        used = sum(measure(w) for w in words)
    if words or not lines:
        lines.append("".join(words).rstrip(" "))
    return lines
