"""Built-in sample data for every letter type and every reply outcome family (for `gongkai letter samples`).

The agency, people and numbers are fictitious; the articles cited follow the legal reference §5.
"""

from __future__ import annotations

import copy

from letters.outcomes import OUTCOME_FAMILIES

OGI = "《中华人民共和国政府信息公开条例》"
AGENCY = "江南市自然资源和规划局"
REMEDIES = {"review_body": "江南市人民政府", "court": "江南市东城区人民法院",
            "online_review_channel": "江南市人民政府网站“行政复议”栏目（https://www.jiangnan.gov.cn/fy）"}
CONTACT = "联系人：刘敏，联系电话：0571-87000000"
REQUEST = {"registration_number": "依申请〔2026〕37号", "received_on": "2026-11-02",
           "request_summary": "2025年度江南市东城区国有建设用地使用权出让合同及宗地图"}


def _common(**overrides) -> dict:
    return {"agency_name": AGENCY, "recipient": "张喆", "issued_on": "2026-11-21", "contact": CONTACT,
            "contact_phone": "0571-87000000", **REQUEST, **overrides}


_ITEMS: dict[str, dict] = {
    "ALREADY_PUBLIC": {
        "subject": "江南市2025年度国有建设用地供应计划",
        "outcome_label": "该信息已经主动公开，现告知你（单位）获取该政府信息的方式和途径",
        "basis": f"{OGI}第三十六条第（一）项",
        "reason": "经查，你（单位）申请的《江南市2025年度国有建设用地供应计划》已于2025年3月12日在本机关门户网站主动公开。",
        "how_to_obtain": "登录江南市自然资源和规划局网站（https://zrzy.jiangnan.gov.cn），在“政府信息公开—法定主动公开内容—计划规划”栏目查阅",
    },
    "DISCLOSED": {
        "subject": "2025年度东城区国有建设用地使用权出让合同",
        "outcome_label": "予以公开",
        "basis": f"{OGI}第三十六条第（二）项",
        "reason": "经检索，本机关保存有你（单位）申请的2025年度东城区国有建设用地使用权出让合同共3份，属于可以公开的政府信息。",
        "how_to_obtain": "本机关按你（单位）申请时选择的获取方式，随本答复书一并以电子邮件发送合同扫描件（PDF格式，共42页）",
    },
    "PARTIAL": {
        "subject": "东城区2025-08号地块土地征收补偿安置协议",
        "outcome_label": "对可以公开的部分予以公开，对其余内容不予公开",
        "basis": f"{OGI}第十五条、第三十七条",
        "reason": "你（单位）申请的补偿安置协议共17份，其中载有被征收人身份证号码、银行账号和家庭成员信息，公开会损害第三人的合法权益，经书面征求意见，被征收人均不同意公开；其余内容能够作区分处理。",
        "withheld_scope": "协议中被征收人的身份证号码、银行账号、家庭成员姓名及联系方式（已作遮盖处理）",
        "how_to_obtain": "本机关将遮盖处理后的协议复印件共51页随本答复书邮寄送达",
    },
    "WITHHELD_STATE_SECRET": {
        "subject": "江南市基础测绘成果（1:500比例尺地形图）",
        "outcome_label": "不予公开",
        "basis": f"{OGI}第十四条、第三十六条第（三）项",
        "reason": "你（单位）申请的1:500比例尺地形图依法定密为秘密级国家秘密，定密依据为《测绘地理信息管理工作国家秘密范围的规定》，保密期限10年。",
    },
    "WITHHELD_LAW_PROHIBITED": {
        "subject": "2025年土地变更调查中各宗地权利人填报的原始调查表",
        "outcome_label": "不予公开",
        "basis": f"{OGI}第十四条、第三十六条第（三）项",
        "reason": "该原始调查表属于统计调查中获得的能够识别单个统计调查对象身份的资料，《中华人民共和国统计法》第二十八条规定任何单位和个人不得对外提供、泄露。",
    },
    "WITHHELD_SECURITY": {
        "subject": "东城区城市供水水源地保护区内取水口精确坐标",
        "outcome_label": "不予公开",
        "basis": f"{OGI}第十四条、第三十六条第（三）项",
        "reason": "取水口精确坐标公开后可能被用于破坏城市供水设施，危及公共安全，且该信息无法作区分处理。",
    },
    "WITHHELD_THIRD_PARTY": {
        "subject": "江南𠮷祥物业管理有限公司竞买保证金缴纳凭证",
        "outcome_label": "不予公开",
        "basis": f"{OGI}第十五条、第三十六条第（三）项",
        "reason": "该凭证载有竞买企业的银行账户及资金往来信息，属于商业秘密；经书面征求意见，该企业不同意公开并说明了合理理由，本机关经审查认为不公开不会对公共利益造成重大影响。",
    },
    "WITHHELD_INTERNAL": {
        "subject": "本机关2025年度干部职工考勤记录",
        "outcome_label": "不予公开",
        "basis": f"{OGI}第十六条第一款、第三十六条第（三）项",
        "reason": "你（单位）申请的考勤记录属于本机关人事管理方面的内部事务信息，对外部不产生直接约束力，且无法律、法规、规章规定应当公开。",
    },
    "WITHHELD_PROCESS": {
        "subject": "东城区控制性详细规划修改的局务会讨论记录",
        "outcome_label": "不予公开",
        "basis": f"{OGI}第十六条第二款、第三十六条第（三）项",
        "reason": "你（单位）申请的讨论记录属于本机关履行行政管理职能过程中形成的讨论记录，规划修改方案尚在论证中，且无法律、法规、规章规定应当公开；批准后的规划已依法主动公开。",
    },
    "WITHHELD_ENFORCEMENT_FILE": {
        "subject": "对某公司非法占用土地案的行政处罚案卷",
        "outcome_label": "不予公开",
        "basis": f"{OGI}第十六条第二款、第三十六条第（三）项",
        "reason": "你（单位）申请的是行政执法案卷信息，包括询问笔录、现场勘验记录等，无法律、法规、规章规定应当公开；行政处罚决定书已依法在本机关网站公示。",
    },
    "SPECIAL_REGIME": {
        "subject": "东城区和平路18号房屋的不动产登记簿",
        "outcome_label": "请你（单位）依照有关法律、行政法规的规定办理查询",
        "basis": f"{OGI}第三十六条第（七）项",
        "reason": "你（单位）申请的信息属于不动产登记资料，《不动产登记暂行条例》第二十七条对不动产登记资料的查询、复制有特别规定。",
        "how_to_obtain": "请携带身份证明及利害关系证明材料，到江南市不动产登记中心（江南市东城区和平路1号）申请查询",
    },
    "NOT_HELD": {
        "subject": "1985年东城区土地利用现状调查原始图件",
        "outcome_label": "告知你（单位）该政府信息不存在",
        "basis": f"{OGI}第三十六条第（四）项",
        "reason": "经检索，本机关未制作、获取过你（单位）申请的信息。",
        "search_record": "2026年11月9日至10日，本机关档案室工作人员按“1985”“土地利用现状调查”“东城区”等关键词检索了纸质档案目录、电子档案系统及市档案馆移交清册，均未查到相关信息",
    },
    "NOT_RESPONSIBLE": {
        "subject": "东城区2025年度农村集体经济组织收益分配方案",
        "outcome_label": "告知你（单位）该信息不属于本机关负责公开",
        "basis": f"{OGI}第三十六条第（五）项",
        "reason": "农村集体经济组织收益分配方案由乡镇人民政府指导和监督，不属于本机关的职责范围。",
        "referral_agency": "江南市东城区农业农村局",
        "referral_contact": "0571-87111111，地址：江南市东城区建设路20号",
    },
    "NEEDS_CREATION": {
        "subject": "2015年至2025年全市各区土地出让金按用途分类的统计分析",
        "outcome_label": "本机关不予提供",
        "basis": f"{OGI}第三十八条",
        "reason": "本机关未制作过你（单位）要求的分类统计分析，提供该信息需要对现有政府信息进行加工、分析。",
    },
    "UNCLEAR_AFTER_SUPPLEMENT": {
        "subject": "“土地相关的所有文件”",
        "outcome_label": "本机关无法按政府信息公开申请处理",
        "basis": f"{OGI}第三十条",
        "reason": "本机关已告知你（单位）补正申请内容，你（单位）补正后仍未说明所需政府信息的名称、文号或者便于查询的其他特征性描述，申请内容仍不明确。",
    },
    "PETITION": {
        "subject": "要求查处邻居违法建设并答复处理结果",
        "outcome_label": "该申请不作为政府信息公开申请处理",
        "basis": f"{OGI}第三十九条第一款",
        "reason": "你（单位）的申请实为投诉举报，",
        "how_to_obtain": "你（单位）可以通过12345政务服务便民热线或者向江南市东城区综合行政执法局提出",
    },
    "REPEAT": {
        "subject": "2025年度东城区国有建设用地使用权出让合同",
        "outcome_label": "本机关不予重复处理",
        "basis": f"{OGI}第三十六条第（六）项",
        "reason": "本机关已于2026年9月28日就你（单位）提出的相同申请作出答复。",
        "earlier_reply_number": "江自然资公开〔2026〕21号",
    },
    "PUBLICATION": {
        "subject": "《江南市国土空间总体规划（2021—2035年）》文本",
        "outcome_label": "现告知你（单位）获取该出版物的途径",
        "basis": f"{OGI}第三十九条第二款",
        "reason": "你（单位）申请的规划文本已由江南出版社公开出版。",
        "how_to_obtain": "你（单位）可以通过江南市图书馆或新华书店获取",
    },
    "EXCESSIVE": {
        "subject": "东城区全部地块历年规划条件",
        "outcome_label": "本机关不予处理",
        "basis": f"{OGI}第三十五条",
        "reason": "你（单位）自2026年10月1日起提出同类申请86件，本机关已于2026年11月5日要求你（单位）说明理由，你（单位）说明的理由不合理。",
    },
    "CONFIRM_REISSUE": {
        "subject": "要求对已获取的出让合同复印件加盖本机关公章确认",
        "outcome_label": "该申请不作为政府信息公开申请处理",
        "basis": f"{OGI}第二条",
        "reason": "你（单位）已于2026年9月28日获取该合同复印件，要求本机关确认或者重新出具已获取的信息，不属于获取政府信息的申请。",
    },
}


