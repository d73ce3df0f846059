"""The plain data of every letter type: one frozen dataclass per type, listing exactly what its template uses."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from letters.errors import LetterDataError
from letters.fields import join_path
from letters.outcomes import ReplyOutcome, TerminationReason, gives_information
from letters.remedies import build_remedies

# GB/T 9704-2012 7.2.4: 〔year〕 in full-width hexagonal brackets, serial number without leading zeros or 第.
_DOC_NUMBER = re.compile(r"^[^〔〕]+〔\d{4}〕[1-9]\d*号$")
# Statute citations use full-width brackets (第三十六条第（二）项); engines sometimes send ASCII ones.
_HALF_WIDTH_ITEM = re.compile(r"\(([一二三四五六七八九十]+)\)")

Delivery = Literal["online", "email", "post", "in_person", "fax"]
_ONLINE_DELIVERIES = ("online", "email")


def _positive_period(days: int, path: str) -> None:
    """A period the addressee is given runs from its receipt of the letter; zero days is no period at all."""
    if not isinstance(days, int) or days < 1:
        field = join_path(path, "period_working_days")
        raise LetterDataError(field, f"字段 {field} 应为至少1个工作日的期限（自收到本告知书之日起计算）")


def full_width_citation(basis: str) -> str:
    """A statute citation with full-width item brackets: 第三十六条第(二)项 → 第三十六条第（二）项."""
    return _HALF_WIDTH_ITEM.sub(r"（\1）", basis)


@dataclass(frozen=True, kw_only=True)
class LetterWording:
    """The agency's wording a letter is rendered with (`letters.wording`): its version and the text of its slots."""

    version: int
    slots: dict[str, str]

    def validate(self, path: str) -> None:
        if self.version < 0:
            field = join_path(path, "version")
            raise LetterDataError(field, f"字段 {field} 应为非负整数")


@dataclass(frozen=True, kw_only=True)
class LetterData:
    """Fields every letter has: 发文机关署名, 文号, 主送, 成文日期 and an optional 附注 (GB/T 9704 §7.3), and the
    agency's own wording of the free paragraphs (absent: the built-in wording)."""

    agency_name: str
    doc_number: str | None = None  # none on a 样稿 (no number is made up before signing); required when issued
    recipient: str
    issued_on: date
    contact: str | None = None
    contact_phone: str | None = None
    wording: LetterWording | None = None

    def validate(self, path: str) -> None:
        """Cross-field checks; `path` is where this object sits in the data (for the error message)."""
        if self.doc_number and not _DOC_NUMBER.match(self.doc_number):
            field = join_path(path, "doc_number")
            raise LetterDataError(
                field, f"字段 {field} 格式不符合 GB/T 9704（应如 某公开〔2026〕12号：全角六角括号，序号无虚位、不加“第”）")
        if self.doc_number and re.search(r"〕第", self.doc_number):
            raise LetterDataError(join_path(path, "doc_number"), f"字段 {join_path(path, 'doc_number')} 序号前不加“第”")


@dataclass(frozen=True, kw_only=True)
class Remedies:
    """Where the recipient may seek review or sue (行政复议法第24–27条), from the agency's settings."""

    review_body: str
    court: str
    online_review_channel: str | None = None
    # Outcomes the agency treats as 不予公开 for review-first too (未核验 scope of 复议法23①(四); setting).
    review_first_also: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class RequestFacts:
    """The application a letter is about: registration number, receipt date, what was asked (条例第29条)."""

    registration_number: str
    received_on: date
    request_summary: str


@dataclass(frozen=True, kw_only=True)
class ReceiptData(LetterData, RequestFacts):
    """登记回执: confirms the receipt date (条例第31条) and tells the reply due date (条例第33条)."""

    doc_number: str | None = None
    channel: str
    query_code: str
    reply_due_on: date
    query_url: str | None = None


@dataclass(frozen=True, kw_only=True)
class SupplementNoticeData(LetterData, RequestFacts):
    """补正告知书 (条例第30条): every item to supplement at once, a reasonable period, and the consequence."""

    items: tuple[str, ...]
    period_working_days: int
    submit_to: str | None = None

    def validate(self, path: str) -> None:
        super().validate(path)
        _positive_period(self.period_working_days, path)


@dataclass(frozen=True, kw_only=True)
class ReasonRequestData(LetterData, RequestFacts):
    """说明理由告知书 (条例第35条): the volume or frequency that exceeds a reasonable range, and a reply date."""

    volume_description: str
    period_working_days: int

    def validate(self, path: str) -> None:
        super().validate(path)
        _positive_period(self.period_working_days, path)


