"""Minimal exemption (以公开为常态、不公开为例外): what every withheld part must record.

条例13–16、36(三)、37；法释〔2011〕17号第5条（拒绝的根据和说明理由的举证）、第9条（区分处理）、第12条；
指导案例101号 (NOT_HELD: the search record). Pure rules on plain values.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

from engine.rules.outcomes import OUTCOMES, WITHHOLDING_CODES

OGI = "《中华人民共和国政府信息公开条例》"

# Grounds that are exemptions proper (条例14–16) and may be cited for a part withheld under PARTIAL, in the
# regulation's order (the catalogue's order, not the set's: a frozenset of strings iterates differently per process).
EXEMPTION_GROUNDS = tuple(c for c in OUTCOMES if c in WITHHOLDING_CODES and c != "SPECIAL_REGIME")
DISCRETIONARY_GROUNDS = frozenset({"WITHHELD_INTERNAL", "WITHHELD_PROCESS", "WITHHELD_ENFORCEMENT_FILE"})
# Item outcomes that need a record: every withholding outcome, PARTIAL (one per withheld part), NOT_HELD.
OUTCOMES_NEEDING_RECORDS = frozenset(WITHHOLDING_CODES | {"PARTIAL", "NOT_HELD"})

GROUND_ARTICLES = {
    "WITHHELD_STATE_SECRET": f"{OGI}第十四条",
    "WITHHELD_LAW_PROHIBITED": f"{OGI}第十四条",
    "WITHHELD_SECURITY": f"{OGI}第十四条",
    "WITHHELD_THIRD_PARTY": f"{OGI}第十五条",
    "WITHHELD_INTERNAL": f"{OGI}第十六条第一款",
    "WITHHELD_PROCESS": f"{OGI}第十六条第二款",
    "WITHHELD_ENFORCEMENT_FILE": f"{OGI}第十六条第二款",
    "SPECIAL_REGIME": f"{OGI}第三十六条第（七）项",
    "NOT_HELD": f"{OGI}第三十六条第（四）项",
}

# The statute's own words per ground: a "reason" that merely repeats them is not a concrete reason.
STATUTE_TEXT = {
    "WITHHELD_STATE_SECRET": "依法确定为国家秘密的政府信息",
    "WITHHELD_LAW_PROHIBITED": "法律、行政法规禁止公开的政府信息",
    "WITHHELD_SECURITY": "公开后可能危及国家安全、公共安全、经济安全、社会稳定的政府信息",
    "WITHHELD_THIRD_PARTY": "涉及商业秘密、个人隐私等公开会对第三方合法权益造成损害的政府信息",
    "WITHHELD_INTERNAL": "行政机关的内部事务信息，包括人事管理、后勤管理、内部工作流程等方面的信息",
    "WITHHELD_PROCESS": "行政机关在履行行政管理职能过程中形成的讨论记录、过程稿、磋商信函、请示报告等过程性信息",
    "WITHHELD_ENFORCEMENT_FILE": "行政执法案卷信息",
    "SPECIAL_REGIME": "工商、不动产登记资料等信息，有关法律、行政法规对信息的获取有特别规定",
    "NOT_HELD": "经检索没有所申请公开信息",
}

MIN_FACTS_CHARS = 15
MAX_TEXT = 5000  # a free-text element (a Text column): the limit every long text of the API has

# The kinds of element: how each is stored, asked for in the page and typed in the API.
CHOICE = "choice"  # a code from `choices` (String column)
LINE = "line"      # one line of text (String column of `max_length`)
TEXT = "text"      # free text (Text column, at most MAX_TEXT characters)
FLAG = "flag"      # yes / no (Boolean column)
REF = "ref"        # the id of another record of the case, or none (foreign key)


@dataclass(frozen=True)
class Element:
    """One element of the exemption record (DESIGN §4): its Chinese label, kind, limit and what it asks for."""

    name: str
    label: str
    kind: str
    max_length: int | None = None
    hint: str = ""
    required: bool = False        # asked for whatever the ground; which others are needed: missing_elements
    choices: tuple[str, ...] = ()
    default: Any = None           # when not required


def _element(label: str, kind: str, *, max_length: int | None = None, hint: str = "", required: bool = False,
             choices: tuple[str, ...] = (), default: Any = "") -> Any:
    """A field of ExemptionDraft that is an element of the record (ELEMENTS names it after the field)."""
    spec = Element("", label, kind, max_length, hint, required, choices, None if required else default)
    if required:
        return field(metadata={"element": spec})
    return field(default=default, metadata={"element": spec})


@dataclass(frozen=True, kw_only=True)
class ExemptionDraft:
    """An exemption record as drafted: the one definition of its elements (stored columns, web form, API fields).

    Every field made by `_element` is an element of the record; the last two are what the rules learn from
    elsewhere (whether the linked consultation was answered) and which earlier version a new one replaces.
    """

    ground: str = _element("不予公开的情形", CHOICE, max_length=40, required=True, choices=tuple(GROUND_ARTICLES))
    article: str = _element("具体条款（条、款、项）", LINE, max_length=200, hint="默认为该情形的条款，可补充到项")
    facts: str = _element("具体事实理由", TEXT, max_length=MAX_TEXT, required=True,
                          hint=f"说明本案事实为何属于该情形，不能只照抄条文（至少 {MIN_FACTS_CHARS} 字）")
    scope: str = _element("不予公开的范围", TEXT, max_length=MAX_TEXT, hint="哪份文件、哪些页码或字段")
    whole_item: bool = _element("整项不予公开", FLAG, default=True,
                                hint="否：只不公开该事项的一部分（部分公开中的不公开部分总是如此）")
    severability: str = _element("不能区分处理的说明", TEXT, max_length=MAX_TEXT,
                                 hint="条例第三十七条：为何不能删除不应公开的内容后公开其余部分")
    consultation_id: int | None = _element("已答复的第三方征求意见记录", REF, default=None,
                                           hint="关联已答复的征求意见记录，或说明无需征求意见的理由（二者必备其一）")
    no_consultation_reason: str = _element("无需征求第三方意见的理由", TEXT, max_length=MAX_TEXT,
                                           hint="未关联已答复的征求意见记录时必填（条例第三十二条）")
    public_interest: str = _element("公共利益衡量", TEXT, max_length=MAX_TEXT,
                                    hint="条例第十五条：不公开是否会对公共利益造成重大影响")
    law_citation: str = _element("法律、行政法规名称及条款", TEXT, max_length=MAX_TEXT,
                                 hint="禁止公开或作出特别规定的具体法律、行政法规")
    classification_basis: str = _element("定密依据和密级", TEXT, max_length=MAX_TEXT,
                                         hint="如：某某定密事项一览表第×项，机密级")
    discretion_reason: str = _element("裁量理由", TEXT, max_length=MAX_TEXT,
                                      hint="为何有必要不公开，且无法律、法规、规章规定应当公开")
    search_record: str = _element("检索记录", TEXT, max_length=MAX_TEXT,
                                  hint="检索的系统、范围、关键词、经办人和时间（指导案例101号）")
    consultation_answered: bool = False     # a third-party consultation with an answer (or lapsed) is linked
    replaces_id: int | None = None          # records are append-only: a change is a new version of this one


ELEMENTS: tuple[Element, ...] = tuple(
    replace(f.metadata["element"], name=f.name) for f in fields(ExemptionDraft) if "element" in f.metadata)
TEXT_ELEMENTS = tuple(e for e in ELEMENTS if e.kind in (LINE, TEXT))


def element_values(draft: ExemptionDraft) -> dict[str, Any]:
    """The record's elements as stored: text stripped, everything else as drafted."""
    return {e.name: getattr(draft, e.name).strip() if e in TEXT_ELEMENTS else getattr(draft, e.name)
            for e in ELEMENTS}


