"""The 23 outcomes of a request item, their legal basis and their annual-report row (DESIGN §4, 条例36–39)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

OGI = "《中华人民共和国政府信息公开条例》"


@dataclass(frozen=True)
class Outcome:
    code: str
    label: str          # 情形, as in DESIGN §4
    article: str        # the citation a letter prints (full-width brackets)
    report_row: str     # row ID of table 3 (DESIGN §6)
    family: str         # "disclose" | "partial" | "withhold" | "cannot_provide" | "not_processed" | "terminated"
    letter_wording: str  # the reply's conclusion for the item, after "根据……的规定，"

    @property
    def withholds(self) -> bool:
        """Whether the item is refused in whole or in part (条例14–16、37) — see `WITHHELD_CODES`."""
        return self.code in WITHHELD_CODES

    @property
    def gives_information(self) -> bool:
        return self.code in ("ALREADY_PUBLIC", "DISCLOSED")


_TABLE: list[tuple[str, str, str, str, str, str]] = [
    ("ALREADY_PUBLIC", "已主动公开，告知获取方式", f"{OGI}第三十六条第（一）项", "R1", "disclose",
     "该信息已经主动公开，现告知你（单位）获取该政府信息的方式和途径。"),
    ("DISCLOSED", "予以公开", f"{OGI}第三十六条第（二）项", "R1", "disclose",
     "予以公开。"),
    ("PARTIAL", "部分公开（区分处理）", f"{OGI}第三十七条", "R2", "partial",
     "对可以公开的部分予以公开，对其余内容不予公开。"),
    ("WITHHELD_STATE_SECRET", "属于国家秘密", f"{OGI}第十四条、第三十六条第（三）项", "R3_1", "withhold",
     "不予公开。"),
    ("WITHHELD_LAW_PROHIBITED", "法律、行政法规禁止公开", f"{OGI}第十四条、第三十六条第（三）项", "R3_2", "withhold",
     "不予公开。"),
    ("WITHHELD_SECURITY", "危及“三安全一稳定”", f"{OGI}第十四条、第三十六条第（三）项", "R3_3", "withhold",
     "不予公开。"),
    ("WITHHELD_THIRD_PARTY", "保护第三方合法权益", f"{OGI}第十五条、第三十六条第（三）项", "R3_4", "withhold",
     "不予公开。"),
    ("WITHHELD_INTERNAL", "三类内部事务信息", f"{OGI}第十六条第一款、第三十六条第（三）项", "R3_5", "withhold",
     "不予公开。"),
    ("WITHHELD_PROCESS", "四类过程性信息", f"{OGI}第十六条第二款、第三十六条第（三）项", "R3_6", "withhold",
     "不予公开。"),
    ("WITHHELD_ENFORCEMENT_FILE", "行政执法案卷", f"{OGI}第十六条第二款、第三十六条第（三）项", "R3_7", "withhold",
     "不予公开。"),
    ("SPECIAL_REGIME", "属于行政查询事项（工商、不动产登记等特别规定）", f"{OGI}第三十六条第（七）项", "R3_8", "withhold",
     "请你（单位）依照有关法律、行政法规的规定办理。"),
    ("NOT_HELD", "经检索没有所申请信息", f"{OGI}第三十六条第（四）项", "R4_1", "cannot_provide",
     "告知你（单位）该政府信息不存在。"),
    ("NOT_RESPONSIBLE", "不属于本机关负责公开", f"{OGI}第三十六条第（五）项", "R4_1", "cannot_provide",
     "告知你（单位）该信息不属于本机关负责公开。"),
    ("NEEDS_CREATION", "没有现成信息需要另行制作", f"{OGI}第三十八条", "R4_2", "cannot_provide",
     "本机关不予提供。"),
    ("UNCLEAR_AFTER_SUPPLEMENT", "补正后申请内容仍不明确", f"{OGI}第三十条", "R4_3", "cannot_provide",
     "本机关无法按政府信息公开申请处理。"),
    ("PETITION", "信访举报投诉类申请", f"{OGI}第三十九条第一款", "R5_1", "not_processed",
     "该申请不作为政府信息公开申请处理。"),
    ("REPEAT", "重复申请", f"{OGI}第三十六条第（六）项", "R5_2", "not_processed",
     "本机关不予重复处理。"),
    ("PUBLICATION", "要求提供公开出版物", f"{OGI}第三十九条第二款", "R5_3", "not_processed",
     "现告知你（单位）获取该出版物的途径。"),
    ("EXCESSIVE", "无正当理由大量反复申请", f"{OGI}第三十五条", "R5_4", "not_processed",
     "本机关不予处理。"),
    # 条例 has no article for this outcome (legal reference §5: 未核验, for legal review); 第二条 defines
    # 政府信息, which a request to confirm or re-issue information already obtained does not seek.
    ("CONFIRM_REISSUE", "要求确认或重新出具已获取信息", f"{OGI}第二条", "R5_5", "not_processed",
     "该申请不作为政府信息公开申请处理。"),
    ("LAPSED_SUPPLEMENT", "逾期不补正，不再处理", f"{OGI}第三十条", "R6_1", "terminated",
     "你（单位）无正当理由逾期未补正，视为放弃申请，本机关不再处理该政府信息公开申请。"),
    ("LAPSED_FEE", "逾期未缴费，不再处理", "《政府信息公开信息处理费管理办法》（国办函〔2020〕109号）", "R6_2", "terminated",
     "你（单位）逾期未按收费通知要求缴纳信息处理费，视为放弃申请，本机关不再处理该政府信息公开申请。"),
    ("OTHER", "其他（申请人撤回等）", "", "R6_3", "terminated",
     "本机关终止办理该政府信息公开申请。"),
]

OUTCOMES: dict[str, Outcome] = {row[0]: Outcome(*row) for row in _TABLE}
OUTCOME_CODES: tuple[str, ...] = tuple(OUTCOMES)
WITHHOLDING_CODES = frozenset(c for c, o in OUTCOMES.items() if o.family == "withhold")
# The one rule of what withholds information, for the report's 部分公开 rule and the remedies: 不予公开 under
# 条例14–16 and 区分处理 under 条例37, which 行政复议法第23条第1款第(四)项 sends to review first. SPECIAL_REGIME
# (条例36(七)) refuses nothing: it points to the procedure another law prescribes (legal reference §4 "非豁免",
# §6 remedies "普通"), although table 3 counts it under 不予公开 as 行政查询事项 (row R3_8). `letters.outcomes`
# states the same rule for the letters (they import nothing of ours); a test holds the two equal.
WITHHELD_CODES = frozenset({"PARTIAL", *(c for c in WITHHOLDING_CODES if c != "SPECIAL_REGIME")})
# Outcomes beyond 不予公开 that an agency may choose to word as review-first: whether 行政复议法第23条第1款第(四)项
# covers them is not settled (legal reference §11A, 未核验) — agency setting `review_first_also`, default none.
REVIEW_FIRST_OPTIONAL = ("NOT_HELD", "NOT_RESPONSIBLE", "NEEDS_CREATION", "UNCLEAR_AFTER_SUPPLEMENT", "EXCESSIVE",
                         "REPEAT", "SPECIAL_REGIME")
TERMINAL_CODES = frozenset(c for c, o in OUTCOMES.items() if o.family == "terminated")
# Outcomes that a reply letter can give an item (the terminated ones are closed by a termination notice).
REPLY_CODES = tuple(c for c in OUTCOME_CODES if c not in TERMINAL_CODES)


_QUOTES = str.maketrans({"“": '"', "”": '"', "＂": '"', "「": '"', "」": '"', "(": "（", ")": "）"})


def _label_key(label: str) -> str:
    """Labels compared as people type them: curly or straight quotes, half- or full-width brackets."""
    return label.strip().translate(_QUOTES)


_BY_LABEL = {_label_key(o.label): o for o in OUTCOMES.values()}


def outcome_by_code_or_label(text: str) -> Outcome | None:
    """Find an outcome by its code (any case) or its 情形 label (DESIGN §4); None when unknown."""
    cleaned = text.strip()
    return OUTCOMES.get(cleaned.upper()) or _BY_LABEL.get(_label_key(cleaned))


def case_report_outcome(item_outcomes: Sequence[str], primary_index: int = 0) -> str:
    """One outcome per case for the annual report (DESIGN §4; 年报表三(二)"区分处理的，只计这一情形")."""
    if not item_outcomes:
        raise ValueError("没有任何申请事项的办理结果")
    codes = list(item_outcomes)
    if "PARTIAL" in codes:
        return "PARTIAL"
    gives = any(OUTCOMES[c].gives_information for c in codes)
    withholds = any(c in WITHHELD_CODES for c in codes)
    if gives and withholds:
        return "PARTIAL"
    if len(set(codes)) == 1:
        return codes[0]
    if not 0 <= primary_index < len(codes):
        primary_index = 0
    return codes[primary_index]


REPORT_ROWS: tuple[str, ...] = (
    "NEW", "CARRY_IN",
    "R1", "R2",
    "R3_1", "R3_2", "R3_3", "R3_4", "R3_5", "R3_6", "R3_7", "R3_8",
    "R4_1", "R4_2", "R4_3",
    "R5_1", "R5_2", "R5_3", "R5_4", "R5_5",
    "R6_1", "R6_2", "R6_3",
    "R_TOTAL", "CARRY_OUT",
)
RESULT_ROWS: tuple[str, ...] = REPORT_ROWS[2:-2]
REPORT_COLUMNS: tuple[str, ...] = ("NATURAL", "BUSINESS", "RESEARCH", "NGO", "LEGAL_SERVICE", "OTHER_ORG", "TOTAL")
APPLICANT_TYPES: dict[str, str] = {
    "NATURAL": "自然人",
    "BUSINESS": "商业企业",
    "RESEARCH": "科研机构",
    "NGO": "社会公益组织",
    "LEGAL_SERVICE": "法律服务机构",
    "OTHER_ORG": "其他",
}
