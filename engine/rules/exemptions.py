"""Minimal exemption (以公开为常态、不公开为例外): what every withheld part must record.

条例13–16、36(三)、37；法释〔2011〕17号第5条（拒绝的根据和说明理由的举证）、第9条（区分处理）、第12条；
指导案例101号 (NOT_HELD: the search record). Pure rules on plain values.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.rules.outcomes import OUTCOMES, WITHHOLDING_CODES

OGI = "《中华人民共和国政府信息公开条例》"

# Grounds that are exemptions proper (条例14–16) and may be cited for a part withheld under PARTIAL.
EXEMPTION_GROUNDS = tuple(c for c in WITHHOLDING_CODES if c != "SPECIAL_REGIME")
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


@dataclass(frozen=True)
class ExemptionDraft:
    ground: str
    article: str = ""
    facts: str = ""
    scope: str = ""
    whole_item: bool = True
    severability: str = ""
    consultation_answered: bool = False     # a third-party consultation with an answer (or lapsed) is linked
    no_consultation_reason: str = ""
    public_interest: str = ""
    law_citation: str = ""
    classification_basis: str = ""
    discretion_reason: str = ""
    search_record: str = ""


def _blank(text: str) -> bool:
    return not (text or "").strip()


def _normalized(text: str) -> str:
    return "".join(ch for ch in (text or "") if ch.isalnum())


def missing_elements(draft: ExemptionDraft, item_outcome: str) -> list[str]:
    """Every element the record lacks for its ground, in Chinese; empty when the record is complete."""
    missing: list[str] = []
    ground = draft.ground
    if ground not in GROUND_ARTICLES:
        return [f"不予公开理由「{ground}」不在目录中"]
    if item_outcome == "PARTIAL":
        if ground not in EXEMPTION_GROUNDS:
            missing.append("部分公开中不公开部分的理由必须是条例第十四至十六条规定的情形")
    elif item_outcome != ground:
        missing.append(f"理由「{OUTCOMES[ground].label}」与该事项的办理结果「{OUTCOMES[item_outcome].label}」不一致")
    if _blank(draft.article):
        missing.append("具体条款（条、款、项）")
    facts = draft.facts or ""
    if _blank(facts):
        missing.append("具体事实理由")
    elif len(_normalized(facts)) < MIN_FACTS_CHARS:
        missing.append(f"具体事实理由过于简略（至少 {MIN_FACTS_CHARS} 个字，说明为何属于该情形）")
    elif _normalized(STATUTE_TEXT[ground]) in _normalized(facts) and (
        len(_normalized(facts)) - len(_normalized(STATUTE_TEXT[ground])) < MIN_FACTS_CHARS
    ):
        missing.append("具体事实理由不能只照抄条文，须说明本案事实")
    if ground == "NOT_HELD":
        if _blank(draft.search_record):
            missing.append("检索记录（检索的系统、范围、关键词、经办人和时间，指导案例101号）")
        return missing
    if _blank(draft.scope):
        missing.append("不予公开的范围（哪份文件、哪些页码或字段）")
    if ground in EXEMPTION_GROUNDS and draft.whole_item and _blank(draft.severability):
        missing.append("不能区分处理的说明（条例第三十七条：为何不能删除后公开其余部分）")
    if ground == "WITHHELD_THIRD_PARTY":
        if not draft.consultation_answered and _blank(draft.no_consultation_reason):
            missing.append("征求第三方意见的记录及其答复，或无需征求意见的理由（条例第三十二条）")
        if _blank(draft.public_interest):
            missing.append("公共利益衡量（条例第十五条：不公开是否会对公共利益造成重大影响）")
    if ground in ("WITHHELD_LAW_PROHIBITED", "SPECIAL_REGIME") and _blank(draft.law_citation):
        missing.append("禁止公开或作出特别规定的具体法律、行政法规名称及条款")
    if ground == "WITHHELD_STATE_SECRET" and _blank(draft.classification_basis):
        missing.append("定密依据和密级")
    if ground in DISCRETIONARY_GROUNDS and _blank(draft.discretion_reason):
        missing.append("裁量理由（为何有必要不公开，且无法律、法规、规章规定应当公开）")
    return missing