def overlong_elements(draft: ExemptionDraft) -> list[str]:
    """Text elements longer than they may be stored, in Chinese; empty when every one fits."""
    return [f"{e.label}不能超过 {e.max_length} 个字" for e in TEXT_ELEMENTS
            if e.max_length is not None and len(getattr(draft, e.name).strip()) > e.max_length]


def _blank(text: str) -> bool:
    return not (text or "").strip()


def _normalized(text: str) -> str:
    return "".join(ch for ch in (text or "") if ch.isalnum())


def _missing(draft: ExemptionDraft, item_outcome: str) -> list[tuple[str, str]]:
    """(element name, what is missing) for every element the record lacks for its ground."""
    missing: list[tuple[str, str]] = []
    ground = draft.ground
    if ground not in GROUND_ARTICLES:
        return [("ground", f"不予公开理由「{ground}」不在目录中")]
    if item_outcome == "PARTIAL":
        if ground not in EXEMPTION_GROUNDS:
            missing.append(("ground", "部分公开中不公开部分的理由必须是条例第十四至十六条规定的情形"))
    elif item_outcome != ground:
        missing.append(("ground", f"理由「{OUTCOMES[ground].label}」与该事项的办理结果「{OUTCOMES[item_outcome].label}」不一致"))
    if _blank(draft.article):
        missing.append(("article", "具体条款（条、款、项）"))
    facts = draft.facts or ""
    if _blank(facts):
        missing.append(("facts", "具体事实理由"))
    elif len(_normalized(facts)) < MIN_FACTS_CHARS:
        missing.append(("facts", f"具体事实理由过于简略（至少 {MIN_FACTS_CHARS} 个字，说明为何属于该情形）"))
    elif _normalized(STATUTE_TEXT[ground]) in _normalized(facts) and (
        len(_normalized(facts)) - len(_normalized(STATUTE_TEXT[ground])) < MIN_FACTS_CHARS
    ):
        missing.append(("facts", "具体事实理由不能只照抄条文，须说明本案事实"))
    if ground == "NOT_HELD":
        if _blank(draft.search_record):
            missing.append(("search_record", "检索记录（检索的系统、范围、关键词、经办人和时间，指导案例101号）"))
        return missing
    if _blank(draft.scope):
        missing.append(("scope", "不予公开的范围（哪份文件、哪些页码或字段）"))
    if ground in EXEMPTION_GROUNDS and draft.whole_item and _blank(draft.severability):
        missing.append(("severability", "不能区分处理的说明（条例第三十七条：为何不能删除后公开其余部分）"))
    if ground == "WITHHELD_THIRD_PARTY":
        if not draft.consultation_answered and _blank(draft.no_consultation_reason):
            missing.append(("no_consultation_reason", "征求第三方意见的记录及其答复，或无需征求意见的理由（条例第三十二条）"))
        if _blank(draft.public_interest):
            missing.append(("public_interest", "公共利益衡量（条例第十五条：不公开是否会对公共利益造成重大影响）"))
    if ground in ("WITHHELD_LAW_PROHIBITED", "SPECIAL_REGIME") and _blank(draft.law_citation):
        missing.append(("law_citation", "禁止公开或作出特别规定的具体法律、行政法规名称及条款"))
    if ground == "WITHHELD_STATE_SECRET" and _blank(draft.classification_basis):
        missing.append(("classification_basis", "定密依据和密级"))
    if ground in DISCRETIONARY_GROUNDS and _blank(draft.discretion_reason):
        missing.append(("discretion_reason", "裁量理由（为何有必要不公开，且无法律、法规、规章规定应当公开）"))
    return missing


def missing_elements(draft: ExemptionDraft, item_outcome: str) -> list[str]:
    """Every element the record lacks for its ground, in Chinese; empty when the record is complete."""
    return [message for _name, message in _missing(draft, item_outcome)]


def missing_by_element(draft: ExemptionDraft, item_outcome: str) -> dict[str, str]:
    """What each element of the record lacks (the first problem per element), to show beside its field."""
    found: dict[str, str] = {}
    for name, message in _missing(draft, item_outcome):
        found.setdefault(name, message)
    return found