def _item(outcome: str) -> dict:
    return {"outcome": outcome, **_ITEMS[outcome]}


def _reply(doc_serial: int, outcomes: list[str], **overrides) -> dict:
    return _common(**{"doc_number": f"江自然资公开〔2026〕{doc_serial}号", "items": [_item(code) for code in outcomes],
                      "remedies": REMEDIES, "delivery": "post", **overrides})


_SAMPLES: dict[str, dict] = {
    "receipt": _common(channel="互联网（江南市政府信息公开申请平台）", query_code="7KQ3-M2XD",
                       reply_due_on="2026-11-30", query_url="https://www.jiangnan.gov.cn/ysqgk/cx",
                       issued_on="2026-11-02"),
    "supplement_notice": _common(
        doc_number="江自然资补〔2026〕12号", issued_on="2026-11-06", recipient="李堃",
        request_summary="东城区土地相关文件",
        items=["请明确所需政府信息的名称、文号或者地块编号、时间范围等便于查询的特征性描述",
               "请提供申请人身份证明的清晰复印件"],
        period_working_days=15,
        submit_to="通过江南市政府信息公开申请平台或邮寄至江南市东城区和平路1号"),
    "reason_request": _common(
        doc_number="江自然资公开〔2026〕40号", issued_on="2026-11-05", recipient="王镕",
        volume_description="自2026年10月1日至11月4日，你（单位）共向本机关提出政府信息公开申请86件，内容均为东城区各地块历年规划条件",
        period_working_days=10),
    "extension_notice": _common(
        doc_number="江自然资延〔2026〕5号", issued_on="2026-11-25",
        original_due_on="2026-11-30", new_due_on="2026-12-28", extension_working_days=20,
        reason="因你（单位）申请的出让合同数量较多，需要调取档案并逐页审查"),
    "delay_notice": _common(
        doc_number="江自然资公开〔2026〕44号", issued_on="2026-11-24", recipient="王镕",
        reason="你（单位）于2026年11月18日说明，所申请的规划条件用于东城区历史建筑保护课题研究",
        new_due_on="2027-01-29"),
    "third_party_consultation": _common(
        doc_number="江自然资征〔2026〕9号", issued_on="2026-11-10", recipient="江南𠮷祥物业管理有限公司",
        addressee_kind="organisation",
        information="贵单位于2025年6月参加东城区2025-08号地块挂牌出让时提交的竞买申请书及保证金缴纳凭证",
        concern="上述材料载有贵单位的银行账户及资金信息，公开可能涉及贵单位的商业秘密",
        answer_to="以书面形式寄送江南市自然资源和规划局政务公开办公室（江南市东城区和平路1号）"),
    "third_party_disclosure_notice": _common(
        doc_number="江自然资公开〔2026〕47号", issued_on="2026-12-08", recipient="江南𠮷祥物业管理有限公司",
        information="东城区2025-08号地块挂牌出让的成交价款、竞得人名称及竞买保证金金额",
        third_party_opinion="不同意公开，理由是成交价款属于企业经营信息",
        reason="上述地块成交价款、竞得人名称是国有资产处置结果，关系公共资源配置的公平公正，依法应当向社会公示",
        disclosure_on="2026-12-18", remedies=REMEDIES, delivery="post"),
    "agency_consultation": _common(
        doc_number="江自然资征〔2026〕10号", issued_on="2026-11-10", recipient="江南市住房和城乡建设局",
        information="《关于加强东城区老旧小区改造用地保障的通知》（江自然资联〔2025〕3号），由本机关与你局联合制发"),
    "consultation_notice": _common(
        doc_number="江自然资公开〔2026〕46号", issued_on="2026-11-10", consultation_kind="third_party",
        sent_on="2026-11-10"),
    "fee_notice": _common(
        doc_number="江自然资费〔2026〕3号", issued_on="2026-11-12", recipient="王镕",
        mode="per_application",
        count_description="你（单位）于2026年11月向本机关提出的政府信息公开申请，本件为当月第35件",
        tiers=[{"tier": "第31—40件", "quantity": 1, "unit_price_yuan": "200.00", "subtotal_yuan": "200.00"}],
        amount_yuan="200.00",
        payment_method="通过江南市非税收入统一缴款平台缴纳，缴款识别码：3301002026110037"),
    "reply": _reply(37, ["DISCLOSED"], request_summary="2025年度东城区国有土地出让合同"),  # fits one page
    "termination_notice": _common(
        doc_number="江自然资公开〔2026〕52号", issued_on="2026-12-01", recipient="李堃",
        request_summary="东城区土地相关文件",
        reason_code="LAPSED_SUPPLEMENT", basis=f"{OGI}第三十条",
        earlier_notice_number="江自然资补〔2026〕12号", deadline_on="2026-11-27",
        detail="截至期限届满，本机关未收到你（单位）的补正材料，你（单位）也未说明正当理由",
        remedies=REMEDIES, delivery="post"),
}

