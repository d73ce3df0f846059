"""An agency's own wording of the free paragraphs of a letter (slots), inside fixed legal blocks.

Every letter type has named slots — the paragraphs an agency may word its own way (the opening of a receipt,
further instructions, the closing, the signature line, the contact note) — and fixed blocks the template always
writes from the case (articles, reasons, periods, remedies, numbers, dates). A slot is plain Chinese text with a
few named placeholders (`{登记编号}`); no template language reaches the agency: anything else in braces, markup
and control characters are refused, and the accepted text is filled by plain substitution and then autoescaped by
Jinja as data. The defaults are the templates' own wording, so a letter without an agency version is unchanged.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

from letters.catalogue import LETTER_TYPES
from letters.errors import LetterDataError

MAX_SLOT_LENGTH = 1000
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_TEMPLATE_SYNTAX = re.compile(r"\{\{|\}\}|\{%|%\}|\{#|#\}")
_MARKUP = re.compile(r"[<>]")
# Categories no letter text needs: control and format characters, surrogates, private use, unassigned.
_FORBIDDEN_CATEGORIES = ("Cc", "Cf", "Cs", "Co", "Cn")


@dataclass(frozen=True)
class Slot:
    """One editable paragraph: its key, its Chinese label, what it is for, and the placeholders it must keep."""

    name: str
    label: str
    hint: str
    required: tuple[str, ...] = ()


@dataclass(frozen=True)
class Placeholder:
    """A named value an agency may write into a slot as `{名称}`, taken from the letter's data."""

    name: str
    description: str
    value: Callable[[object], str | None]


def _cn_date(value: date | None) -> str | None:
    return f"{value.year}年{value.month}月{value.day}日" if value else None


def _attr(name: str) -> Callable[[object], str | None]:
    return lambda letter: getattr(letter, name, None) or None


_COMMON_PLACEHOLDERS = (
    Placeholder("机关名称", "发文机关名称", _attr("agency_name")),
    Placeholder("收件人", "主送（本文书的收件人）", _attr("recipient")),
    Placeholder("登记编号", "申请的登记编号", _attr("registration_number")),
    Placeholder("收到日期", "收到申请之日（如2026年11月2日）", lambda letter: _cn_date(getattr(letter, "received_on", None))),
    Placeholder("成文日期", "本文书的成文日期", lambda letter: _cn_date(getattr(letter, "issued_on", None))),
    Placeholder("文号", "本文书的文号（登记回执无文号）", _attr("doc_number")),
    Placeholder("联系方式", "机关设置中的联系方式", _attr("contact")),
    Placeholder("联系电话", "机关设置中的联系电话", _attr("contact_phone")),
)
_APPLICANT = Placeholder("申请人", "申请人姓名或名称", _attr("recipient"))
_EXTRA_PLACEHOLDERS = {
    "receipt": (_APPLICANT, Placeholder("申请渠道", "提交申请的方式（如网络、邮寄）", _attr("channel"))),
}
# Letters addressed to someone other than the applicant (a third party, a co-author agency) have no {申请人}.
_NOT_TO_APPLICANT = frozenset({"third_party_consultation", "third_party_disclosure_notice", "agency_consultation"})

_ADDITIONAL = Slot("additional", "补充告知事项",
                   "正文之后、救济途径之前另起一段，如送达、提交材料或咨询的说明；留空则不印")
_CLOSING = Slot("closing", "结束语", "正文末尾的结束语，如“特此告知。”；留空则不印")
_SIGNATURE = Slot("signature", "发文机关署名", "落款处的发文机关署名，须包含 {机关名称}", required=("机关名称",))
_CONTACT = Slot("contact", "联系方式（附注）",
                "成文日期下方括号内的附注，如联系人和电话；所用占位符没有值时整段不印")
_RECEIPT_OPENING = Slot("opening", "开头语", "回执第一段，须写明收到申请之日 {收到日期}", required=("收到日期",))

_DEFAULTS = {
    "opening": "本机关已于{收到日期}收到你（单位）通过{申请渠道}方式提交的政府信息公开申请，该日为收到申请之日。"
               "现予登记，有关事项告知如下：",
    "additional": "",
    "closing": "特此告知。",
    "signature": "{机关名称}",
    "contact": "{联系方式}",
}
_DEFAULT_OVERRIDES = {
    "receipt": {"closing": ""},
    "third_party_consultation": {"closing": "特此函询。"},
    "agency_consultation": {"closing": "特此函询。"},
}


def _known(letter_type: str) -> None:
    if letter_type not in LETTER_TYPES:
        known = "、".join(LETTER_TYPES)
        raise LetterDataError("letter_type", f"未知的文书类型：{letter_type}（可用：{known}）")


# A third party answers the consultation to the contact the letter gives (条例第32条): its note must keep it.
_CONTACT_TO_ANSWER = Slot("contact", "联系方式（附注）",
                          "成文日期下方括号内的附注：第三方据此提出意见，须包含 {联系方式}", required=("联系方式",))


