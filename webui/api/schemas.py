"""The API's request and response shapes: one set of pydantic models validates requests and generates the
OpenAPI document (openapi.py), so the published contract cannot drift from what the server accepts.

Limits follow the database columns (a string longer than its column would be a database error, not a
clean 400); dates must lie in the working-day calendar's range (2008 – 2060), ids in PostgreSQL's integer.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    create_model,
    model_validator,
)

from engine.persistence import limits
from engine.persistence.limits import MAX_ID, MAX_ITEMS, MAX_TEXT
from engine.rules.exemptions import CHOICE, ELEMENTS, FLAG, GROUND_ARTICLES, REF, Element
from engine.rules.outcomes import APPLICANT_TYPES, OUTCOME_CODES, REPLY_CODES
from engine.rules.text_input import BIDI_CONTROLS, CONTROL_RANGES
from engine.rules.vocabulary import (
    CHALLENGE_KINDS,
    CHALLENGE_RESULTS,
    CHANNELS,
    CONFIDENTIALITY_CONCLUSIONS,
    CONSULTATION_ANSWERS,
    CONSULTATION_KINDS,
    DELIVERY_METHODS,
    EXEMPTION_REVIEW_STATES,
    FEE_MODES,
    REASON_ANSWERS,
    RETENTION_PERIODS,
    STAGES,
)

FIRST_DAY = date(2008, 1, 1)   # the calendar starts with the year the regulation took effect
LAST_DAY = date(2060, 12, 31)  # the calendar's provisional range ends here

# Control characters (other than tab, newline, carriage return) have no place in a letter and PostgreSQL
# refuses NUL in text; nor have the bidirectional embeddings, overrides and isolates, which make text show in
# another order than it is stored: the ranges engine.rules.text_input refuses (lone surrogates: `_no_surrogates`).
# The same pattern is published in the schema so clients know it.
PRINTABLE = f"^[^{CONTROL_RANGES}{BIDI_CONTROLS}]*$"
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _lit(values) -> Any:
    return Literal[tuple(values)]  # type: ignore[valid-type]


def _iso_day(value: object) -> object:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _DAY.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"日期无效：{value}") from None
    raise ValueError("日期格式应为 YYYY-MM-DD")


def _in_calendar(value: date) -> date:
    if not FIRST_DAY <= value <= LAST_DAY:
        raise ValueError(f"日期应在 {FIRST_DAY.isoformat()} 至 {LAST_DAY.isoformat()} 之间（工作日日历的范围）")
    return value


def _no_surrogates(value: str) -> str:
    if any("\ud800" <= ch <= "\udfff" for ch in value):
        raise ValueError("文本含有无效的 Unicode 字符")
    return value


Day = Annotated[date, BeforeValidator(_iso_day), AfterValidator(_in_calendar)]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


def text(max_length: int, *, min_length: int = 0, description: str | None = None) -> Any:
    """A printable string of at most `max_length` characters."""
    return Annotated[str, StringConstraints(min_length=min_length, max_length=max_length, pattern=PRINTABLE),
                     AfterValidator(_no_surrogates), Field(description=description)]


Stage = _lit(STAGES)
ApplicantKind = _lit(APPLICANT_TYPES)
Channel = _lit(CHANNELS)
Outcome = _lit(OUTCOME_CODES)
Ground = _lit(GROUND_ARTICLES)
DueKind = Literal["on_time", "due_soon", "overdue"]


class Input(BaseModel):
    """Request bodies: unknown fields are refused, JSON types are strict (no "1" for 1, no 1.0 for 1)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Query(BaseModel):
    """Query strings: every value arrives as text, so types are converted; unknown parameters are refused."""

    model_config = ConfigDict(extra="forbid")