@dataclass(frozen=True, kw_only=True)
class ExtensionNoticeData(LetterData, RequestFacts):
    """延期答复告知书 (条例第33条第2款): approved by the office head, at most 20 working days more."""

    original_due_on: date
    new_due_on: date
    extension_working_days: int
    reason: str | None = None

    def validate(self, path: str) -> None:
        super().validate(path)
        if not 1 <= self.extension_working_days <= 20:
            field = join_path(path, "extension_working_days")
            raise LetterDataError(field, f"字段 {field} 应在1至20个工作日之间（条例第三十三条第二款）")
        if self.new_due_on <= self.original_due_on:
            field = join_path(path, "new_due_on")
            raise LetterDataError(field, f"字段 {field} 应晚于原答复期限")


@dataclass(frozen=True, kw_only=True)
class DelayNoticeData(LetterData, RequestFacts):
    """延迟答复告知书 (条例第35条): the reasons are accepted but need a longer, reasonable period."""

    reason: str
    new_due_on: date


@dataclass(frozen=True, kw_only=True)
class ThirdPartyConsultationData(LetterData, RequestFacts):
    """征求第三方意见书 (条例第32条): only the information concerning this party, 15 working days from its receipt
    of the letter to answer, silence's effect. An organisation is addressed 贵单位, a person 你."""

    information: str
    concern: str
    addressee_kind: Literal["organisation", "person"] = "organisation"
    answer_to: str | None = None

    @property
    def you(self) -> str:
        return "贵单位" if self.addressee_kind == "organisation" else "你"

    def validate(self, path: str) -> None:
        super().validate(path)
        if not self.contact:
            field = join_path(path, "contact")
            raise LetterDataError(field, f"字段 {field} 缺失（第三方须知道向谁、如何提出意见）")


@dataclass(frozen=True, kw_only=True)
class ThirdPartyDisclosureNoticeData(LetterData, RequestFacts):
    """公开决定告知书 to the third party (条例第32条): what will be disclosed and why, with remedies."""

    information: str
    third_party_opinion: str
    reason: str
    disclosure_on: date | None = None
    remedies: Remedies
    delivery: Delivery

    def validate(self, path: str) -> None:
        super().validate(path)
        _remedies(self, (), "本决定", path=path)

    def remedy_sentences(self) -> tuple[str, ...]:
        """The remedies of a decision to disclose: ordinary review or suit (不属于复议前置)."""
        return _remedies(self, (), "本决定", path="")


@dataclass(frozen=True, kw_only=True)
class AgencyConsultationData(LetterData, RequestFacts):
    """征求共同制作机关意见书 (条例第34条): 15 working days from its receipt to answer; silence counts as consent."""

    information: str


@dataclass(frozen=True, kw_only=True)
class ConsultationNoticeData(LetterData, RequestFacts):
    """征求意见告知书 to the applicant (条例第32、34条; 第33条第3款): the request is being consulted on and that
    time is not counted in the reply period, as the receipt promised (届时另行告知)."""

    consultation_kind: Literal["third_party", "agency"]
    sent_on: date


@dataclass(frozen=True, kw_only=True)
class FeeTier:
    """One tier of the progressive fee (国办函〔2020〕109号第四、五条)."""

    tier: str
    quantity: int
    unit_price_yuan: Decimal
    subtotal_yuan: Decimal

    def validate(self, path: str) -> None:
        if self.unit_price_yuan * self.quantity != self.subtotal_yuan:
            field = join_path(path, "subtotal_yuan")
            raise LetterDataError(field, f"字段 {field} 与数量×单价不符")


@dataclass(frozen=True, kw_only=True)
class FeeNoticeData(LetterData, RequestFacts):
    """收费通知书 (条例第42条; 国办函〔2020〕109号): basis, mode, tiers, amount, how and by when to pay."""

    fee_basis: str = "《政府信息公开信息处理费管理办法》（国办函〔2020〕109号）"
    mode: Literal["per_application", "per_page"]
    count_description: str
    tiers: tuple[FeeTier, ...]
    amount_yuan: Decimal
    payment_method: str

    def validate(self, path: str) -> None:
        super().validate(path)
        if sum((tier.subtotal_yuan for tier in self.tiers), Decimal("0.00")) != self.amount_yuan:
            field = join_path(path, "amount_yuan")
            raise LetterDataError(field, f"字段 {field} 与各档小计之和不符")

    @property
    def mode_label(self) -> str:
        return "按件计收" if self.mode == "per_application" else "按量计收"