def slots(letter_type: str) -> tuple[Slot, ...]:
    """The editable slots of `letter_type`, in the order they appear on the letter."""
    _known(letter_type)
    opening = (_RECEIPT_OPENING,) if letter_type == "receipt" else ()
    contact = _CONTACT_TO_ANSWER if letter_type == "third_party_consultation" else _CONTACT
    return (*opening, _ADDITIONAL, _CLOSING, _SIGNATURE, contact)


def placeholders(letter_type: str) -> tuple[Placeholder, ...]:
    """The placeholders a slot of `letter_type` may use."""
    _known(letter_type)
    extra = _EXTRA_PLACEHOLDERS.get(letter_type, () if letter_type in _NOT_TO_APPLICANT else (_APPLICANT,))
    return (*_COMMON_PLACEHOLDERS, *extra)


def placeholder_names(letter_type: str) -> list[str]:
    return [placeholder.name for placeholder in placeholders(letter_type)]


def default_slots(letter_type: str) -> dict[str, str]:
    """Today's wording of every slot of `letter_type` (what a letter without an agency version says)."""
    overrides = _DEFAULT_OVERRIDES.get(letter_type, {})
    return {slot.name: overrides.get(slot.name, _DEFAULTS[slot.name]) for slot in slots(letter_type)}


def slot_problems(letter_type: str, given: Mapping[str, object]) -> dict[str, str]:
    """Each refused slot of `given` with a Chinese sentence naming it and the problem; empty when all are valid."""
    specs = {slot.name: slot for slot in slots(letter_type)}
    allowed = placeholder_names(letter_type)
    problems: dict[str, str] = {}
    for name, text in given.items():
        slot = specs.get(name)
        if slot is None:
            problems[str(name)] = f"“{name}”不是{LETTER_TYPES[letter_type].title}可编辑的措辞栏目（可编辑：{'、'.join(specs)}）"
            continue
        problem = _text_problem(text, slot, allowed)
        if problem:
            problems[name] = f"措辞“{slot.label}”（{name}）{problem}"
    return problems


def _text_problem(text: object, slot: Slot, allowed: list[str]) -> str | None:
    if not isinstance(text, str):
        return "应为文本"
    if len(text) > MAX_SLOT_LENGTH:
        return f"过长（不超过{MAX_SLOT_LENGTH}字）"
    for char in text:
        if unicodedata.category(char) in _FORBIDDEN_CATEGORIES:
            what = "换行" if char in "\r\n" else f"控制字符 U+{ord(char):04X}"
            return f"含有{what}：措辞只能是一段纯文本"
    syntax = _TEMPLATE_SYNTAX.search(text)
    if syntax:
        return f"含有模板语法“{syntax.group(0)}”：只能使用 {{占位符}}（可用：{_listed(allowed)}）"
    if _MARKUP.search(text):
        return "含有尖括号（< 或 >）：措辞中不能写标记或代码"
    for match in _PLACEHOLDER.finditer(text):
        if match.group(1) not in allowed:
            return f"含有未知的占位符“{match.group(0)}”（可用：{_listed(allowed)}）"
    outside = _PLACEHOLDER.sub("", text)
    if "{" in outside or "}" in outside:
        return f"含有不成对的花括号：花括号只能用于占位符（可用：{_listed(allowed)}）"
    used = set(_PLACEHOLDER.findall(text))
    missing = [name for name in slot.required if name not in used]
    if missing:
        return f"必须包含占位符 {_listed(missing)}"
    return None


def _listed(names) -> str:
    return " ".join(f"{{{name}}}" for name in names)


def resolve(letter_type: str, letter: object, wording: Mapping[str, str] | None) -> dict[str, str]:
    """The text of every slot for this letter: the agency's wording (or the default) with placeholders filled.

    A slot that uses a placeholder without a value in this letter's data (no contact set) is left out (empty).
    Wording that did not pass `slot_problems` never renders: LetterDataError names the slot.
    """
    given = dict(wording or {})
    problems = slot_problems(letter_type, given)
    if problems:
        name, message = next(iter(problems.items()))
        raise LetterDataError(f"wording.slots.{name}", message)
    values = {placeholder.name: placeholder.value(letter) for placeholder in placeholders(letter_type)}
    texts = {**default_slots(letter_type), **given}
    return {name: _fill(text.strip(), values) for name, text in texts.items()}


def unfilled(letter_type: str, letter: object, wording: Mapping[str, str]) -> dict[str, list[str]]:
    """The slots `resolve` leaves out of this letter, with the placeholders that have no value in its data."""
    values = {placeholder.name: placeholder.value(letter) for placeholder in placeholders(letter_type)}
    left_out = {}
    for name, text in wording.items():
        missing = [used for used in _PLACEHOLDER.findall(text) if values.get(used) is None]
        if missing:
            left_out[name] = list(dict.fromkeys(missing))
    return left_out


def _fill(text: str, values: Mapping[str, str | None]) -> str:
    # One pass over the placeholders, so a value that itself contains braces is never expanded again.
    if any(values.get(name) is None for name in _PLACEHOLDER.findall(text)):
        return ""
    return _PLACEHOLDER.sub(lambda match: str(values[match.group(1)]), text)