_SAMPLES["reply"]["items"][0].update(
    subject="2025年度东城区国有土地出让合同",
    reason="经检索，本机关保存有你（单位）申请的出让合同共3份，属于可以公开的政府信息。",
    how_to_obtain="随本答复书以电子邮件发送合同扫描件（PDF格式，共42页）")

_FAMILY_SERIALS = {"disclosed": 38, "partial": 39, "withheld": 41, "unable": 42, "not_processed": 43}
for _family, _outcomes in OUTCOME_FAMILIES.items():
    _SAMPLES[f"reply_{_family}"] = _reply(
        _FAMILY_SERIALS[_family], list(_outcomes),
        request_summary=_ITEMS[_outcomes[0]]["subject"].strip("“”") + (f"等{len(_outcomes)}项内容" if len(_outcomes) > 1 else ""))
_SAMPLES["reply_disclosed"]["delivery"] = "online"
_SAMPLES["reply_unable"]["supplement_received_on"] = "2026-11-09"
_SAMPLES["reply_mixed"] = _reply(
    45, ["DISCLOSED", "PARTIAL", "WITHHELD_THIRD_PARTY", "NOT_HELD", "NOT_RESPONSIBLE"],
    recipient="江南𠮷祥物业管理有限公司", delivery="online",
    attachments=["2025年度东城区国有建设用地使用权出让合同（3份）", "补偿安置协议（遮盖处理后，17份）"])


def sample_data() -> dict[str, dict]:
    """Sample data by name: each letter type, `reply_<family>` per outcome family, and `reply_mixed`."""
    return copy.deepcopy(_SAMPLES)


def letter_type_of(sample_name: str) -> str:
    """The letter type a sample renders as: reply_mixed and reply_<family> are replies."""
    return "reply" if sample_name.startswith("reply") else sample_name
