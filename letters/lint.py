"""A wording lint for letter text as the applicant reads it (the PDF's extracted text, or a slot's preview).

It catches what a legal review of the sample letters found: a default sentence repeated when a reason is left
blank, doubled punctuation and doubled quotes, ASCII quotes in Chinese text, and internal codes or file names
leaking into a document (THIRD_PARTY, record_id, receipt-1.png, template hashes). Each problem is one Chinese
sentence naming what was found, so that an administrator saving wording sees what to fix.
"""

from __future__ import annotations

import re

# Line breaks in extracted PDF text fall anywhere in a Chinese line; page footers are "— 1 —".
_FOOTER = re.compile(r"^\s*[—-]\s*\d+\s*[—-]\s*$", re.M)
_SENTENCE_END = re.compile(r"(?<=[。！？；\n])")
_CJK = r"\u3400-\u9fff\U00020000-\U0003134f"

# Two marks that never stand together in a Chinese sentence (“……” and “——” are single marks, written twice).
_PUNCT = "，。；：、！？"
_DOUBLED_PUNCT = re.compile(rf"[{_PUNCT}][{_PUNCT}]")
_DOUBLED_QUOTES = re.compile(r"““|””|「「|」」|《《|》》|（（|））")
_ASCII_QUOTE = re.compile(rf"[{_CJK}，。；：]\s*[\"']|[\"']\s*[{_CJK}]")
# ASCII word edges (a Chinese character next to a code is an edge: `\b` would not see one there).
_A, _Z = r"(?<![A-Za-z0-9_])", r"(?![A-Za-z0-9_])"
# Codes of the engine (outcome and party kinds, snake_case keys), file names and template versions.
_INTERNAL = (
    (re.compile(rf"{_A}[A-Z]{{2,}}(?:_[A-Z0-9]+)+{_Z}"), "内部代码"),
    (re.compile(rf"{_A}[a-z]+(?:_[a-z0-9]+)+{_Z}"), "内部字段名"),
    (re.compile(rf"{_A}[A-Za-z0-9_-]+\.(?:png|jpe?g|pdf|json|html|tiff?){_Z}", re.I), "文件名"),
    (re.compile(rf"{_A}[a-z_]+@[0-9a-f]{{8,}}{_Z}"), "模板版本号"),
    (re.compile(rf"{_A}[0-9a-f]{{32,}}{_Z}"), "哈希值"),
)
_MIN_REPEATED = 10  # shorter sentences ("特此告知。") may legitimately recur in a long letter
# A reply answers item by item ("一、关于…"); each item may cite the same article in the same words.
_ITEM_HEADING = re.compile(r"^[一二三四五六七八九十百]+、")


def normalise(text: str) -> str:
    """Extracted PDF text as one running text: footers dropped, line breaks inside Chinese lines removed."""
    text = _FOOTER.sub("", text)
    lines = [line.strip(" \t\f\u3000") for line in text.splitlines()]
    out: list[str] = []
    for line in filter(None, lines):
        if out and not _ITEM_HEADING.match(line) and not _ITEM_HEADING.match(out[-1]) and re.match(rf"[{_CJK}（“《，。；：、]", line[:1] or " ") \
                and re.search(rf"[{_CJK}）”》，。；：、\d]$", out[-1]):
            out[-1] += line
        else:
            out.append(line)
    return "\n".join(out)


def wording_problems(text: str) -> list[str]:
    """Problems in `text` (each a Chinese sentence); empty when the wording is clean."""
    running = normalise(text)
    problems: list[str] = []
    for section in _sections(running):
        seen: dict[str, int] = {}
        for sentence in _SENTENCE_END.split(section):
            sentence = sentence.strip()
            if len(sentence) >= _MIN_REPEATED:
                seen[sentence] = seen.get(sentence, 0) + 1
        for sentence, count in seen.items():
            if count > 1:
                problems.append(f"句子重复出现 {count} 次：“{_clip(sentence)}”")
    for pattern, what in ((_DOUBLED_PUNCT, "标点重复"), (_DOUBLED_QUOTES, "引号或括号重复")):
        for match in pattern.finditer(running):
            problems.append(f"{what}：“{_context(running, match)}”")
    for match in _ASCII_QUOTE.finditer(running):
        problems.append(f"中文中使用了半角引号，应使用“”：“{_context(running, match)}”")
    for pattern, what in _INTERNAL:
        for match in pattern.finditer(running):
            if _inside_url(running, match.start()):
                continue
            problems.append(f"出现{what}「{match.group(0)}」，文书中应使用中文名称")
    return problems


def _sections(running: str) -> list[str]:
    """The text before the first item heading, then each item's text (repetition is looked for within one)."""
    sections = [""]
    for line in running.splitlines():
        if _ITEM_HEADING.match(line):
            sections.append("")
        sections[-1] += line + "\n"
    return sections


def _inside_url(text: str, pos: int) -> bool:
    start = max(text.rfind(" ", 0, pos), text.rfind("\n", 0, pos), text.rfind("（", 0, pos))
    return "://" in text[start + 1:pos] or "www." in text[start + 1:pos]


def _context(text: str, match: re.Match) -> str:
    return text[max(0, match.start() - 8):match.end() + 8].replace("\n", "")


def _clip(sentence: str, width: int = 30) -> str:
    return sentence if len(sentence) <= width else sentence[:width] + "…"