class Output(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------- errors

ProblemCode = Literal[
    "invalid", "unauthorized", "forbidden", "scope", "not_found", "method_not_allowed", "workflow", "stale",
    "period_locked", "integrity", "conflict", "idempotency_mismatch", "idempotency_in_progress", "rule",
    "too_large", "unsupported_media_type", "rate_limited", "unavailable", "internal", "error"]


class ProblemDetailOut(Output):
    """One problem of a request: where (a JSON pointer into the body, `/query/NAME`, `/headers/NAME`) and what."""

    pointer: str = Field(description="JSON Pointer（RFC 6901），指向请求体中的字段；空字符串表示整个请求")
    detail: str = Field(description="中文说明")
    type: str | None = Field(default=None, description="校验错误的类别（如 missing、string_too_long）")


class ProblemOut(BaseModel):
    """Every refusal, as RFC 9457 problem details (`application/problem+json`)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="问题类型 URI（…/problems/<code>）")
    title: str = Field(description="问题类型的中文名称")
    status: int = Field(description="HTTP 状态码")
    detail: str = Field(description="这一次的中文说明，可直接展示给用户")
    code: ProblemCode = Field(description="机器可读的问题代码（与 type 的最后一段相同）")
    instance: str = Field(description="本次请求的标识（urn:gongkai:request:<request_id>）")
    request_id: str = Field(description="与响应头 X-Request-Id 相同（请求带了合法的 X-Request-Id 时原样返回）")
    errors: list[ProblemDetailOut] | None = Field(
        default=None, description="输入或规则错误时：本次请求的全部问题（不只第一个），每个带 JSON Pointer")


# ---------------------------------------------------------------- registration (条例29、31)

class ApplicantIn(Input):
    kind: ApplicantKind = Field(description="申请人类型（年报列）：" + "、".join(f"{k} {v}" for k, v in APPLICANT_TYPES.items()))
    name: text(limits.APPLICANT_FIELDS["name"], min_length=1, description="姓名或名称")
    id_type: text(limits.APPLICANT_FIELDS["id_type"], description="证件类型，如 居民身份证、统一社会信用代码") = ""
    id_number: text(limits.APPLICANT_FIELDS["id_number"], description="证件号码（居民身份证校验末位）") = ""
    phone: text(limits.APPLICANT_FIELDS["phone"]) = ""
    email: text(limits.APPLICANT_FIELDS["email"]) = ""
    address: text(limits.APPLICANT_FIELDS["address"]) = ""
    postal_code: text(limits.APPLICANT_FIELDS["postal_code"]) = ""
    contact_person: text(limits.APPLICANT_FIELDS["contact_person"], description="法人或者其他组织的联系人") = ""


class ItemIn(Input):
    description: text(MAX_TEXT, min_length=1, description="申请公开的政府信息的名称、文号或便于查询的特征性描述")
    topic: text(limits.ITEM_TOPIC, description="主题分类（机关设置中的主题之一，可空）") = ""


class RegisterIn(Input):
    """登记 (条例29、31). Online without confirmed_on: the system confirmation day is the receipt date
    unless the agency confirms online applications by hand (条例31(三), 指导案例26号)."""

    applicant: ApplicantIn
    channel: Channel = "online"
    submitted_on: Day = Field(description="提交日期（不晚于今天）")
    signed_for_on: Day | None = Field(default=None, description="邮寄：签收日期")
    confirmed_on: Day | None = Field(default=None, description="平常信函、传真、需人工确认的网络申请：双方确认日期")
    items: list[ItemIn] = Field(min_length=1, max_length=MAX_ITEMS)
    requested_form: text(limits.REQUESTED_FORM, description="指定的提供形式，如 纸质、电子") = ""
    requested_delivery: text(limits.REQUESTED_DELIVERY, description="获取方式，如 邮寄、电子邮件、自行领取") = ""
    purpose: text(MAX_TEXT) = ""


# ---------------------------------------------------------------- case representation

class DueStatusOut(Output):
    kind: DueKind
    label: str
    working_days_left: int


class NotCountedOut(Output):
    date: date
    kind: Literal["weekend", "holiday", "pause"]
    reason: str


class PauseOut(Output):
    start: date
    end: date
    reason: str


class DueExplanationOut(Output):
    """Why the due date falls where it does (DESIGN §3 Explain)."""

    start: date
    days: int
    extension_working_days: int
    due: date
    provisional: bool
    calendar_version: str
    not_counted: list[NotCountedOut]
    pauses: list[PauseOut]
    lines: list[str] = Field(description="同一说明的中文文字版")


class ApplicantOut(Output):
    kind: str
    kind_label: str
    name: str
    id_type: str
    id_number: str
    phone: str
    email: str
    address: str
    postal_code: str
    contact_person: str


class ItemOut(Output):
    id: int
    seq: int
    description: str
    topic: str
    outcome: str | None
    outcome_label: str | None
    reason: str
    how_to_obtain: str
    referral_agency: str
    referral_contact: str
    referral_unknown_reason: str
    earlier_reply_number: str
    is_primary: bool


def _description(element: Element) -> str:
    return f"{element.label}：{element.hint}" if element.hint else element.label


def _element_out(element: Element) -> Any:
    kind = {FLAG: bool, REF: int | None}.get(element.kind, str)
    return kind, Field(description=_description(element))


# The exemption record's elements as engine.rules.exemptions defines them, once for the stored record, the web
# form and both API models: the same names, kinds, limits and Chinese labels.
_ExemptionElementsOut = create_model(
    "ExemptionElementsOut", __base__=Output, **{e.name: _element_out(e) for e in ELEMENTS})


class ExemptionRecordOut(_ExemptionElementsOut):
    """不予公开理由记录的一个版本 (DESIGN §4) and its legal review."""

    id: int
    case_id: int
    item_id: int
    version: int
    current: bool
    ground_label: str
    review_state: str
    review_comment: str
    department_id: int | None
    created_at: datetime


class ConsultationOut(Output):
    id: int
    kind: str
    party_name: str
    party_contact: str
    subject: str
    sent_on: date
    received_by_party_on: date | None
    answer_due_on: date | None
    answered_on: date | None
    answer: str | None
    answer_summary: str


class FeeOut(Output):
    id: int
    mode: str
    units: int
    amount_yuan: int
    notice_issued_on: date
    notice_received_on: date | None
    pay_by_on: date | None
    paid_on: date | None


class LetterOut(Output):
    id: int
    letter_type: str
    doc_number: str
    issued_on: date
    sha256: str
    size_bytes: int
    template_version: str
    supersedes_id: int | None
    signed: bool
    download_url: str = Field(description="PDF 的地址，相对于接口基地址（如 cases/1/letters/2.pdf，相对于 /api/v1/）")
    pending: bool = Field(default=False, description="正在生成：文书已签发（文号、数据、模板版本已固定），PDF 在提交后由后台"
                                                     "生成；生成前 sha256 为空、size_bytes 为 0，下载返回 409")

    @model_validator(mode="after")
    def _pending_until_rendered(self):
        # A letter rendered after its action's commit has no hash until then (engine.services.issuing).
        self.pending = not self.sha256
        return self


class DeliveryOut(Output):
    id: int
    letter_id: int | None
    method: str
    delivered_on: date
    tracking_no: str
    returned: bool
    note: str


class NamedRef(Output):
    id: int
    name: str


class ActionOut(Output):
    name: str
    label: str
    url: str = Field(description="执行该操作的地址，相对于接口基地址（/api/v1/）")


class SupplementOut(Output):
    requested_on: date | None
    items: list[str]
    due_on: date | None
    received_on: date | None


class CaseOut(Output):
    """One case as a token's user sees it: stage, clock, items, records, letters and what they may do next."""

    id: int
    reg_no: str
    version: int = Field(description="乐观锁版本号：执行操作时原样带回")
    updated_at: datetime = Field(description="最近一次变化的时刻（北京时间，带时区）")
    stage: Stage
    stage_label: str
    channel: str
    channel_label: str
    submitted_on: date
    received_on: date | None
    clock_start_on: date | None
    due_on: date | None
    due_provisional: bool
    clock_paused: bool
    due_status: DueStatusOut | None = Field(description="办理中的申请才有：按时、即将到期（≤3个工作日）、已逾期")
    due_explanation: DueExplanationOut | None
    extension_working_days: int
    extension_reason: str
    supplement: SupplementOut
    applicant: ApplicantOut
    department: NamedRef | None
    handler: NamedRef | None
    requested_form: str
    requested_delivery: str
    purpose: str
    items: list[ItemOut]
    exemption_records: list[ExemptionRecordOut]
    consultations: list[ConsultationOut]
    fees: list[FeeOut]
    letters: list[LetterOut]
    deliveries: list[DeliveryOut]
    report_outcome: str | None
    report_outcome_label: str | None
    finished_on: date | None
    closed_reason: str
    archive_no: str | None
    retention: str | None
    imported: bool
    available_actions: list[ActionOut]


class DuplicateOut(Output):
    case_id: int
    reg_no: str
    received_on: date | None
    item: str
    similarity: float
    stage: str
    reply_number: str | None


class RegisteredOut(Output):
    case: CaseOut
    query_code: str = Field(description="查询码：只在此处返回一次，印在登记回执上，申请人凭登记编号和查询码查询进度")
    possible_duplicates: list[DuplicateOut] = Field(description="同一申请人内容相近的既往申请（条例36(六)），供登记员判断")


class CaseSummaryOut(Output):
    id: int
    reg_no: str
    version: int
    updated_at: datetime = Field(description="最近一次变化的时刻（北京时间，带时区）")
    stage: str
    stage_label: str
    channel: str
    applicant_name: str
    applicant_kind: str
    submitted_on: date
    received_on: date | None
    due_on: date | None
    due_provisional: bool
    due_status: DueStatusOut | None
    report_outcome: str | None
    finished_on: date | None
    department_id: int | None
    handler_id: int | None


class CaseListOut(Output):
    items: list[CaseSummaryOut]
    page: int
    per_page: int
    total: int
    next_cursor: str | None = Field(description="按 updated_since 或 cursor 翻页时：下一页的游标（没有更多时为 null）")


class CaseListQuery(Query):
    stage: Stage | None = None
    due_status: DueKind | None = Field(default=None, description="只含答复期限在计算中的申请")
    received_from: Day | None = None
    received_to: Day | None = None
    applicant_kind: ApplicantKind | None = None
    outcome: Outcome | None = Field(default=None, description="按案件的年报办理结果")
    q: text(100, description="在申请人姓名、申请内容和登记编号中查找") | None = None
    updated_since: AwareDatetime | None = Field(
        default=None, description="只含此时刻（含）之后有变化的申请，须带时区（如 2026-11-20T08:00:00+08:00）；"
                                  "给出时按 (updated_at, id) 从早到晚排列，用 next_cursor 翻页")
    cursor: text(200, description="上一页返回的 next_cursor（不透明）；给出时按 (updated_at, id) 从早到晚排列，"
                                  "page 不起作用") | None = None
    page: int = Field(default=1, ge=1, le=100_000, description="不用游标时的页码（最新登记的在前）")
    per_page: int = Field(default=20, ge=1, le=100)


# ---------------------------------------------------------------- actions (one body per action)

class ActionIn(Input):
    version: Id = Field(description="案件的版本号（GET 返回的 version）：他人已修改时返回 409")


class ConfirmReceiptIn(ActionIn):
    confirmed_on: Day
    late_reason: text(MAX_TEXT) = Field(default="", description="确认日期晚于申请到达日期时必填：未能当日确认的原因")


class RequestSupplementIn(ActionIn):
    items: list[text(1000, min_length=1)] = Field(min_length=1, max_length=50)
    period_working_days: int | None = Field(default=None, ge=1, le=60)


class ReceiveSupplementIn(ActionIn):
    received_on: Day


class AssignIn(ActionIn):
    department_id: Id
    handler_id: Id | None = None


class OpenConsultationIn(ActionIn):
    kind: _lit(CONSULTATION_KINDS)
    party_name: text(200, min_length=1)
    party_contact: text(300) = ""
    subject: text(MAX_TEXT) = ""
    sent_on: Day
    item_seqs: list[int] = Field(default_factory=list, max_length=50,
                                 description="涉及被征求意见方的申请事项序号（征求意见书只引用这些事项）；空为全部")
    party_is_person: bool = Field(default=False, description="第三方为自然人（称“你”，否则称“贵单位”）")


class ConsultationAnswerIn(ActionIn):
    consultation_id: Id
    answer: _lit(CONSULTATION_ANSWERS)
    answered_on: Day
    summary: text(MAX_TEXT) = ""


class FeeNoticeIn(ActionIn):
    """按件计收的档位按该申请人本自然月内此前的申请件数由系统统计（109号第四条）；缴费期限自申请人收到通知书之日起计算，
    登记送达后确定。"""

    mode: _lit(FEE_MODES)
    units: int = Field(ge=1, le=1_000_000)


class RequestReasonsIn(ActionIn):
    volume_description: text(MAX_TEXT, min_length=1)
    period_working_days: int = Field(default=10, ge=1, le=30)


class RecordReasonsIn(ActionIn):
    answer: _lit(REASON_ANSWERS)
    answered_on: Day
    summary: text(MAX_TEXT) = ""


class DelayedReplyIn(ActionIn):
    new_due_on: Day
    reason: text(MAX_TEXT, min_length=1)


class PaymentIn(ActionIn):
    paid_on: Day
    receipt_no: text(100, min_length=1, description="缴费票据号（财政票据号码）")
    amount_yuan: int | None = Field(default=None, ge=0, description="实缴金额（元），须与收费通知书一致；省略时按通知书金额")


class ExtendIn(ActionIn):
    working_days: int = Field(ge=1, le=20)
    reason: text(MAX_TEXT, min_length=1)


class ItemDecisionIn(Input):
    item_id: Id
    outcome: _lit(REPLY_CODES)
    reason: text(MAX_TEXT) = ""
    how_to_obtain: text(MAX_TEXT) = ""
    referral_agency: text(200) = ""
    referral_contact: text(200) = ""
    referral_unknown_reason: text(MAX_TEXT) = ""
    earlier_reply_number: text(100) = ""
    is_primary: bool = False


class DecisionIn(ActionIn):
    decisions: list[ItemDecisionIn] = Field(min_length=1, max_length=50)


def _element_in(element: Element) -> tuple[Any, Any]:
    """The request field of an element: its type (within the column's limit) and its default, if it has one."""
    description = _description(element)
    if element.kind == CHOICE:
        kind = Annotated[_lit(element.choices), Field(description=description)]
    elif element.kind == FLAG:
        kind = Annotated[bool, Field(description=description)]
    elif element.kind == REF:
        kind = Annotated[Id | None, Field(description=description)]
    else:
        kind = text(element.max_length, min_length=1 if element.required else 0, description=description)
    return kind, ... if element.required else element.default


_ExemptionElementsIn = create_model(
    "ExemptionElementsIn", __base__=ActionIn, **{e.name: _element_in(e) for e in ELEMENTS})


class ExemptionIn(_ExemptionElementsIn):
    """不予公开理由记录 (DESIGN §4): which fields are required depends on the ground; the engine names what is missing."""

    item_id: Id
    replaces_id: Id | None = Field(default=None, description="修改时：被替换的理由记录（生成其新版本）")


class ConfidentialityIn(ActionIn):
    item_id: Id
    conclusion: _lit(CONFIDENTIALITY_CONCLUSIONS)
    basis: text(MAX_TEXT) = ""
    reviewed_on: Day


class ReviewExemptionIn(ActionIn):
    record_id: Id
    confirm: bool
    comment: text(MAX_TEXT) = ""


class CommentIn(ActionIn):
    comment: text(MAX_TEXT, min_length=1)


class DeliveryIn(ActionIn):
    method: _lit(DELIVERY_METHODS)
    delivered_on: Day
    tracking_no: text(100) = ""
    letter_id: Id | None = None
    returned: bool = False
    note: text(MAX_TEXT) = ""


class WithdrawIn(ActionIn):
    reason: text(MAX_TEXT, min_length=1)
    issue_notice: bool = Field(True, description="向申请人出具终止办理告知书（默认出具）")


class NotifyThirdPartyIn(ActionIn):
    consultation_id: Id = Field(description="不同意公开的第三方的征求意见记录")
    information: text(MAX_TEXT, min_length=1, description="决定公开的政府信息内容")
    reason: text(MAX_TEXT, min_length=1, description="决定公开的理由（不公开可能对公共利益造成的重大影响）")
    disclosure_on: Day | None = None


class ArchiveIn(ActionIn):
    retention: _lit(RETENTION_PERIODS) | None = None
    retention_reason: text(MAX_TEXT) = ""


class ChallengeIn(ActionIn):
    kind: _lit(CHALLENGE_KINDS)
    filed_on: Day
    result: _lit(CHALLENGE_RESULTS) = "PENDING"
    decided_on: Day | None = None
    note: text(MAX_TEXT) = ""
    challenge_id: Id | None = None


class ActionResultOut(Output):
    action: str
    case: CaseOut
    created: dict[str, int] = Field(description="本操作新建的记录，如 consultation_id、fee_id、letter_id、record_id")


# ---------------------------------------------------------------- exemption log (DESIGN §4)

class ExemptionLogQuery(Query):
    ground: Ground | None = None
    department_id: Id | None = None
    created_from: Day | None = Field(default=None, description="记录日期（北京时间）起")
    created_to: Day | None = Field(default=None, description="记录日期（北京时间）止")
    review_state: _lit(EXEMPTION_REVIEW_STATES) | None = None
    include_superseded: bool = Field(default=False, description="含已被新版本替换的记录")
    page: int = Field(default=1, ge=1, le=100_000)
    per_page: int = Field(default=50, ge=1, le=200)


class ExemptionLogEntryOut(ExemptionRecordOut):
    reg_no: str
    item_seq: int
    department_name: str | None


class ExemptionLogOut(Output):
    items: list[ExemptionLogEntryOut]
    page: int
    per_page: int
    total: int
    by_ground: dict[str, int] = Field(description="筛选范围内各理由的记录数（监督不予公开的使用情况）")


# ---------------------------------------------------------------- public status lookup

class StatusLookupIn(Input):
    reg_no: text(80, min_length=1, description="登记回执上的登记编号")
    query_code: Annotated[str, StringConstraints(min_length=4, max_length=16, pattern=r"^[A-Za-z0-9]+$"),
                          Field(description="登记回执上的查询码")]
    agency: Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$"),
                      Field(description="机关代码（同一平台有多个机关时可填）")] | None = None


class StatusOut(Output):
    """What the applicant may learn with the receipt's number and code — and nothing else."""

    reg_no: str
    stage_label: str
    received_on: date | None
    due_on: date | None
    finished_on: date | None


# ---------------------------------------------------------------- who am I (ids an integration needs)

class UserRefOut(Output):
    id: int
    username: str
    display_name: str
    roles: list[str]
    department_id: int | None


class MeOut(Output):
    user: UserRefOut
    agency_code: str
    agency_name: str
    departments: list[NamedRef]
    handlers: list[UserRefOut] = Field(description="本机关具有承办人角色的用户（受理、改派时用其 id）")
    online_manual_confirmation: bool = Field(description="网络申请是否须人工确认收到日期（条例31(三)）")