@dataclass(frozen=True, kw_only=True)
class ReplyItem:
    """One item of a reply (条例第36–39条): outcome, article cited, concrete reason, and how to follow up."""

    subject: str
    outcome: ReplyOutcome
    outcome_label: str
    basis: str
    reason: str | None = None
    how_to_obtain: str | None = None
    referral_agency: str | None = None
    referral_contact: str | None = None
    referral_unknown_reason: str | None = None
    withheld_scope: str | None = None
    search_record: str | None = None
    earlier_reply_number: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "basis", full_width_citation(self.basis))

    def validate(self, path: str) -> None:
        required = []
        if gives_information(self.outcome):
            required.append("how_to_obtain")  # 条例第36条(一)(二): the way, place and time to obtain it
        if self.outcome == "PARTIAL":
            required.append("withheld_scope")  # 条例第37条: say what was withheld
        if self.outcome == "NOT_HELD":
            required.append("search_record")  # 指导案例101号: a reasonable search must be shown
        if self.outcome == "REPEAT":
            required.append("earlier_reply_number")
        if self.referral_agency:
            required.append("referral_contact")  # 条例第36条(五): the agency's name and contact
        elif self.outcome == "NOT_RESPONSIBLE" and not self.referral_unknown_reason:
            field = join_path(path, "referral_agency")
            raise LetterDataError(field, f"字段 {field} 缺失（不属于本机关负责公开的，应告知负责公开的机关名称和联系方式，"
                                         "确定不了的说明理由：referral_unknown_reason）")
        for name in required:
            if not getattr(self, name):
                field = join_path(path, name)
                raise LetterDataError(field, f"字段 {field} 缺失（办理结果为 {self.outcome} 时必填）")


@dataclass(frozen=True, kw_only=True)
class ReplyData(LetterData, RequestFacts):
    """答复书 (条例第36–39条): item by item, any mix of outcomes, with the remedies (行政复议法第23条)."""

    supplement_received_on: date | None = None
    items: tuple[ReplyItem, ...]
    remedies: Remedies
    delivery: Delivery
    attachments: tuple[str, ...] = ()

    def validate(self, path: str) -> None:
        super().validate(path)
        _remedies(self, [item.outcome for item in self.items], "本答复", path=path)

    def remedy_sentences(self) -> tuple[str, ...]:
        """The remedies of this reply: review first for the items that withhold information, per item."""
        return _remedies(self, [item.outcome for item in self.items], "本答复", path="")


@dataclass(frozen=True, kw_only=True)
class TerminationNoticeData(LetterData, RequestFacts):
    """终止办理告知书: lapsed supplement (条例第30条), lapsed fee (109号), or withdrawal and others."""

    reason_code: TerminationReason
    basis: str | None = None
    earlier_notice_number: str | None = None
    deadline_on: date | None = None
    detail: str
    remedies: Remedies
    delivery: Delivery

    def __post_init__(self) -> None:
        if self.basis:
            object.__setattr__(self, "basis", full_width_citation(self.basis))

    def validate(self, path: str) -> None:
        super().validate(path)
        if self.reason_code in ("LAPSED_SUPPLEMENT", "LAPSED_FEE"):
            for name in ("basis", "earlier_notice_number", "deadline_on"):
                if not getattr(self, name):
                    field = join_path(path, name)
                    raise LetterDataError(field, f"字段 {field} 缺失（终止原因为 {self.reason_code} 时必填）")
        _remedies(self, (), "本告知书", path=path)

    def remedy_sentences(self) -> tuple[str, ...]:
        return _remedies(self, (), "本告知书", path="")


def _remedies(letter: ReplyData | TerminationNoticeData | ThirdPartyDisclosureNoticeData,
              outcomes, document_noun: str, *, path: str) -> tuple[str, ...]:
    online = letter.delivery in _ONLINE_DELIVERIES
    if online and not letter.remedies.online_review_channel:
        field = join_path(path, "remedies.online_review_channel")
        raise LetterDataError(field, f"字段 {field} 缺失（网络送达须同时告知网上申请行政复议的渠道，行政复议法第二十二条）")
    return build_remedies(outcomes=list(outcomes), review_body=letter.remedies.review_body,
                          court=letter.remedies.court, online_delivery=online,
                          online_review_channel=letter.remedies.online_review_channel, document_noun=document_noun,
                          review_first_also=letter.remedies.review_first_also)
