"""The rules the server enforces, checked before the engine runs so that a request hears of every problem at once
(each with its JSON pointer), and stated in the OpenAPI document from the same engine functions."""

from __future__ import annotations

from datetime import date

from engine.errors import InvalidInput
from engine.rules.exemptions import GROUND_ARTICLES, ExemptionDraft, missing_elements
from engine.rules.outcomes import OUTCOMES, REPLY_CODES
from engine.services.decisions import ItemDecision, missing_in_decision, outcome_requirements
from engine.services.registration import validate_id_number
from webui.api import schemas as s
from webui.api.errors import ApiError

CONTACT_FIELDS = ("phone", "email", "address")


def _refuse(problems: list[dict]) -> None:
    if problems:
        summary = "；".join(f"{p['pointer']}：{p['detail']}" for p in problems[:10])
        raise ApiError(400, "请求数据无效：" + summary, code="invalid", errors=problems)


def check_registration(body: s.RegisterIn, today: date) -> None:
    """条例29、31: dates not in the future and in order, at least one contact, a valid ID number — all at once."""
    problems = []
    if body.submitted_on > today:
        problems.append({"pointer": "/submitted_on", "detail": f"提交日期不能晚于今天（{today.isoformat()}）"})
    for name, label in (("signed_for_on", "签收日期"), ("confirmed_on", "确认日期")):
        day = getattr(body, name)
        if day is None:
            continue
        if day > today:
            problems.append({"pointer": f"/{name}", "detail": f"{label}不能晚于今天（{today.isoformat()}）"})
        if day < body.submitted_on:
            problems.append({"pointer": f"/{name}", "detail": f"{label}不能早于提交日期"})
    applicant = body.applicant
    if not any(getattr(applicant, f).strip() for f in CONTACT_FIELDS):
        problems += [{"pointer": f"/applicant/{f}", "detail": "请至少填写一种联系方式（电话、电子邮箱或通信地址，条例第二十九条）"}
                     for f in CONTACT_FIELDS]
    try:
        validate_id_number(applicant.id_type, applicant.id_number)
    except InvalidInput as exc:
        problems.append({"pointer": "/applicant/id_number", "detail": exc.message})
    _refuse(problems)


def check_decisions(body: s.DecisionIn) -> None:
    """What each item's outcome requires (条例36), every item's problems at once."""
    problems = []
    for n, decision in enumerate(body.decisions):
        for missing in missing_in_decision(ItemDecision(**decision.model_dump())):
            problems.append({"pointer": f"/decisions/{n}", "detail": f"缺少：{missing}"})
    _refuse(problems)


# ---------------------------------------------------------------- the same rules, in words for the document

def registration_rules() -> str:
    return (
        "服务器执行的规则（全部问题一次返回，errors 中每条带 JSON Pointer）：\n"
        f"- 日期：{s.FIRST_DAY.isoformat()} 至 {s.LAST_DAY.isoformat()}（工作日日历的范围）；submitted_on、signed_for_on、"
        "confirmed_on 都不能晚于今天，后两者不能早于 submitted_on。\n"
        "- 联系方式：applicant.phone、applicant.email、applicant.address 至少填一项（条例第二十九条）。\n"
        "- 居民身份证号码 18 位且校验位正确；统一社会信用代码 18 位数字或大写字母。\n"
        "- items 1 至 50 项；同一申请人内容相近的申请在 possible_duplicates 中提示（仍然登记）。\n"
        "- 渠道：mail 以 signed_for_on 为收到日期；letter、fax 和人工确认的 online 以 confirmed_on 为准，未给时等待确认"
        "（条例第三十一条）。\n"
        "- 门户令牌（scope=portal）只能登记 channel=online 的申请，不能给 confirmed_on、signed_for_on。")


def decision_rules() -> str:
    lines = ["各办理结果必须写明（缺少的全部一次返回，pointer 为 /decisions/<序号>）："]
    for code in REPLY_CODES:
        needed = outcome_requirements(code)
        lines.append(f"- {code}（{OUTCOMES[code].label}）：{'、'.join(needed) if needed else '无其他必填项'}")
    return "\n".join(lines)


def exemption_rules() -> str:
    lines = ["各情形的理由记录必须具备的要素（整项不予公开时；部分公开中的不公开部分不需要“不能区分处理的说明”）："]
    for ground in GROUND_ARTICLES:
        needed = missing_elements(ExemptionDraft(ground=ground, facts="", article=GROUND_ARTICLES[ground]), ground)
        lines.append(f"- {ground}（{OUTCOMES[ground].label}，{GROUND_ARTICLES[ground]}）：{'；'.join(needed)}")
    return "\n".join(lines)


SIGNING_RULES = (
    "签发前须满足（尚不满足的全部一次返回）：每个事项都已拟定办理结果；每条不予公开理由记录要素齐全并经法制审核确认；"
    "拟公开的事项已做保密审查且结论不是涉密；不同意公开的第三方已被书面告知（条例第三十二条）；机关设置有行政复议机关和"
    "管辖法院；机关有签章图片和签名证书；拟定人（提交审核人）不能签发同一申请（一人机关除外）。")
