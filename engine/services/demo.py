"""Demo data: one agency, one user per role, ~50 cases in every stage and with every outcome.

Every case is walked through the real services on its own timeline (each step's `today` is the
day it happened), so the clocks, numbers, letters and audit trail are exactly what real use produces.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import services
from engine.persistence.audit import utcnow
from engine.persistence.models import Agency, ExemptionRecord, User
from engine.rules.calendar import default_calendar
from engine.services import ApplicantForm, ExemptionForm, ItemDecision, RegistrationForm
from engine.services.accounts import add_agency, add_department, add_user
from engine.services.agency_admin import SEAL_PLACEHOLDER
from engine.services.signing_keys import create_signing_key

DEMO_AGENCY = "DEMO"
DEMO_PASSWORDS = {
    "clerk": ("登记员 王静", ["clerk"], "clerk-demo-2026"),
    "handler": ("承办人 李强", ["handler"], "handler-demo-2026"),
    "reviewer": ("法制审核 赵敏", ["legal_reviewer"], "reviewer-demo-2026"),
    "head": ("负责人 陈峰", ["office_head"], "head-demo-2026"),
    "archivist": ("档案员 刘洋", ["archivist"], "archivist-demo-2026"),
    "admin": ("管理员 周杰", ["admin"], "admin-demo-2026"),
}

_APPLICANTS = [
    ("NATURAL", "张伟", "居民身份证", "11010519491231002X", "13800138000", "示例市解放路12号"),
    ("NATURAL", "王芳", "居民身份证", "110105198001010024", "13900139000", "示例市建设街8号"),
    ("NATURAL", "李喆", "居民身份证", "110105199003070017", "13700137000", "示例市人民路66号"),
    ("NATURAL", "刘堃", "居民身份证", "110105198507150024", "13600136000", "示例市和平里3号"),
    ("BUSINESS", "示例市宏达建设有限公司", "统一社会信用代码", "91110105MA01ABCD2X", "010-88886666", "示例市科技园1号"),
    ("RESEARCH", "示例大学城市治理研究院", "统一社会信用代码", "12110000400000000K", "010-62750000", "示例市学院路5号"),
    ("NGO", "示例市绿色家园环保协会", "统一社会信用代码", "51110000500000000L", "010-66660000", "示例市环保大厦"),
    ("LEGAL_SERVICE", "示例市明理律师事务所", "统一社会信用代码", "31110000E00000000M", "010-65550000", "示例市律所大楼"),
    ("OTHER_ORG", "示例市东城区业主委员会", "统一社会信用代码", "", "010-64440000", "示例市东城区幸福小区"),
]

_REQUESTS = [
    ("2025年度示例市老旧小区改造项目的立项批复文件", "城乡规划"),
    ("幸福小区地块国有土地上房屋征收决定及补偿方案", "房屋征收"),
    ("2025年示例市公共租赁住房分配名单", "保障性住房"),
    ("示例河流域水污染防治专项资金使用情况", "财政资金"),
    ("地铁3号线东延段环境影响评价报告", "城乡规划"),
    ("示例市2025年度政府信息公开工作年度报告所依据的统计台账", "其他"),
    ("某化工企业排污许可证及年度执行报告", "生态环境"),
    ("示例市第二人民医院迁建项目可行性研究报告", "城乡规划"),
]

# A complete exemption record for each ground (DESIGN §4), as a handler would write it.
_EXEMPTIONS = {
    "WITHHELD_STATE_SECRET": dict(
        facts="所申请的供水管网布局图已由市国家保密局确定为秘密级国家秘密，定密文号为示保定〔2024〕3号",
        scope="《示例市供水管网布局图》全图", severability="该图整体定密，不存在可以删除涉密部分后公开的内容",
        classification_basis="秘密级，保密期限10年，依据《水利工作国家秘密范围的规定》"),
    "WITHHELD_LAW_PROHIBITED": dict(
        facts="所申请的是某纳税人的个人所得税申报明细，税收征管法规定税务机关应当为纳税人的涉税信息保密",
        scope="纳税人2024年度个人所得税申报表全部内容", severability="申报表全部内容均为纳税人的涉税信息，无法区分",
        law_citation="《中华人民共和国税收征收管理法》第八条第二款"),
    "WITHHELD_SECURITY": dict(
        facts="所申请的是危险化学品仓库的具体位置、储量和安防布置图，公开后可能被利用实施破坏，危及公共安全",
        scope="《危险化学品储存设施安防布置图》全部内容", severability="图纸整体反映安防布置，删除任何部分后仍可推知布防情况"),
    "WITHHELD_THIRD_PARTY": dict(
        facts="所申请的投标文件中包含投标企业的成本构成和技术方案，企业书面回复不同意公开并说明了理由",
        scope="宏达建设有限公司投标文件第二卷（技术标）全部内容",
        severability="技术标全部内容均为该企业的技术方案和成本数据，删除后无实质内容可以提供",
        public_interest="该项目已依法公开中标结果和合同金额，不公开企业技术方案不会对公共利益造成重大影响"),
    "WITHHELD_INTERNAL": dict(
        facts="所申请的是本机关机关食堂的采购及人员排班安排，属于后勤管理方面的内部事务信息，对外不产生影响",
        scope="2025年机关食堂采购台账和人员排班表", severability="上述材料整体为内部后勤管理记录",
        discretion_reason="该信息仅涉及机关内部后勤管理，不对申请人权利义务产生影响，也无法律法规规章要求公开"),
    "WITHHELD_PROCESS": dict(
        facts="所申请的是专题会议讨论征收补偿标准的会议记录，记载了讨论过程中的不同意见，补偿标准最终文件已公开",
        scope="2025年5月12日专题会议记录全文", severability="会议记录全文均为讨论过程中的意见，最终结论已另行公开",
        discretion_reason="公开讨论过程中的不同意见可能影响今后决策的充分讨论，且无法律法规规章规定应当公开会议记录"),
    "WITHHELD_ENFORCEMENT_FILE": dict(
        facts="所申请的是对某餐饮店的行政处罚案卷，包括询问笔录、现场检查记录等，处罚决定书已依法主动公开",
        scope="示市监罚〔2025〕118号案件的案卷材料（询问笔录、检查笔录、证据材料）",
        severability="案卷材料均为执法过程形成的证据材料，处罚决定书已主动公开，可通过网站获取",
        discretion_reason="申请人不是该案当事人，且无法律法规规章规定应当公开案卷材料"),
    "SPECIAL_REGIME": dict(
        facts="所申请的是某地块的不动产登记簿信息，不动产登记资料的查询由不动产登记暂行条例作出特别规定",
        scope="幸福小区3号楼的不动产登记簿",
        law_citation="《不动产登记暂行条例》第二十七条、第二十八条：请持身份证明到市不动产登记中心查询"),
}


@dataclass
class DemoResult:
    agency_code: str
    users: dict[str, str]
    cases: int


def _users(session: Session, agency: Agency) -> dict[str, User]:
    return {u.username: u for u in session.scalars(select(User).where(User.agency_id == agency.id))}


def create_demo(session: Session, *, renderer, today: date) -> DemoResult:
    """Create the demo agency, its users and cases (the caller commits)."""
    agency = add_agency(
        session, DEMO_AGENCY, "示例市人民政府办公室", letter_no_prefix="示府办信公",
        review_body="示例市人民政府", court="示例市中级人民法院",
        contact="政府信息公开办公室 010-12345678", address="示例市人民路1号市政府大楼东楼203室",
        online_review_channel="示例市行政复议网上申请平台（https://fysq.example.gov.cn）",
        topics=["城乡规划", "房屋征收", "保障性住房", "财政资金", "生态环境", "其他"],
        settings={SEAL_PLACEHOLDER: True})  # no seal image in the demo: letters print “（印章）” so replies can be signed
    # A self-issued identity, so that every demo letter — the signed replies above all — carries a valid signature.
    create_signing_key(session, agency, now=utcnow())
    depts = [add_department(session, agency, name) for name in ("城建科", "财政科", "综合科")]
    for username, (display, roles, password) in DEMO_PASSWORDS.items():
        add_user(session, agency, username, password, roles, display_name=display,
                 department=depts[0] if "handler" in roles else None)
    people = _users(session, agency)
    walker = _Walker(session, people, depts, renderer, today)
    walker.walk_all()
    return DemoResult(DEMO_AGENCY, {u: p for u, (_, _, p) in DEMO_PASSWORDS.items()}, walker.count)


class _Walker:
    """Takes each demo case as far as its target stage, step by step, on its own dates."""

    def __init__(self, session, people, depts, renderer, today):
        self.s, self.p, self.depts, self.render, self.today = session, people, depts, renderer, today
        self.cal = default_calendar()
        self.count = 0

    def wd(self, start: date, n: int) -> date:
        return self.cal.add_working_days(start, n)

    def register(self, start: date, n: int, *, channel: str = "in_person", confirm: bool = True, items: int = 1):
        kind, name, id_type, id_no, phone, addr = _APPLICANTS[n % len(_APPLICANTS)]
        reqs = [_REQUESTS[(n + k) % len(_REQUESTS)] for k in range(items)]
        form = RegistrationForm(
            applicant=ApplicantForm(kind=kind, name=name, id_type=id_type, id_number=id_no, phone=phone,
                                    address=addr, contact_person="" if kind == "NATURAL" else "经办人 孙丽"),
            channel=channel, submitted_on=start, items=reqs,
            confirmed_on=start if confirm and channel in ("plain_letter", "fax") else None,
            requested_form="纸质" if n % 2 else "电子数据", requested_delivery="邮寄" if n % 2 else "电子邮件")
        case = services.register_request(self.s, form, renderer=self.render, actor=self.p["clerk"], today=start).case
        self.count += 1
        return case

    def accept(self, case, day):
        services.accept(self.s, case.id, department_id=self.depts[case.id % 3].id, handler_id=self.p["handler"].id,
                        actor=self.p["clerk"], today=day)

    def decide(self, case, day, outcome: str):
        for item in case.items:
            d = ItemDecision(item_id=item.id, outcome=outcome, reason=_reason(outcome),
                             how_to_obtain=_how(outcome), referral_agency=_referral(outcome)[0],
                             referral_contact=_referral(outcome)[1],
                             earlier_reply_number="示府办信公〔2025〕12号" if outcome == "REPEAT" else "")
            services.record_decision(self.s, case.id, decisions=[d], actor=self.p["handler"], today=day)
            if outcome in _EXEMPTIONS:
                services.record_exemption(self.s, case.id, item_id=item.id,
                                          form=ExemptionForm(ground=outcome, **_EXEMPTIONS[outcome],
                                                             **_no_consult(outcome)),
                                          actor=self.p["handler"], today=day)
            if outcome == "PARTIAL":
                services.record_exemption(self.s, case.id, item_id=item.id, form=ExemptionForm(
                    ground="WITHHELD_THIRD_PARTY", whole_item=False,
                    facts="名单中被征收人的身份证号码和银行账号属于个人隐私，公开会损害其合法权益",
                    scope="补偿方案附件一“被征收人名单”中的身份证号码、银行账号两栏",
                    no_consultation_reason="身份证号码和银行账号属于敏感个人信息，依法不应公开，无需征求意见",
                    public_interest="补偿方案和补偿标准已全部公开，删除个人敏感信息不影响公众监督"),
                    actor=self.p["handler"], today=day)
            if outcome == "NOT_HELD":
                services.record_exemption(self.s, case.id, item_id=item.id, form=ExemptionForm(
                    ground="NOT_HELD", facts="经在本机关公文系统、档案室和城建科业务台账中检索，均未找到所申请的文件",
                    search_record="2026年由城建科李强检索：公文管理系统（关键词：老旧小区、立项批复）、档案室纸质目录、"
                                  "城建科2023—2025年业务台账，均无记录"), actor=self.p["handler"], today=day)
            if outcome in ("DISCLOSED", "PARTIAL"):
                services.record_confidentiality_review(
                    self.s, case.id, item_id=item.id,
                    conclusion="NOT_SECRET" if outcome == "DISCLOSED" else "CLEARED_AFTER_REDACTION",
                    basis="" if outcome == "DISCLOSED" else "删除个人信息后不涉密",
                    reviewed_on=day, actor=self.p["handler"], today=day)

    def review(self, case, day):
        services.submit_for_review(self.s, case.id, actor=self.p["handler"], today=day)

    def confirm_all(self, case, day):
        for record in self.s.scalars(select(ExemptionRecord).where(ExemptionRecord.case_id == case.id,
                                                                   ExemptionRecord.current.is_(True))):
            services.review_exemption(self.s, case.id, record_id=record.id, confirm=True,
                                      actor=self.p["reviewer"], today=day)

    def sign(self, case, day):
        self.confirm_all(case, day)
        return services.sign_reply(self.s, case.id, renderer=self.render, actor=self.p["reviewer"], today=day)

    def deliver(self, case, day):
        services.record_delivery(self.s, case.id, method="POST", delivered_on=day, tracking_no=f"EMS{case.id:09d}",
                                 actor=self.p["clerk"], today=day)

    def deliver_notice(self, case, letter, day, method="POST"):
        """The notice reached its addressee: its period runs from `day` (条例30、32、34、35; 109号)."""
        services.record_delivery(self.s, case.id, method=method, delivered_on=day, letter_id=letter.id,
                                 tracking_no=f"EMS{letter.id:09d}" if method == "POST" else "",
                                 actor=self.p["clerk"], today=day)

    def ask_reasons(self, case, day, *, answered: bool = True):
        """条例35: ask for reasons, deliver the request, log the answer."""
        letter = services.request_reasons(
            self.s, case.id, volume_description="自本月1日起，你（单位）共向本机关提出政府信息公开申请120件，"
            "内容均为各街道历年拆迁补偿明细", renderer=self.render, actor=self.p["handler"], today=day).letter
        self.deliver_notice(case, letter, self.wd(day, 1))
        services.record_reasons(self.s, case.id, answer="ANSWERED", answered_on=self.wd(day, 3),
                                summary="申请人称用于撰写学位论文，但未说明为何需要全部街道历年的明细" if not answered
                                else "申请人说明系受所在小区业主委托，用于核对拆迁补偿标准的执行情况",
                                actor=self.p["handler"], today=self.wd(day, 3))

    def archive(self, case, day):
        services.archive(self.s, case.id, actor=self.p["archivist"], today=day)

    def finished(self, start: date, n: int, outcome: str, *, archive: bool = False, challenged: bool = False):
        case = self.register(start, n)
        self.accept(case, self.wd(start, 1))
        if outcome == "EXCESSIVE":
            self.ask_reasons(case, self.wd(start, 2), answered=False)
        self.decide(case, self.wd(start, 6), outcome)
        self.review(case, self.wd(start, 8))
        self.sign(case, self.wd(start, 10))
        self.deliver(case, self.wd(start, 12))
        if challenged:
            services.record_review_or_litigation(
                self.s, case.id, kind="REVIEW", filed_on=self.wd(start, 20), result="UPHELD",
                decided_on=self.wd(start, 45), actor=self.p["clerk"], today=self.wd(start, 45))
        if archive:
            self.archive(case, self.wd(start, 14))
        return case

    def walk_all(self) -> None:
        t = self.today
        reply_outcomes = ["ALREADY_PUBLIC", "DISCLOSED", "PARTIAL", *_EXEMPTIONS, "NOT_HELD", "NOT_RESPONSIBLE",
                          "NEEDS_CREATION", "UNCLEAR_AFTER_SUPPLEMENT", "PETITION", "REPEAT", "PUBLICATION",
                          "EXCESSIVE", "CONFIRM_REISSUE"]
        # Finished cases of the past year: every reply outcome, most of them archived.
        for n, outcome in enumerate(reply_outcomes):
            start = self.wd(t, -(150 + 7 * n))
            self.finished(start, n, outcome, archive=n % 3 != 0, challenged=n in (3, 7))
        n = len(reply_outcomes)
        # Closed without a reply letter: lapsed supplement, lapsed fee, withdrawn.
        case = self.register(self.wd(t, -90), n)
        notice = services.request_supplement(self.s, case.id, renderer=self.render, items=["请写明所需文件的名称或文号"],
                                             actor=self.p["clerk"], today=self.wd(t, -88)).letter
        self.deliver_notice(case, notice, self.wd(t, -86))
        services.close_lapsed(self.s, case.id, renderer=self.render, actor=self.p["clerk"],
                              today=self.wd(case.supplement_due_on, 1))
        case = self.register(self.wd(t, -80), n + 1)
        self.accept(case, self.wd(t, -79))
        notice = services.issue_fee_notice(self.s, case.id, renderer=self.render, mode="PER_PAGE", units=180,
                                           actor=self.p["handler"], today=self.wd(t, -75)).letter
        self.deliver_notice(case, notice, self.wd(t, -73))
        services.close_lapsed(self.s, case.id, renderer=self.render, actor=self.p["clerk"],
                              today=self.wd(case.fees[-1].pay_by_on, 1))
        case = self.register(self.wd(t, -60), n + 2)
        services.withdraw(self.s, case.id, renderer=self.render, reason="申请人于当日书面申请撤回", actor=self.p["clerk"],
                          today=self.wd(t, -58))
        self.archive(case, self.wd(t, -50))
        # Open cases, one or more per stage, with due dates around today.
        base = n + 3
        self.register(t, base, channel="plain_letter", confirm=False)                 # received
        self.register(self.wd(t, -1), base + 1, channel="online")                       # registered
        case = self.register(self.wd(t, -3), base + 2)
        notice = services.request_supplement(self.s, case.id, renderer=self.render,
                                             items=["请补充申请人身份证明复印件", "请明确所需信息的文号"],
                                             actor=self.p["clerk"], today=self.wd(t, -2)).letter  # awaiting_supplement
        self.deliver_notice(case, notice, self.wd(t, -1), method="IN_PERSON")
        for k, back in enumerate((4, 12, 17, 19, 22)):                               # in_handling, some due soon
            case = self.register(self.wd(t, -back), base + 3 + k)
            self.accept(case, self.wd(t, -back + 1))
        case = self.register(self.wd(t, -10), base + 8)
        self.accept(case, self.wd(t, -9))
        sent = services.open_consultation(self.s, case.id, renderer=self.render, kind="THIRD_PARTY",
                                          party_name="示例市恒远建筑工程有限公司", party_contact="010-88886666",
                                          subject="投标文件中的技术方案", sent_on=self.wd(t, -5),
                                          actor=self.p["handler"], today=self.wd(t, -5))  # consulting
        self.deliver_notice(case, sent.letters[0], self.wd(t, -4))
        self.deliver_notice(case, sent.letters[1], self.wd(t, -4))
        case = self.register(self.wd(t, -8), base + 9)
        self.accept(case, self.wd(t, -7))
        notice = services.issue_fee_notice(self.s, case.id, renderer=self.render, mode="PER_PAGE", units=120,
                                           actor=self.p["handler"], today=self.wd(t, -3)).letter  # awaiting_fee
        self.deliver_notice(case, notice, self.wd(t, -2), method="IN_PERSON")
        case = self.register(self.wd(t, -9), base + 10)
        self.accept(case, self.wd(t, -8))
        self.decide(case, self.wd(t, -2), "DISCLOSED")                                    # drafting
        case = self.register(self.wd(t, -14), base + 11, items=2)
        self.accept(case, self.wd(t, -13))
        self.decide(case, self.wd(t, -4), "PARTIAL")
        self.review(case, self.wd(t, -2))                                                 # in_review
        case = self.register(self.wd(t, -15), base + 12)
        self.accept(case, self.wd(t, -14))
        self.decide(case, self.wd(t, -6), "WITHHELD_PROCESS")
        self.review(case, self.wd(t, -5))
        self.sign(case, self.wd(t, -1))                                                   # signed
        case = self.register(self.wd(t, -25), base + 13)
        self.accept(case, self.wd(t, -24))
        services.extend(self.s, case.id, renderer=self.render, working_days=15, reason="所需信息涉及多个部门，需协调检索",
                        actor=self.p["head"], today=self.wd(t, -6))                        # extended
        case = self.register(self.wd(t, -12), base + 26)
        self.accept(case, self.wd(t, -11))
        self.ask_reasons(case, self.wd(t, -10))                                           # 条例35, delayed
        services.set_delayed_reply(self.s, case.id, new_due_on=self.wd(t, 40),
                                   reason="申请人说明的理由合理，但所申请的120件拆迁补偿明细需逐件调档并作个人信息遮盖处理",
                                   renderer=self.render, actor=self.p["head"], today=self.wd(t, -6))
        # Recently replied, not yet archived; the commonest outcomes appear more than once, as in real life.
        recent = ("DISCLOSED", "NOT_RESPONSIBLE", "ALREADY_PUBLIC", "DISCLOSED", "PARTIAL", "NOT_HELD",
                  "DISCLOSED", "ALREADY_PUBLIC", "WITHHELD_THIRD_PARTY", "DISCLOSED", "NEEDS_CREATION", "DISCLOSED")
        for k, outcome in enumerate(recent):
            self.finished(self.wd(t, -(30 + 4 * k)), base + 14 + k, outcome, archive=k % 4 == 3)


def _reason(outcome: str) -> str:
    return {
        "DISCLOSED": "",
        "ALREADY_PUBLIC": "该信息已于2025年6月在本机关门户网站“法定主动公开内容”栏目公开",
        "PARTIAL": "批复正文和补偿方案予以公开，附件中的个人敏感信息不予公开",
        "NOT_RESPONSIBLE": "该信息由示例市自然资源和规划局制作并保存，不属于本机关负责公开",
        "NEEDS_CREATION": "申请人要求按街道汇总统计近五年的补偿金额，本机关没有现成的统计信息，需要另行汇总加工",
        "UNCLEAR_AFTER_SUPPLEMENT": "经补正，申请内容仍为“所有与拆迁有关的文件”，无法确定具体信息",
        "PETITION": "申请内容为反映小区物业管理问题并要求查处，属于信访投诉事项，可向市信访局反映",
        "REPEAT": "申请人2025年已申请相同信息，本机关已以示府办信公〔2025〕12号答复",
        "PUBLICATION": "所申请的《示例市统计年鉴2025》为公开出版物，可在市图书馆或书店获取",
        "EXCESSIVE": "申请人本月提出申请120件，经要求说明理由，申请人未能说明合理理由",
        "CONFIRM_REISSUE": "申请人要求本机关确认其已获取的批复文件复印件的真实性并重新出具",
        "NOT_HELD": "经检索，本机关未制作、未获取该信息",
    }.get(outcome, "详见不予公开理由")


def _how(outcome: str) -> str:
    if outcome == "ALREADY_PUBLIC":
        return "请登录示例市人民政府门户网站（www.example.gov.cn）“政府信息公开—法定主动公开内容”栏目查阅"
    if outcome in ("DISCLOSED", "PARTIAL"):
        return "随本答复书邮寄所申请信息的复印件（部分公开的已作区分处理）"
    if outcome == "PUBLICATION":
        return "可在示例市图书馆（人民路100号）借阅或在新华书店购买"
    return ""


def _referral(outcome: str) -> tuple[str, str]:
    if outcome == "NOT_RESPONSIBLE":
        return "示例市自然资源和规划局", "政府信息公开办公室，010-87654321，示例市规划路2号"
    return "", ""


def _no_consult(outcome: str) -> dict:
    if outcome == "WITHHELD_THIRD_PARTY":
        return {"no_consultation_reason": "企业已在投标时书面声明技术标属于商业秘密、不同意公开，本次无需再次征求意见"}
    return {}


def demo_exists(session: Session) -> bool:
    return session.scalar(select(Agency.id).where(Agency.code == DEMO_AGENCY)) is not None

