"""Register, read and list cases; download a frozen letter (条例29、31、33; DESIGN §2 frozen letters)."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime

from flask import Response, url_for
from sqlalchemy import and_, func, or_, select

from engine import services
from engine.errors import NotFound
from engine.persistence.limits import MAX_ID
from engine.persistence.models import Agency, Case, Letter
from engine.services import ApplicantForm, RegistrationForm, downloads
from engine.services.case_list import CaseCriteria, cases_matching
from webui.api import context, endpoint, present, rules
from webui.api import schemas as s
from webui.api.errors import ApiError
from webui.api.idempotency import idempotent
from webui.api.openapi import Operation
from webui.downloads import content_disposition, letter_filename

TAG = "申请"


def load(case_id: int, version: int | None = None) -> Case:
    """The case if it is the token user's agency's (another agency's case, or an absurd id, is not found)."""
    if not 1 <= case_id <= MAX_ID:
        raise NotFound("没有找到该申请")
    return services.load_case(context.session(), case_id, context.actor(), version=version)


def respond(model: s.Output | dict, status: int = 200, headers: dict | None = None):
    """The model as JSON, serialised by pydantic in one pass (fields in the model's order, UTF-8 unescaped); or a
    model already dumped to plain data (`model_dump(mode="json")`), in the same form."""
    body = (json.dumps(model, ensure_ascii=False, separators=(",", ":")) if isinstance(model, dict)
            else model.model_dump_json())
    response = Response(body, status=status, mimetype="application/json")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def case_view(case: Case, present_records: dict[str, bool] | None = None,
              letters: list[Letter] | None = None) -> s.CaseOut:
    """The case for the token's user; ID number and phone in full only for a personal-data token (audited)."""
    session, user, today = context.session(), context.actor(), context.today()
    return present.case_out(session, case, user, today, personal_data=context.shows_personal_data(case.id),
                            present=present_records, letters=letters)


@endpoint("/cases", Operation(
    "POST", "/cases", "register_request", "登记一件申请", TAG, body=s.RegisterIn, ok_status=201,
    ok_model=s.RegisteredOut, scopes=("full", "portal"), idempotent=True,
    ok_headers={"Location": {"description": "新登记申请的地址", "schema": {"type": "string"}}},
    description="政务服务网或网站表单提交的申请（channel 默认 online）。网络申请未给 confirmed_on 时，以系统确认之日为"
                "收到申请之日，机关设置为人工确认的除外（条例第三十一条第（三）项、指导案例26号）。需要登记员角色。\n\n"
                + rules.registration_rules()))
@idempotent
def register_request():
    body = context.json_body(s.RegisterIn)
    session, user, today = context.session(), context.actor(), context.today()
    if context.scope() == "portal" and (body.channel != "online" or body.confirmed_on or body.signed_for_on):
        raise ApiError(403, "门户令牌（scope=portal）只能登记网络申请：channel 须为 online，且不能给 confirmed_on、"
                            "signed_for_on", code="scope")
    rules.check_registration(body, today)
    applicant = ApplicantForm(**body.applicant.model_dump())
    # Read-only, so looked up before the write lock is taken (the new case cannot be among them yet).
    duplicates = services.find_possible_duplicates(session, user.agency_id, applicant,
                                                   [item.description for item in body.items])
    form = RegistrationForm(
        applicant=applicant, channel=body.channel, submitted_on=body.submitted_on,
        items=[(item.description, item.topic) for item in body.items], signed_for_on=body.signed_for_on,
        confirmed_on=body.confirmed_on, requested_form=body.requested_form,
        requested_delivery=body.requested_delivery, purpose=body.purpose)
    # An online request's code goes straight to the applicant through the integrating portal: a later manual
    # confirmation (条例31(三)) keeps it valid instead of issuing another.

    def answer(result) -> dict:
        # A new case: its records are what the action made, so the answer reads nothing more. Made before the
        # agency's number counter is locked; the number is put in after (`register_request(answer=…)`).
        return s.RegisteredOut(case=case_view(result.case, *present.registered_case_records(result.letters)),
                               query_code=result.query_code,
                               possible_duplicates=[s.DuplicateOut(**d) for d in duplicates]).model_dump(mode="json")

    result = services.register_request(session, form, renderer=context.renderer(session.get(Agency, user.agency_id)),
                                       actor=user, today=today, query_code_shown=body.channel == "online",
                                       render_later=True,  # the receipt: by the render_letter job
                                       answer=answer)
    return respond(result.answer, 201, {"Location": url_for("api.get_case", case_id=result.case.id)})


@endpoint("/cases/<int:case_id>", Operation(
    "GET", "/cases/{case_id}", "get_case", "查看一件申请", TAG, path_params=("case_id",), ok_model=s.CaseOut,
    errors=(400, 401, 404, 429),
    description="阶段、答复期限及其计算说明（不计入的日子）、期限状态，以及令牌用户现在可以执行的操作。"))
def get_case(case_id: int):
    if not 1 <= case_id <= MAX_ID:
        raise NotFound("没有找到该申请")
    return respond(case_view(*present.case_for_view(context.session(), case_id, context.actor())))


@endpoint("/cases", Operation(
    "GET", "/cases", "list_cases", "查找申请", TAG, query=s.CaseListQuery, ok_model=s.CaseListOut,
    errors=(400, 401, 429),
    description="按阶段、期限状态、收到日期、申请人类型、办理结果和关键词筛选。不给 updated_since、cursor 时按页码分页，"
                "最新登记的在前；给出 updated_since 或 cursor 时按 (updated_at, id) 从早到晚排列，用响应的 next_cursor "
                "取下一页，直到它为 null（轮询时保存最后一个 next_cursor，或以上次看到的最大 updated_at 减去几秒作为"
                " updated_since，因为同时进行的操作可能稍后才提交）。"))
def list_cases():
    q = context.query_args(s.CaseListQuery)
    session, user, today = context.session(), context.actor(), context.today()
    criteria = CaseCriteria(stage=q.stage or "", due=q.due_status or "", received_from=q.received_from,
                            received_to=q.received_to, applicant_kind=q.applicant_kind or "",
                            outcome=q.outcome or "", q=(q.q or "").strip())
    stmt = cases_matching(user.agency_id, criteria, today, session.get_bind().dialect.name)
    if q.updated_since is not None:
        stmt = stmt.where(Case.updated_at >= q.updated_since.astimezone(UTC))
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    if q.updated_since is None and q.cursor is None:
        rows = session.scalars(stmt.order_by(Case.id.desc()).limit(q.per_page).offset((q.page - 1) * q.per_page)).all()
        return respond(s.CaseListOut(items=[present.case_summary(c, today) for c in rows], page=q.page,
                                     per_page=q.per_page, total=total, next_cursor=None))
    if q.cursor is not None:
        after_at, after_id = _decode_cursor(q.cursor)
        stmt = stmt.where(or_(Case.updated_at > after_at, and_(Case.updated_at == after_at, Case.id > after_id)))
    rows = session.scalars(stmt.order_by(Case.updated_at, Case.id).limit(q.per_page + 1)).all()
    more = len(rows) > q.per_page
    rows = rows[:q.per_page]
    return respond(s.CaseListOut(items=[present.case_summary(c, today) for c in rows], page=1, per_page=q.per_page,
                                 total=total, next_cursor=_encode_cursor(rows[-1]) if more else None))


def _encode_cursor(case: Case) -> str:
    """An opaque position after `case` in (updated_at, id) order."""
    stamp = case.updated_at if case.updated_at.tzinfo else case.updated_at.replace(tzinfo=UTC)
    raw = json.dumps([stamp.astimezone(UTC).isoformat(), case.id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        stamp, case_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        moment = datetime.fromisoformat(stamp)
        if not isinstance(case_id, int) or moment.tzinfo is None:
            raise ValueError(cursor)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise ApiError(400, "cursor 无效：请使用上一页返回的 next_cursor", code="invalid",
                       errors=[{"pointer": "/query/cursor", "detail": "不是本接口给出的游标"}]) from None
    return moment, case_id


@endpoint("/cases/<int:case_id>/letters/<int:letter_id>.pdf", Operation(
    "GET", "/cases/{case_id}/letters/{letter_id}.pdf", "download_letter", "下载已签发（冻结）的文书", TAG,
    path_params=("case_id", "letter_id"), ok_media="application/pdf", errors=(400, 401, 404, 409, 429),
    ok_headers={"X-Content-SHA256": {"description": "PDF 的 SHA-256（十六进制），与签发时冻结的一致",
                                     "schema": {"type": "string", "pattern": "^[0-9a-f]{64}$"}},
                "Repr-Digest": {"description": "RFC 9530 摘要：sha-256=:<base64>:", "schema": {"type": "string"}},
                "ETag": {"description": "\"<sha256>\"", "schema": {"type": "string"}},
                "Content-Disposition": {"description": "attachment，文件名为 登记编号-文书名称.pdf（RFC 6266/5987）",
                                        "schema": {"type": "string"}}},
    description="返回签发时冻结的 PDF 原件（从不重新生成），响应头给出其 SHA-256。"))
def letter_pdf(case_id: int, letter_id: int):
    case = load(case_id)
    letter = downloads.letter_for_download(context.session(), letter_id, context.actor(), case_id=case.id)
    digest = base64.b64encode(bytes.fromhex(letter.sha256)).decode()
    return Response(letter.pdf, mimetype="application/pdf", headers={
        "X-Content-SHA256": letter.sha256,
        "Repr-Digest": f"sha-256=:{digest}:",
        "ETag": f'"{letter.sha256}"',
        "Content-Disposition": content_disposition(letter_filename(letter, case.reg_no),
                                                   fallback=f"letter-{letter.id}.pdf"),
    })
